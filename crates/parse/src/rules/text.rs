//! Text preparation for the rule-based parser: input capping, "spans" (URLs,
//! repository addresses, e-mail addresses, file paths, domain names) and the
//! word list that every other rule module reads.
//!
//! What it does: finds spans with a handful of linear-time regexes, masks them
//! so that `github.com/me/aws-tools` never reads as "aws", folds case and Latin
//! diacritics (`São Paulo` → `sao paulo`), corrects small typos against the
//! lexicon's vocabulary, and splits the rest into words grouped into clauses
//! (split at `, ; : . ! ? ( ) + / —`) and sentences.
//!
//! What it deliberately is not: it assigns no meaning to words (that is
//! `lexicon`), and it never allocates more than a constant amount per input
//! byte — the whole pass is linear in the (capped) input.

use regex::Regex;

/// Only this many bytes of a request are considered (cut at a char boundary).
/// A deployment request is one sentence; anything past 64 KiB is not a request
/// the rules could read sensibly, and capping keeps `parse` fast on hostile input.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// Cut `text` to at most [`MAX_INPUT_BYTES`], at a char boundary.
pub(crate) fn cap(text: &str) -> (&str, bool) {
    if text.len() <= MAX_INPUT_BYTES {
        return (text, false);
    }
    let mut end = MAX_INPUT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    /// `scheme://…` that is not a repository.
    Url,
    /// A git repository address (GitHub/GitLab/Bitbucket/Codeberg, `git@…`, `*.git`).
    Repo,
    /// A local path (`./app`, `../api`, `~/code/x`, `/srv/app`, `C:\\code\\x`).
    Path,
    Email,
    /// A bare host name with a known top-level domain.
    Domain,
}

#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub kind: SpanKind,
    pub start: usize,
    pub end: usize,
    /// The span text as written (trailing punctuation trimmed).
    pub raw: String,
    /// For `Url`: the lowercase host; for `Domain`: the lowercase name.
    pub host: Option<String>,
    /// For `Url`: true when the scheme is `https`.
    pub https_scheme: bool,
}

/// One word of the request after masking, folding and typo correction.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    /// Lowercase, diacritics folded, apostrophes dropped; typo-corrected when
    /// the original was one edit away from a lexicon word.
    pub key: String,
    /// Clause number (clauses end at `, ; : . ! ? ( ) + /` and dashes).
    pub clause: u32,
    /// Sentence number (sentences end at `. ! ? ;`).
    pub sentence: u32,
    /// Index into `Doc::spans` when this word stands for a masked span.
    pub span: Option<usize>,
    /// Byte offsets of the word in the capped input.
    pub start: usize,
    pub end: usize,
}

/// A request prepared for the rules.
pub(crate) struct Doc<'a> {
    pub text: &'a str,
    pub truncated: bool,
    pub spans: Vec<Span>,
    pub words: Vec<Word>,
    /// The input with spans blanked out and ASCII lowercased (same byte offsets).
    pub masked: String,
    /// `pivots[i]`: how many contrast words ("but", "now", "actually", …) come before word `i`.
    pub pivots: Vec<u16>,
    /// `cues[i]`: which context-cue tables word `i` can start or end a cue of.
    pub cues: Vec<u16>,
}

