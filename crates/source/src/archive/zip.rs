//! The zip side of archive extraction: read the central directory into a
//! [`Plan`], then write the planned members.
//!
//! Before the `zip` crate parses anything we read the end-of-central-directory
//! record ourselves and refuse archives that claim more members than the cap
//! (the crate sizes its tables from that claim). A member's kind comes from
//! its unix mode when present (symlink, device, FIFO and socket modes are
//! refused) and from a trailing `/` otherwise. Only stored and deflate members
//! are extracted; encrypted members are refused.
//!
//! Deliberately not here: path checks and byte counting (the parent module
//! does both for every format).

use super::{Entry, Extractor, Limits, MemberKind, Plan};
use crate::error::SourceError;
use ::zip::result::ZipError;
use ::zip::{CompressionMethod, ZipArchive};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

const FORMAT: &str = "zip";

/// Unix file-type bits.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFBLK: u32 = 0o060_000;
const S_IFIFO: u32 = 0o010_000;
const S_IFSOCK: u32 = 0o140_000;

/// Phase 1 for zip.
pub(super) fn plan(
    mut file: File,
    archive: &Path,
    limits: Limits,
) -> Result<(Plan, ZipArchive<File>), SourceError> {
    let claimed = claimed_entries(&mut file).map_err(|e| corrupt(archive, e.to_string()))?;
    if let Some(n) = claimed {
        if n > limits.max_entries {
            return Err(limits.too_many_entries(archive, n));
        }
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| corrupt(archive, e.to_string()))?;
    let mut zip = ZipArchive::new(file).map_err(|e| zip_error(archive, "", e))?;
    let count = zip.len() as u64;
    if count > limits.max_entries {
        return Err(limits.too_many_entries(archive, count));
    }
    let mut plan = Plan::new(archive, limits);
    for i in 0..zip.len() {
        let member = zip
            .by_index_raw(i)
            .map_err(|e| zip_error(archive, &format!("member #{i}"), e))?;
        let name = member.name().as_bytes().to_vec();
        let kind = member_kind(&member);
        drop(member);
        plan.add(i as u64, &name, kind)?;
    }
    plan.commit = super::commit_from_comment(zip.comment());
    Ok((plan.finish()?, zip))
}

/// Phase 2 for zip.
pub(super) fn extract(
    zip: &mut ZipArchive<File>,
    plan: &Plan,
    out: &mut Extractor<'_>,
) -> Result<(), SourceError> {
    for planned in &plan.entries {
        match planned.kind {
            Entry::Dir => out.dir(&planned.rel)?,
            Entry::File { .. } => {
                let index = usize::try_from(planned.index).unwrap_or(usize::MAX);
                let mut member = zip
                    .by_index(index)
                    .map_err(|e| zip_error(out.archive, &planned.rel.display().to_string(), e))?;
                out.file(planned, &mut member, FORMAT)?;
            }
        }
    }
    Ok(())
}

fn member_kind<R: Read>(m: &::zip::read::ZipFile<'_, R>) -> MemberKind {
    if m.encrypted() {
        return MemberKind::Unsupported("is encrypted".into());
    }
    let by_name_dir = m.name().ends_with('/');
    let kind_by_mode = match m.unix_mode().map(|mode| mode & S_IFMT) {
        Some(S_IFLNK) => return MemberKind::Unsafe("is a symbolic link"),
        Some(S_IFCHR | S_IFBLK) => return MemberKind::Unsafe("is a device file"),
        Some(S_IFIFO) => return MemberKind::Unsafe("is a FIFO"),
        Some(S_IFSOCK) => return MemberKind::Unsafe("is a socket"),
        Some(S_IFDIR) => Some(true),
        Some(S_IFREG) => Some(false),
        _ => None,
    };
    if by_name_dir || kind_by_mode == Some(true) {
        return MemberKind::Dir;
    }
    match m.compression() {
        CompressionMethod::Stored | CompressionMethod::Deflated => {}
        other => {
            return MemberKind::Unsupported(format!(
                "is compressed with {other:?}; only stored and deflate are supported"
            ))
        }
    }
    MemberKind::File {
        size: m.size(),
        executable: m.unix_mode().is_some_and(|mode| mode & 0o111 != 0),
    }
}

fn corrupt(archive: &Path, detail: String) -> SourceError {
    SourceError::ArchiveCorrupt {
        archive: archive.to_path_buf(),
        format: FORMAT,
        detail,
    }
}

fn zip_error(archive: &Path, entry: &str, e: ZipError) -> SourceError {
    let at = if entry.is_empty() {
        String::new()
    } else {
        format!("entry `{entry}`: ")
    };
    match e {
        ZipError::UnsupportedArchive(what) => SourceError::ArchiveUnsupported {
            archive: archive.to_path_buf(),
            entry: entry.to_string(),
            reason: format!("needs an unsupported zip feature ({what})"),
        },
        other => corrupt(archive, format!("{at}{other}")),
    }
}

/// The member count the end-of-central-directory record claims (zip64 aware),
/// or `None` when no record is found (the zip crate then reports the error).
fn claimed_entries(file: &mut File) -> io::Result<Option<u64>> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const LOCATOR64: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const EOCD64: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    let len = file.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 65_535 + 20);
    let tail_start = len - tail_len;
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(SeekFrom::Start(tail_start))?;
    file.read_exact(&mut tail)?;
    let u16_at = |b: &[u8], i: usize| u64::from(u16::from_le_bytes([b[i], b[i + 1]]));
    let u32_at =
        |b: &[u8], i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
    let mut max: Option<u64> = None;
    // Every candidate record counts: the zip crate may pick any of them.
    for pos in (0..tail.len().saturating_sub(21)).rev() {
        if tail[pos..pos + 4] != EOCD {
            continue;
        }
        let mut n = u16_at(&tail, pos + 10).max(u16_at(&tail, pos + 8));
        let needs64 = n == 0xffff || u32_at(&tail, pos + 16) == 0xffff_ffff;
        if needs64 && pos >= 20 && tail[pos - 20..pos - 16] == LOCATOR64 {
            let at = u32_at(&tail, pos - 12) | (u32_at(&tail, pos - 8) << 32);
            if at.checked_add(56).is_some_and(|end| end <= len) {
                let mut rec = [0u8; 56];
                file.seek(SeekFrom::Start(at))?;
                file.read_exact(&mut rec)?;
                if rec[..4] == EOCD64 {
                    let total = u32_at(&rec, 32) | (u32_at(&rec, 36) << 32);
                    let here = u32_at(&rec, 24) | (u32_at(&rec, 28) << 32);
                    n = total.max(here);
                }
            }
        }
        max = Some(max.map_or(n, |m: u64| m.max(n)));
    }
    Ok(max)
}
