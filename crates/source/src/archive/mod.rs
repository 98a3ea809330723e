//! Extract a `.zip`, `.tar.gz`/`.tgz` or `.tar` file into a fresh working
//! directory — safely.
//!
//! Two phases, always:
//! 1. **Plan** (no writes, not even the working directory): read every
//!    member's header and refuse the whole archive if any member has an
//!    absolute path, a `..` component, a backslash or drive letter, is a
//!    symlink, hard link, device or FIFO, collides with another member, or if
//!    the member count, one file's declared size or the total declared size is
//!    over its cap. For tar the plan is a full first pass over the stream.
//! 2. **Extract**: write only what the plan lists (tar: a second pass that
//!    must see the same members in the same order), counting the bytes really
//!    written — declared sizes can lie — and stopping at the caps. On any
//!    failure the partial tree is removed.
//!
//! Only regular files (mode 0644, or 0755 when any execute bit was set) and
//! folders are ever created; nothing is created outside the destination.
//!
//! Deliberately not here: other compressions (bz2, xz, zstd), encrypted zips,
//! preserving owners, timestamps or special permission bits, downloading.

mod tar;
mod zip;

use crate::classify::ArchiveFormat;
use crate::error::SourceError;
use crate::options::{
    FetchOptions, ENV_MAX_ARCHIVE_BYTES, ENV_MAX_ARCHIVE_ENTRIES, ENV_MAX_FILE_BYTES,
};
use crate::snapshot::Snapshot;
use autodeploy_core::{SourceInfo, SourceKind};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
#[cfg(not(unix))]
use std::path::Component;
use std::path::{Path, PathBuf};

/// Longest path (in bytes) an entry may have once cleaned.
const MAX_PATH_BYTES: usize = 4096;
/// Longest single path component.
const MAX_COMPONENT_BYTES: usize = 255;

/// Fetch an archive file (already known to exist) into a snapshot.
pub(crate) fn fetch(
    input: &str,
    path: &Path,
    format: ArchiveFormat,
    opts: &FetchOptions,
) -> Result<Snapshot, SourceError> {
    let limits = Limits::from(opts);
    let file = fs::File::open(path).map_err(|e| SourceError::Unreadable {
        path: path.to_path_buf(),
        source: e,
    })?;

    if file.metadata().map(|m| m.len() == 0).unwrap_or(false) {
        return Err(SourceError::ArchiveEmpty {
            archive: path.to_path_buf(),
        });
    }

    // Phase 1: plan. Nothing is written before this returns Ok.
    let (plan, mut opened) = match format {
        ArchiveFormat::Zip => {
            let (plan, archive) = zip::plan(file, path, limits)?;
            (plan, Opened::Zip(Box::new(archive)))
        }
        ArchiveFormat::TarGz | ArchiveFormat::Tar => {
            let mut file = file;
            (
                tar::plan(&mut file, path, format, limits)?,
                Opened::Tar(file),
            )
        }
    };
    let top = plan.single_top_dir();
    let commit = plan
        .commit
        .clone()
        .or_else(|| top.as_deref().and_then(commit_from_dir_name));

    // Phase 2: extract into a fresh directory; remove it on any failure.
    let work = crate::make_work_dir(opts, "autodeploy-archive-")?;
    let dest = work.path().join(dest_name(path));
    let result = fs::create_dir(&dest)
        .map_err(|e| SourceError::Io {
            action: "create folder",
            path: dest.clone(),
            source: e,
        })
        .and_then(|()| {
            let mut out = Extractor::new(&dest, path, limits);
            match &mut opened {
                Opened::Zip(archive) => zip::extract(archive, &plan, &mut out),
                Opened::Tar(file) => tar::extract(file, path, format, &plan, &mut out),
            }
        });
    if let Err(e) = result {
        // Best effort: the TempDir guard removes it too when dropped.
        let _ = fs::remove_dir_all(&dest);
        drop(work);
        return Err(e);
    }

    let root = match &top {
        Some(t) => dest.join(t),
        None => dest.clone(),
    };
    let root = root.canonicalize().map_err(|e| SourceError::Unreadable {
        path: root.clone(),
        source: e,
    })?;
    let info = SourceInfo {
        input: input.to_string(),
        kind: SourceKind::Archive,
        commit,
    };
    Ok(Snapshot::owned(root, info, work))
}