// The span patterns, each compiled on first use: [`find_spans`] runs a
// pattern only when the text holds a literal every match of it contains, so
// "deploy on aws" compiles none of them (compiling all seven was ~40 % of a
// whole `plan` on a small app).
lazy_regex!(url_re, r#"(?i)\b(?:https?|git|ssh)://[^\s<>"'`()\[\]{}]+"#);
lazy_regex!(
    git_ssh_re,
    r"(?i)\b[a-z0-9_.-]+@[a-z0-9.-]+\.[a-z]{2,}:[a-z0-9_.\-/~]+"
);
lazy_regex!(
    email_re,
    r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+"
);
lazy_regex!(
    bare_repo_re,
    r"(?i)\b(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)/[a-z0-9_.\-]+/[a-z0-9_.\-/]+"
);
lazy_regex!(win_path_re, r#"(?i)\b[a-z]:\\[^\s,;'"()<>|]+"#);
lazy_regex!(
    unix_path_re,
    r#"(?:^|[\s(\["'=])((?:~|\.\.?)/[A-Za-z0-9_.\-~/]*[A-Za-z0-9_\-~/]|/[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+/?)"#
);
lazy_regex!(
    domain_re,
    r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b"
);

/// Top-level domains accepted for bare domain names. Deliberately excludes TLDs
/// that collide with file extensions (`.py`, `.rs`, `.md`, `.sh`, `.pl`, `.js` …).
const TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "io",
    "dev",
    "app",
    "co",
    "ai",
    "cloud",
    "tech",
    "site",
    "xyz",
    "me",
    "info",
    "biz",
    "us",
    "uk",
    "de",
    "fr",
    "eu",
    "nl",
    "ca",
    "au",
    "in",
    "jp",
    "ch",
    "se",
    "no",
    "es",
    "it",
    "be",
    "at",
    "dk",
    "fi",
    "ie",
    "nz",
    "br",
    "shop",
    "store",
    "online",
    "page",
    "tv",
    "gg",
    "email",
    "digital",
    "agency",
    "studio",
    "systems",
    "services",
    "software",
    "solutions",
    "company",
    "blog",
    "news",
    "live",
    "world",
    "today",
    "space",
    "website",
    "fm",
    "cz",
    "pt",
    "pl_",
    "ro",
    "hu",
    "gr",
    "sg",
    "hk",
    "kr",
    "tw",
    "mx",
    "ar",
    "cl",
    "za",
    "ae",
    "cc",
    "ly",
    "gov",
    "edu",
    "lu",
    "is_",
    "ee",
    "lt",
    "lv",
    "si",
    "sk",
    "hr",
    "rs_",
    "ua",
];

/// Names that look like domains but are technologies or hosting platforms, not
/// a domain the user wants to serve on.
const NOT_A_DOMAIN: &[&str] = &[
    "asp.net",
    "vb.net",
    "ado.net",
    "socket.io",
    "fly.io",
    "render.com",
    "heroku.com",
];
const PLATFORM_SUFFIXES: &[&str] = &[
    ".herokuapp.com",
    ".vercel.app",
    ".netlify.app",
    ".amazonaws.com",
    ".azurewebsites.net",
    ".cloudapp.net",
    ".cloudfront.net",
    ".run.app",
    ".web.app",
    ".firebaseapp.com",
    ".appspot.com",
    ".pages.dev",
    ".workers.dev",
    ".ngrok.io",
    ".github.io",
    ".fly.dev",
    ".onrender.com",
];
const REPO_HOSTS: &[&str] = &["github.com", "gitlab.com", "bitbucket.org", "codeberg.org"];
/// Absolute paths are taken as a repository path only under these roots, so an
/// API route like `/api/v1` is not mistaken for a folder.
const PATH_ROOTS: &[&str] = &[
    "home",
    "users",
    "srv",
    "opt",
    "var",
    "tmp",
    "code",
    "src",
    "projects",
    "repos",
    "workspace",
    "workspaces",
    "work",
    "mnt",
    "data",
    "root",
    "usr",
    "app",
    "apps",
    "build",
    "git",
    "sites",
];

fn trim_trailing(s: &str) -> &str {
    s.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"', '>'])
}

fn host_of_url(url: &str) -> Option<(String, bool)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority
        .rsplit('@')
        .next()?
        .split(':')
        .next()?
        .to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some((host, scheme.eq_ignore_ascii_case("https")))
}

fn is_repo_url(url: &str, host: &str) -> bool {
    let host = host.trim_start_matches("www.");
    REPO_HOSTS.contains(&host)
        || url.to_ascii_lowercase().ends_with(".git")
        || url.to_ascii_lowercase().starts_with("git://")
        || url.to_ascii_lowercase().starts_with("ssh://")
}

