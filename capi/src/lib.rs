//! minnow's C ABI: the student of a C firmware, on the same minnow-core code the Rust firmware
//! and the trainer run, so a C application computes the host's logits bit for bit.
//!
//! Decode the blob once ([`minnow_student_decode`]: header, version, CRC and every layer are
//! checked there), then [`minnow_student_run`] as often as needed into caller buffers. Nothing
//! allocates, nothing panics on any input (null pointers, wrong lengths, corrupt blobs included),
//! and every failure is a distinct [`MinnowStatus`] (0 is success, errors are negative).
//! [`minnow_golden_decode`] and [`minnow_golden_vector`] read the host's golden vectors, for a
//! self-test on the device.
//!
//! `include/minnow.h` is generated from this file by cbindgen (`cbindgen.toml`); the test
//! `header_is_fresh` fails when it is out of date. The layer kinds linked in are the crate's
//! features (see Cargo.toml).
#![no_std]
#![allow(non_camel_case_types)]

// On a host the library lives beside std (its panic handler); on a bare-metal target a C
// application has no Rust runtime, so the `panic-handler` feature provides one.
#[cfg(not(target_os = "none"))]
extern crate std;

use core::mem::{align_of, size_of};
use core::ptr;

use minnow_core::layer::ops;
use minnow_core::softmax::argmax_i8;
use minnow_core::{Error, GoldenVectors, Student};

/// The blob format version this library reads (a blob of another version is
/// `MINNOW_ERR_UNSUPPORTED_VERSION`).
pub const MINNOW_FORMAT_VERSION: u16 = 2;
const _: () = assert!(MINNOW_FORMAT_VERSION == minnow_core::header::FORMAT_VERSION);

/// The layer kinds this build runs (the crate's features), as a minnow-core op set.
const OPS: u8 = op_if(cfg!(feature = "dense"), ops::DENSE)
    | op_if(cfg!(feature = "conv2d"), ops::CONV2D)
    | op_if(cfg!(feature = "depthwise-conv2d"), ops::DEPTHWISE_CONV2D)
    | op_if(cfg!(feature = "max-pool2d"), ops::MAX_POOL2D)
    | op_if(cfg!(feature = "avg-pool2d"), ops::AVG_POOL2D)
    | op_if(cfg!(feature = "flatten"), ops::FLATTEN);

/// `op` when its feature is `enabled`, else no op.
const fn op_if(enabled: bool, op: u8) -> u8 {
    if enabled { op } else { 0 }
}

