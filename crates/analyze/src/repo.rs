//! Read access to a repository tree: the file index and capped, cached reads.
//!
//! Detection never touches the filesystem directly: it goes through [`Repo`],
//! which has a real implementation over a directory ([`FsRepo`], built by the
//! parallel walk in `walk.rs`) and an in-memory one ([`MemRepo`]) for tests.
//! This module is not where anything is decided about what the files mean.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Largest file whose content is ever read. Larger files are listed, never read.
pub const MAX_READ_BYTES: u64 = 512 * 1024;

/// Every file of the tree (after ignore rules), grouped by folder.
#[derive(Debug, Default, Clone)]
pub struct FileIndex {
    /// `/`-separated relative paths, sorted.
    files: Vec<String>,
    /// Folder (`""` for the root) → indices into `files` of its direct children.
    dirs: BTreeMap<String, Vec<usize>>,
}

impl FileIndex {
    /// Build an index from relative, `/`-separated file paths.
    pub fn new(mut files: Vec<String>) -> Self {
        // The walk lists files in order already: checking is one comparison
        // per path. Otherwise sort on both cores: 57k paths sharing long
        // prefixes (test262) cost ~190 M instructions to sort.
        if !files.is_sorted_by(|a, b| a < b) {
            use rayon::slice::ParallelSliceMut;
            files.par_sort_unstable();
            files.dedup();
        }
        // Sorted paths list each folder's subtree in one run: keep the open
        // folders on a stack (the root at the bottom) and close them as the
        // run leaves them, instead of a map lookup per file.
        let mut done: Vec<(String, Vec<usize>)> = Vec::new();
        let mut open: Vec<(String, Vec<usize>)> = vec![(String::new(), Vec::new())];
        for (i, f) in files.iter().enumerate() {
            let dir = parent(f);
            let top = &open.last().expect("root stays open").0;
            if top != dir {
                while !is_within(dir, &open.last().expect("root stays open").0) {
                    done.push(open.pop().expect("not the root"));
                }
                // Open the folders between the innermost open one and `dir`,
                // so that folders holding only folders are still visible.
                let top = &open.last().expect("root stays open").0;
                if top != dir {
                    let start = if top.is_empty() { 0 } else { top.len() + 1 };
                    for (at, _) in dir[start..].match_indices('/') {
                        open.push((dir[..start + at].to_string(), Vec::new()));
                    }
                    open.push((dir.to_string(), Vec::new()));
                }
            }
            open.last_mut().expect("root stays open").1.push(i);
        }
        done.append(&mut open);
        let dirs: BTreeMap<String, Vec<usize>> = done.into_iter().collect();
        FileIndex { files, dirs }
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// All files, sorted.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// All folders (`""` is the root), sorted.
    pub fn dirs(&self) -> impl Iterator<Item = &str> {
        self.dirs.keys().map(String::as_str)
    }

    /// File names (not paths) directly inside `dir`.
    pub fn names_in<'a>(&'a self, dir: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.dirs
            .get(dir)
            .into_iter()
            .flatten()
            .map(move |&i| file_name(&self.files[i]))
    }

    /// True when `dir` directly contains a file called `name`.
    pub fn has(&self, dir: &str, name: &str) -> bool {
        self.names_in(dir).any(|n| n == name)
    }

    /// True when the relative path is a file of the tree.
    pub fn contains(&self, path: &str) -> bool {
        self.files
            .binary_search_by(|f| f.as_str().cmp(path))
            .is_ok()
    }

    /// Files in the subtree of `dir`, in sorted order.
    pub fn files_under(&self, dir: &str) -> impl Iterator<Item = &str> + '_ {
        let range = if dir.is_empty() {
            0..self.files.len()
        } else {
            // Every path below `dir/` sorts in [`dir/`, `dir0`): '0' follows '/'.
            let lo = format!("{dir}/");
            let hi = format!("{dir}0");
            let start = self.files.partition_point(|f| f.as_str() < lo.as_str());
            let end = self.files.partition_point(|f| f.as_str() < hi.as_str());
            start..end.max(start)
        };
        self.files[range].iter().map(String::as_str)
    }

    /// Folders strictly below `dir`.
    pub fn subdirs_under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.dirs
            .keys()
            .map(String::as_str)
            .filter(move |d| *d != dir && (dir.is_empty() || is_under(d, dir)))
    }
}

