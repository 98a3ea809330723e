//! `.gitignore` matching for the walk, without a glob engine per entry.
//!
//! The rules and their meaning are those of `ignore::gitignore` (which the
//! walk used before, and which the tests below compare against): the same
//! line syntax (comments, trailing spaces, `\!`/`\#`, `!` negation, leading
//! `/` anchoring, trailing `/` for folders only, `**`), matched against the
//! path relative to the `.gitignore`'s folder, the last matching rule of a
//! file deciding. What differs is how a rule is evaluated:
//!
//! * a rule without a `/` (`*.log`, `node_modules`, `.DS_Store`) only looks at
//!   the entry's name: literal names sit in a hash map, the others (`*.log`,
//!   `*~`, `Go*.java`) are compared by prefix/suffix or a small wildcard
//!   matcher;
//! * a rule with a `/` (`/*/build/`, `src/gen/*`, `**/nbproject/private/`) is
//!   split into path components and advanced folder by folder as the walk
//!   descends ([`IgnoreFile::enter`]), so that an entry is only compared with
//!   the last component of the rules still alive in its folder;
//! * only patterns using classes, braces, escapes or commas (`[ab]`, `{a,b}`,
//!   `\*`) go to a `globset` set matched on the relative path, as before.
//!
//! `*` matches any bytes but `/`, `?` exactly one byte but `/` (as in
//! `globset`, which matches bytes); `**` as a whole component matches zero or
//! more components.

use crate::repo::FastHash;
use globset::{Candidate, GlobBuilder, GlobSet, GlobSetBuilder};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind};
use std::path::Path;

/// One `/`-separated component of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Comp {
    /// `**`: zero or more whole components.
    Globstar,
    /// No wildcard.
    Lit(Box<[u8]>),
    /// `*`.
    Star,
    /// `*tail` (tail without wildcards).
    Suffix(Box<[u8]>),
    /// `head*` (head without wildcards).
    Prefix(Box<[u8]>),
    /// Any other mix of literal bytes, `*` and `?`.
    Wild(Box<[u8]>),
}

impl Comp {
    /// Does this (non-`**`) component match one path component?
    fn matches(&self, name: &[u8]) -> bool {
        match self {
            Comp::Globstar => true,
            Comp::Lit(l) => **l == *name,
            Comp::Star => true,
            Comp::Suffix(s) => name.ends_with(s),
            Comp::Prefix(p) => name.starts_with(p),
            Comp::Wild(w) => wildcard(w, name),
        }
    }

    fn parse(c: &str) -> Option<Comp> {
        if c == "**" {
            return Some(Comp::Globstar);
        }
        if c.is_empty()
            || c.contains("**")
            || c.bytes()
                .any(|b| matches!(b, b'[' | b']' | b'{' | b'}' | b',' | b'\\'))
        {
            return None;
        }
        let wild = |s: &str| s.bytes().any(|b| b == b'*' || b == b'?');
        let bytes = |s: &str| s.as_bytes().to_vec().into_boxed_slice();
        Some(if !wild(c) {
            Comp::Lit(bytes(c))
        } else if c == "*" {
            Comp::Star
        } else if let Some(tail) = c.strip_prefix('*').filter(|t| !wild(t)) {
            Comp::Suffix(bytes(tail))
        } else if let Some(head) = c.strip_suffix('*').filter(|h| !wild(h)) {
            Comp::Prefix(bytes(head))
        } else {
            Comp::Wild(bytes(c))
        })
    }
}

