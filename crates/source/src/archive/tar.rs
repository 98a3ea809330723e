//! The tar side of archive extraction (`.tar`, `.tar.gz`, `.tgz`).
//!
//! A tar stream can only be read front to back, so validation is a complete
//! first pass over the (decompressed) stream that builds the [`Plan`]; the
//! file is then rewound and a second pass writes the planned members, checking
//! that it meets exactly the same members in the same order.
//!
//! The `tar` crate is used in raw mode (headers only) and the extension
//! headers are handled here, with small caps: GNU long names (`L`, `K`), pax
//! per-member records (`x`: `path`, `size`) and pax global records (`g`,
//! whose `comment` carries the commit SHA written by `git archive`). A stream
//! that ends without tar's end-of-archive marker is treated as truncated.
//!
//! Deliberately not here: sparse files, multi-volume archives, links (all
//! refused), ownership and timestamps (ignored).

use super::{Extractor, Limits, MemberKind, Plan};
use crate::classify::ArchiveFormat;
use crate::error::SourceError;
use flate2::read::MultiGzDecoder;
use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Cap on one metadata member (long name or pax records).
const META_CAP: u64 = 1 << 20;
/// Data tolerated after tar's end marker inside a gzip stream (padding).
const TRAILER_CAP: u64 = 16 << 20;

/// One member as the walk reports it.
struct Member {
    index: u64,
    name: Vec<u8>,
    kind: MemberKind,
}

/// Phase 1 for tar: a full pass over the stream, no writes.
pub(super) fn plan(
    file: &mut File,
    archive: &Path,
    format: ArchiveFormat,
    limits: Limits,
) -> Result<Plan, SourceError> {
    let mut plan = Plan::new(archive, limits);
    let comment = walk(file, archive, format, limits, true, &mut |m, _| {
        plan.add(m.index, &m.name, m.kind.clone())
    })?;
    plan.commit = comment.and_then(|c| super::commit_from_comment(c.as_bytes()));
    plan.finish()
}

/// Phase 2 for tar: a second pass that writes what the plan lists.
pub(super) fn extract(
    file: &mut File,
    archive: &Path,
    format: ArchiveFormat,
    plan: &Plan,
    out: &mut Extractor<'_>,
) -> Result<(), SourceError> {
    file.seek(SeekFrom::Start(0))
        .map_err(|e| corrupt(archive, format, e.to_string()))?;
    let changed = || {
        corrupt(
            archive,
            format,
            "the file changed between validation and extraction".into(),
        )
    };
    let mut next = plan.entries.iter().peekable();
    walk(file, archive, format, plan.limits, false, &mut |m, data| {
        let checked = super::check_member(archive, &m.name, m.kind.clone())?;
        match (checked, next.peek()) {
            (None, _) => Ok(()),
            (Some((rel, kind)), Some(p))
                if p.index == m.index && p.rel == rel && p.kind == kind =>
            {
                let p = next.next().expect("peeked");
                out.file(p, data, format_name(format))
            }
            _ => Err(changed()),
        }
    })?;
    if next.next().is_some() {
        return Err(changed());
    }
    Ok(())
}

fn format_name(format: ArchiveFormat) -> &'static str {
    match format {
        ArchiveFormat::TarGz => "tar.gz",
        _ => "tar",
    }
}

fn corrupt(archive: &Path, format: ArchiveFormat, detail: String) -> SourceError {
    SourceError::ArchiveCorrupt {
        archive: archive.to_path_buf(),
        format: format_name(format),
        detail,
    }
}

/// A reader that remembers whether it ever hit end of input.
struct EofWatch<'c, R> {
    inner: R,
    eof: &'c Cell<bool>,
}

impl<R: Read> Read for EofWatch<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof.set(true);
        }
        Ok(n)
    }
}

