//! Limits every decoder enforces, so that no blob can make a size computation overflow or a
//! reduction overflow its int32 accumulator.

/// Longest model name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Whether a model name may hold byte `b`: printable ASCII, `0x20..=0x7e` (names end up in
/// device logs; the format allows nothing else).
pub const fn is_name_byte(b: u8) -> bool {
    matches!(b, 0x20..=0x7e)
}
/// Most layers in a student.
pub const MAX_LAYERS: u32 = 64;
/// Largest height, width, channel count or feature count.
pub const MAX_DIM: u16 = 16_384;
/// Largest number of elements in one activation tensor.
pub const MAX_TENSOR: usize = 1 << 20;
/// Largest number of products summed into one accumulator. 65536 * 127 * 128 < 2^30, so the
/// sum of products fits an int32 with room for the bias.
pub const MAX_REDUCTION: usize = 1 << 16;
/// Largest kernel height/width (conv and pooling).
pub const MAX_KERNEL: u8 = 15;
/// Largest stride.
pub const MAX_STRIDE: u8 = 8;
/// Most vectors in a golden-vector file.
pub const MAX_VECTORS: u32 = 1 << 20;
