//! Sliding windows over NHWC tensors: a convolution's shapes, and which kernel taps of an
//! output position land inside the input (convolution padding).

/// A convolution's shapes, unpacked once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub ih: usize,
    pub iw: usize,
    pub ic: usize,
    pub oh: usize,
    pub ow: usize,
    pub oc: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
    /// Values per receptive field, `kh * kw * ic`.
    pub field: usize,
}

impl Geometry {
    /// Output pixels, `oh * ow`.
    #[inline(always)]
    pub fn pixels(&self) -> usize {
        self.oh * self.ow
    }
}

/// The range of kernel taps `[k0, k1)` that land inside the input for output position `o`.
#[inline(always)]
pub(crate) fn valid_taps(
    o: usize,
    stride: usize,
    padding: usize,
    kernel: usize,
    input: usize,
) -> (usize, usize) {
    let start = o * stride; // position of tap 0 in padded coordinates
    let k0 = padding.saturating_sub(start).min(kernel);
    // tap k is valid while start + k < padding + input
    let k1 = (padding + input).saturating_sub(start).min(kernel);
    (k0, k1.max(k0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_taps_cover_padding() {
        // input 5, kernel 3, pad 1, stride 1: output 0 has tap 0 in padding.
        assert_eq!(valid_taps(0, 1, 1, 3, 5), (1, 3));
        assert_eq!(valid_taps(2, 1, 1, 3, 5), (0, 3));
        assert_eq!(valid_taps(4, 1, 1, 3, 5), (0, 2));
        // kernel larger than input with padding on both sides
        assert_eq!(valid_taps(0, 1, 2, 5, 1), (2, 3));
    }
}