/// A hasher for names and paths of the tree looked up per file or folder
/// (`.gitignore` names, project folders), where SipHash cost more than the
/// rest of the lookup. The keys come from the tree being analysed, and a
/// crafted tree could at worst slow its own analysis down.
#[derive(Default)]
pub struct PathHasher(u64);

/// Build [`PathHasher`]s for a `HashMap`/`HashSet`.
pub type FastHash = BuildHasherDefault<PathHasher>;

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(last) ^ bytes.len() as u64).wrapping_mul(K);
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Byte index of the last `/`. A plain backward scan: names are short, and
/// `str::rfind` cost ~270 instructions a call on long paths (a quarter of
/// all instructions on test262, which calls these ~8 times per file).
fn last_slash(path: &str) -> Option<usize> {
    path.as_bytes().iter().rposition(|&b| b == b'/')
}

/// Parent folder of a relative path (`""` for top-level entries).
pub fn parent(path: &str) -> &str {
    last_slash(path).map(|i| &path[..i]).unwrap_or("")
}

/// Last component of a relative path.
pub fn file_name(path: &str) -> &str {
    last_slash(path).map(|i| &path[i + 1..]).unwrap_or(path)
}

/// True when `path` is `dir` or below it (`""` is the root).
fn is_within(path: &str, dir: &str) -> bool {
    path == dir || is_under(path, dir)
}

/// Join a folder and a relative path (`""` folder is the root).
pub fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() || dir == "." {
        rel.trim_start_matches("./").to_string()
    } else {
        format!("{dir}/{}", rel.trim_start_matches("./"))
    }
}

/// True when `path` is inside folder `dir` (strictly below it).
pub fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

/// `path` relative to `dir` when it is `dir` or below it (`""` for `dir` itself).
pub fn rel_under(path: &str, dir: &str) -> Option<String> {
    if path == dir {
        Some(String::new())
    } else if dir.is_empty() {
        Some(path.to_string())
    } else {
        is_under(path, dir).then(|| path[dir.len() + 1..].to_string())
    }
}

/// Normalise `a/./b/../c` style relative paths; `None` when they leave the root.
pub fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            p => out.push(p),
        }
    }
    Some(out.join("/"))
}

/// Read access to one repository tree. Implementations cache reads.
pub trait Repo: Sync {
    fn index(&self) -> &FileIndex;
    /// Content of a file as text (lossy UTF-8), or `None` when it does not exist,
    /// is larger than [`MAX_READ_BYTES`], is binary, or cannot be read.
    fn read(&self, path: &str) -> Option<Arc<str>>;
    /// Read these files ahead, in parallel, so later `read`s hit the cache.
    fn prefetch(&self, paths: &[&str]) {
        let _ = paths;
    }
    /// How many reads hit the disk, and how many files were refused.
    fn read_stats(&self) -> (u64, u64) {
        (0, 0)
    }
}

type Cache = Mutex<HashMap<String, Option<Arc<str>>>>;

/// A repository on disk, indexed by `walk::walk`.
pub struct FsRepo {
    root: PathBuf,
    index: FileIndex,
    cache: Cache,
    read: AtomicU64,
    skipped: AtomicU64,
}