/// An archive between plan and extraction.
enum Opened {
    Zip(Box<::zip::ZipArchive<fs::File>>),
    Tar(fs::File),
}

/// The caps, copied out of the options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_bytes: u64,
    pub max_entries: u64,
    pub max_file_bytes: u64,
}

impl From<&FetchOptions> for Limits {
    fn from(o: &FetchOptions) -> Self {
        Limits {
            max_bytes: o.max_archive_bytes,
            max_entries: o.max_archive_entries,
            max_file_bytes: o.max_file_bytes,
        }
    }
}

impl Limits {
    fn too_many_entries(&self, archive: &Path, count: u64) -> SourceError {
        SourceError::ArchiveTooLarge {
            archive: archive.to_path_buf(),
            what: format!("it holds {count} or more entries"),
            cap: self.max_entries,
            field: "max_archive_entries",
            env: ENV_MAX_ARCHIVE_ENTRIES,
        }
    }

    fn total_too_large(&self, archive: &Path, what: String) -> SourceError {
        SourceError::ArchiveTooLarge {
            archive: archive.to_path_buf(),
            what,
            cap: self.max_bytes,
            field: "max_archive_bytes",
            env: ENV_MAX_ARCHIVE_BYTES,
        }
    }

    fn file_too_large(&self, archive: &Path, what: String) -> SourceError {
        SourceError::ArchiveTooLarge {
            archive: archive.to_path_buf(),
            what,
            cap: self.max_file_bytes,
            field: "max_file_bytes",
            env: ENV_MAX_FILE_BYTES,
        }
    }
}

/// What a member is, as reported by a format reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemberKind {
    File {
        size: u64,
        executable: bool,
    },
    Dir,
    /// Never extracted; refusing it refuses the archive ("is a symbolic link").
    Unsafe(&'static str),
    /// A feature we do not extract ("is encrypted").
    Unsupported(String),
}

/// A member that will be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    /// Position of the member in the archive (zip index, tar member number).
    pub index: u64,
    /// Cleaned relative path (only normal components).
    pub rel: PathBuf,
    pub kind: Entry,
}

/// The two things we ever create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    File { size: u64, executable: bool },
    Dir,
}

/// Phase 1's result: every member checked, what to write, in order.
#[derive(Debug)]
pub(crate) struct Plan {
    archive: PathBuf,
    limits: Limits,
    pub entries: Vec<Planned>,
    /// Declared bytes of all files.
    declared: u64,
    files: u64,
    /// Every path planned or implied, and whether it is a folder.
    seen: PathTree,
    /// The previous member's cleaned name, and its folders: (end of the
    /// component in the name, node).
    last_name: Vec<u8>,
    last_chain: Vec<(usize, usize)>,
    /// A full commit SHA found in archive metadata (zip comment, pax comment).
    pub commit: Option<String>,
}

impl Plan {
    pub(crate) fn new(archive: &Path, limits: Limits) -> Self {
        Plan {
            archive: archive.to_path_buf(),
            limits,
            entries: Vec::new(),
            declared: 0,
            files: 0,
            seen: PathTree::default(),
            last_name: Vec::new(),
            last_chain: Vec::new(),
            commit: None,
        }
    }

    /// Check a member and add it to the plan, or refuse the archive.
    pub(crate) fn add(
        &mut self,
        index: u64,
        raw_name: &[u8],
        kind: MemberKind,
    ) -> Result<(), SourceError> {
        let Some((rel, entry)) = check_member(&self.archive, raw_name, kind)? else {
            return Ok(());
        };
        if let Entry::File { size, .. } = entry {
            if size > self.limits.max_file_bytes {
                return Err(self.limits.file_too_large(
                    &self.archive,
                    format!("entry `{}` declares {size} bytes", rel.display()),
                ));
            }
            self.declared = self.declared.saturating_add(size);
            if self.declared > self.limits.max_bytes {
                return Err(self.limits.total_too_large(
                    &self.archive,
                    format!(
                        "its files declare at least {} bytes in total",
                        self.declared
                    ),
                ));
            }
            self.files += 1;
        }
        self.check_collisions(&rel, entry)?;
        self.entries.push(Planned {
            index,
            rel,
            kind: entry,
        });
        Ok(())
    }