/// `*` (any bytes) and `?` (one byte) against a component holding no `/`.
fn wildcard(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    // Where the last `*` was, and the position in `s` it is retried from.
    let mut back: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() && pat[p] == b'*' {
            back = Some((p + 1, i));
            p += 1;
        } else if p < pat.len() && (pat[p] == b'?' || pat[p] == s[i]) {
            p += 1;
            i += 1;
        } else if let Some((bp, bi)) = back {
            p = bp;
            i = bi + 1;
            back = Some((bp, bi + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&b| b == b'*')
}

/// What a rule does when it is the last to match.
#[derive(Debug, Clone, Copy)]
struct Meta {
    only_dir: bool,
    whitelist: bool,
}

/// The outcome of matching one entry against one `.gitignore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    None,
    Ignore,
    Whitelist,
}

/// Alive rules with a `/` in one folder: (index into `IgnoreFile::paths`,
/// position of the next component to match), `**` positions followed by
/// the positions after them.
pub type States = Vec<(u32, u32)>;

/// The rules of one `.gitignore` file.
#[derive(Debug, Default)]
pub struct IgnoreFile {
    /// Per rule, in file order (the index is the precedence).
    meta: Vec<Meta>,
    /// Name rules with a literal name: name → last rule index that applies
    /// to a file, and to a folder (`-1`: none).
    names: HashMap<Box<[u8]>, [i64; 2], FastHash>,
    /// Other name rules, last rule first.
    name_globs: Vec<(u32, Comp)>,
    /// Rules with a `/`: rule index and components.
    paths: Vec<(u32, Vec<Comp>)>,
    /// Rules left to `globset`, matched on the relative path.
    fallback: Option<(GlobSet, Vec<u32>)>,
}

impl IgnoreFile {
    /// Read a `.gitignore` file. `None` when it cannot be opened or its
    /// patterns cannot be compiled (as `ignore` would drop it too).
    pub fn open(path: &Path) -> Option<IgnoreFile> {
        let file = std::fs::File::open(path).ok()?;
        let mut lines = Vec::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            match line {
                Ok(line) => {
                    let line = if i == 0 {
                        line.trim_start_matches('\u{feff}').to_string()
                    } else {
                        line
                    };
                    lines.push(line);
                }
                Err(e) if e.kind() == ErrorKind::InvalidData => continue,
                Err(_) => break,
            }
        }
        IgnoreFile::from_lines(lines.iter().map(String::as_str))
    }

    /// Build from the lines of a `.gitignore` (BOM already removed).
    pub fn from_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<IgnoreFile> {
        let mut out = IgnoreFile::default();
        let mut fallback = GlobSetBuilder::new();
        let mut fallback_ids = Vec::new();
        let mut name_globs = Vec::new();
        for line in lines {
            let Some((actual, meta)) = parse_line(line) else {
                continue;
            };
            let comps: Option<Vec<Comp>> = actual.split('/').map(Comp::parse).collect();
            let comps = comps.filter(|c| {
                // `**` twice in a row or ending a longer pattern: leave to globset.
                let doubled = c
                    .windows(2)
                    .any(|w| w[0] == Comp::Globstar && w[1] == Comp::Globstar);
                let trailing = c.len() > 1 && c.last() == Some(&Comp::Globstar);
                !(doubled || trailing)
            });
            let id = out.meta.len() as u32;
            match comps {
                Some(mut comps) => {
                    if comps.len() == 1 && comps[0] == Comp::Globstar {
                        // `**` alone matches every path.
                        name_globs.push((id, Comp::Star));
                    } else if comps.len() == 2 && comps[0] == Comp::Globstar {
                        match comps.pop().expect("two components") {
                            Comp::Lit(name) => {
                                let best = out.names.entry(name).or_insert([-1, -1]);
                                if !meta.only_dir {
                                    best[0] = id as i64;
                                }
                                best[1] = id as i64;
                            }
                            c => name_globs.push((id, c)),
                        }
                    } else {
                        out.paths.push((id, comps));
                    }
                }
                None => {
                    let Ok(glob) = GlobBuilder::new(&actual)
                        .literal_separator(true)
                        .case_insensitive(false)
                        .backslash_escape(true)
                        .allow_unclosed_class(true)
                        .build()
                    else {
                        // `ignore` skips a line that is not a valid glob.
                        continue;
                    };
                    fallback.add(glob);
                    fallback_ids.push(id);
                }
            }
            out.meta.push(meta);
        }
        name_globs.reverse();
        out.name_globs = name_globs;
        if !fallback_ids.is_empty() {
            out.fallback = Some((fallback.build().ok()?, fallback_ids));
        }
        Some(out)
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// True when some rule has a `/` and so depends on the folder.
    pub fn has_path_rules(&self) -> bool {
        !self.paths.is_empty()
    }

    /// The states of the `.gitignore`'s own folder.
    pub fn root_states(&self) -> States {
        let mut out = Vec::new();
        for slot in 0..self.paths.len() {
            self.push_closure(&mut out, slot as u32, 0);
        }
        out
    }

    fn push_closure(&self, out: &mut States, slot: u32, mut pos: u32) {
        let comps = &self.paths[slot as usize].1;
        loop {
            out.push((slot, pos));
            if comps[pos as usize] == Comp::Globstar && (pos as usize) + 1 < comps.len() {
                pos += 1;
            } else {
                break;
            }
        }
    }

    /// The states of subfolder `name` of a folder in `states`.
    pub fn enter(&self, states: &States, name: &str) -> States {
        let name = name.as_bytes();
        let mut out = Vec::new();
        for &(slot, pos) in states {
            let comps = &self.paths[slot as usize].1;
            let c = &comps[pos as usize];
            if *c == Comp::Globstar {
                // `**` takes this folder too; what follows it stays alive.
                self.push_closure(&mut out, slot, pos);
            } else if (pos as usize) + 1 < comps.len() && c.matches(name) {
                self.push_closure(&mut out, slot, pos + 1);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Match an entry of a folder in `states`: `name` is its name and `rel`
    /// its path relative to the `.gitignore`'s folder.
    pub fn matched(&self, states: &States, name: &str, rel: &str, is_dir: bool) -> Verdict {
        let mut best: i64 = -1;
        let bytes = name.as_bytes();
        if !self.names.is_empty() {
            if let Some(b) = self.names.get(bytes) {
                best = b[is_dir as usize];
            }
        }
        for (id, c) in &self.name_globs {
            if (*id as i64) <= best {
                break;
            }
            if (is_dir || !self.meta[*id as usize].only_dir) && c.matches(bytes) {
                best = *id as i64;
                break;
            }
        }
        for &(slot, pos) in states.iter().rev() {
            let (id, comps) = &self.paths[slot as usize];
            if (*id as i64) <= best {
                // States are ordered by slot, and slots by rule index.
                break;
            }
            if pos as usize + 1 != comps.len() || (!is_dir && self.meta[*id as usize].only_dir) {
                continue;
            }
            if comps[pos as usize].matches(bytes) {
                best = *id as i64;
                break;
            }
        }
        if let Some((set, ids)) = &self.fallback {
            if ids.last().is_some_and(|&last| last as i64 > best) {
                let candidate = Candidate::new(rel);
                for i in set.matches_candidate(&candidate) {
                    let id = ids[i];
                    if id as i64 > best && (is_dir || !self.meta[id as usize].only_dir) {
                        best = id as i64;
                    }
                }
            }
        }
        if best < 0 {
            Verdict::None
        } else if self.meta[best as usize].whitelist {
            Verdict::Whitelist
        } else {
            Verdict::Ignore
        }
    }
}

/// One line of a `.gitignore` → the glob `ignore::gitignore` would build
/// from it (`**/` in front of a pattern without `/`, `/*` after a trailing
/// `/**`) and what the rule does; `None` for comments and blank lines.
fn parse_line(line: &str) -> Option<(String, Meta)> {
    if line.starts_with('#') {
        return None;
    }
    let mut line = trim_trailing_unescaped_spaces(line);
    if line.is_empty() {
        return None;
    }
    let mut meta = Meta {
        only_dir: false,
        whitelist: false,
    };
    let mut anchored = false;
    if line.starts_with("\\!") || line.starts_with("\\#") {
        line = &line[1..];
        anchored = line.starts_with('/');
    } else {
        if let Some(rest) = line.strip_prefix('!') {
            meta.whitelist = true;
            line = rest;
        }
        if let Some(rest) = line.strip_prefix('/') {
            line = rest;
            anchored = true;
        }
    }
    if line.is_empty() {
        return None;
    }
    if let Some(rest) = line.strip_suffix('/') {
        meta.only_dir = true;
        line = rest.strip_suffix('\\').unwrap_or(rest);
    }
    let mut actual = line.to_string();
    if !(anchored || line.contains('/') || actual.starts_with("**/") || actual == "**") {
        actual = format!("**/{actual}");
    }
    if actual.ends_with("/**") {
        actual.push_str("/*");
    }
    Some((actual, meta))
}

/// Drop trailing spaces unless escaped with `\`.
fn trim_trailing_unescaped_spaces(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut last_space = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if i + 1 >= bytes.len() {
                    return line;
                }
                i += 2;
                last_space = None;
            }
            b' ' => {
                if last_space.is_none() {
                    last_space = Some(i);
                }
                i += 1;
            }
            _ => {
                last_space = None;
                i += 1;
            }
        }
    }
    &line[..last_space.unwrap_or(line.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ignore::gitignore::GitignoreBuilder;
    use proptest::prelude::*;

    /// Our verdict for `path` (relative, `/`-separated), walking its folders.
    fn ours(gi: &IgnoreFile, path: &str, is_dir: bool) -> Verdict {
        let mut states = gi.root_states();
        let parts: Vec<&str> = path.split('/').collect();
        for dir in &parts[..parts.len() - 1] {
            states = gi.enter(&states, dir);
        }
        gi.matched(&states, parts[parts.len() - 1], path, is_dir)
    }

    /// `ignore::gitignore`'s verdict for the same path.
    fn theirs(lines: &[&str], path: &str, is_dir: bool) -> Verdict {
        let mut b = GitignoreBuilder::new("/r");
        for l in lines {
            let _ = b.add_line(None, l);
        }
        let gi = b.build().unwrap();
        match gi.matched(Path::new("/r").join(path), is_dir) {
            ignore::Match::None => Verdict::None,
            ignore::Match::Ignore(_) => Verdict::Ignore,
            ignore::Match::Whitelist(_) => Verdict::Whitelist,
        }
    }

    fn check(lines: &[&str], path: &str, is_dir: bool) {
        let gi = IgnoreFile::from_lines(lines.iter().copied()).unwrap();
        assert_eq!(
            ours(&gi, path, is_dir),
            theirs(lines, path, is_dir),
            "rules {lines:?}, path {path:?}, dir {is_dir}"
        );
    }

    #[test]
    fn git_semantics() {
        let rules = [
            "*.log",
            "!keep.log",
            "/build/",
            "docs/*.md",
            "**/private/",
            "a/**/z",
            "/*/dist/",
            "Go*.java",
            "x?y",
            "*~",
            "\\!bang",
            "\\#hash",
            "trail\\ ",
            "[ab].txt",
            "{c,d}.txt",
            "**",
        ];
        let cases: &[(&[&str], &str, bool, Verdict)] = &[
            (&rules[..2], "a.log", false, Verdict::Ignore),
            (&rules[..2], "x/keep.log", false, Verdict::Whitelist),
            (&rules[..1], "x/keep.log", false, Verdict::Ignore),
            // Anchored, folders only.
            (&rules[2..3], "build", true, Verdict::Ignore),
            (&rules[2..3], "build", false, Verdict::None),
            (&rules[2..3], "src/build", true, Verdict::None),
            // A `/` inside anchors too; `*` stops at `/`.
            (&rules[3..4], "docs/a.md", false, Verdict::Ignore),
            (&rules[3..4], "x/docs/a.md", false, Verdict::None),
            (&rules[3..4], "docs/x/a.md", false, Verdict::None),
            (&rules[4..5], "a/b/private", true, Verdict::Ignore),
            (&rules[5..6], "a/z", false, Verdict::Ignore),
            (&rules[5..6], "a/b/c/z", false, Verdict::Ignore),
            (&rules[5..6], "b/a/z", false, Verdict::None),
            (&rules[6..7], "x/dist", true, Verdict::Ignore),
            (&rules[6..7], "x/y/dist", true, Verdict::None),
            (&rules[7..8], "p/GoLexer.java", false, Verdict::Ignore),
            (&rules[8..9], "xay", false, Verdict::Ignore),
            (&rules[8..9], "xy", false, Verdict::None),
            (&rules[9..10], "f.txt~", false, Verdict::Ignore),
            (&rules[10..11], "!bang", false, Verdict::Ignore),
            (&rules[11..12], "#hash", false, Verdict::Ignore),
            (&rules[12..13], "trail ", false, Verdict::Ignore),
            (&rules[13..14], "b.txt", false, Verdict::Ignore),
            (&rules[14..15], "q/d.txt", false, Verdict::Ignore),
            (&rules[15..16], "any/thing", true, Verdict::Ignore),
        ];
        for (lines, path, is_dir, want) in cases {
            let gi = IgnoreFile::from_lines(lines.iter().copied()).unwrap();
            assert_eq!(ours(&gi, path, *is_dir), *want, "{lines:?} {path}");
            check(lines, path, *is_dir);
        }
    }

    const PIECES: &[&str] = &[
        "a", "b", "ab", "a.b", "a-b", "*", "**", "?", "*.log", "a*", "*b", "a?b", "x", "é", "[ab]",
        "{a,b}", "\\*",
    ];

    fn arb_line() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["", "!", "/", "!/", "\\!", "#"]),
            prop::collection::vec(prop::sample::select(PIECES.to_vec()), 1..4),
            prop::sample::select(vec!["", "/", " ", "/**"]),
        )
            .prop_map(|(head, parts, tail)| format!("{head}{}{tail}", parts.join("/")))
    }

    fn arb_path() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "a", "b", "ab", "a.b", "a-b", "x", "é", "a.log", "aXb", "axb", "x.log", "*",
            ]),
            1..5,
        )
        .prop_map(|p| p.join("/"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn same_verdicts_as_the_ignore_crate(
            lines in prop::collection::vec(arb_line(), 1..6),
            path in arb_path(),
            is_dir in any::<bool>(),
        ) {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            check(&refs, &path, is_dir);
        }
    }
}