/// What a call returns: `MINNOW_OK` (0) or a negative error code. Each way a call can fail has
/// its own code; `minnow_status_name` gives its name as a string.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinnowStatus {
    /// Success.
    MINNOW_OK = 0,
    /// A required pointer argument is NULL.
    MINNOW_ERR_NULL_POINTER = -1,
    /// A `minnow_student` / `minnow_golden` that no successful decode filled in.
    MINNOW_ERR_NOT_DECODED = -2,
    /// A `float` pointer that is not aligned for `float`.
    MINNOW_ERR_MISALIGNED = -3,
    /// The blob is shorter than its header, or than the body its header declares.
    MINNOW_ERR_TRUNCATED = -10,
    /// Not a blob of this kind (a student is "MNST", golden vectors "MNGV").
    MINNOW_ERR_BAD_MAGIC = -11,
    /// The blob was written in a format version this library does not read
    /// (`MINNOW_FORMAT_VERSION`): export the student again with the matching minnow.
    MINNOW_ERR_UNSUPPORTED_VERSION = -12,
    /// Header flags this version does not know.
    MINNOW_ERR_UNKNOWN_FLAGS = -13,
    /// The body's CRC-32 does not match the header: the blob is corrupt.
    MINNOW_ERR_CRC_MISMATCH = -14,
    /// Bytes follow the body the header declares (pass the blob's exact length).
    MINNOW_ERR_TRAILING_BYTES = -15,
    /// The body is not (canonical) postcard of the declared structure.
    MINNOW_ERR_MALFORMED = -16,
    /// The model name is too long.
    MINNOW_ERR_NAME_TOO_LONG = -17,
    /// The student has no layers.
    MINNOW_ERR_NO_LAYERS = -18,
    /// The student has more layers than allowed.
    MINNOW_ERR_TOO_MANY_LAYERS = -19,
    /// A dimension, kernel, stride, padding or golden-vector count is out of range.
    MINNOW_ERR_DIMENSION_OUT_OF_RANGE = -20,
    /// A convolution or pooling window does not fit its input.
    MINNOW_ERR_SHAPE_MISMATCH = -21,
    /// A layer's weight, bias or requantization arrays have the wrong length.
    MINNOW_ERR_LENGTH_MISMATCH = -22,
    /// Invalid quantization parameters (multiplier, shift, scale, a weight of -128).
    MINNOW_ERR_INVALID_QUANTIZATION = -23,
    /// A fused activation range is empty.
    MINNOW_ERR_INVALID_ACTIVATION_RANGE = -24,
    /// The last layer does not produce one value per class.
    MINNOW_ERR_CLASS_COUNT_MISMATCH = -25,
    /// A size computation overflowed.
    MINNOW_ERR_OVERFLOW = -26,
    /// A caller buffer is too small, or an input has the wrong length (see
    /// `minnow_student_input_len`, `minnow_student_scratch_len`, `minnow_student_classes`).
    MINNOW_ERR_BUFFER_SIZE = -27,
    /// A float argument is NaN or infinite, or the stored normalisation is invalid.
    MINNOW_ERR_NON_FINITE = -28,
    /// Two lengths that must agree differ.
    MINNOW_ERR_LENGTHS_DIFFER = -29,
    /// An index is out of range (a golden vector that does not exist).
    MINNOW_ERR_INDEX_OUT_OF_RANGE = -30,
    /// The student has a layer kind this library was built without (its cargo features):
    /// rebuild it with the features student.h's `MINNOW_STUDENT_CARGO_FEATURES` names.
    MINNOW_ERR_UNSUPPORTED_OP = -31,
    /// The input shape is zero or beyond the limits.
    MINNOW_ERR_INVALID_INPUT_SHAPE = -32,
    /// The input quantization scale is not a finite number > 0.
    MINNOW_ERR_INVALID_INPUT_SCALE = -33,
    /// Golden vectors: count, input length or classes out of range.
    MINNOW_ERR_INVALID_GOLDEN_SIZE = -34,
    /// Golden vectors: an array's length does not match count x width.
    MINNOW_ERR_GOLDEN_LENGTH_MISMATCH = -35,
    /// The input normalisation is not one (mean, std) pair, one per channel or one per value.
    MINNOW_ERR_INVALID_NORMALIZATION = -36,
    /// An error this version of the C ABI has no code for (a newer minnow-core).
    MINNOW_ERR_OTHER = -99,
}

use MinnowStatus::*;

impl From<Error> for MinnowStatus {
    fn from(e: Error) -> Self {
        match e {
            Error::Truncated { .. } => MINNOW_ERR_TRUNCATED,
            Error::BadMagic => MINNOW_ERR_BAD_MAGIC,
            Error::UnsupportedVersion { .. } => MINNOW_ERR_UNSUPPORTED_VERSION,
            Error::UnknownFlags { .. } => MINNOW_ERR_UNKNOWN_FLAGS,
            Error::CrcMismatch { .. } => MINNOW_ERR_CRC_MISMATCH,
            Error::TrailingBytes { .. } => MINNOW_ERR_TRAILING_BYTES,
            Error::Malformed => MINNOW_ERR_MALFORMED,
            Error::NameTooLong { .. } => MINNOW_ERR_NAME_TOO_LONG,
            Error::NoLayers => MINNOW_ERR_NO_LAYERS,
            Error::TooManyLayers { .. } => MINNOW_ERR_TOO_MANY_LAYERS,
            Error::DimensionOutOfRange { .. } => MINNOW_ERR_DIMENSION_OUT_OF_RANGE,
            Error::ShapeMismatch { .. } => MINNOW_ERR_SHAPE_MISMATCH,
            Error::LengthMismatch { .. } => MINNOW_ERR_LENGTH_MISMATCH,
            Error::InvalidQuantization { .. } => MINNOW_ERR_INVALID_QUANTIZATION,
            Error::InvalidActivationRange { .. } => MINNOW_ERR_INVALID_ACTIVATION_RANGE,
            Error::ClassCountMismatch { .. } => MINNOW_ERR_CLASS_COUNT_MISMATCH,
            Error::Overflow => MINNOW_ERR_OVERFLOW,
            Error::BufferSize { .. } | Error::EncodeBufferFull => MINNOW_ERR_BUFFER_SIZE,
            Error::NonFinite | Error::InvalidTemperature => MINNOW_ERR_NON_FINITE,
            Error::LengthsDiffer { .. } => MINNOW_ERR_LENGTHS_DIFFER,
            Error::IndexOutOfRange { .. } => MINNOW_ERR_INDEX_OUT_OF_RANGE,
            Error::UnsupportedOp { .. } => MINNOW_ERR_UNSUPPORTED_OP,
            Error::InvalidInputShape => MINNOW_ERR_INVALID_INPUT_SHAPE,
            Error::InvalidInputScale => MINNOW_ERR_INVALID_INPUT_SCALE,
            Error::InvalidGoldenSize => MINNOW_ERR_INVALID_GOLDEN_SIZE,
            Error::GoldenLengthMismatch => MINNOW_ERR_GOLDEN_LENGTH_MISMATCH,
            Error::InvalidNormalization => MINNOW_ERR_INVALID_NORMALIZATION,
            _ => MINNOW_ERR_OTHER,
        }
    }
}