    /// Refuse a file that is also a folder, a file inside a file, or the same
    /// file twice (later members would silently replace earlier ones).
    ///
    /// Paths are checked in a tree of components (never hashed whole — a map
    /// keyed by whole paths hashed every ancestor of every member again,
    /// which made 8 chains of 2,000 nested folders cost 45 s of CPU), and
    /// the folders of the previous member are reused: archives list a folder
    /// before what is in it, so a member usually costs one lookup, plus a
    /// byte comparison with the previous name.
    fn check_collisions(&mut self, rel: &Path, entry: Entry) -> Result<(), SourceError> {
        let unsafe_entry = |reason: String| SourceError::ArchiveUnsafe {
            archive: self.archive.clone(),
            entry: rel.display().to_string(),
            reason,
        };
        let bytes = rel.as_os_str().as_encoded_bytes();
        if bytes.is_empty() {
            return Ok(());
        }
        // Reuse the folders this member shares with the previous one: the
        // chain's folders whose whole path is a folder of this member too
        // (monotone along the chain, so a binary search of memcmps).
        let last = &self.last_name;
        let keep = self.last_chain.partition_point(|&(end, _)| {
            bytes.get(end) == Some(&b'/') && bytes.get(..end) == last.get(..end)
        });
        self.last_chain.truncate(keep);
        let (mut node, mut start) = match self.last_chain.last() {
            Some(&(end, node)) => (node, end + 1),
            None => (PathTree::ROOT, 0),
        };
        let is_dir = entry == Entry::Dir;
        loop {
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(bytes.len(), |i| start + i);
            let name = os_str(&bytes[start..end]).map_err(|r| unsafe_entry(r.to_string()))?;
            if end == bytes.len() {
                match self.seen.child(node, name) {
                    Some((n, true)) if is_dir => node = n,
                    Some((_, true)) => {
                        return Err(unsafe_entry("is both a file and a folder".into()))
                    }
                    Some((_, false)) if is_dir => {
                        return Err(unsafe_entry("is both a file and a folder".into()))
                    }
                    Some((_, false)) => return Err(unsafe_entry("appears twice".into())),
                    None => node = self.seen.insert(node, name, is_dir),
                }
                if is_dir {
                    self.last_chain.push((end, node));
                }
                break;
            }
            node = match self.seen.child(node, name) {
                Some((child, true)) => child,
                Some((_, false)) => {
                    let ancestor = String::from_utf8_lossy(&bytes[..end]).into_owned();
                    return Err(unsafe_entry(format!(
                        "is inside `{ancestor}`, which is a file"
                    )));
                }
                None => self.seen.insert(node, name, true),
            };
            self.last_chain.push((end, node));
            start = end + 1;
        }
        self.last_name.clear();
        self.last_name.extend_from_slice(bytes);
        Ok(())
    }

    /// Bytes of path components hashed so far (tests prove the plan is
    /// linear in the names it reads).
    #[cfg(test)]
    pub(crate) fn hashed_bytes(&self) -> u64 {
        self.seen.hashed_bytes
    }

    /// Refuse an archive with no files at all.
    pub(crate) fn finish(self) -> Result<Self, SourceError> {
        if self.files == 0 {
            return Err(SourceError::ArchiveEmpty {
                archive: self.archive,
            });
        }
        Ok(self)
    }

    /// The one folder everything is in (GitHub-style `repo-main/`), if so.
    pub(crate) fn single_top_dir(&self) -> Option<String> {
        let mut top: Option<&std::ffi::OsStr> = None;
        let mut nested = false;
        for e in &self.entries {
            let mut comps = e.rel.components();
            let first = comps.next()?.as_os_str();
            if top.is_some_and(|t| t != first) {
                return None;
            }
            top = Some(first);
            nested |= comps.next().is_some() || e.kind == Entry::Dir;
        }
        let top = top?;
        (nested
            && self
                .seen
                .peek(PathTree::ROOT, top)
                .is_some_and(|(_, dir)| dir))
        .then(|| top.to_string_lossy().into_owned())
    }
}

/// Every path an archive's plan has seen, as a tree of components: a node's
/// children are keyed by one component, so checking a path hashes each of
/// its components once and never a whole path.
#[derive(Debug)]
struct PathTree {
    /// Per node: its children by component name.
    children: Vec<HashMap<Box<std::ffi::OsStr>, usize>>,
    /// Per node: whether it is a folder.
    is_dir: Vec<bool>,
    /// Bytes of components hashed (lookups and inserts).
    hashed_bytes: u64,
}

