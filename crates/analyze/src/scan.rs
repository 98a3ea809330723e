//! Small text helpers shared by detectors: line numbers for regex matches,
//! `.env` parsing, and the language-independent code findings (hard-coded
//! `http://localhost:PORT` in frontend files).
//!
//! Nothing here knows about a particular framework.

use regex::{Captures, Regex};
use std::sync::LazyLock;

/// Compile a pattern with ASCII-only shorthand classes.
///
/// `\w`, `\d`, `\s` and `\b` are Unicode-aware in the regex crate, which makes
/// their automata large: compiling a few dozen such patterns cost ~10 ms, more
/// than analysing a small repository. The identifiers, numbers and keywords
/// detectors look for are ASCII, so every analyzer pattern goes through here
/// and gets ASCII classes (`[0-9A-Za-z_]`…), which compile in microseconds.
/// Panics on an invalid pattern: patterns are constants, and tests compile all.
pub fn regex(pattern: &str) -> Regex {
    Regex::new(&asciify(pattern))
        .unwrap_or_else(|e| panic!("invalid analyzer pattern {pattern:?}: {e}"))
}

/// [`regex`] for a pattern from a detector's table, compiled once per process
/// and shared (a `Regex` clone is a reference count): detectors run once per
/// candidate folder, and a monorepo has many.
pub fn table_regex(pattern: &'static str) -> Regex {
    static CACHE: LazyLock<std::sync::Mutex<std::collections::HashMap<&'static str, Regex>>> =
        LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| regex(pattern))
        .clone()
}

/// [`regex`] for patterns built at run time: the error is returned, not raised.
pub fn try_regex(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&asciify(pattern))
}

/// Rewrite Unicode shorthand classes as ASCII ones, inside and outside `[...]`.
pub fn asciify(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push(c);
                    break;
                };
                let inside = depth > 0;
                match (n, inside) {
                    ('w', false) => out.push_str("[0-9A-Za-z_]"),
                    ('w', true) => out.push_str("0-9A-Za-z_"),
                    ('d', false) => out.push_str("[0-9]"),
                    ('d', true) => out.push_str("0-9"),
                    ('s', false) => out.push_str("[\\t\\n\\x0B\\x0C\\r\\x20]"),
                    ('s', true) => out.push_str("\\t\\n\\x0B\\x0C\\r\\x20"),
                    ('W', false) => out.push_str("[^0-9A-Za-z_]"),
                    ('D', false) => out.push_str("[^0-9]"),
                    ('S', false) => out.push_str("[^\\t\\n\\x0B\\x0C\\r\\x20]"),
                    ('b', false) => out.push_str("(?-u:\\b)"),
                    ('B', false) => out.push_str("(?-u:\\B)"),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' => {
                depth += 1;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
            }
            ']' if depth > 0 => {
                depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// 1-based line number of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> u32 {
    let at = at.min(text.len());
    (text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1) as u32
}

/// Call `f(line, captures)` for every match of `re` in `text`.
pub fn each_match<'t>(text: &'t str, re: &Regex, mut f: impl FnMut(u32, &Captures<'t>)) {
    // Count newlines incrementally so many matches stay linear in the text size.
    let mut line = 1u32;
    let mut pos = 0usize;
    for caps in re.captures_iter(text) {
        let start = caps.get(0).map(|m| m.start()).unwrap_or(0);
        line += text.as_bytes()[pos..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        pos = start;
        f(line, &caps);
    }
}

/// First match of `re`: (line, captures).
pub fn first_match<'t>(text: &'t str, re: &Regex) -> Option<(u32, Captures<'t>)> {
    re.captures(text).map(|c| {
        let at = c.get(0).map(|m| m.start()).unwrap_or(0);
        (line_of(text, at), c)
    })
}

/// The text before byte `at` on its line, without leading blanks.
pub fn line_prefix(text: &str, at: usize) -> &str {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    text[start..at].trim_start()
}

/// [`each_match`] skipping matches on commented-out lines; `is_comment`
/// gets the text before the match on its line (a language's comment rule).
pub fn each_code_match<'t>(
    text: &'t str,
    re: &Regex,
    is_comment: fn(&str) -> bool,
    mut f: impl FnMut(u32, &Captures<'t>),
) {
    each_match(text, re, |line, c| {
        if !is_comment(line_prefix(text, c.get(0).map(|m| m.start()).unwrap_or(0))) {
            f(line, c)
        }
    });
}