/// Marks a `minnow_student` / `minnow_golden` that a decode filled in.
const DECODED: u32 = 0x4d4e_4f4b; // "MNOK"

/// A decoded student: fill it with `minnow_student_decode`, then pass it to the other
/// `minnow_student_*` functions. It borrows the blob (weights are read from it, never copied):
/// the blob must stay in place, unchanged, for as long as the student is used. Its fields are
/// private; it may be copied, and zero-initialised storage is refused as `MINNOW_ERR_NOT_DECODED`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct minnow_student {
    state: u32,
    storage: [usize; MINNOW_STUDENT_WORDS],
}

/// A decoded golden-vector blob (fill it with `minnow_golden_decode`); it borrows the blob as
/// `minnow_student` does.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct minnow_golden {
    state: u32,
    storage: [usize; MINNOW_GOLDEN_WORDS],
}

/// Words (`size_t`) of `minnow_student`'s storage: a decoded student fits (checked when the
/// library is compiled, for every target).
pub const MINNOW_STUDENT_WORDS: usize = 20;
/// Words (`size_t`) of `minnow_golden`'s storage.
pub const MINNOW_GOLDEN_WORDS: usize = 12;

/// What a decode gives a C caller: `decoded` written at the start of `storage` and `state`
/// marked decoded, or the error. `T` must fit `storage` (checked when the library is compiled).
fn store<T: Copy, const W: usize>(
    state: &mut u32,
    storage: &mut [usize; W],
    decoded: Result<T, MinnowStatus>,
) -> MinnowStatus {
    const { assert!(size_of::<T>() <= W * size_of::<usize>() && align_of::<T>() <= align_of::<usize>()) };
    match decoded {
        Ok(value) => {
            // SAFETY: `storage` is large and aligned enough for a `T` (the assertion above);
            // `T` is `Copy`, so nothing is dropped.
            unsafe { ptr::from_mut(storage).cast::<T>().write(value) };
            *state = DECODED;
            MINNOW_OK
        }
        Err(e) => e,
    }
}

/// The `T` that [`store`] put in `storage`, if `state` says a decode did.
///
/// # Safety
/// Whatever stores into this `storage` stores a `T` (one type per C struct).
unsafe fn stored<T, const W: usize>(state: u32, storage: &[usize; W]) -> Result<&T, MinnowStatus> {
    if state != DECODED {
        return Err(MINNOW_ERR_NOT_DECODED);
    }
    // SAFETY: `state == DECODED` only after `store` wrote a `T` at the start of `storage`
    // (the caller's contract names the type).
    Ok(unsafe { &*ptr::from_ref(storage).cast::<T>() })
}