/// Read every member, calling `visit` for each file or folder (and for each
/// refused kind, so the plan can word the refusal). Returns the pax global
/// `comment`, if any. `check_trailer`: also read to the end of a gzip stream
/// so a truncated or corrupt stream is caught in the first pass.
fn walk(
    file: &mut File,
    archive: &Path,
    format: ArchiveFormat,
    limits: Limits,
    check_trailer: bool,
    visit: &mut dyn FnMut(&Member, &mut dyn Read) -> Result<(), SourceError>,
) -> Result<Option<String>, SourceError> {
    let bad = |detail: String| corrupt(archive, format, detail);
    let eof = Cell::new(false);
    let reader: Box<dyn Read + '_> = match format {
        ArchiveFormat::TarGz => Box::new(MultiGzDecoder::new(BufReader::new(&mut *file))),
        _ => Box::new(BufReader::new(&mut *file)),
    };
    let mut ar = tar::Archive::new(EofWatch {
        inner: reader,
        eof: &eof,
    });
    let mut comment = None;
    let mut long_name: Option<Vec<u8>> = None;
    let mut pax_path: Option<Vec<u8>> = None;
    let mut pax_size: Option<u64> = None;
    let mut index: u64 = 0;
    let mut pending_meta = false;
    {
        let entries = ar.entries().map_err(|e| bad(e.to_string()))?.raw(true);
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            index += 1;
            if index > limits.max_entries {
                return Err(limits.too_many_entries(archive, index));
            }
            let header = entry.header();
            let type_byte = header.entry_type().as_byte();
            let size = entry.size();
            let mode = header.mode().unwrap_or(0o644);
            match type_byte {
                b'L' | b'K' | b'x' | b'g' => {
                    if size > META_CAP {
                        return Err(bad(format!(
                            "a tar metadata header of {size} bytes (more than 1 MiB)"
                        )));
                    }
                    let mut data = Vec::with_capacity(size as usize);
                    (&mut entry)
                        .take(META_CAP)
                        .read_to_end(&mut data)
                        .map_err(|e| bad(e.to_string()))?;
                    match type_byte {
                        b'L' => {
                            while data.last() == Some(&0) {
                                data.pop();
                            }
                            long_name = Some(data);
                            pending_meta = true;
                        }
                        b'K' => pending_meta = true,
                        b'x' => {
                            for (k, v) in pax_records(&data).map_err(bad)? {
                                match k {
                                    b"path" => pax_path = Some(v.to_vec()),
                                    b"size" => {
                                        pax_size =
                                            std::str::from_utf8(v).ok().and_then(|s| s.parse().ok())
                                    }
                                    _ => {}
                                }
                            }
                            pending_meta = true;
                        }
                        _ => {
                            for (k, v) in pax_records(&data).map_err(bad)? {
                                if k == b"comment" {
                                    comment = Some(String::from_utf8_lossy(v).into_owned());
                                }
                            }
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let name = pax_path
                .take()
                .or_else(|| long_name.take())
                .unwrap_or_else(|| header.path_bytes().into_owned());
            long_name = None;
            pending_meta = false;
            if let Some(ps) = pax_size.take() {
                if ps != size {
                    return Err(SourceError::ArchiveUnsupported {
                        archive: archive.to_path_buf(),
                        entry: String::from_utf8_lossy(&name).into_owned(),
                        reason: "has a pax size that differs from its header size".into(),
                    });
                }
            }
            let kind = match type_byte {
                b'0' | b'\0' | b'7' if name.ends_with(b"/") && size == 0 => MemberKind::Dir,
                b'0' | b'\0' | b'7' => MemberKind::File {
                    size,
                    executable: mode & 0o111 != 0,
                },
                b'5' => MemberKind::Dir,
                b'1' => MemberKind::Unsafe("is a hard link"),
                b'2' => MemberKind::Unsafe("is a symbolic link"),
                b'3' | b'4' => MemberKind::Unsafe("is a device file"),
                b'6' => MemberKind::Unsafe("is a FIFO"),
                b'S' => MemberKind::Unsupported("is a sparse file".into()),
                other => MemberKind::Unsupported(format!(
                    "has tar entry type {:?}, which is not a file or folder",
                    char::from(other)
                )),
            };
            let member = Member { index, name, kind };
            visit(&member, &mut entry)?;
        }
    }
    if pending_meta {
        return Err(bad("it ends with a header that describes no member".into()));
    }
    if eof.get() && index == 0 {
        // No bytes at all (or only gzip framing): an empty archive, which the
        // plan reports as such.
        return Ok(None);
    }
    if eof.get() {
        return Err(bad(
            "it ends without the end-of-archive marker, so it is probably truncated".into(),
        ));
    }
    if check_trailer && format == ArchiveFormat::TarGz {
        let mut rest = ar.into_inner();
        let n = io::copy(&mut (&mut rest).take(TRAILER_CAP + 1), &mut io::sink())
            .map_err(|e| bad(format!("after the last member: {e}")))?;
        if n > TRAILER_CAP {
            return Err(bad(
                "more than 16 MiB of data follows the end of the archive".into(),
            ));
        }
    }
    Ok(comment)
}

/// One pax record: key and value bytes.
type PaxRecord<'a> = (&'a [u8], &'a [u8]);

/// Parse pax extended header records: `"<len> <key>=<value>\n"`, repeated.
fn pax_records(data: &[u8]) -> Result<Vec<PaxRecord<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let space = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or("a pax record has no length")?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("a pax record has a bad length")?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err("a pax record is malformed".into());
        }
        let record = &rest[space + 1..len - 1];
        let eq = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or("a pax record has no '='")?;
        out.push((&record[..eq], &record[eq + 1..]));
        rest = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_parse() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let rec = format!("52 comment={sha}\n");
        assert_eq!(rec.len(), 52);
        let data = format!("{rec}12 path=a/b\n");
        let r = pax_records(data.as_bytes()).unwrap();
        assert_eq!(r[0], (&b"comment"[..], sha.as_bytes()));
        assert_eq!(r[1], (&b"path"[..], &b"a/b"[..]));
        assert!(pax_records(b"99 x=y\n").is_err());
        assert!(pax_records(b"x").is_err());
        assert!(pax_records(b"5 xy\n").is_err());
        assert!(pax_records(b"0 \n").is_err());
        assert!(pax_records(b"").unwrap().is_empty());
    }
}
