//! The 16-byte header every minnow blob starts with, and its CRC.
//!
//! ```text
//! offset size field
//!      0    4 magic        b"MNST" (student) or b"MNGV" (golden vectors)
//!      4    2 version      u16 LE, FORMAT_VERSION (read: OLDEST_VERSION..=FORMAT_VERSION)
//!      6    2 flags        u16 LE, must be 0 in this version
//!      8    4 body_len     u32 LE, bytes after the header
//!     12    4 body_crc     u32 LE, CRC-32/ISO-HDLC (the zlib/PNG CRC) of the body
//!     16    . body         postcard
//! ```

use crate::Error;
use crate::error::len32;

/// Length of the header in bytes.
pub const HEADER_LEN: usize = 16;

/// The format version this build writes (students and golden vectors alike). Version 2 stores
/// one input normalisation pair per channel or per value where version 1 had one for all.
pub const FORMAT_VERSION: u16 = 2;

/// The oldest version this build reads: version 1 students decode as before (one normalisation
/// pair); golden vectors did not change.
pub const OLDEST_VERSION: u16 = 1;

/// The reflected CRC-32 polynomial (CRC-32/ISO-HDLC: zlib, PNG, Ethernet).
const CRC32_POLY: u32 = 0xedb8_8320;

/// CRC-32 remainders of the 16 four-bit values. A nibble table instead of the `crc` crate's
/// byte table (1 KB) or its unrolled bitwise loop (~840 bytes on a Cortex-M4): 64 bytes of flash
/// for two lookups per byte. The CRC runs once per decode, so flash matters more than speed.
const CRC32_NIBBLES: [u32; 16] = {
    let mut table = [0_u32; 16];
    let mut n = 0;
    while n < 16 {
        let mut v = n as u32;
        let mut bit = 0;
        while bit < 4 {
            v = if v & 1 == 1 {
                (v >> 1) ^ CRC32_POLY
            } else {
                v >> 1
            };
            bit += 1;
        }
        table[n] = v;
        n += 1;
    }
    table
};

/// CRC-32/ISO-HDLC of `bytes` (tested against the `crc` crate).
#[inline(never)]
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for &b in bytes {
        crc ^= u32::from(b);
        crc = (crc >> 4) ^ CRC32_NIBBLES[(crc & 0xf) as usize];
        crc = (crc >> 4) ^ CRC32_NIBBLES[(crc & 0xf) as usize];
    }
    !crc
}

/// Checks the header and CRC and returns the body and the format version. (Not inlined:
/// students and golden vectors share one copy on the device.)
#[inline(never)]
pub(crate) fn open<'a>(blob: &'a [u8], magic: &[u8; 4]) -> Result<(&'a [u8], u16), Error> {
    let available = len32(blob.len());
    let header = blob.get(..HEADER_LEN).ok_or(Error::Truncated {
        needed: HEADER_LEN as u32,
        available,
    })?;
    if header.get(..4) != Some(magic.as_slice()) {
        return Err(Error::BadMagic);
    }
    let version = u16::from_le_bytes([header[4], header[5]]);
    if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let flags = u16::from_le_bytes([header[6], header[7]]);
    if flags != 0 {
        return Err(Error::UnknownFlags { flags });
    }
    let body_len = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    let stored = u32::from_le_bytes([header[12], header[13], header[14], header[15]]);
    let needed = u32::try_from(HEADER_LEN)
        .unwrap_or(u32::MAX)
        .saturating_add(body_len);
    let body_len = usize::try_from(body_len).map_err(|_| Error::Overflow)?;
    let rest = &blob[HEADER_LEN..];
    let body = rest
        .get(..body_len)
        .ok_or(Error::Truncated { needed, available })?;
    if rest.len() > body_len {
        return Err(Error::TrailingBytes {
            extra: len32(rest.len() - body_len),
        });
    }
    let computed = crc32(body);
    if computed != stored {
        return Err(Error::CrcMismatch { stored, computed });
    }
    Ok((body, version))
}

/// Writes the header for `body_len` body bytes already placed at `out[HEADER_LEN..]`.
pub(crate) fn seal(out: &mut [u8], magic: &[u8; 4], body_len: usize) -> Result<usize, Error> {
    let total = HEADER_LEN.checked_add(body_len).ok_or(Error::Overflow)?;
    let body_len32 = u32::try_from(body_len).map_err(|_| Error::Overflow)?;
    let out = out.get_mut(..total).ok_or(Error::EncodeBufferFull)?;
    let crc = crc32(&out[HEADER_LEN..]);
    out[..4].copy_from_slice(magic);
    out[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[6..8].copy_from_slice(&0_u16.to_le_bytes());
    out[8..12].copy_from_slice(&body_len32.to_le_bytes());
    out[12..16].copy_from_slice(&crc.to_le_bytes());
    Ok(total)
}

/// Postcard-serializes `value` into `out[*pos..]` and advances `pos`.
pub(crate) fn put<T: serde::Serialize + ?Sized>(
    value: &T,
    out: &mut [u8],
    pos: &mut usize,
) -> Result<(), Error> {
    let rest = out.get_mut(*pos..).ok_or(Error::EncodeBufferFull)?;
    let used = postcard::to_slice(value, rest)
        .map_err(|_| Error::EncodeBufferFull)?
        .len();
    *pos += used;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The nibble-table CRC is the zlib CRC-32, as the `crc` crate computes it.
        #[test]
        fn crc32_matches_the_crc_crate(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let reference = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
            prop_assert_eq!(super::crc32(&bytes), reference.checksum(&bytes));
        }
    }

    #[test]
    fn crc32_check_value() {
        // The catalogue's check value for CRC-32/ISO-HDLC.
        assert_eq!(super::crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(super::crc32(b""), 0);
    }
}