/// `len` bytes at `p` as a slice: NULL is the empty slice when `len` is 0, an error otherwise.
///
/// # Safety
/// A non-null `p` must point to `len` readable values of `T`, unchanged for `'a`.
unsafe fn slice<'a, T>(p: *const T, len: usize) -> Result<&'a [T], MinnowStatus> {
    match (p.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(MINNOW_ERR_NULL_POINTER),
        (false, _) if !p.is_aligned() => Err(MINNOW_ERR_MISALIGNED),
        // SAFETY: the caller's contract; non-null and aligned checked above.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts(p, len) }),
    }
}

/// As [`slice`], writable.
///
/// # Safety
/// A non-null `p` must point to `len` writable values of `T`, used by nothing else for `'a`.
unsafe fn slice_mut<'a, T>(p: *mut T, len: usize) -> Result<&'a mut [T], MinnowStatus> {
    match (p.is_null(), len) {
        (true, 0) => Ok(&mut []),
        (true, _) => Err(MINNOW_ERR_NULL_POINTER),
        (false, _) if !p.is_aligned() => Err(MINNOW_ERR_MISALIGNED),
        // SAFETY: the caller's contract; non-null and aligned checked above.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts_mut(p, len) }),
    }
}

/// The student in `s`, if a decode filled it in.
///
/// # Safety
/// A non-null `s` must point to a readable `minnow_student` whose blob is still in place.
unsafe fn student<'a>(s: *const minnow_student) -> Result<&'a Student<'a>, MinnowStatus> {
    // SAFETY: the caller's contract (a reference to a readable, aligned struct, or null).
    let s = unsafe { s.as_ref() }.ok_or(MINNOW_ERR_NULL_POINTER)?;
    // SAFETY: only `minnow_student_decode` stores into a `minnow_student`, and it stores a
    // `Student`.
    unsafe { stored(s.state, &s.storage) }
}

/// The golden vectors in `g`, if a decode filled it in.
///
/// # Safety
/// As [`student`].
unsafe fn golden<'a>(g: *const minnow_golden) -> Result<&'a GoldenVectors<'a>, MinnowStatus> {
    // SAFETY: the caller's contract.
    let g = unsafe { g.as_ref() }.ok_or(MINNOW_ERR_NULL_POINTER)?;
    // SAFETY: only `minnow_golden_decode` stores into a `minnow_golden`, and it stores
    // `GoldenVectors`.
    unsafe { stored(g.state, &g.storage) }
}

fn status(r: Result<(), MinnowStatus>) -> MinnowStatus {
    match r {
        Ok(()) => MINNOW_OK,
        Err(e) => e,
    }
}

/// Decodes and validates a student blob (`blob_len` bytes at `blob`, e.g. student.c's
/// `minnow_student_blob`) into `*out`. Every check inference relies on happens here, so a
/// student that decodes runs without error given buffers of the right sizes. On failure
/// `*out` is marked not decoded. The blob must outlive every use of `*out`.
///
/// # Safety
/// `blob` must point to `blob_len` readable bytes that stay unchanged while `*out` is used;
/// `out` must point to a writable `minnow_student` (or be NULL: `MINNOW_ERR_NULL_POINTER`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_student_decode(
    blob: *const u8,
    blob_len: usize,
    out: *mut minnow_student,
) -> MinnowStatus {
    // SAFETY: the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return MINNOW_ERR_NULL_POINTER;
    };
    out.state = 0;
    // SAFETY: the caller's contract.
    let decoded = unsafe { slice(blob, blob_len) }
        .and_then(|b| Student::decode_ops::<OPS>(b).map_err(MinnowStatus::from));
    store(&mut out.state, &mut out.storage, decoded)
}

/// int8 values one input has (0 if `s` is NULL or not decoded).
///
/// # Safety
/// `s` is NULL or points to a `minnow_student` whose blob is still in place.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_student_input_len(s: *const minnow_student) -> usize {
    // SAFETY: the caller's contract.
    unsafe { student(s) }.map_or(0, |s| s.input_len())
}

/// Number of classes: the logits' length (0 if `s` is NULL or not decoded).
///
/// # Safety
/// As `minnow_student_input_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_student_classes(s: *const minnow_student) -> usize {
    // SAFETY: the caller's contract.
    unsafe { student(s) }.map_or(0, |s| s.classes())
}

/// Bytes of scratch RAM one inference needs (0 if `s` is NULL or not decoded).
///
/// # Safety
/// As `minnow_student_input_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_student_scratch_len(s: *const minnow_student) -> usize {
    // SAFETY: the caller's contract.
    unsafe { student(s) }.map_or(0, |s| s.scratch_len())
}