/// Is `name` (lowercase) a domain a user would deploy on?
pub(crate) fn plausible_domain(name: &str) -> bool {
    let Some(tld) = name.rsplit('.').next() else {
        return false;
    };
    if !TLDS.contains(&tld) || !name.contains('.') {
        return false;
    }
    if NOT_A_DOMAIN.contains(&name) || REPO_HOSTS.contains(&name.trim_start_matches("www.")) {
        return false;
    }
    if PLATFORM_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return false;
    }
    // Every label must contain a letter or be a plausible hostname label; reject versions like 1.2.3.io? (all-digit labels before the TLD are fine for IPs, not domains)
    name.split('.').all(|l| !l.is_empty())
        && name
            .split('.')
            .any(|l| l.bytes().any(|b| b.is_ascii_alphabetic()))
}

fn push(
    spans: &mut Vec<Span>,
    occupied: &mut std::collections::BTreeMap<usize, usize>,
    span: Span,
) {
    occupied.insert(span.start, span.end);
    spans.push(span);
}

/// The matches of `re` in `text` when `gate` holds, none (and `re` not
/// compiled) otherwise.
fn find_if<'t>(
    gate: bool,
    re: fn() -> &'static Regex,
    text: &'t str,
) -> impl Iterator<Item = regex::Match<'t>> {
    gate.then(|| re().find_iter(text)).into_iter().flatten()
}

fn find_spans(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    // Non-overlapping intervals taken so far, by start: overlap checks stay O(log n).
    let mut occupied: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    let taken = |occupied: &std::collections::BTreeMap<usize, usize>, s: usize, e: usize| {
        occupied
            .range(..e)
            .next_back()
            .is_some_and(|(_, &end)| end > s)
    };

    // Each pattern runs only when the text holds a literal that every one of
    // its matches contains (`://`, `@`, `:\\`, `/`, `.`): the result is the
    // same, and a pattern that cannot match is never compiled.
    let has_at = text.contains('@');
    let has_slash = text.contains('/');
    let has_dot = text.contains('.');
    for m in find_if(text.contains("://"), url_re, text) {
        let raw = trim_trailing(m.as_str());
        let end = m.start() + raw.len();
        let Some((host, https)) = host_of_url(raw) else {
            continue;
        };
        let kind = if is_repo_url(raw, &host) {
            SpanKind::Repo
        } else {
            SpanKind::Url
        };
        push(
            &mut spans,
            &mut occupied,
            Span {
                kind,
                start: m.start(),
                end,
                raw: raw.to_string(),
                host: Some(host),
                https_scheme: https,
            },
        );
    }
    for m in find_if(has_at && has_dot && text.contains(':'), git_ssh_re, text) {
        if taken(&occupied, m.start(), m.end()) {
            continue;
        }
        let raw = trim_trailing(m.as_str());
        push(
            &mut spans,
            &mut occupied,
            Span {
                kind: SpanKind::Repo,
                start: m.start(),
                end: m.start() + raw.len(),
                raw: raw.to_string(),
                host: None,
                https_scheme: false,
            },
        );
    }
    for m in find_if(has_at && has_dot, email_re, text) {
        if taken(&occupied, m.start(), m.end()) {
            continue;
        }
        push(
            &mut spans,
            &mut occupied,
            Span {
                kind: SpanKind::Email,
                start: m.start(),
                end: m.end(),
                raw: m.as_str().to_string(),
                host: None,
                https_scheme: false,
            },
        );
    }
    for m in find_if(has_slash && has_dot, bare_repo_re, text) {
        if taken(&occupied, m.start(), m.end()) {
            continue;
        }
        let raw = trim_trailing(m.as_str());
        push(
            &mut spans,
            &mut occupied,
            Span {
                kind: SpanKind::Repo,
                start: m.start(),
                end: m.start() + raw.len(),
                raw: format!("https://{raw}"),
                host: None,
                https_scheme: false,
            },
        );
    }
    for m in find_if(text.contains(":\\"), win_path_re, text) {
        if taken(&occupied, m.start(), m.end()) {
            continue;
        }
        let raw = trim_trailing(m.as_str());
        push(
            &mut spans,
            &mut occupied,
            Span {
                kind: SpanKind::Path,
                start: m.start(),
                end: m.start() + raw.len(),
                raw: raw.to_string(),
                host: None,
                https_scheme: false,
            },
        );
    }
    let unix_paths = has_slash.then(|| unix_path_re().captures_iter(text));
    for c in unix_paths.into_iter().flatten() {
        let m = c.get(1).expect("group 1");
        if taken(&occupied, m.start(), m.end()) {
            continue;
        }
        let raw = m.as_str();
        if let Some(abs) = raw.strip_prefix('/') {
            let root = abs.split('/').next().unwrap_or("").to_ascii_lowercase();
            if !PATH_ROOTS.contains(&root.as_str()) {
                continue;
            }
        } else if raw.ends_with('/') && raw.len() <= 3 {
            continue;
        }
        push(
            &mut spans,
            &mut occupied,
            Span {
                kind: SpanKind::Path,
                start: m.start(),
                end: m.end(),
                raw: raw.to_string(),
                host: None,
                https_scheme: false,
            },
        );
    }
    for m in find_if(has_dot, domain_re, text) {
        if taken(&occupied, m.start(), m.end()) {
            continue;
        }
        // Not part of a longer token such as `app.py/x` or `@host`.
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        if matches!(before, Some('@' | '/' | '.' | '_' | '-')) || matches!(after, Some('@' | '_')) {
            continue;
        }
        let name = m.as_str().to_ascii_lowercase();
        if !plausible_domain(&name) {
            continue;
        }
        push(
            &mut spans,
            &mut occupied,
            Span {
                kind: SpanKind::Domain,
                start: m.start(),
                end: m.end(),
                raw: m.as_str().to_string(),
                host: Some(name),
                https_scheme: false,
            },
        );
    }
    spans.sort_by_key(|s| s.start);
    spans
}

