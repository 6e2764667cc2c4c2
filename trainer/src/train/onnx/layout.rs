//! Where each raw value of a sample goes in an ONNX teacher's input. minnow keeps samples as
//! (height, width, channels), row-major; a model declares its own per-sample shape. When the
//! element counts agree the sample is reshaped to it, and a 4-D NCHW input whose axes are the
//! sample's (channels, height, width) gets the channels moved first.

use super::file::Dim;
use super::settings::TeacherLayout;

/// How samples of one shape fill one model's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The model's per-sample shape (its input shape without the batch axis).
    pub dims: Vec<usize>,
    /// The sample's (height, width, channels).
    pub sample: [usize; 3],
    /// The layout a 4-D input was taken to have (`None` for other ranks).
    pub layout: Option<TeacherLayout>,
    /// Move the channels first (HWC -> CHW).
    pub channels_first: bool,
}

/// Why a sample cannot fill the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementError {
    /// The input has no batch axis, or an axis after it that is not a fixed size.
    NotFixed,
    /// The element counts differ: the model's per-sample count.
    Count(usize),
}

impl Placement {
    /// The placement of samples of shape `sample` into an input declared as `declared` (batch
    /// axis first).
    pub fn new(
        declared: &[Dim],
        sample: [usize; 3],
        layout: TeacherLayout,
    ) -> Result<Placement, PlacementError> {
        let dims = declared
            .get(1..)
            .filter(|rest| !rest.is_empty())
            .ok_or(PlacementError::NotFixed)?
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => Ok(*n),
                _ => Err(PlacementError::NotFixed),
            })
            .collect::<Result<Vec<usize>, _>>()?;
        let count = dims.iter().product::<usize>();
        if count != sample.iter().product::<usize>() {
            return Err(PlacementError::Count(count));
        }
        let [h, w, c] = sample;
        let (layout, channels_first) = if dims.len() == 4 - 1 {
            let is_chw = dims == [c, h, w];
            let is_hwc = dims == [h, w, c];
            let layout = match layout {
                TeacherLayout::Auto if is_hwc && !is_chw => TeacherLayout::Nhwc,
                TeacherLayout::Auto => TeacherLayout::Nchw,
                given => given,
            };
            // With one channel both orders are the same bytes; with axes that are not the
            // sample's, the values go over in their own order (a reshape).
            (
                Some(layout),
                layout == TeacherLayout::Nchw && is_chw && c > 1,
            )
        } else {
            (None, false)
        };
        Ok(Placement {
            dims,
            sample,
            layout,
            channels_first,
        })
    }

    /// Values per sample.
    pub fn values(&self) -> usize {
        self.dims.iter().product()
    }

    /// Appends the model's input for the raw sample `raw` to `out`, each value through `f`.
    pub fn push(&self, raw: &[f32], f: impl Fn(f32) -> f32, out: &mut Vec<f32>) {
        if self.channels_first {
            let [h, w, c] = self.sample;
            for ch in 0..c {
                out.extend((0..h * w).map(|p| f(raw[p * c + ch])));
            }
        } else {
            out.extend(raw.iter().map(|&x| f(x)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(dims: &[usize]) -> Vec<Dim> {
        std::iter::once(Dim::Named("batch".into()))
            .chain(dims.iter().map(|&d| Dim::Fixed(d)))
            .collect()
    }

    #[test]
    fn flat_and_one_channel_inputs_take_the_values_in_order() {
        for dims in [&[784][..], &[1, 28, 28], &[28, 28, 1], &[28, 28]] {
            let p = Placement::new(&fixed(dims), [28, 28, 1], TeacherLayout::Auto).expect("fits");
            assert!(!p.channels_first, "{dims:?}");
            let raw: Vec<f32> = (0..784).map(|i| i as f32).collect();
            let mut out = Vec::new();
            p.push(&raw, |x| x * 2.0 + 1.0, &mut out);
            assert_eq!(out[5], 11.0);
            assert_eq!(out.len(), 784);
        }
    }

    #[test]
    fn nchw_moves_channels_first_and_nhwc_does_not() {
        // A 2x2 image of 3 channels: value = 10 * pixel + channel.
        let raw: Vec<f32> = (0..4)
            .flat_map(|p| (0..3).map(move |c| (10 * p + c) as f32))
            .collect();
        let chw = Placement::new(&fixed(&[3, 2, 2]), [2, 2, 3], TeacherLayout::Auto).expect("a");
        assert_eq!(chw.layout, Some(TeacherLayout::Nchw));
        let mut out = Vec::new();
        chw.push(&raw, |x| x, &mut out);
        assert_eq!(
            out,
            [0., 10., 20., 30., 1., 11., 21., 31., 2., 12., 22., 32.]
        );
        let hwc = Placement::new(&fixed(&[2, 2, 3]), [2, 2, 3], TeacherLayout::Auto).expect("b");
        assert_eq!(hwc.layout, Some(TeacherLayout::Nhwc));
        let mut out = Vec::new();
        hwc.push(&raw, |x| x, &mut out);
        assert_eq!(out, raw);
        // Told NHWC, a (3, 2, 2) input takes the values as they are.
        let told = Placement::new(&fixed(&[3, 2, 2]), [2, 2, 3], TeacherLayout::Nhwc).expect("c");
        assert!(!told.channels_first);
    }

    #[test]
    fn counts_and_free_axes_are_refused() {
        assert_eq!(
            Placement::new(&fixed(&[3, 32, 32]), [28, 28, 1], TeacherLayout::Auto),
            Err(PlacementError::Count(3072))
        );
        let free = vec![Dim::Unknown, Dim::Named("features".into())];
        assert_eq!(
            Placement::new(&free, [8, 8, 1], TeacherLayout::Auto),
            Err(PlacementError::NotFixed)
        );
        assert_eq!(
            Placement::new(&[Dim::Fixed(64)], [8, 8, 1], TeacherLayout::Auto),
            Err(PlacementError::NotFixed)
        );
    }
}
