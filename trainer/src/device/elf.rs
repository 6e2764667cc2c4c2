//! Flash of a firmware ELF: the sizes of the sections that are stored in flash, read from the
//! section headers (what `llvm-size -A` prints), so that the runtime measurement needs no
//! LLVM tools.

use std::path::Path;

use crate::error::{Error, Result};
use crate::files::IoError;

/// The sections cortex-m-rt's link.x places in flash (`.data` is copied from flash to RAM).
pub const FLASH_SECTIONS: &[&str] = &[".vector_table", ".text", ".rodata", ".data", ".gnu.sgstubs"];

/// (name, size) of every section of a 32-bit little-endian ELF.
pub fn sections(bytes: &[u8]) -> std::result::Result<Vec<(String, u64)>, String> {
    let u16_at = |at: usize| -> std::result::Result<u64, String> {
        bytes
            .get(at..at + 2)
            .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    let u32_at = |at: usize| -> std::result::Result<u64, String> {
        bytes
            .get(at..at + 4)
            .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    if bytes.get(4..6) != Some([1u8, 1].as_slice()) {
        return Err("not a 32-bit little-endian ELF (a Cortex-M image)".into());
    }
    let shoff = u32_at(0x20)? as usize;
    let shentsize = u16_at(0x2e)? as usize;
    let shnum = u16_at(0x30)? as usize;
    let shstrndx = u16_at(0x32)? as usize;
    if shentsize < 40 || shstrndx >= shnum {
        return Err(format!(
            "bad section header table (entry size {shentsize}, {shnum} sections, names in {shstrndx})"
        ));
    }
    let header = |i: usize| shoff + i * shentsize;
    let names_at = u32_at(header(shstrndx) + 0x10)? as usize;
    let mut out = Vec::with_capacity(shnum);
    for i in 0..shnum {
        let h = header(i);
        let name_at = names_at + u32_at(h)? as usize;
        let name = bytes
            .get(name_at..)
            .and_then(|rest| rest.split(|&b| b == 0).next())
            .ok_or_else(|| format!("section {i}: name outside the file"))?;
        out.push((
            String::from_utf8_lossy(name).into_owned(),
            u32_at(h + 0x14)?,
        ));
    }
    Ok(out)
}

/// Bytes of flash the ELF at `path` occupies (the [`FLASH_SECTIONS`]).
pub fn flash_bytes(path: &Path) -> Result<u64> {
    let bytes = std::fs::read(path).map_err(|e| IoError::new(path, e))?;
    let sections = sections(&bytes).map_err(|problem| Error::artifact(path, problem))?;
    Ok(sections
        .iter()
        .filter(|(name, _)| FLASH_SECTIONS.contains(&name.as_str()))
        .map(|(_, size)| size)
        .sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF32 LE: a null section, `.text` (100 bytes), `.bss` (50), `.shstrtab`.
    fn tiny_elf() -> Vec<u8> {
        let names = b"\0.text\0.bss\0.shstrtab\0";
        let shoff = 52 + names.len();
        let mut f = vec![0u8; shoff + 4 * 40];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 1; // ELFCLASS32
        f[5] = 1; // little-endian
        f[0x20..0x24].copy_from_slice(&(shoff as u32).to_le_bytes());
        f[0x2e..0x30].copy_from_slice(&40u16.to_le_bytes());
        f[0x30..0x32].copy_from_slice(&4u16.to_le_bytes());
        f[0x32..0x34].copy_from_slice(&3u16.to_le_bytes());
        f[52..52 + names.len()].copy_from_slice(names);
        let mut section = |i: usize, name: u32, offset: u32, size: u32| {
            let h = shoff + i * 40;
            f[h..h + 4].copy_from_slice(&name.to_le_bytes());
            f[h + 0x10..h + 0x14].copy_from_slice(&offset.to_le_bytes());
            f[h + 0x14..h + 0x18].copy_from_slice(&size.to_le_bytes());
        };
        section(1, 1, 0, 100);
        section(2, 7, 0, 50);
        section(3, 12, 52, names.len() as u32);
        f
    }

    #[test]
    fn reads_section_sizes() {
        let s = sections(&tiny_elf()).expect("parses");
        let named: Vec<(&str, u64)> = s.iter().map(|(n, z)| (n.as_str(), *z)).collect();
        assert_eq!(
            named,
            [("", 0), (".text", 100), (".bss", 50), (".shstrtab", 22)]
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tiny.elf");
        std::fs::write(&path, tiny_elf()).expect("write");
        assert_eq!(flash_bytes(&path).expect("flash"), 100);
    }

    #[test]
    fn refuses_what_is_not_a_cortex_m_elf() {
        assert_eq!(sections(b"MZ\0\0"), Err("not an ELF file".into()));
        let mut elf64 = tiny_elf();
        elf64[4] = 2;
        assert!(sections(&elf64).is_err());
        let truncated = &tiny_elf()[..60];
        assert!(
            sections(truncated)
                .expect_err("truncated")
                .contains("truncated")
        );
    }
}