/// [`first_match`] skipping matches on commented-out lines (see [`each_code_match`]).
pub fn first_code_match<'t>(
    text: &'t str,
    re: &Regex,
    is_comment: fn(&str) -> bool,
) -> Option<(u32, Captures<'t>)> {
    re.captures_iter(text)
        .find(|c| !is_comment(line_prefix(text, c.get(0).map(|m| m.start()).unwrap_or(0))))
        .map(|c| {
            let at = c.get(0).map(|m| m.start()).unwrap_or(0);
            (line_of(text, at), c)
        })
}

/// Line (1-based) of the first line containing `needle`.
pub fn find_line(text: &str, needle: &str) -> Option<u32> {
    text.find(needle).map(|at| line_of(text, at))
}

/// The text of line `n` (1-based), trimmed, cut to 120 characters for evidence notes.
pub fn line_text(text: &str, n: u32) -> String {
    let line = text
        .lines()
        .nth(n.saturating_sub(1) as usize)
        .unwrap_or("")
        .trim();
    let mut s: String = line.chars().take(120).collect();
    if line.chars().count() > 120 {
        s.push('…');
    }
    s
}

/// One `KEY=VALUE` entry of a dotenv file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvEntry {
    pub key: String,
    pub value: String,
    pub line: u32,
}

/// Parse a `.env` file: `KEY=VALUE`, optional `export `, quotes stripped, comments skipped.
pub fn parse_dotenv(text: &str) -> Vec<DotenvEntry> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let key = k.trim();
        if !crate::draft::is_env_name(key) {
            continue;
        }
        let mut value = v.trim();
        if let Some(stripped) = value
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        {
            value = stripped;
        } else if let Some(idx) = value.find(" #") {
            value = value[..idx].trim_end();
        }
        out.push(DotenvEntry {
            key: key.to_string(),
            value: value.to_string(),
            line: i as u32 + 1,
        });
    }
    out
}

/// True when a value is a placeholder rather than a real credential.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    v.is_empty()
        || v.len() < 4
        || v.starts_with("${")
        || v.starts_with('<')
        || [
            "changeme",
            "change-me",
            "change_me",
            "changethis",
            "change-this",
            "change_this",
            "xxx",
            "your",
            "example",
            "placeholder",
            "secret",
            "password",
            "todo",
            "dummy",
            "test",
            "replace",
            "insert",
            "fixme",
        ]
        .iter()
        .any(|p| {
            v.starts_with(p) || v.contains(&format!("{p}_here")) || v.contains(&format!("{p}-here"))
        })
}

/// A `http://localhost:PORT/...` URL found in a frontend file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUrl {
    pub file: String,
    pub line: u32,
    /// The origin as written (`http://localhost:5000`).
    pub origin: String,
    pub port: Option<u16>,
}

/// File endings of files that run in a browser (or are templates for one).
pub const FRONTEND_EXTS: &[&str] = &[
    ".html", ".htm", ".js", ".jsx", ".mjs", ".ts", ".tsx", ".vue", ".svelte", ".jinja", ".jinja2",
    ".j2", ".hbs", ".ejs", ".erb", ".twig", ".astro",
];

/// [`regex`] without the literal prefilter (and so without the reverse
/// suffix/inner strategies built from it): the same matches, a slower search
/// on long texts, and a fraction of the compile cost. For patterns that only
/// ever run on a few short lines, where building the prefilter (Teddy over
/// every case variant of every alternative) cost more than all searches.
pub fn lean_regex(pattern: &str) -> regex_automata::meta::Regex {
    regex_automata::meta::Builder::new()
        .configure(regex_automata::meta::Config::new().auto_prefilter(false))
        .build(&asciify(pattern))
        .unwrap_or_else(|e| panic!("invalid analyzer pattern {pattern:?}: {e}"))
}

static LOCAL_URL: LazyLock<regex_automata::meta::Regex> = LazyLock::new(|| {
    lean_regex(
        r#"(?i)\b(?:https?|wss?)://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(\d{1,5}))?"#,
    )
});

/// Calls that send a browser request to a URL written on the same line.
static REQUEST_CONTEXT: LazyLock<regex_automata::meta::Regex> = LazyLock::new(|| {
    lean_regex(
        r#"(?i)\bfetch\s*\(|axios|\$\.(?:get|post|ajax|getJSON)|XMLHttpRequest|\.open\s*\(|new\s+WebSocket|EventSource|baseURL|base_url|API_URL|API_BASE|apiUrl|apiBase|\bhref\s*=|\bsrc\s*=|\baction\s*=|\burl\s*:|\w*(?:path|url|uri|endpoint|api|base)\s*=\s*['"`]https?://"#,
    )
});