impl Default for PathTree {
    fn default() -> Self {
        PathTree {
            children: vec![HashMap::new()],
            is_dir: vec![true],
            hashed_bytes: 0,
        }
    }
}

impl PathTree {
    /// The archive's root folder.
    const ROOT: usize = 0;

    /// `name` under `parent`: (node, is a folder), counting the hashing.
    fn child(&mut self, parent: usize, name: &std::ffi::OsStr) -> Option<(usize, bool)> {
        self.hashed_bytes += name.len() as u64;
        self.peek(parent, name)
    }

    /// [`Self::child`] without counting (read-only callers).
    fn peek(&self, parent: usize, name: &std::ffi::OsStr) -> Option<(usize, bool)> {
        self.children[parent]
            .get(name)
            .map(|&node| (node, self.is_dir[node]))
    }

    /// Add `name` under `parent`; returns the new node.
    fn insert(&mut self, parent: usize, name: &std::ffi::OsStr, is_dir: bool) -> usize {
        self.hashed_bytes += name.len() as u64;
        let node = self.is_dir.len();
        self.children.push(HashMap::new());
        self.is_dir.push(is_dir);
        self.children[parent].insert(name.into(), node);
        node
    }
}

/// Validate one member: `Ok(None)` to skip it silently (`./`, macOS
/// `__MACOSX/` resource forks), `Ok(Some)` to write it, `Err` to refuse the
/// archive.
pub(crate) fn check_member(
    archive: &Path,
    raw_name: &[u8],
    kind: MemberKind,
) -> Result<Option<(PathBuf, Entry)>, SourceError> {
    let shown = || String::from_utf8_lossy(raw_name).into_owned();
    let entry = match kind {
        MemberKind::File { size, executable } => Entry::File { size, executable },
        MemberKind::Dir => Entry::Dir,
        MemberKind::Unsafe(reason) => {
            return Err(SourceError::ArchiveUnsafe {
                archive: archive.to_path_buf(),
                entry: shown(),
                reason: reason.to_string(),
            })
        }
        MemberKind::Unsupported(reason) => {
            return Err(SourceError::ArchiveUnsupported {
                archive: archive.to_path_buf(),
                entry: shown(),
                reason,
            })
        }
    };
    let rel = clean_path(raw_name).map_err(|reason| SourceError::ArchiveUnsafe {
        archive: archive.to_path_buf(),
        entry: shown(),
        reason: reason.to_string(),
    })?;
    let Some(rel) = rel else {
        return match entry {
            Entry::Dir => Ok(None),
            Entry::File { .. } => Err(SourceError::ArchiveUnsafe {
                archive: archive.to_path_buf(),
                entry: shown(),
                reason: "has no file name".into(),
            }),
        };
    };
    if rel.components().next().map(|c| c.as_os_str()) == Some("__MACOSX".as_ref()) {
        return Ok(None);
    }
    Ok(Some((rel, entry)))
}

/// Turn an entry name into a relative path of normal components, or say why
/// not. `Ok(None)`: the name designates the archive root (`./`).
pub(crate) fn clean_path(name: &[u8]) -> Result<Option<PathBuf>, &'static str> {
    if name.is_empty() {
        return Err("has an empty name");
    }
    if name.contains(&0) {
        return Err("has a NUL byte in its name");
    }
    if name.contains(&b'\\') {
        return Err("has a backslash in its name (a Windows path trick)");
    }
    if name[0] == b'/' {
        return Err("has an absolute path");
    }
    if name.len() >= 2 && name[0].is_ascii_alphabetic() && name[1] == b':' {
        return Err("starts with a Windows drive letter");
    }
    // Built as bytes, one pass (pushing components one by one onto a
    // PathBuf re-parses it: measurable on deeply nested archives).
    let mut out: Vec<u8> = Vec::with_capacity(name.len());
    for part in name.split(|b| *b == b'/') {
        match part {
            b"" | b"." => continue,
            b".." => return Err("climbs out of the archive with `..`"),
            _ if part.len() > MAX_COMPONENT_BYTES => {
                return Err("has a path component longer than 255 bytes")
            }
            _ => {
                os_str(part)?;
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(part);
            }
        }
    }
    if out.len() > MAX_PATH_BYTES {
        return Err("has a path longer than 4096 bytes");
    }
    if out.is_empty() {
        return Ok(None);
    }
    let rel = path_buf(out)?;
    // Belt and braces where paths have prefixes: only normal components may remain.
    #[cfg(not(unix))]
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err("has a path that is not a plain relative path");
    }
    Ok(Some(rel))
}