/// Normalises and quantizes one raw sample (`raw_len` floats, as the training data) with the
/// student's stored normalisation into `out` (`out_len` int8 values); both lengths must be
/// `minnow_student_input_len`.
///
/// # Safety
/// `s` as `minnow_student_input_len`; `raw` points to `raw_len` readable floats, `out` to
/// `out_len` writable bytes not overlapping `raw`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_student_quantize_input(
    s: *const minnow_student,
    raw: *const f32,
    raw_len: usize,
    out: *mut i8,
    out_len: usize,
) -> MinnowStatus {
    status((|| {
        // SAFETY: the caller's contract.
        let (s, raw, out) =
            unsafe { (student(s)?, slice(raw, raw_len)?, slice_mut(out, out_len)?) };
        Ok(s.quantize_input(raw, out)?)
    })())
}

/// Runs one inference: `input` (exactly `minnow_student_input_len` int8 values), `scratch` (at
/// least `minnow_student_scratch_len` bytes), `logits` (at least `minnow_student_classes`; the
/// int8 logits land in its first `classes` entries). The same bytes the host computed.
///
/// # Safety
/// `s` as `minnow_student_input_len`; each pointer points to as many readable (input) or
/// writable (scratch, logits) bytes as its length says, and the three do not overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_student_run(
    s: *const minnow_student,
    input: *const i8,
    input_len: usize,
    scratch: *mut i8,
    scratch_len: usize,
    logits: *mut i8,
    logits_len: usize,
) -> MinnowStatus {
    status((|| {
        // SAFETY: the caller's contract.
        let (s, input, scratch, logits) = unsafe {
            (
                student(s)?,
                slice(input, input_len)?,
                slice_mut(scratch, scratch_len)?,
                slice_mut(logits, logits_len)?,
            )
        };
        Ok(s.run_ops::<OPS>(input, scratch, logits)?)
    })())
}

/// `minnow_student_run`, then the predicted class (the largest logit, the first on ties) in
/// `*class_out`; integer only.
///
/// # Safety
/// As `minnow_student_run`; `class_out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_student_predict(
    s: *const minnow_student,
    input: *const i8,
    input_len: usize,
    scratch: *mut i8,
    scratch_len: usize,
    logits: *mut i8,
    logits_len: usize,
    class_out: *mut usize,
) -> MinnowStatus {
    if class_out.is_null() {
        return MINNOW_ERR_NULL_POINTER;
    }
    // SAFETY: the caller's contract, passed on.
    let ran = unsafe {
        minnow_student_run(
            s,
            input,
            input_len,
            scratch,
            scratch_len,
            logits,
            logits_len,
        )
    };
    if ran != MINNOW_OK {
        return ran;
    }
    // SAFETY: as above (the run checked `s` and `logits`).
    let (classes, logits) = unsafe { (minnow_student_classes(s), slice(logits, logits_len)) };
    match logits.map(|l| l.get(..classes).and_then(argmax_i8)) {
        Ok(Some(c)) => {
            // SAFETY: non-null checked above; the caller's contract.
            unsafe { class_out.write(c) };
            MINNOW_OK
        }
        Ok(None) => MINNOW_ERR_BUFFER_SIZE,
        Err(e) => e,
    }
}

/// Decodes a golden-vector blob (golden.c's `minnow_golden_blob`) into `*out`.
///
/// # Safety
/// As `minnow_student_decode`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_golden_decode(
    blob: *const u8,
    blob_len: usize,
    out: *mut minnow_golden,
) -> MinnowStatus {
    // SAFETY: the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return MINNOW_ERR_NULL_POINTER;
    };
    out.state = 0;
    // SAFETY: the caller's contract.
    let decoded = unsafe { slice(blob, blob_len) }
        .and_then(|b| GoldenVectors::decode(b).map_err(MinnowStatus::from));
    store(&mut out.state, &mut out.storage, decoded)
}

/// Number of golden vectors (0 if `g` is NULL or not decoded).
///
/// # Safety
/// `g` is NULL or points to a `minnow_golden` whose blob is still in place.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_golden_count(g: *const minnow_golden) -> usize {
    // SAFETY: the caller's contract.
    unsafe { golden(g) }.map_or(0, |g| g.len())
}

