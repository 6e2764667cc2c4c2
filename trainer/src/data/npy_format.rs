//! The NPY format's header (NumPy format versions 1.0, 2.0 and 3.0,
//! <https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>), read and written
//! in one place for the dataset loader (`data::npy`) and the logit cache (`train::cache`):
//!
//! ```text
//! "\x93NUMPY" major minor  header_len (u16 LE for 1.0, u32 LE for 2.0/3.0)
//! header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, ...), }
//!         padded with spaces and a final '\n' (ASCII, UTF-8 for 3.0)
//! data:   prod(shape) elements
//! ```
//!
//! Each caller checks the dtype, shape and data length it can use and reports problems in its
//! own terms; this module only knows the container.

/// NPY magic: `\x93NUMPY`.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// numpy aligns the start of the data to this many bytes.
const ALIGN: usize = 64;

/// The header's `descr`: a dtype string such as `<f4`, or a structured dtype (a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Descr {
    Simple(String),
    Structured,
}

/// A parsed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub descr: Descr,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Where the data starts (the header's length).
    pub data_offset: usize,
}

/// Why a header could not be read. Offsets count bytes from the start of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("not an NPY file: starts with {found:02x?}, expected \\x93NUMPY")]
    BadMagic { found: Vec<u8> },
    #[error("unsupported NPY version {major}.{minor} (1.0, 2.0 and 3.0 are read)")]
    UnsupportedVersion { major: u8, minor: u8 },
    #[error("truncated: the header needs {needed} bytes, the file holds {available}")]
    Truncated { needed: usize, available: usize },
    #[error("malformed NPY header at byte {offset}: {reason}")]
    Syntax { offset: usize, reason: String },
}

/// A value of the header dict.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Bool(bool),
    Int(u64),
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// A Python-literal reader over the header text; positions are offsets into the file.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// The file offset of `s[0]`.
    base: usize,
}

impl Parser<'_> {
    fn err(&self, reason: impl Into<String>) -> HeaderError {
        HeaderError::Syntax {
            offset: self.base + self.i,
            reason: reason.into(),
        }
    }

    fn peek(&mut self) -> Option<u8> {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), HeaderError> {
        match self.peek() {
            Some(x) if x == c => {
                self.i += 1;
                Ok(())
            }
            _ => Err(self.err(format!("expected '{}'", c as char))),
        }
    }

    /// Items up to `close`, comma separated, a trailing comma allowed; and whether there was one.
    fn seq<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<T, HeaderError>,
    ) -> Result<(Vec<T>, bool), HeaderError> {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok((items, trailing_comma));
            }
            items.push(item(self)?);
            trailing_comma = false;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    trailing_comma = true;
                }
                Some(c) if c == close => {}
                _ => return Err(self.err(format!("expected ',' or '{}'", close as char))),
            }
        }
    }

    fn string(&mut self, quote: u8) -> Result<Lit, HeaderError> {
        self.i += 1;
        let start = self.i;
        while self.s.get(self.i).is_some_and(|&c| c != quote) {
            if self.s[self.i] == b'\\' {
                return Err(self.err("escape sequences in strings are not supported"));
            }
            self.i += 1;
        }
        if self.i >= self.s.len() {
            self.i = start - 1;
            return Err(self.err("unterminated string"));
        }
        let text = std::str::from_utf8(&self.s[start..self.i])
            .map_err(|_| self.err("a string that is not UTF-8"))?
            .to_owned();
        self.i += 1;
        Ok(Lit::Str(text))
    }

    fn word(&mut self) -> Result<Lit, HeaderError> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_alphanumeric) {
            self.i += 1;
        }
        match &self.s[start..self.i] {
            b"True" => Ok(Lit::Bool(true)),
            b"False" => Ok(Lit::Bool(false)),
            _ => {
                self.i = start;
                Err(self.err("expected a string, True, False, an integer or a tuple"))
            }
        }
    }

    fn integer(&mut self) -> Result<Lit, HeaderError> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let digits = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        // Python 2's numpy wrote longs as `3L`.
        if self.s.get(self.i) == Some(&b'L') {
            self.i += 1;
        }
        digits.parse().map(Lit::Int).map_err(|_| {
            self.i = start;
            self.err(format!("integer {digits} is too large"))
        })
    }

    fn value(&mut self) -> Result<Lit, HeaderError> {
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(b'(') => {
                self.i += 1;
                let (items, trailing) = self.seq(b')', Self::value)?;
                // `(3)` is just 3 in Python; a 1-tuple is `(3,)`.
                match <[Lit; 1]>::try_from(items) {
                    Ok([one]) if !trailing => Ok(one),
                    Ok([one]) => Ok(Lit::Tuple(vec![one])),
                    Err(items) => Ok(Lit::Tuple(items)),
                }
            }
            Some(b'[') => {
                self.i += 1;
                Ok(Lit::List(self.seq(b']', Self::value)?.0))
            }
            Some(b'{') => {
                self.i += 1;
                let (items, _) = self.seq(b'}', |p| {
                    let k = p.value()?;
                    p.expect(b':')?;
                    Ok((k, p.value()?))
                })?;
                Ok(Lit::Dict(items))
            }
            Some(c) if c.is_ascii_digit() => self.integer(),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            _ => Err(self.err("expected a string, True, False, an integer or a tuple")),
        }
    }
}