#[cfg(unix)]
fn path_buf(bytes: Vec<u8>) -> Result<PathBuf, &'static str> {
    use std::os::unix::ffi::OsStringExt;
    Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
fn path_buf(bytes: Vec<u8>) -> Result<PathBuf, &'static str> {
    String::from_utf8(bytes)
        .map(PathBuf::from)
        .map_err(|_| "has a name that is not UTF-8")
}

#[cfg(unix)]
fn os_str(bytes: &[u8]) -> Result<&std::ffi::OsStr, &'static str> {
    use std::os::unix::ffi::OsStrExt;
    Ok(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn os_str(bytes: &[u8]) -> Result<&std::ffi::OsStr, &'static str> {
    std::str::from_utf8(bytes)
        .map(std::ffi::OsStr::new)
        .map_err(|_| "has a name that is not UTF-8")
}

/// A full commit SHA in a top folder name: `abc…` or `repo-abc…` (GitHub
/// names archives of a commit `repo-<sha>/`).
fn commit_from_dir_name(name: &str) -> Option<String> {
    let candidate = name.rsplit('-').next()?;
    crate::gitdir::is_object_name(candidate).then(|| candidate.to_ascii_lowercase())
}

/// A full commit SHA written by `git archive` as the zip comment or the pax
/// global header's `comment`.
pub(crate) fn commit_from_comment(comment: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(comment).ok()?.trim();
    crate::gitdir::is_object_name(text).then(|| text.to_ascii_lowercase())
}

/// Folder to extract into: the archive's name without extension.
fn dest_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let stem_len = [".tar.gz", ".tgz", ".zip", ".tar"]
        .iter()
        .find(|ext| lower.ends_with(*ext))
        .map_or(name.len(), |ext| name.len() - ext.len());
    let stem: String = name[..stem_len]
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    let stem = stem.trim_matches('.');
    if stem.is_empty() {
        "archive".into()
    } else {
        stem.into()
    }
}

/// Writes planned members under `dest`, counting real bytes.
pub(crate) struct Extractor<'a> {
    dest: &'a Path,
    archive: &'a Path,
    limits: Limits,
    written: u64,
    #[cfg(unix)]
    walker: Option<walker::DirWalker>,
}

impl<'a> Extractor<'a> {
    fn new(dest: &'a Path, archive: &'a Path, limits: Limits) -> Self {
        Extractor {
            dest,
            archive,
            limits,
            written: 0,
            #[cfg(unix)]
            walker: None,
        }
    }

    pub(crate) fn dir(&mut self, rel: &Path) -> Result<(), SourceError> {
        let io = |e| SourceError::Io {
            action: "create folder",
            path: self.dest.join(rel),
            source: e,
        };
        #[cfg(unix)]
        {
            self.walker()
                .map_err(io)?
                .enter(rel.as_os_str().as_encoded_bytes())
                .map_err(io)
        }
        #[cfg(not(unix))]
        {
            fs::create_dir_all(self.dest.join(rel)).map_err(io)
        }
    }

    /// The folder walker, opened at the destination on first use.
    #[cfg(unix)]
    fn walker(&mut self) -> io::Result<&mut walker::DirWalker> {
        if self.walker.is_none() {
            self.walker = Some(walker::DirWalker::open(self.dest)?);
        }
        Ok(self.walker.as_mut().expect("just set"))
    }