/// Golden vector `index`: its int8 input (`*input`, `*input_len` values) and the int8 logits
/// the host computed for it (`*expected`, `*classes` values), pointing into the blob.
///
/// # Safety
/// `g` as `minnow_golden_count`; the four out-pointers point to writable values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minnow_golden_vector(
    g: *const minnow_golden,
    index: usize,
    input: *mut *const i8,
    input_len: *mut usize,
    expected: *mut *const i8,
    classes: *mut usize,
) -> MinnowStatus {
    if input.is_null() || input_len.is_null() || expected.is_null() || classes.is_null() {
        return MINNOW_ERR_NULL_POINTER;
    }
    status((|| {
        // SAFETY: the caller's contract.
        let g = unsafe { golden(g)? };
        let (x, y) = (g.input(index)?, g.expected(index)?);
        // SAFETY: non-null checked above; the caller's contract.
        unsafe {
            input.write(x.as_ptr());
            input_len.write(x.len());
            expected.write(y.as_ptr());
            classes.write(y.len());
        }
        Ok(())
    })())
}

/// The name of a status code ("MINNOW_OK", "MINNOW_ERR_CRC_MISMATCH", ...), a static
/// NUL-terminated string; "MINNOW_ERR_OTHER" for a code that is not one.
#[unsafe(no_mangle)]
pub extern "C" fn minnow_status_name(status: i32) -> *const core::ffi::c_char {
    let name: &core::ffi::CStr = match status {
        0 => c"MINNOW_OK",
        -1 => c"MINNOW_ERR_NULL_POINTER",
        -2 => c"MINNOW_ERR_NOT_DECODED",
        -3 => c"MINNOW_ERR_MISALIGNED",
        -10 => c"MINNOW_ERR_TRUNCATED",
        -11 => c"MINNOW_ERR_BAD_MAGIC",
        -12 => c"MINNOW_ERR_UNSUPPORTED_VERSION",
        -13 => c"MINNOW_ERR_UNKNOWN_FLAGS",
        -14 => c"MINNOW_ERR_CRC_MISMATCH",
        -15 => c"MINNOW_ERR_TRAILING_BYTES",
        -16 => c"MINNOW_ERR_MALFORMED",
        -17 => c"MINNOW_ERR_NAME_TOO_LONG",
        -18 => c"MINNOW_ERR_NO_LAYERS",
        -19 => c"MINNOW_ERR_TOO_MANY_LAYERS",
        -20 => c"MINNOW_ERR_DIMENSION_OUT_OF_RANGE",
        -21 => c"MINNOW_ERR_SHAPE_MISMATCH",
        -22 => c"MINNOW_ERR_LENGTH_MISMATCH",
        -23 => c"MINNOW_ERR_INVALID_QUANTIZATION",
        -24 => c"MINNOW_ERR_INVALID_ACTIVATION_RANGE",
        -25 => c"MINNOW_ERR_CLASS_COUNT_MISMATCH",
        -26 => c"MINNOW_ERR_OVERFLOW",
        -27 => c"MINNOW_ERR_BUFFER_SIZE",
        -28 => c"MINNOW_ERR_NON_FINITE",
        -29 => c"MINNOW_ERR_LENGTHS_DIFFER",
        -30 => c"MINNOW_ERR_INDEX_OUT_OF_RANGE",
        -31 => c"MINNOW_ERR_UNSUPPORTED_OP",
        -32 => c"MINNOW_ERR_INVALID_INPUT_SHAPE",
        -33 => c"MINNOW_ERR_INVALID_INPUT_SCALE",
        -34 => c"MINNOW_ERR_INVALID_GOLDEN_SIZE",
        -35 => c"MINNOW_ERR_GOLDEN_LENGTH_MISMATCH",
        -36 => c"MINNOW_ERR_INVALID_NORMALIZATION",
        _ => c"MINNOW_ERR_OTHER",
    };
    name.as_ptr()
}

#[cfg(all(feature = "panic-handler", target_os = "none"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Unreachable: nothing in minnow-core or this library panics (no input makes it). A C
    // application has no Rust runtime to unwind into; stop here.
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests;