/// Fold one char to lowercase ASCII where that is faithful (Latin letters with
/// diacritics); returns `None` for anything else.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// ASCII letter or digit (after folding).
    Alnum,
    /// A letter of another script (CJK, Cyrillic, …): its own word run.
    Other,
    /// A clause boundary.
    Clause,
    /// A sentence boundary (also a clause boundary).
    Sentence,
    /// Joins two alnum runs when between them (`t3.small`, `us-east-1`, `don't`).
    Joiner,
    Space,
}

fn classify(c: char) -> Class {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => Class::Alnum,
        '.' | '!' | '?' | ';' | '。' | '！' | '？' | '；' => Class::Sentence,
        ',' | ':' | '(' | ')' | '[' | ']' | '{' | '}' | '+' | '/' | '&' | '|' | '"' | '—' | '–'
        | '，' | '：' | '、' | '“' | '”' | '«' | '»' => Class::Clause,
        '-' | '_' | '\'' | '’' => Class::Joiner,
        c if fold(c).is_some() => Class::Alnum,
        c if c.is_alphanumeric() => Class::Other,
        _ => Class::Space,
    }
}

impl<'a> Doc<'a> {
    pub fn new(input: &'a str) -> Doc<'a> {
        let (text, truncated) = cap(input);
        let spans = find_spans(text);

        let mut masked = String::with_capacity(text.len());
        {
            let mut si = 0;
            for (i, c) in text.char_indices() {
                while si < spans.len() && spans[si].end <= i {
                    si += 1;
                }
                let inside = si < spans.len() && spans[si].start <= i && i < spans[si].end;
                if inside {
                    for _ in 0..c.len_utf8() {
                        masked.push(' ');
                    }
                } else {
                    masked.push(c.to_ascii_lowercase());
                }
            }
        }

        let mut words: Vec<Word> = Vec::new();
        let mut clause = 0u32;
        let mut sentence = 0u32;
        let mut cur = String::new();
        let mut cur_start = 0usize;
        let mut cur_other = false;
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut span_iter = 0usize;
        let mut i = 0usize;

        let mut last_end = 0usize;
        let flush = |cur: &mut String,
                     words: &mut Vec<Word>,
                     clause: u32,
                     sentence: u32,
                     start: usize,
                     end: usize| {
            if !cur.is_empty() {
                let trimmed = cur.trim_end_matches(['-', '_', '.']).to_string();
                if !trimmed.is_empty() {
                    words.push(Word {
                        key: trimmed,
                        clause,
                        sentence,
                        span: None,
                        start,
                        end,
                    });
                }
                cur.clear();
            }
        };

        while i < chars.len() {
            let (pos, c) = chars[i];
            // Spans become a single placeholder word.
            while span_iter < spans.len() && spans[span_iter].end <= pos {
                span_iter += 1;
            }
            if span_iter < spans.len() && spans[span_iter].start == pos {
                flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                words.push(Word {
                    key: String::new(),
                    clause,
                    sentence,
                    span: Some(span_iter),
                    start: pos,
                    end: spans[span_iter].end,
                });
                let end = spans[span_iter].end;
                while i < chars.len() && chars[i].0 < end {
                    i += 1;
                }
                span_iter += 1;
                continue;
            }
            let prev = if i > 0 { Some(chars[i - 1].1) } else { None };
            let next = chars.get(i + 1).map(|x| x.1);
            let class = classify(c);
            match class {
                Class::Alnum => {
                    if cur_other {
                        flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                        cur_other = false;
                    }
                    if cur.is_empty() {
                        cur_start = pos;
                    }
                    match fold(c) {
                        Some(f) => cur.push_str(f),
                        None => cur.push(c.to_ascii_lowercase()),
                    }
                    last_end = pos + c.len_utf8();
                }
                Class::Other => {
                    if !cur_other {
                        flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                        cur_other = true;
                        cur_start = pos;
                    }
                    cur.extend(c.to_lowercase());
                    last_end = pos + c.len_utf8();
                }
                Class::Joiner | Class::Sentence | Class::Clause
                    if !cur.is_empty()
                        && !cur_other
                        && prev.is_some_and(|p| classify(p) == Class::Alnum)
                        && next.is_some_and(|n| classify(n) == Class::Alnum)
                        && matches!(c, '.' | '-' | '_' | '\'' | '’' | ',' | '–' | '—') =>
                {
                    // Inside a word: `t3.small`, `us-east-1`, `don't`, `2,000`, `2–6`.
                    match c {
                        '\'' | '’' => {}
                        ',' => {
                            // Thousands separator only: digit,ddd
                            let digits_after = chars[i + 1..]
                                .iter()
                                .take_while(|x| x.1.is_ascii_digit())
                                .count();
                            if prev.is_some_and(|p| p.is_ascii_digit()) && digits_after == 3 {
                            } else {
                                flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                                clause += 1;
                            }
                        }
                        '–' | '—' => {
                            if prev.is_some_and(|p| p.is_ascii_digit())
                                && next.is_some_and(|n| n.is_ascii_digit())
                            {
                                cur.push('-');
                            } else {
                                flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                                clause += 1;
                            }
                        }
                        c => cur.push(c),
                    }
                }
                Class::Sentence
                    if c == '.'
                        && next == Some('.')
                        && prev.is_some_and(|p| p.is_ascii_digit())
                        && chars.get(i + 2).is_some_and(|x| x.1.is_ascii_digit()) =>
                {
                    // "2..8" is a range.
                    cur.push('-');
                    i += 2;
                    continue;
                }
                Class::Sentence => {
                    // "N. Virginia": a period after a single letter is an abbreviation.
                    let single_letter =
                        cur.len() == 1 && !cur_other && cur.as_bytes()[0].is_ascii_alphabetic();
                    if c == '.' && single_letter && next.is_some_and(|n| n == ' ') {
                        flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                    } else {
                        flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                        clause += 1;
                        sentence += 1;
                    }
                    cur_other = false;
                }
                Class::Clause => {
                    flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                    cur_other = false;
                    clause += 1;
                }
                Class::Joiner => {
                    // A dash between spaces is a clause boundary ("AWS - no redis").
                    flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                    cur_other = false;
                    if c == '-'
                        && prev.is_some_and(char::is_whitespace)
                        && next.is_some_and(char::is_whitespace)
                    {
                        clause += 1;
                    }
                }
                Class::Space => {
                    flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);
                    cur_other = false;
                }
            }
            i += 1;
        }
        flush(&mut cur, &mut words, clause, sentence, cur_start, last_end);

        for w in &mut words {
            if w.span.is_none() {
                if let Some(fixed) = crate::rules::lexicon::correct(&w.key) {
                    w.key = fixed.to_string();
                }
            }
        }

        let mut pivots = Vec::with_capacity(words.len());
        let mut count = 0u16;
        for w in &words {
            pivots.push(count);
            if w.span.is_none() && PIVOTS.contains(&w.key.as_str()) {
                count = count.saturating_add(1);
            }
        }

        let cues = words
            .iter()
            .map(|w| {
                if w.span.is_some() {
                    0
                } else {
                    crate::rules::context::cue_bits(&w.key)
                }
            })
            .collect();
        Doc {
            text,
            truncated,
            spans,
            words,
            masked,
            pivots,
            cues,
        }
    }