    /// Copy one file's data, enforcing the per-file and total caps on the
    /// bytes actually produced, and that they match the declared size.
    pub(crate) fn file(
        &mut self,
        planned: &Planned,
        data: &mut dyn Read,
        format: &'static str,
    ) -> Result<(), SourceError> {
        let Entry::File { size, executable } = planned.kind else {
            return self.dir(&planned.rel);
        };
        let path = self.dest.join(&planned.rel);
        let write_err = |e: io::Error| SourceError::Io {
            action: "write",
            path: path.clone(),
            source: e,
        };
        #[cfg(unix)]
        let mut out = {
            let rel = planned.rel.as_os_str().as_encoded_bytes();
            self.walker()
                .and_then(|w| w.create_file(rel, if executable { 0o755 } else { 0o644 }))
                .map_err(write_err)?
        };
        #[cfg(not(unix))]
        let mut out = {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| SourceError::Io {
                    action: "create folder",
                    path: parent.to_path_buf(),
                    source: e,
                })?;
            }
            create_new(&path, executable).map_err(write_err)?
        };
        let mut buf = vec![0u8; 64 * 1024];
        let mut this_file: u64 = 0;
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(SourceError::ArchiveCorrupt {
                        archive: self.archive.to_path_buf(),
                        format,
                        detail: format!("entry `{}`: {e}", planned.rel.display()),
                    })
                }
            };
            this_file += n as u64;
            self.written += n as u64;
            if this_file > self.limits.max_file_bytes {
                return Err(self.limits.file_too_large(
                    self.archive,
                    format!(
                        "entry `{}` expands to more than its cap (it declared {size} bytes)",
                        planned.rel.display()
                    ),
                ));
            }
            if self.written > self.limits.max_bytes {
                return Err(self.limits.total_too_large(
                    self.archive,
                    format!(
                        "it expands to more than its cap while extracting `{}` (the archive \
                         understates its size: treat it as hostile)",
                        planned.rel.display()
                    ),
                ));
            }
            out.write_all(&buf[..n]).map_err(write_err)?;
        }
        out.flush().map_err(write_err)?;
        if this_file != size {
            return Err(SourceError::ArchiveCorrupt {
                archive: self.archive.to_path_buf(),
                format,
                detail: format!(
                    "entry `{}` declares {size} bytes but holds {this_file}",
                    planned.rel.display()
                ),
            });
        }
        Ok(())
    }
}

/// Create a file that must not exist yet, 0644 or 0755.
/// Creating folders and files relative to an open folder (`mkdirat`,
/// `openat`) instead of by path: the kernel then resolves one component per
/// call instead of the whole path, so a deeply nested archive costs work in
/// proportion to its members, not to their depth. One folder is kept open:
/// the walker moves from one member's folder to the next through the
/// folders they share (down by name, up by `..` in the tree it made itself).
#[cfg(unix)]
mod walker {
    use std::ffi::CString;
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::path::Path;

    pub(super) struct DirWalker {
        /// The folder the walker is in.
        cur: OwnedFd,
        /// Its path below the destination, and where each component ends.
        name: Vec<u8>,
        ends: Vec<usize>,
    }

    const DIR_FLAGS: libc::c_int =
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

    fn open_at(
        dir: &OwnedFd,
        name: &[u8],
        flags: libc::c_int,
        mode: libc::mode_t,
    ) -> io::Result<OwnedFd> {
        let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: openat on a descriptor we own with a NUL-terminated name.
        let fd =
            unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags, libc::c_uint::from(mode)) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    impl DirWalker {
        pub(super) fn open(dest: &Path) -> io::Result<Self> {
            let c = CString::new(dest.as_os_str().as_encoded_bytes())
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            // SAFETY: open with a NUL-terminated path.
            let fd = unsafe { libc::open(c.as_ptr(), DIR_FLAGS) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(DirWalker {
                // SAFETY: a fresh descriptor that nothing else owns.
                cur: unsafe { OwnedFd::from_raw_fd(fd) },
                name: Vec::new(),
                ends: Vec::new(),
            })
        }

        /// Be in folder `rel` (created as needed).
        pub(super) fn enter(&mut self, rel: &[u8]) -> io::Result<()> {
            // The folders shared with where the walker is.
            let name = &self.name;
            let keep = self.ends.partition_point(|&end| {
                rel.get(..end) == name.get(..end) && matches!(rel.get(end), None | Some(&b'/'))
            });
            while self.ends.len() > keep {
                self.cur = open_at(&self.cur, b"..", DIR_FLAGS, 0)?;
                self.ends.pop();
            }
            self.name.truncate(self.ends.last().copied().unwrap_or(0));
            let mut start = self.ends.last().map_or(0, |e| e + 1);
            while start < rel.len() {
                let end = rel[start..]
                    .iter()
                    .position(|&b| b == b'/')
                    .map_or(rel.len(), |i| start + i);
                let part = &rel[start..end];
                let c =
                    CString::new(part).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
                // SAFETY: mkdirat on a descriptor we own with a NUL-terminated name.
                if unsafe { libc::mkdirat(self.cur.as_raw_fd(), c.as_ptr(), 0o755) } != 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::AlreadyExists {
                        return Err(e);
                    }
                }
                self.cur = open_at(&self.cur, part, DIR_FLAGS, 0)?;
                if !self.name.is_empty() {
                    self.name.push(b'/');
                }
                self.name.extend_from_slice(part);
                self.ends.push(self.name.len());
                start = end + 1;
            }
            Ok(())
        }

        /// Create the new file `rel` (its folders as needed).
        pub(super) fn create_file(&mut self, rel: &[u8], mode: libc::mode_t) -> io::Result<File> {
            let (dir, file) = match rel.iter().rposition(|&b| b == b'/') {
                Some(i) => (&rel[..i], &rel[i + 1..]),
                None => (&rel[..0], rel),
            };
            self.enter(dir)?;
            let flags =
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
            Ok(File::from(open_at(&self.cur, file, flags, mode)?))
        }
    }
}