static LOG_CONTEXT: LazyLock<regex_automata::meta::Regex> = LazyLock::new(|| {
    lean_regex(
        r#"(?i)console\.(?:log|info|warn|error)|\bprint\s*\(|logger\.|log\.(?:info|debug)|listening|running (?:on|at)"#,
    )
});

/// Hard-coded loopback URLs that a browser would request, in `files`.
///
/// Only lines that make a request (fetch, axios, XHR, WebSocket, href/src…) count;
/// log lines (`console.log("listening on http://localhost:3000")`) do not.
pub fn localhost_urls(repo: &dyn crate::repo::Repo, files: &[&str]) -> Vec<LocalUrl> {
    let mut out = Vec::new();
    for &file in files {
        let Some(text) = repo.read(file) else {
            continue;
        };
        if !text.contains("://localhost")
            && !text.contains("://127.0.0.1")
            && !text.contains("://0.0.0.0")
            && !text.contains("://[::1]")
        {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            if line.len() > 2000 || !REQUEST_CONTEXT.is_match(line) || LOG_CONTEXT.is_match(line) {
                continue;
            }
            for caps in LOCAL_URL.captures_iter(line) {
                let origin = caps
                    .get_match()
                    .map(|m| &line[m.range()])
                    .unwrap_or_default()
                    .to_string();
                out.push(LocalUrl {
                    file: file.to_string(),
                    line: i as u32 + 1,
                    port: caps.get_group(1).and_then(|p| line[p.range()].parse().ok()),
                    origin,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;

    #[test]
    fn lines_are_one_based() {
        let t = "a\nb\nc";
        assert_eq!(line_of(t, 0), 1);
        assert_eq!(line_of(t, 2), 2);
        assert_eq!(find_line(t, "c"), Some(3));
        let re = Regex::new("[abc]").unwrap();
        let mut seen = vec![];
        each_match(t, &re, |l, _| seen.push(l));
        assert_eq!(seen, vec![1, 2, 3]);
    }

    #[test]
    fn dotenv_parsing() {
        let e = parse_dotenv(
            "# c\nexport A=1\nB=\"two words\"\nC='x' \nD=v # comment\nbad line\n1X=2\n",
        );
        let kv: Vec<_> = e
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str(), e.line))
            .collect();
        assert_eq!(
            kv,
            vec![
                ("A", "1", 2),
                ("B", "two words", 3),
                ("C", "x", 4),
                ("D", "v", 5)
            ]
        );
    }

    #[test]
    fn localhost_urls_only_in_request_lines() {
        let repo = MemRepo::new([
            ("t.html", "<script>\nconst r = await fetch(\"http://localhost:5000/api/message\");\n</script>"),
            ("s.js", "console.log(`listening on http://localhost:3000`)\n"),
            // A URL kept in a variable named like one, requested on the next line.
            ("b.vue", "const path = 'http://localhost:5001/books';\naxios.get(path);\nconst title = 'http://localhost:9/x';\n"),
        ]);
        let found = localhost_urls(&repo, &["t.html", "s.js", "b.vue"]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[1].line, found[1].port), (1, Some(5001)));
        assert_eq!(found[0].line, 2);
        assert_eq!(found[0].port, Some(5000));
        assert_eq!(found[0].origin, "http://localhost:5000");
    }

    #[test]
    fn ascii_classes() {
        assert_eq!(
            asciify(r"\w+\s*[\w.]"),
            r"[0-9A-Za-z_]+[\t\n\x0B\x0C\r\x20]*[0-9A-Za-z_.]"
        );
        assert_eq!(asciify(r"\bport\b\\d"), r"(?-u:\b)port(?-u:\b)\\d");
        assert_eq!(asciify(r"[^\]]\d"), r"[^\]][0-9]");
        let re = regex(r"(?m)^[ \t]*(\w+)\s*=\s*Flask\(");
        assert_eq!(
            &re.captures("x\n  app = Flask(__name__)").unwrap()[1],
            "app"
        );
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(""));
        assert!(is_placeholder("changeme"));
        assert!(is_placeholder("changethis"));
        assert!(is_placeholder("your-api-key"));
        assert!(!is_placeholder("sk_live_8f7a6d5c4b3a"));
    }
}