/// Reads the header at the start of `bytes` (the whole file, or at least its header).
pub fn read_header(bytes: &[u8]) -> Result<Header, HeaderError> {
    if !bytes.starts_with(MAGIC) {
        return Err(HeaderError::BadMagic {
            found: bytes[..bytes.len().min(MAGIC.len())].to_vec(),
        });
    }
    let truncated = |needed: usize| HeaderError::Truncated {
        needed,
        available: bytes.len(),
    };
    let (&major, &minor) = bytes.get(6).zip(bytes.get(7)).ok_or(truncated(10))?;
    let (len_size, utf8) = match (major, minor) {
        (1, 0) => (2, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => return Err(HeaderError::UnsupportedVersion { major, minor }),
    };
    let start = 8 + len_size;
    let len_bytes = bytes.get(8..start).ok_or(truncated(start))?;
    let mut le = [0u8; 4];
    le[..len_size].copy_from_slice(len_bytes);
    let data_offset = start + u32::from_le_bytes(le) as usize;
    let text = bytes
        .get(start..data_offset)
        .ok_or(truncated(data_offset))?;
    if !utf8 && let Some(at) = text.iter().position(|b| !b.is_ascii()) {
        return Err(HeaderError::Syntax {
            offset: start + at,
            reason: "non-ASCII bytes in a version 1.0/2.0 header".into(),
        });
    }
    let mut p = Parser {
        s: text,
        i: 0,
        base: start,
    };
    let Lit::Dict(items) = p.value()? else {
        return Err(HeaderError::Syntax {
            offset: start,
            reason: "the header is not a dict".into(),
        });
    };
    if p.peek().is_some() {
        return Err(p.err("unexpected text after the header dict"));
    }
    let fields = header_fields(items).map_err(|reason| HeaderError::Syntax {
        offset: start,
        reason,
    })?;
    Ok(Header {
        data_offset,
        ..fields
    })
}

/// The three keys of the header dict, each once.
fn header_fields(items: Vec<(Lit, Lit)>) -> Result<Header, String> {
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (k, v) in items {
        let Lit::Str(key) = k else {
            return Err(format!("unexpected key {k:?}"));
        };
        let slot_taken = match (key.as_str(), v) {
            ("descr", Lit::Str(d)) => descr.replace(Descr::Simple(d)).is_some(),
            ("descr", Lit::List(_)) => descr.replace(Descr::Structured).is_some(),
            ("fortran_order", Lit::Bool(f)) => fortran.replace(f).is_some(),
            ("shape", Lit::Tuple(dims)) => shape.replace(dims_of(dims)?).is_some(),
            ("descr" | "fortran_order" | "shape", v) => {
                return Err(format!("unexpected value {v:?} for '{key}'"));
            }
            _ => return Err(format!("unexpected key '{key}'")),
        };
        if slot_taken {
            return Err(format!("duplicate key '{key}'"));
        }
    }
    Ok(Header {
        descr: descr.ok_or("no 'descr' key")?,
        fortran_order: fortran.ok_or("no 'fortran_order' key")?,
        shape: shape.ok_or("no 'shape' key")?,
        data_offset: 0,
    })
}

fn dims_of(dims: Vec<Lit>) -> Result<Vec<usize>, String> {
    dims.into_iter()
        .map(|d| match d {
            Lit::Int(v) => usize::try_from(v).map_err(|_| format!("dimension {v} is too large")),
            other => Err(format!("'shape' holds {other:?}, not an integer")),
        })
        .collect()
}

/// The version 1.0 header numpy (>= 1.23) writes for a C-order array of `descr` and `shape`,
/// byte for byte: sorted keys, Python reprs, a trailing `, }`, room for the first axis to grow
/// to 21 digits, spaces and a newline up to the 64-byte alignment.
pub fn write_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_repr = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_repr}, }}");
    let first = dims.first().map_or(0, String::len);
    dict.push_str(&" ".repeat(21usize.saturating_sub(first)));
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    let pad = (ALIGN - unpadded % ALIGN) % ALIGN;
    let header_len = dict.len() + pad + 1;
    let mut out = Vec::with_capacity(unpadded + pad);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    // A dict of three short keys and a shape of at most a few dozen dimensions: far below
    // 64 KiB (numpy switches to version 2.0 only past that).
    let header_len = u16::try_from(header_len).expect("a header of a few dimensions is short");
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(out.len() + pad, b' ');
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(version: [u8; 2], header: &str) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&version);
        if version[0] == 1 {
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out
    }

    #[test]
    fn written_headers_read_back_and_align() {
        for shape in [vec![7], vec![3, 4], vec![2, 28, 28, 1], vec![]] {
            let h = write_header("<f4", &shape);
            assert_eq!(h.len() % ALIGN, 0, "{shape:?}");
            let back = read_header(&h).expect("reads");
            assert_eq!(back.shape, shape);
            assert_eq!(back.descr, Descr::Simple("<f4".into()));
            assert!(!back.fortran_order);
            assert_eq!(back.data_offset, h.len());
        }
    }

    #[test]
    fn versions_structured_dtypes_and_python2_longs() {
        let h = "{'descr': [('a', '<f4')], 'fortran_order': True, 'shape': (3L, 2), }\n";
        for v in [[1, 0], [2, 0], [3, 0]] {
            let back = read_header(&file(v, h)).expect("reads");
            assert_eq!(back.descr, Descr::Structured);
            assert!(back.fortran_order);
            assert_eq!(back.shape, [3, 2]);
        }
        assert_eq!(
            read_header(&file([4, 0], h)),
            Err(HeaderError::UnsupportedVersion { major: 4, minor: 0 })
        );
        assert_eq!(
            read_header(&file([1, 1], h)),
            Err(HeaderError::UnsupportedVersion { major: 1, minor: 1 })
        );
    }

    #[test]
    fn malformed_headers_say_where() {
        let cases = [
            (
                "{'descr': '<f4', 'shape': (3,), }",
                "no 'fortran_order' key",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }",
                "unexpected value",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}",
                "unexpected key",
            ),
            (
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
                "duplicate",
            ),
            ("{'descr': '<f4 ", "unterminated"),
            (
                "{'descr': '<f4', 'fortran_order': Maybe}",
                "expected a string",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} x",
                "after the header",
            ),
            ("['descr']", "not a dict"),
        ];
        for (header, want) in cases {
            let e = read_header(&file([1, 0], header)).expect_err(header);
            let msg = e.to_string();
            assert!(msg.contains(want), "{header}: {msg}");
            assert!(
                matches!(e, HeaderError::Syntax { offset, .. } if offset >= 10),
                "{e:?}"
            );
        }
        let mut bad = file([1, 0], "{'descr': '<f4'}");
        bad[12] = 0xe9;
        assert!(
            read_header(&bad)
                .expect_err("latin1")
                .to_string()
                .contains("non-ASCII")
        );
        assert!(matches!(
            read_header(b"\x93NUMPY\x01"),
            Err(HeaderError::Truncated {
                needed: 10,
                available: 7
            })
        ));
        assert!(matches!(
            read_header(&file([1, 0], "{}")[..11]),
            Err(HeaderError::Truncated { needed: 12, .. })
        ));
        assert!(matches!(
            read_header(b"PK\x03\x04"),
            Err(HeaderError::BadMagic { .. })
        ));
    }

    #[test]
    fn numpy_headers_and_bad_dicts() {
        let h = read_header(&file(
            [1, 0],
            "{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }   \n",
        ))
        .expect("valid");
        assert_eq!(h.shape, [60000, 784]);
        let h = read_header(&file(
            [1, 0],
            "{\"shape\": (5L,), \"descr\": \"|u1\", \"fortran_order\": True}",
        ))
        .expect("valid");
        assert_eq!((h.shape, h.fortran_order), (vec![5], true));
        let h = read_header(&file(
            [1, 0],
            "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
        ))
        .expect("a 0-d array");
        assert!(h.shape.is_empty());
        for bad in [
            "",
            "{",
            "{'descr' '<f4'}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, -2)}",
            "{'descr': '<f4'",
            "{'shape': (1,), 'shape': (2,)}",
            "{} junk",
        ] {
            assert!(read_header(&file([1, 0], bad)).is_err(), "{bad:?} accepted");
        }
    }
}