#[cfg(not(unix))]
fn create_new(path: &Path, executable: bool) -> io::Result<fs::File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_accepts_plain_relative_paths() {
        let ok = |s: &str| clean_path(s.as_bytes()).unwrap().unwrap();
        assert_eq!(ok("a/b.txt"), PathBuf::from("a/b.txt"));
        assert_eq!(ok("./a//b/"), PathBuf::from("a/b"));
        assert_eq!(ok("a/./b"), PathBuf::from("a/b"));
        assert_eq!(ok("dir:with:colons"), PathBuf::from("dir:with:colons"));
        assert_eq!(clean_path(b"./").unwrap(), None);
    }

    #[test]
    fn clean_path_refuses_escapes() {
        for bad in [
            "../evil",
            "a/../../evil",
            "a/../b",
            "/etc/passwd",
            "//x",
            "C:/x",
            "c:x",
            "a\\..\\b",
            "",
            "a\0b",
        ] {
            assert!(clean_path(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let long = "x".repeat(256);
        assert!(clean_path(long.as_bytes()).is_err());
        let deep = "d/".repeat(3000);
        assert!(clean_path(deep.as_bytes()).is_err());
    }

    #[test]
    fn commit_names() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(commit_from_dir_name(&format!("repo-{sha}")).unwrap(), sha);
        assert_eq!(commit_from_dir_name(sha).unwrap(), sha);
        assert_eq!(commit_from_dir_name("repo-main"), None);
        assert_eq!(commit_from_dir_name("owner-repo-0123456"), None);
        assert_eq!(
            commit_from_comment(format!("{sha}\n").as_bytes()).unwrap(),
            sha
        );
        assert_eq!(commit_from_comment(b"hello"), None);
    }

    #[test]
    fn dest_names() {
        assert_eq!(dest_name(Path::new("/x/My App.tar.gz")), "My-App");
        assert_eq!(dest_name(Path::new("a.TGZ")), "a");
        assert_eq!(dest_name(Path::new(".zip")), "archive");
    }

    fn file(size: u64) -> MemberKind {
        MemberKind::File {
            size,
            executable: false,
        }
    }

    fn limits() -> Limits {
        Limits {
            max_bytes: 100,
            max_entries: 10,
            max_file_bytes: 60,
        }
    }

    #[test]
    fn plan_refuses_collisions_and_caps() {
        let a = Path::new("a.tar");
        let mut p = Plan::new(a, limits());
        p.add(0, b"x/f", file(1)).unwrap();
        p.add(1, b"x/", MemberKind::Dir).unwrap();
        assert!(p.add(2, b"x/f", file(1)).is_err(), "duplicate file");
        assert!(p.add(3, b"x/f/g", file(1)).is_err(), "inside a file");
        assert!(p.add(4, b"x", file(1)).is_err(), "file over folder");
        let mut p = Plan::new(a, limits());
        assert!(matches!(
            p.add(0, b"big", file(61)),
            Err(SourceError::ArchiveTooLarge {
                field: "max_file_bytes",
                ..
            })
        ));
        p.add(1, b"a", file(60)).unwrap();
        assert!(matches!(
            p.add(2, b"b", file(41)),
            Err(SourceError::ArchiveTooLarge {
                field: "max_archive_bytes",
                ..
            })
        ));
    }

    #[test]
    fn top_dir_detection() {
        let a = Path::new("a.zip");
        let mut p = Plan::new(a, limits());
        p.add(0, b"repo-main/", MemberKind::Dir).unwrap();
        p.add(1, b"repo-main/app.py", file(1)).unwrap();
        assert_eq!(p.single_top_dir().as_deref(), Some("repo-main"));
        // Implied folder (no explicit entry) counts too.
        let mut p = Plan::new(a, limits());
        p.add(0, b"r/a", file(1)).unwrap();
        assert_eq!(p.single_top_dir().as_deref(), Some("r"));
        // A lone file is not a folder.
        let mut p = Plan::new(a, limits());
        p.add(0, b"README", file(1)).unwrap();
        assert_eq!(p.single_top_dir(), None);
        // Two tops.
        let mut p = Plan::new(a, limits());
        p.add(0, b"r/a", file(1)).unwrap();
        p.add(1, b"s/a", file(1)).unwrap();
        assert_eq!(p.single_top_dir(), None);
        // __MACOSX is skipped, so it does not count as a second top.
        let mut p = Plan::new(a, limits());
        p.add(0, b"r/a", file(1)).unwrap();
        p.add(1, b"__MACOSX/r/._a", file(1)).unwrap();
        assert_eq!(p.single_top_dir().as_deref(), Some("r"));
        assert_eq!(p.entries.len(), 1);
    }

    #[test]
    fn deep_nesting_is_checked_in_linear_work() {
        // 8 chains of 2,000 nested folders (the hostile archive of issue 13),
        // each level its own member, names as long as the caps allow.
        let limits = Limits {
            max_bytes: u64::MAX,
            max_entries: u64::MAX,
            max_file_bytes: u64::MAX,
        };
        let mut p = Plan::new(Path::new("deep.tar"), limits);
        let mut name_bytes = 0u64;
        let mut index = 0;
        for chain in 0..8u8 {
            let mut name = vec![b'a' + chain];
            for _ in 0..2_000 {
                name.extend_from_slice(b"/d");
                index += 1;
                name_bytes += name.len() as u64;
                p.add(index, &name, MemberKind::Dir).unwrap();
            }
            name.extend_from_slice(b"/f");
            index += 1;
            name_bytes += name.len() as u64;
            p.add(index, &name, file(1)).unwrap();
        }
        let p = p.finish().unwrap();
        assert_eq!(p.entries.len(), 8 * 2_001);
        // Each member costs at most its own name — here a few bytes, since
        // its folders were the previous member's (a whole-path map hashed
        // ~depth² bytes per member).
        assert!(
            p.hashed_bytes() <= name_bytes,
            "hashed {} bytes for {} bytes of names",
            p.hashed_bytes(),
            name_bytes
        );
        assert!(
            p.hashed_bytes() <= 8 * 2_001 * 2 + 64,
            "one short component per member, hashed {}",
            p.hashed_bytes()
        );
        // And collisions are still seen at depth, in any order.
        let mut q = Plan::new(Path::new("deep.tar"), limits);
        let deep = "x/".repeat(1_500);
        q.add(0, format!("{deep}f").as_bytes(), file(1)).unwrap();
        assert!(q.add(1, format!("{deep}f/g").as_bytes(), file(1)).is_err());
        assert!(q
            .add(2, format!("{deep}f").as_bytes(), MemberKind::Dir)
            .is_err());
        q.add(3, b"y/z", file(1)).unwrap();
        assert!(
            q.add(4, format!("{deep}f").as_bytes(), file(1)).is_err(),
            "appears twice"
        );
        q.add(5, format!("{deep}g/h").as_bytes(), file(1)).unwrap();
        assert!(q.add(6, b"y/z/w", file(1)).is_err(), "inside a file");
        assert!(q.add(7, b"y", file(1)).is_err(), "file over folder");
    }

    #[test]
    fn empty_plans_are_refused() {
        let mut p = Plan::new(Path::new("e.zip"), limits());
        p.add(0, b"only/", MemberKind::Dir).unwrap();
        assert!(matches!(p.finish(), Err(SourceError::ArchiveEmpty { .. })));
    }
}