    /// Word `i`'s key, or "" past the ends / for spans.
    pub fn key(&self, i: usize) -> &str {
        match self.words.get(i) {
            Some(w) if w.span.is_none() => &w.key,
            _ => "",
        }
    }

    /// True when words `a` and `b` are in the same clause.
    pub fn same_clause(&self, a: usize, b: usize) -> bool {
        match (self.words.get(a), self.words.get(b)) {
            (Some(x), Some(y)) => x.clause == y.clause,
            _ => false,
        }
    }
}

/// Contrast words: a mention after one of these is a later thought and wins a tie
/// ("deploy to aws. actually no, gcp").
const PIVOTS: &[&str] = &[
    "but", "however", "now", "actually", "instead", "though", "wait",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: &str) -> Vec<String> {
        Doc::new(t)
            .words
            .iter()
            .map(|w| {
                if w.span.is_some() {
                    "<span>".into()
                } else {
                    w.key.clone()
                }
            })
            .collect()
    }

    #[test]
    fn words_keep_codes_and_types_whole() {
        assert_eq!(
            keys("AWS us-east-1, t3.small; don't"),
            ["aws", "us-east-1", "t3.small", "dont"]
        );
        assert_eq!(keys("São Paulo"), ["sao", "paulo"]);
        assert_eq!(keys("2–6 tasks, $2,000"), ["2-6", "tasks", "2000"]);
        assert_eq!(keys("N. Virginia"), ["n", "virginia"]);
        assert_eq!(keys("在AWS上部署"), ["在", "aws", "上部署"]);
    }

    #[test]
    fn spans_mask_urls_paths_and_domains() {
        let d = Doc::new("deploy https://github.com/me/aws-tools to app.example.com from ./svc, mail ops@example.com");
        let kinds: Vec<SpanKind> = d.spans.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SpanKind::Repo,
                SpanKind::Domain,
                SpanKind::Path,
                SpanKind::Email
            ]
        );
        assert!(!d.words.iter().any(|w| w.key == "aws"));
        assert_eq!(d.spans[2].raw, "./svc");
    }

    #[test]
    fn files_and_tech_names_are_not_domains() {
        let d = Doc::new("run app.py with Next.js and ASP.NET, $50/month, CI/CD, 24/7, /api/v1");
        assert!(d.spans.is_empty(), "{:?}", d.spans);
    }

    #[test]
    fn cap_cuts_at_char_boundary() {
        let s = "é".repeat(MAX_INPUT_BYTES);
        let (c, t) = cap(&s);
        assert!(t && c.len() <= MAX_INPUT_BYTES && c.len() % 2 == 0);
    }
}