impl FsRepo {
    pub fn new(root: PathBuf, index: FileIndex) -> Self {
        FsRepo {
            root,
            index,
            cache: Mutex::new(HashMap::new()),
            read: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn load(&self, path: &str) -> Option<Arc<str>> {
        let full = self.root.join(path);
        // Never follow a symlink: the walk does not list them, and O_NOFOLLOW
        // guards against a tree that changed after the walk. One path lookup,
        // then fstat on the open file.
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let Ok(file) = options.open(&full) else {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() > MAX_READ_BYTES {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let mut buf = Vec::with_capacity(meta.len() as usize);
        if file.take(MAX_READ_BYTES).read_to_end(&mut buf).is_err() {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.read.fetch_add(1, Ordering::Relaxed);
        decode(buf).or_else(|| {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            None
        })
    }
}

impl Repo for FsRepo {
    fn index(&self) -> &FileIndex {
        &self.index
    }

    fn read(&self, path: &str) -> Option<Arc<str>> {
        if !self.index.contains(path) {
            return None;
        }
        if let Some(hit) = self.cache.lock().expect("read cache poisoned").get(path) {
            return hit.clone();
        }
        let value = self.load(path);
        self.cache
            .lock()
            .expect("read cache poisoned")
            .insert(path.to_string(), value.clone());
        value
    }

    fn prefetch(&self, paths: &[&str]) {
        use rayon::prelude::*;
        if paths.len() < 16 {
            return;
        }
        paths.par_iter().for_each(|p| {
            let _ = self.read(p);
        });
    }

    fn read_stats(&self) -> (u64, u64) {
        (
            self.read.load(Ordering::Relaxed),
            self.skipped.load(Ordering::Relaxed),
        )
    }
}

/// Bytes → text: `None` for binary content (a NUL byte in the first 8 KiB).
fn decode(buf: Vec<u8>) -> Option<Arc<str>> {
    let head = &buf[..buf.len().min(8192)];
    if head.contains(&0) {
        return None;
    }
    let text = match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Some(Arc::from(text))
}

/// An in-memory repository, for tests and for callers that already hold files.
#[derive(Default)]
pub struct MemRepo {
    index: FileIndex,
    files: HashMap<String, Arc<str>>,
}

impl MemRepo {
    pub fn new<I, P, C>(files: I) -> Self
    where
        I: IntoIterator<Item = (P, C)>,
        P: Into<String>,
        C: AsRef<[u8]>,
    {
        let mut map = HashMap::new();
        for (p, c) in files {
            let bytes = c.as_ref();
            if bytes.len() as u64 > MAX_READ_BYTES {
                map.insert(p.into(), None);
                continue;
            }
            map.insert(p.into(), decode(bytes.to_vec()));
        }
        let index = FileIndex::new(map.keys().cloned().collect());
        let files = map
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        MemRepo { index, files }
    }
}

impl Repo for MemRepo {
    fn index(&self) -> &FileIndex {
        &self.index
    }
    fn read(&self, path: &str) -> Option<Arc<str>> {
        self.files.get(path).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_groups_by_folder_and_lists_subtrees() {
        let idx = FileIndex::new(vec![
            "a/b/c.py".into(),
            "a/x.py".into(),
            "ab/y.py".into(),
            "root.txt".into(),
        ]);
        assert!(idx.has("a", "x.py"));
        assert!(idx.has("", "root.txt"));
        assert!(!idx.has("a", "c.py"));
        let under: Vec<_> = idx.files_under("a").collect();
        assert_eq!(under, vec!["a/b/c.py", "a/x.py"]);
        assert_eq!(idx.files_under("").count(), 4);
        assert!(idx.dirs().any(|d| d == "a/b"));
    }

    #[test]
    fn folders_are_indexed_from_sorted_and_unsorted_lists() {
        let paths = [
            "a-b/x",
            "a.b",
            "a/b/c/d.txt",
            "a/b/e.txt",
            "a/f.txt",
            "a/g/h/i.txt",
            "a/z.txt",
            "a0",
            "top.txt",
            "z/y/x/w.txt",
            "z/z.txt",
        ];
        let sorted = FileIndex::new(paths.iter().map(|p| p.to_string()).collect());
        let shuffled = FileIndex::new(paths.iter().rev().map(|p| p.to_string()).collect());
        for idx in [&sorted, &shuffled] {
            let dirs: Vec<&str> = idx.dirs().collect();
            assert_eq!(
                dirs,
                vec!["", "a", "a-b", "a/b", "a/b/c", "a/g", "a/g/h", "z", "z/y", "z/y/x"]
            );
            let names = |d: &str| idx.names_in(d).collect::<Vec<_>>();
            assert_eq!(names(""), vec!["a.b", "a0", "top.txt"]);
            assert_eq!(names("a"), vec!["f.txt", "z.txt"]);
            assert_eq!(names("a/b"), vec!["e.txt"]);
            assert_eq!(names("a/g"), Vec::<&str>::new());
            assert_eq!(names("z"), vec!["z.txt"]);
            assert_eq!(names("z/y/x"), vec!["w.txt"]);
        }
        assert_eq!(file_name("a/b/c.txt"), "c.txt");
        assert_eq!(parent("a/b/c.txt"), "a/b");
        assert_eq!(parent("c.txt"), "");
        assert_eq!(file_name("é/ü"), "ü");
    }

    #[test]
    fn normalize_rejects_escapes() {
        assert_eq!(normalize("./a/../b/c").as_deref(), Some("b/c"));
        assert_eq!(normalize("../x"), None);
        assert_eq!(normalize(".").as_deref(), Some(""));
    }

    #[test]
    fn binary_content_is_not_text() {
        let repo = MemRepo::new([("a.bin", &b"\x00\x01abc"[..]), ("b.txt", &b"hi"[..])]);
        assert!(repo.read("a.bin").is_none());
        assert_eq!(repo.read("b.txt").as_deref(), Some("hi"));
    }
}
