//! [`Hw`]: a window's or a stride's extent per axis, shared by the network description and the
//! float student (each imports it; neither imports the other for it).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A window's (or stride's) extent along the height and the width: `3 x 3` for an image's
/// convolution, `5 x 1` for a sequence laid out as `T x 1 x C`. Written as one number when
/// square (so networks saved before 1-D convolutions read, and write, the same text), else as
/// `[h, w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hw {
    pub h: usize,
    pub w: usize,
}

impl Hw {
    pub const fn square(n: usize) -> Self {
        Hw { h: n, w: n }
    }

    /// Taps in the window.
    pub const fn area(self) -> usize {
        self.h * self.w
    }
}

impl std::fmt::Display for Hw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.h, self.w)
    }
}

impl Serialize for Hw {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.h == self.w {
            self.h.serialize(s)
        } else {
            [self.h, self.w].serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Hw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Square(usize),
            Sides([usize; 2]),
        }
        Ok(match Written::deserialize(d)? {
            Written::Square(n) => Hw::square(n),
            Written::Sides([h, w]) => Hw { h, w },
        })
    }
}
