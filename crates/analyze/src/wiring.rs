//! Wiring, the shared half: how code that connects to a database or cache
//! turns into [`Wiring`] — the settings it reads and the format of each.
//!
//! Each ecosystem keeps its own **table** of conventions beside its detector
//! (`detectors/<ecosystem>/wiring.rs`): connection sites (`create_engine(…)`,
//! `new Pool({…})`, `sql.Open(…)`, a Django `DATABASES` dict…) and fixed
//! conventions (Rails' `DATABASE_URL`, Spring's `SPRING_DATASOURCE_*`). This
//! module holds what those tables share, as data and small pure functions:
//!
//! - the key tables (`host`, `port`, `user`, `password`, `dbname`, `url`…
//!   → [`SettingFormat`]);
//! - [`url_roles`]: which part of a connection string each hole of a template
//!   fills (`postgresql://{user}:{pw}@{host}:{port}/{db}`, the Go MySQL DSN
//!   `%s:%s@tcp(%s:%s)/%s`, libpq's `host=%s port=%s …`);
//! - [`Resolver`]: an expression at a connection site → the environment
//!   variables behind it, directly (`os.environ["X"]`), through a name bound
//!   to an environment read anywhere in the service (`DATABASE_URL =
//!   os.getenv(…)` then `create_engine(DATABASE_URL)`), through a template, or
//!   as an upper-case member of a settings object (`env.DATABASE_URL`);
//! - [`scan_sites`]: one pass of a table of [`Site`]s over one file;
//! - [`command_wiring`]: conventions read from a start command (`rq worker
//!   --url $X`).
//!
//! What this is not: the name-shape guess (`DB_HOST` "looks like" a host) —
//! that stays decide's fallback for names no table explains; and no value is
//! ever evaluated or executed.

use crate::draft::{ev, is_env_name};
use crate::scan::{line_of, line_text};
use autodeploy_core::{Database, Evidence, SettingFormat, Wiring, WiringSetting, WiringTarget};
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use SettingFormat as F;

/// Config keys → the format of their value (lowercase, `-` read as `_`).
pub type KeyTable = &'static [(&'static str, SettingFormat)];

/// Keys of database connection settings (driver kwargs, ORM options, DSN keys).
pub const DB_KEYS: KeyTable = &[
    ("url", F::Url),
    ("uri", F::Url),
    ("dsn", F::Url),
    ("database_url", F::Url),
    ("db_url", F::Url),
    ("connection_string", F::Url),
    ("connectionstring", F::Url),
    ("connection", F::Url),
    ("host", F::Host),
    ("hostname", F::Host),
    ("server", F::Host),
    ("port", F::Port),
    ("user", F::Username),
    ("username", F::Username),
    ("user_id", F::Username),
    ("uid", F::Username),
    ("password", F::Password),
    ("pass", F::Password),
    ("passwd", F::Password),
    ("pwd", F::Password),
    ("database", F::Name),
    ("dbname", F::Name),
    ("db_name", F::Name),
    ("database_name", F::Name),
    ("db", F::Name),
    ("name", F::Name),
];

/// Keys of cache connection settings (Redis clients).
pub const CACHE_KEYS: KeyTable = &[
    ("url", F::Url),
    ("uri", F::Url),
    ("host", F::Host),
    ("hostname", F::Host),
    ("port", F::Port),
    ("password", F::Password),
    ("addr", F::Address),
    ("address", F::Address),
];

/// The format of `key` in `table`.
pub fn key_format(table: KeyTable, key: &str) -> Option<SettingFormat> {
    let k = key
        .trim()
        .trim_matches(['"', '\'', '`', ':', '$', '@'])
        .to_ascii_lowercase()
        .replace(['-', ' '], "_");
    table.iter().find(|(n, _)| *n == k).map(|(_, f)| *f)
}

/// One environment read: the variable and the default the code gives, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvRef {
    pub name: String,
    pub default: Option<String>,
    /// Where it is read (file, line, the line's text), when known better than the site.
    pub at: Option<(String, u32, String)>,
}

impl EnvRef {
    pub fn new(name: &str, default: Option<&str>) -> Self {
        EnvRef {
            name: name.to_string(),
            default: default.map(str::to_string),
            at: None,
        }
    }
}

/// What an expression at a connection site turned out to be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Settings found, each with its format (`Url` for a whole value until
    /// the site says otherwise).
    pub settings: Vec<(EnvRef, SettingFormat)>,
    /// The scheme of the URL template or of the default URL (`postgresql+psycopg`).
    pub scheme: Option<String>,
    /// True when the value came from parts (a template), so each setting
    /// already has its own format.
    pub parts: bool,
    /// The expression mentions a SQLite URL or file as what it falls back to.
    pub sqlite_default: bool,
    /// Engines named by literals beside the settings (`dialect: "postgres"`).
    pub engines: Vec<Database>,
    /// The expression names a URL of something else (`amqp://…`: a broker
    /// that is not Redis), so the settings are not this target's.
    pub foreign: bool,
}

impl Resolved {
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty()
    }
}

/// Hole markers inside an encoded template (never in source text).
const OPEN: char = '\u{1}';
const CLOSE: char = '\u{2}';

/// Encode hole `i` of a template.
pub fn hole(i: usize) -> String {
    format!("{OPEN}{i}{CLOSE}")
}

fn hole_index(s: &str) -> Option<usize> {
    s.strip_prefix(OPEN)?.strip_suffix(CLOSE)?.parse().ok()
}

/// Which component of a connection string each hole fills.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub scheme: Option<String>,
    pub holes: Vec<(usize, SettingFormat)>,
    /// The template is the Go MySQL DSN `user:pass@tcp(host:port)/name`.
    pub mysql_dsn: bool,
}

/// The roles of the holes of an encoded template (see [`hole`]): a URL
/// (`scheme://user:pass@host:port/name?…`, `jdbc:` prefix allowed), the Go
/// MySQL DSN, or `key=value` pairs (libpq, ADO.NET). A template that is one
/// hole alone is a whole URL.
pub fn url_roles(enc: &str) -> Roles {
    let mut r = Roles::default();
    let s = enc.trim();
    if let Some(i) = hole_index(s) {
        r.holes.push((i, F::Url));
        return r;
    }
    let s = s.strip_prefix("jdbc:").unwrap_or(s);
    let set = |part: &str, f: SettingFormat, r: &mut Roles| {
        if let Some(i) = hole_index(part.trim()) {
            r.holes.push((i, f));
        }
    };
    if let Some((scheme, rest)) = s.split_once("://") {
        if !scheme.contains(OPEN)
            && crate::draft::is_env_name(&scheme.replace(['+', '-', '.'], "_"))
        {
            r.scheme = Some(scheme.to_ascii_lowercase());
        }
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if let Some(u) = userinfo {
            match u.split_once(':') {
                Some((user, pass)) => {
                    set(user, F::Username, &mut r);
                    set(pass, F::Password, &mut r);
                }
                None => set(u, F::Username, &mut r),
            }
        }
        match hostport.rsplit_once(':') {
            Some((h, p)) => {
                set(h, F::Host, &mut r);
                set(p, F::Port, &mut r);
            }
            None => set(hostport, F::Host, &mut r),
        }
        if let Some(p) = path.strip_prefix('/') {
            set(p.split('?').next().unwrap_or(p), F::Name, &mut r);
        }
        return r;
    }
    if let Some(at) = s.find("@tcp(").or_else(|| s.find("@unix(")) {
        r.mysql_dsn = true;
        let (userinfo, rest) = s.split_at(at);
        match userinfo.split_once(':') {
            Some((user, pass)) => {
                set(user, F::Username, &mut r);
                set(pass, F::Password, &mut r);
            }
            None => set(userinfo, F::Username, &mut r),
        }
        let rest = &rest[rest.find('(').map_or(0, |i| i + 1)..];
        if let Some((addr, tail)) = rest.split_once(')') {
            match addr.rsplit_once(':') {
                Some((h, p)) => {
                    set(h, F::Host, &mut r);
                    set(p, F::Port, &mut r);
                }
                None => set(addr, F::Host, &mut r),
            }
            if let Some(n) = tail.strip_prefix('/') {
                set(n.split('?').next().unwrap_or(n), F::Name, &mut r);
            }
        }
        return r;
    }
    // `host:port` (a Redis address, a bind address).
    if let Some((h, p)) = s.rsplit_once(':') {
        if hole_index(h.trim()).is_some() && hole_index(p.trim()).is_some() {
            set(h, F::Host, &mut r);
            set(p, F::Port, &mut r);
            return r;
        }
    }
    if s.contains('=') {
        for pair in s.split([' ', ';', '\t', '\n']) {
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            if let Some(f) = key_format(DB_KEYS, k).filter(|f| *f != F::Url) {
                set(v, f, &mut r);
            }
        }
    }
    r
}

/// `%s`/`%d` holes filled from `args` in order.
pub fn percent(body: &str, args: &[&str]) -> (String, Vec<String>) {
    let mut enc = String::new();
    let mut holes = Vec::new();
    let mut chars = body.char_indices().peekable();
    let mut last = 0usize;
    while let Some((i, c)) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.peek() {
            Some((_, '%')) => {
                chars.next();
            }
            Some((j, k)) if k.is_ascii_alphabetic() => {
                let j = *j;
                enc.push_str(&body[last..i]);
                enc.push_str(&hole(holes.len()));
                holes.push(args.get(holes.len()).copied().unwrap_or("").to_string());
                chars.next();
                last = j + 1;
            }
            _ => {}
        }
    }
    enc.push_str(&body[last..]);
    (enc, holes)
}

/// `"postgresql://" + user + ":" + pw + …`: literals and holes joined by `op`.
pub fn concat(e: &str, op: char) -> Option<(String, Vec<String>)> {
    let b = e.as_bytes();
    let (mut depth, mut quote, mut start) = (0i32, None::<u8>, 0usize);
    let mut parts = Vec::new();
    for (i, &c) in b.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'"' | b'\'' | b'`' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                _ if c == op as u8 && depth == 0 => {
                    parts.push(e[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            },
        }
    }
    parts.push(e[start..].trim());
    if parts.len() < 2 {
        return None;
    }
    let mut enc = String::new();
    let mut holes = Vec::new();
    let mut literal_seen = false;
    for p in parts {
        match unquote(p) {
            Some(lit) if !lit.contains(['{', '$']) => {
                enc.push_str(lit);
                literal_seen |= lit.contains("://") || lit.contains('@') || lit.contains('=');
            }
            _ => {
                enc.push_str(&hole(holes.len()));
                holes.push(p.to_string());
            }
        }
    }
    literal_seen.then_some((enc, holes))
}

/// `text` with C-style comments (`// …`, `/* … */`) blanked (same length and
/// lines), strings kept: commented-out connection code is not code.
pub fn mask_c_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q || (c == b'\n' && q != b'`') {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    if b[i] != b'\n' {
                        out[i] = b' ';
                    }
                    i += 1;
                }
                for x in out.iter_mut().take((i + 2).min(b.len())).skip(i) {
                    *x = b' ';
                }
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Only ASCII comment bytes were replaced, but a comment may hold
    // multi-byte characters: blank any that were cut.
    String::from_utf8(out).unwrap_or_else(|e| {
        String::from_utf8_lossy(e.as_bytes())
            .chars()
            .map(|c| if c == '\u{fffd}' { ' ' } else { c })
            .collect()
    })
}

/// An ecosystem's expression syntax, as far as wiring needs it.
pub trait Lang: Sync {
    /// Environment reads written in `expr` (`os.environ.get("X", "d")`,
    /// `process.env.X || "d"`, `os.Getenv("X")`).
    fn env_reads(&self, expr: &str) -> Vec<EnvRef>;
    /// `expr` as a string template: the text with holes encoded by [`hole`]
    /// and the hole expressions, in order; `None` when it is no template.
    fn template(&self, expr: &str) -> Option<(String, Vec<String>)>;
}

/// Objects whose upper-case members are environment variables
/// (`env.DATABASE_URL`, `config.MYSQL_HOST`, `settings.REDIS_URL`).
const ENV_OBJECTS: &[&str] = &[
    "env",
    "envs",
    "config",
    "conf",
    "cfg",
    "settings",
    "environment",
    "environ",
    "vars",
];

static MEMBER_UPPER: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::regex(r"\b(\w+)\s*(?:\?\.|\.|->|::)\s*([A-Z][A-Z0-9_]{2,})\b"));
static MEMBER_OF: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::regex(r"\b(\w+)\s*(?:\?\.|\.)\s*([A-Za-z_]\w*)\b"));
/// Objects whose members are settings read elsewhere (`config.db`, `settings.database_url`).
const SETTINGS_OBJECTS: &[&str] = &[
    "config",
    "conf",
    "cfg",
    "settings",
    "options",
    "opts",
    "env",
    "configuration",
    "environment",
];
static KEYS_IN_EXPR: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::regex(r#"["'`]([A-Za-z_][\w.]*)["'`]|\b([A-Za-z_]\w*)\b"#));
static SCHEME_LITERAL: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::regex(r#"["'`]([a-z][a-z0-9]*(?:\+[a-z0-9_]+)?)://"#));
/// Schemes of services that are neither a database nor Redis.
const FOREIGN_SCHEMES: &[&str] = &[
    "amqp",
    "amqps",
    "sqs",
    "kafka",
    "nats",
    "memcache",
    "memcached",
];

static DB_FILE_LITERAL: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::regex(r#"["'`][^"'`\s]*\.(?:db|sqlite3?)["'`]"#));

/// Does `s` name SQLite or a database file in a literal (what an app falls back to)?
pub fn is_sqlite_value(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.contains("sqlite")
        || DB_FILE_LITERAL.is_match(&l)
        || l.contains("file:./")
        || l.contains(":memory:")
}

/// What a name is bound to, and where. Expressions are resolved only when
/// a connection site asks for the name (most assignments never are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    value: BoundValue,
    pub file: String,
    pub line: u32,
    pub note: String,
    /// A variable declared in its file (`const hostname = …`), which other
    /// files reach only through the module it is exported from.
    pub local: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum BoundValue {
    /// Known already (a settings field, a config-file mapping).
    Resolved(Resolved),
    /// An expression, resolved on demand in its own file.
    Expr(String),
}

/// Can `expr` read the environment at all? Plain literals (numbers,
/// strings without a URL or a hole, `True`, `None`) cannot: skipping them
/// keeps the binding pass cheap.
fn worth_binding(expr: &str) -> bool {
    let e = expr.trim();
    if e.is_empty() || e.len() > 2000 {
        return false;
    }
    if e.bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'_')
    {
        return false;
    }
    if matches!(
        e,
        "True" | "False" | "None" | "true" | "false" | "null" | "nil" | "undefined" | "[]" | "{}"
    ) {
        return false;
    }
    if let Some(lit) = unquote(e) {
        return lit.contains("://") || lit.contains(['{', '$', '%']);
    }
    // Only expressions that can read the environment, name a settings object
    // or build a connection string are resolved: everything else in a file
    // (thousands of object keys in a front end) is skipped cheaply.
    BIND_MARKERS.iter().any(|m| e.contains(m))
}

/// Substrings of an expression that can read the environment or a setting,
/// or assemble a connection string (plain `contains` on short expressions:
/// no automaton to build per process).
const BIND_MARKERS: &[&str] = &[
    "env", "Env", "ENV", "config", "Config", "CONFIG", "settings", "Settings", "SETTINGS", "://",
    "`", "Sprintf", "format", "%s", "%(", "@tcp", "host=", "Host=",
];

/// A name assigned an expression somewhere (`NAME = expr`, `key: expr`),
/// found once by a language's patterns, bound by [`Resolver::bind_all`].
pub struct Candidate<'t> {
    pub name: &'t str,
    pub expr: &'t str,
    pub file: &'t str,
    pub line: u32,
    pub note: String,
    /// Which of the patterns found it (its index).
    pub pattern: usize,
}

/// The text of the line holding byte `at`, cut for evidence (no line count).
fn line_note(text: &str, at: usize) -> String {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    // The trimmed line's first 100 characters, and `…` when it has more,
    // without walking the rest of the line: a minified bundle's one line
    // is hundreds of kilobytes (babel: 88 M instructions for 137 notes).
    let line = text[start..end].trim_start();
    let head = line.char_indices().nth(100).map_or(line.len(), |(i, _)| i);
    let (first, rest) = line.split_at(head);
    // All whitespace? Asked from the front, where a long line's next
    // character answers it (`trim_end` on it cost ~650 k instructions).
    if rest.chars().all(char::is_whitespace) {
        first.trim_end().to_string()
    } else {
        format!("{first}…")
    }
}

/// Any of [`BIND_MARKERS`] (one automaton: a file is searched once).
static MARKER_RE: LazyLock<Regex> = LazyLock::new(|| {
    let alternation: Vec<String> = BIND_MARKERS.iter().map(|m| regex::escape(m)).collect();
    Regex::new(&alternation.join("|")).expect("literal alternation")
});

/// The assignments `patterns` find in `text` (group 1 is the name, the match
/// ends where the expression starts), keeping only expressions that can read
/// the environment. Matches followed by one of `not_after` (`==`, `=>`) are
/// comparisons or arrows, not assignments. Only lines that hold a marker
/// ([`BIND_MARKERS`]) are searched: an assignment worth binding starts on one.
pub fn assignments<'t>(
    file: &'t str,
    text: &'t str,
    patterns: &[&Regex],
    not_after: &[char],
    out: &mut Vec<Candidate<'t>>,
) {
    let (mut line_no, mut counted_to) = (1u32, 0usize);
    let mut next_line_start = 0usize;
    for hit in MARKER_RE.find_iter(text) {
        if hit.start() < next_line_start {
            continue; // this line was searched already
        }
        let start = text[..hit.start()].rfind('\n').map_or(0, |i| i + 1);
        let end = text[hit.start()..]
            .find('\n')
            .map_or(text.len(), |i| hit.start() + i + 1);
        next_line_start = end;
        line_no += text.as_bytes()[counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        counted_to = start;
        let line = &text[start..end];
        for (index, pattern) in patterns.iter().enumerate() {
            for c in pattern.captures_iter(line) {
                let (Some(m), Some(name)) = (c.get(0), c.get(1)) else {
                    continue;
                };
                let rest = &text[start + m.end()..];
                if rest.starts_with(not_after) {
                    continue;
                }
                let expr = assigned_expr(rest);
                if worth_binding(expr) {
                    out.push(Candidate {
                        name: name.as_str(),
                        expr,
                        file,
                        line: line_no,
                        note: line_note(text, start + m.start()),
                        pattern: index,
                    });
                }
            }
        }
    }
}

/// Expression → environment variables, for one service.
pub struct Resolver<'a> {
    pub lang: &'a dyn Lang,
    /// Names bound to what they resolve to anywhere in the service
    /// (identifiers, attributes, config keys; lowercase), with where; the
    /// first binding per file.
    pub bound: HashMap<String, Vec<Bound>>,
    /// Environment variables the service reads (a bare `DATABASE_URL` that
    /// came from `const { DATABASE_URL } = process.env`).
    pub known: std::collections::HashSet<String>,
    /// The file whose expressions are being resolved (its own bindings win).
    current: std::cell::RefCell<String>,
}

impl<'a> Resolver<'a> {
    pub fn new(lang: &'a dyn Lang) -> Self {
        Resolver {
            lang,
            bound: HashMap::new(),
            known: Default::default(),
            current: Default::default(),
        }
    }

    /// Bind every candidate (resolved later, when a site asks).
    pub fn bind_all(&mut self, candidates: Vec<Candidate>) {
        self.bind_all_declaring(candidates, None);
    }

    /// `bind_all`, where the pattern of index `declares` finds variable
    /// declarations (`const x = …`): bindings local to their file.
    pub fn bind_all_declaring(&mut self, candidates: Vec<Candidate>, declares: Option<usize>) {
        for c in candidates {
            self.insert(
                c.name.to_ascii_lowercase(),
                Bound {
                    value: BoundValue::Expr(c.expr.to_string()),
                    file: c.file.to_string(),
                    line: c.line,
                    note: c.note,
                    local: declares == Some(c.pattern),
                },
            );
        }
    }

    /// What a binding reads, resolved in its own file.
    fn value_of(&self, b: &Bound, depth: u8) -> Resolved {
        match &b.value {
            BoundValue::Resolved(r) => r.clone(),
            BoundValue::Expr(e) => {
                let previous = self.current.replace(b.file.clone());
                let mut r = self.resolve_depth(e, depth + 1);
                *self.current.borrow_mut() = previous;
                for (x, _) in &mut r.settings {
                    if x.at.is_none() {
                        x.at = Some((b.file.clone(), b.line, b.note.clone()));
                    }
                }
                r
            }
        }
    }

    /// Resolve the following expressions as written in `file`.
    pub fn in_file(&self, file: &str) {
        *self.current.borrow_mut() = file.to_string();
    }

    /// What `key` reads, seen from the current file: that file's own
    /// binding, else one from elsewhere when `global` (a settings member, a
    /// config key, a specific name) and the bindings elsewhere agree.
    ///
    /// `via` is the object a member is read from (`dbconfig` of
    /// `dbConfig.hostname`) when only that makes the name a setting: a
    /// variable declared in another file is then reached only through its
    /// module (`config.hostname`, config.js exporting `hostname`), never a
    /// local object's field of the same name.
    pub fn lookup(
        &self,
        key: &str,
        global: bool,
        via: Option<&str>,
        depth: u8,
    ) -> Option<(Resolved, &Bound)> {
        let list = self.bound.get(key)?;
        let current = self.current.borrow().clone();
        for b in list.iter().filter(|b| b.file == current) {
            let r = self.value_of(b, depth);
            if !r.is_empty() {
                return Some((r, b));
            }
        }
        if !global {
            return None;
        }
        // A name bound in a release, CI or maintenance script (`let
        // hostname = process.env.UPTIME_KUMA_HOST` in extra/healthcheck.js)
        // is that script's own variable, never the app's setting.
        let tooling = crate::draft::in_tooling_folder(&current);
        let found: Vec<(Resolved, &Bound)> = list
            .iter()
            .filter(|b| b.file != current)
            .filter(|b| tooling || !crate::draft::in_tooling_folder(&b.file))
            .filter(|b| !b.local || via.is_none_or(|o| module_stem(&b.file) == o))
            .map(|b| (self.value_of(b, depth), b))
            .filter(|(r, _)| !r.is_empty())
            .collect();
        let name = |r: &Resolved| r.settings.first().map(|x| x.0.name.clone());
        let first = found.first()?;
        found
            .iter()
            .all(|(r, _)| name(r) == name(&first.0))
            .then(|| (first.0.clone(), first.1))
    }

    /// The dict or object literal a lone argument names through a quoted
    /// config key (`conf.update(app.config.get("CELERY_CONFIG", {}))` →
    /// the body of `CELERY_CONFIG = {…}`), with the file it is written in:
    /// its keys say which value is which, where resolving it as one value
    /// would take its first environment read, whatever key holds it.
    pub fn mapping_of(&self, expr: &str) -> Option<(String, String)> {
        let keys: Vec<String> = KEYS_IN_EXPR
            .captures_iter(expr)
            .filter_map(|c| c.get(1))
            .map(|q| q.as_str().to_string())
            .collect();
        self.mapping_bound_to(&keys)
    }

    /// The dict a bare name is bound to (`config = {"ENGINE": …}` for the
    /// value of `DATABASES = {"default": config}`), as [`Self::mapping_of`].
    pub fn mapping_named(&self, name: &str) -> Option<(String, String)> {
        let name = name.trim();
        let ident = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        ident
            .then(|| self.mapping_bound_to(&[name.to_string()]))
            .flatten()
    }

    fn mapping_bound_to(&self, names: &[String]) -> Option<(String, String)> {
        let current = self.current.borrow().clone();
        names
            .iter()
            .filter_map(|q| self.bound.get(&q.to_ascii_lowercase()))
            .flat_map(|list| {
                let mut list: Vec<&Bound> = list.iter().collect();
                // The current file's binding first.
                list.sort_by_key(|b| b.file != current);
                list
            })
            .find_map(|b| match &b.value {
                BoundValue::Expr(e) => {
                    let t = e.trim_start();
                    let body = if t.starts_with('{') {
                        bracketed(t, 0)
                    } else {
                        t.strip_prefix("dict(").and_then(|_| bracketed(t, 4))
                    }?;
                    Some((body.to_string(), b.file.clone()))
                }
                BoundValue::Resolved(_) => None,
            })
    }

    /// Run `f` with expressions resolved as written in `file`.
    pub fn within<T>(&self, file: &str, f: impl FnOnce() -> T) -> T {
        let previous = self.current.replace(file.to_string());
        let out = f();
        *self.current.borrow_mut() = previous;
        out
    }

    /// What `key` reads wherever it is bound (the first binding that reads something).
    pub fn lookup_any(&self, key: &str) -> Option<(Resolved, &Bound)> {
        self.bound.get(key)?.iter().find_map(|b| {
            let r = self.value_of(b, 0);
            (!r.is_empty()).then_some((r, b))
        })
    }

    fn insert(&mut self, key: String, b: Bound) {
        // A few bindings per name and file are enough (the first reads win).
        let list = self.bound.entry(key).or_default();
        if list.iter().filter(|x| x.file == b.file).count() < 4 {
            list.push(b);
        }
    }

    /// Bind `name` to `expr` (resolved when asked). `text`/`at` locate it.
    pub fn bind(&mut self, name: &str, expr: &str, file: &str, text: &str, at: usize) {
        if !worth_binding(expr) {
            return;
        }
        self.insert(
            name.to_ascii_lowercase(),
            Bound {
                value: BoundValue::Expr(expr.to_string()),
                file: file.to_string(),
                line: line_of(text, at),
                note: line_note(text, at),
                local: false,
            },
        );
    }

    /// Bind `name` directly to an environment variable (a settings field).
    pub fn bind_env(&mut self, name: &str, env: EnvRef, file: &str, line: u32, note: &str) {
        let sqlite = env.default.as_deref().is_some_and(is_sqlite_value);
        let scheme = env.default.as_deref().and_then(driver_scheme);
        self.insert(
            name.to_ascii_lowercase(),
            Bound {
                value: BoundValue::Resolved(Resolved {
                    settings: vec![(env, F::Url)],
                    scheme,
                    parts: false,
                    sqlite_default: sqlite,
                    engines: Vec::new(),
                    foreign: false,
                }),
                file: file.to_string(),
                line,
                note: note.to_string(),
                local: false,
            },
        );
    }

    /// What `expr` reads.
    pub fn resolve(&self, expr: &str) -> Resolved {
        self.resolve_depth(expr, 0)
    }

    fn resolve_depth(&self, expr: &str, depth: u8) -> Resolved {
        let mut out = Resolved {
            sqlite_default: is_sqlite_value(expr),
            scheme: SCHEME_LITERAL
                .captures(expr)
                .and_then(|c| driver_scheme(&format!("{}://", &c[1]))),
            foreign: SCHEME_LITERAL
                .captures_iter(expr)
                .any(|c| FOREIGN_SCHEMES.contains(&&c[1])),
            ..Resolved::default()
        };
        if depth > 3 || expr.len() > 2000 {
            return out;
        }
        if let Some((enc, holes)) = self.lang.template(expr) {
            let roles = url_roles(&enc);
            if roles.scheme.is_some() {
                out.scheme = roles.scheme.clone().filter(|s| s.contains('+'));
            }
            let whole = roles.holes.len() == 1 && roles.holes[0].1 == F::Url;
            for (i, f) in &roles.holes {
                let Some(h) = holes.get(*i) else { continue };
                let inner = self.resolve_depth(h, depth + 1);
                out.sqlite_default |= inner.sqlite_default;
                if whole {
                    out.settings.extend(inner.settings);
                    out.scheme = out.scheme.or(inner.scheme);
                    out.parts = inner.parts;
                } else if let Some((e, _)) = inner.settings.into_iter().next() {
                    out.settings.push((e, *f));
                }
            }
            if !whole && !out.settings.is_empty() {
                out.parts = true;
                if roles.mysql_dsn {
                    out.scheme = Some("mysql".into());
                }
            }
            if !out.settings.is_empty() {
                return out;
            }
        }
        let direct = self.lang.env_reads(expr);
        if !direct.is_empty() {
            for e in direct {
                out.sqlite_default |= e.default.as_deref().is_some_and(is_sqlite_value);
                if out.scheme.is_none() {
                    out.scheme = e.default.as_deref().and_then(driver_scheme);
                }
                out.settings.push((e, F::Url));
            }
            return out;
        }
        // A name bound elsewhere: the last key or identifier that is bound.
        // Names from other files count when they cannot be a local variable
        // of the same name: a quoted config key (`config.get("db.url")`), a
        // member of a settings object (`config.db`), a specific name.
        let members: Vec<(String, String)> = MEMBER_OF
            .captures_iter(expr)
            .filter_map(|c| {
                let obj = c[1].to_ascii_lowercase();
                SETTINGS_OBJECTS
                    .iter()
                    .any(|o| obj == *o || obj.ends_with(o))
                    .then(|| (obj, c[2].to_ascii_lowercase()))
            })
            .collect();
        // (key, read from elsewhere too, through which object only)
        let keys: Vec<(String, bool, Option<String>)> = KEYS_IN_EXPR
            .captures_iter(expr)
            .filter_map(|c| match (c.get(1), c.get(2)) {
                (Some(q), _) => Some((q.as_str().to_ascii_lowercase(), true, None)),
                (None, Some(id)) => {
                    let k = id.as_str().to_ascii_lowercase();
                    if k.contains('_') || k.len() >= 10 {
                        return Some((k, true, None));
                    }
                    let via = members
                        .iter()
                        .find(|(_, m)| *m == k)
                        .map(|(o, _)| o.clone());
                    Some((k, via.is_some(), via))
                }
                _ => None,
            })
            .collect();
        // A quoted key names the value (`app.config['RQ_DEFAULT_HOST']`); the
        // names before it are the objects holding it, never the value: `app`
        // bound to `create_app(os.getenv('FLASK_CONFIG'))` is not a host.
        let quoted = KEYS_IN_EXPR.captures_iter(expr).any(|c| c.get(1).is_some());
        let keys: Vec<(String, bool, Option<String>)> = if quoted {
            keys.into_iter().filter(|(_, global, _)| *global).collect()
        } else {
            keys
        };
        for (k, global, via) in keys.iter().rev() {
            if let Some((mut r, b)) = self.lookup(k, *global, via.as_deref(), depth) {
                for (e, _) in &mut r.settings {
                    if e.at.is_none() {
                        e.at = Some((b.file.clone(), b.line, b.note.clone()));
                    }
                }
                r.sqlite_default |= out.sqlite_default;
                return r;
            }
        }
        // `config.MYSQL_HOST`, `env.DATABASE_URL`: upper-case members of settings objects.
        for c in MEMBER_UPPER.captures_iter(expr) {
            let obj = c[1].to_ascii_lowercase();
            if ENV_OBJECTS
                .iter()
                .any(|o| obj == *o || obj.ends_with(&format!("_{o}")))
                && is_env_name(&c[2])
            {
                out.settings.push((EnvRef::new(&c[2], None), F::Url));
                return out;
            }
        }
        for c in KEYS_IN_EXPR.captures_iter(expr) {
            if let Some(id) = c.get(2).map(|m| m.as_str()) {
                if self.known.contains(id) && id.bytes().all(|b| !b.is_ascii_lowercase()) {
                    out.settings.push((EnvRef::new(id, None), F::Url));
                    return out;
                }
            }
        }
        out
    }
}

/// A module's name as code that imports it names it (`config` of
/// `server/config.js`), lowercase.
fn module_stem(file: &str) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.split('.').next().unwrap_or(name).to_ascii_lowercase()
}

/// A URL scheme worth keeping (it names a driver: `postgresql+asyncpg`, `mysql2`).
pub fn driver_scheme(url: &str) -> Option<String> {
    let (scheme, _) = url
        .trim()
        .trim_matches(['"', '\'', '`'])
        .split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    (scheme.contains('+') || matches!(scheme.as_str(), "mysql2" | "trilogy"))
        .then_some(scheme)
        .filter(|s| autodeploy_core::conn::is_url_scheme(s))
}

/// The engine a scheme names (`postgresql+asyncpg` → PostgreSQL).
pub fn engine_of_scheme(scheme: &str) -> Option<Database> {
    crate::detectors::database_of_url(&format!("{scheme}://x")).or(match scheme {
        "mysql2" | "trilogy" => Some(Database::Mysql),
        _ => None,
    })
}

/// How a site's expression becomes settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A call whose positional argument `pos` (or keyword `kw`) is the whole
    /// connection value, in `format`.
    Arg {
        pos: usize,
        kw: &'static [&'static str],
        format: SettingFormat,
    },
    /// A call, dict or object literal whose keys are settings (classified by
    /// the site's key table); positional arguments fill `positional` roles
    /// (Sequelize's `(database, user, password, {…})`). `nested` keys hold
    /// another level (`connection: {host, …}`).
    Keys {
        positional: &'static [SettingFormat],
        nested: &'static [&'static str],
    },
    /// `NAME = expr` / `"NAME": expr` / `NAME: expr`: `expr` is the value,
    /// in `format` (the pattern ends right before `expr`).
    Assign { format: SettingFormat },
}

/// One row of an ecosystem's wiring table: where code connects, and how.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// The convention this row stands for (`sqlalchemy-create-engine`).
    pub convention: &'static str,
    pub target: WiringTarget,
    /// Regex compiled through [`crate::scan::table_regex`]; for calls and
    /// literals the first bracket of the match opens the arguments.
    pub pattern: &'static str,
    pub shape: Shape,
    /// Engines the site reaches (its driver); empty: any of the target's.
    pub engines: &'static [Database],
    pub keys: KeyTable,
    /// A literal the file must contain for the pattern to be worth running.
    pub anchor: &'static str,
    /// Only files whose path matches this pattern (`""`: any file).
    pub files: &'static str,
    /// For settings of format `engine`: the value that selects each engine.
    pub engine_values: &'static [(Database, &'static str)],
    /// For settings of format `url`: the URL scheme each engine needs, when
    /// the library takes only its own (Tortoise's `postgres`).
    pub url_schemes: &'static [(Database, &'static str)],
}

impl Site {
    /// A row with no file filter and no engine names (the common case).
    pub const fn new(
        convention: &'static str,
        target: WiringTarget,
        anchor: &'static str,
        pattern: &'static str,
        shape: Shape,
        engines: &'static [Database],
        keys: KeyTable,
    ) -> Self {
        Site {
            convention,
            target,
            pattern,
            shape,
            engines,
            keys,
            anchor,
            files: "",
            engine_values: &[],
            url_schemes: &[],
        }
    }
}

/// Keys whose literal value names the engine (`dialect: "postgres"`).
const ENGINE_KEYS: &[&str] = &[
    "dialect", "client", "type", "provider", "driver", "engine", "adapter",
];

/// The engine a driver / dialect / adapter name stands for.
pub fn database_of_name(name: &str) -> Option<Database> {
    let n = name.trim().to_ascii_lowercase();
    let n = n.rsplit('.').next().unwrap_or(&n);
    Some(match n {
        "postgres"
        | "postgresql"
        | "pg"
        | "pgsql"
        | "postgis"
        | "pgx"
        | "cockroachdb"
        | "postgresql_psycopg2" => Database::Postgresql,
        "mysql" | "mysql2" | "mariadb" | "trilogy" => Database::Mysql,
        "mongodb" | "mongo" | "mongoose" => Database::Mongodb,
        "sqlite" | "sqlite3" | "better-sqlite3" | "libsql" => Database::Sqlite,
        "redis" | "ioredis" => Database::Redis,
        _ => return None,
    })
}

/// The text between the bracket at byte `open` and its match, skipping
/// strings (`'`, `"`, `` ` ``); `None` when unbalanced within 8 KiB.
pub fn bracketed(text: &str, open: usize) -> Option<&str> {
    let b = text.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let end = b.len().min(open.saturating_add(8192));
    let mut i = open;
    while i < end {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else {
            match c {
                b'"' | b'\'' | b'`' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return text.get(open + 1..i);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Top-level comma-separated parts of an argument list, trimmed.
pub fn split_top(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let (mut depth, mut quote, mut start) = (0i32, None::<u8>, 0usize);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'"' | b'\'' | b'`' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b',' if depth == 0 => {
                    out.push(s[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    let last = s[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// `key=value`, `key: value`, `"key": value`, `'key' => value` → (key, value).
pub fn key_value(part: &str) -> Option<(&str, &str)> {
    let b = part.as_bytes();
    let mut quote: Option<u8> = None;
    for i in 0..b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'(' | b'[' | b'{' => return None,
            b'=' if b.get(i + 1) == Some(&b'>') => {
                return Some((part[..i].trim(), part[i + 2..].trim()))
            }
            b'=' if b.get(i + 1) != Some(&b'=') && i > 0 && !b"!<>=".contains(&b[i - 1]) => {
                return Some((part[..i].trim(), part[i + 1..].trim()))
            }
            b':' if b.get(i + 1) != Some(&b':') && (i == 0 || b[i - 1] != b':') => {
                return Some((part[..i].trim(), part[i + 1..].trim()))
            }
            _ => {}
        }
    }
    None
}

/// The unquoted text of a string literal.
pub fn unquote(s: &str) -> Option<&str> {
    let s = s.trim();
    let q = s.chars().next()?;
    if !matches!(q, '"' | '\'' | '`') || s.len() < 2 || !s.ends_with(q) {
        return None;
    }
    Some(&s[1..s.len() - 1])
}

/// A short note for evidence: the line, cut to 100 characters.
pub fn note(text: &str, line: u32) -> String {
    let mut t = line_text(text, line);
    if t.chars().count() > 100 {
        t = t.chars().take(100).collect::<String>() + "…";
    }
    t
}

/// Turn resolved settings into a wiring (None when nothing was read).
pub fn wiring_from(
    site: &Site,
    r: &Resolved,
    file: &str,
    line: u32,
    evidence_note: &str,
    engines_extra: &[Database],
) -> Option<Wiring> {
    if r.settings.is_empty() || r.foreign {
        return None;
    }
    let mut engines: Vec<Database> = site.engines.to_vec();
    let scheme_engine = r.scheme.as_deref().and_then(engine_of_scheme);
    for e in engines_extra
        .iter()
        .copied()
        .chain(r.engines.iter().copied())
        .chain(scheme_engine)
    {
        if !engines.contains(&e) {
            engines.push(e);
        }
    }
    if site.target == WiringTarget::Cache {
        engines.retain(|e| *e == Database::Redis);
    } else {
        engines.retain(|e| !matches!(e, Database::Redis | Database::Sqlite));
    }
    let mut settings = Vec::new();
    for (e, f) in &r.settings {
        if !is_env_name(&e.name) || settings.iter().any(|s: &WiringSetting| s.name == e.name) {
            continue;
        }
        let mut f = *f;
        if f == F::Url && r.scheme.as_deref() == Some("mysql") && r.parts {
            f = F::MysqlDsn;
        }
        let mut values = BTreeMap::new();
        if f == F::Engine {
            if site.engine_values.is_empty() {
                continue;
            }
            values.extend(site.engine_values.iter().map(|(d, v)| (*d, v.to_string())));
        }
        if f == F::Url {
            // A site whose library takes only its own schemes (Tortoise:
            // `postgres://`, never `postgresql://`) names them per engine.
            values.extend(site.url_schemes.iter().map(|(d, v)| (*d, v.to_string())));
            if let (Some(s), Some(db)) = (r.scheme.as_deref(), scheme_engine) {
                if s.contains('+') || matches!(s, "mysql2" | "trilogy") {
                    values.insert(db, s.to_string());
                }
            }
        }
        settings.push(WiringSetting {
            name: e.name.clone(),
            format: f,
            values,
            value: None,
            evidence: match &e.at {
                Some((f, l, n)) if f != file || *l != line => ev(f, Some(*l), n.clone()),
                _ => ev(file, Some(line), evidence_note.to_string()),
            },
        });
    }
    if settings.is_empty() {
        return None;
    }
    Some(Wiring {
        target: site.target,
        convention: site.convention.to_string(),
        engines,
        settings,
        sqlite_fallback: (r.sqlite_default && site.target == WiringTarget::Database)
            .then(|| ev(file, Some(line), "falls back to SQLite when unset")),
    })
}

/// One pass of `sites` over one file's (comment-masked) text.
pub fn scan_sites(
    text: &str,
    file: &str,
    sites: &[Site],
    resolver: &Resolver,
    out: &mut Vec<Wiring>,
) {
    resolver.in_file(file);
    for site in sites {
        if !text.contains(site.anchor)
            || (!site.files.is_empty() && !crate::scan::table_regex(site.files).is_match(file))
        {
            continue;
        }
        let re = crate::scan::table_regex(site.pattern);
        for m in re.find_iter(text) {
            let line = line_of(text, m.start());
            let n = note(text, line);
            match site.shape {
                Shape::Assign { format } => {
                    let rest = &text[m.end()..];
                    let expr = assigned_expr(rest);
                    let mut r = resolver.resolve(expr);
                    for s in &mut r.settings {
                        if !r.parts {
                            s.1 = format;
                        }
                    }
                    out.extend(wiring_from(site, &r, file, line, &n, &[]));
                }
                Shape::Arg { pos, kw, format } => {
                    let open = first_bracket(text, m.start(), m.end(), &['(']);
                    let Some(args) = bracketed(text, open) else {
                        continue;
                    };
                    let parts = split_top(args);
                    let by_kw = parts.iter().find_map(|p| {
                        let (k, v) = key_value(p)?;
                        kw.contains(&k.trim_matches(['"', '\''])).then_some(v)
                    });
                    let positional: Vec<&str> = parts
                        .iter()
                        .copied()
                        .filter(|p| {
                            key_value(p).is_none_or(|(k, _)| k.contains(['.', '(', '"', '\'']))
                        })
                        .collect();
                    let Some(expr) = by_kw.or_else(|| positional.get(pos).copied()) else {
                        continue;
                    };
                    let mut r = resolver.resolve(expr);
                    if !r.parts {
                        for s in &mut r.settings {
                            s.1 = format;
                        }
                    }
                    out.extend(wiring_from(site, &r, file, line, &n, &[]));
                }
                Shape::Keys { positional, nested } => {
                    let open = first_bracket(text, m.start(), m.end(), &['(', '{']);
                    let Some(args) = bracketed(text, open) else {
                        continue;
                    };
                    let mut r = Resolved::default();
                    let base = Base { text, file };
                    keys_into(
                        resolver, &base, site.keys, positional, nested, args, 0, &mut r,
                    );
                    out.extend(wiring_from(site, &r, file, line, &n, &[]));
                }
            }
        }
    }
}

/// The file a site is in, to locate the parts of its argument list.
struct Base<'t> {
    text: &'t str,
    file: &'t str,
}

impl Base<'_> {
    /// (file, line, text) of `part` when it is a slice of the base text.
    fn at(&self, part: &str) -> Option<(String, u32, String)> {
        let start = (part.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        (start <= self.text.len()).then(|| {
            let line = line_of(self.text, start);
            (self.file.to_string(), line, note(self.text, line))
        })
    }
}

/// The first of `brackets` in a match (the pattern may go on past it to
/// name a driver: `sql.Open("mysql"`); the match's last byte when none.
fn first_bracket(text: &str, start: usize, end: usize, brackets: &[char]) -> usize {
    text[start..end]
        .find(brackets)
        .map_or(end.saturating_sub(1), |i| start + i)
}

/// Settings from the keys (and positional arguments) of one argument list.
#[allow(clippy::too_many_arguments)]
fn keys_into(
    resolver: &Resolver,
    base: &Base,
    keys: KeyTable,
    positional: &[SettingFormat],
    nested: &[&str],
    args: &str,
    depth: u8,
    r: &mut Resolved,
) {
    let mut pos = 0usize;
    let parts = split_top(args);
    let positional_count = parts
        .iter()
        .filter(|p| key_value(p).is_none() && !p.starts_with('{'))
        .count();
    for part in parts {
        match key_value(part) {
            Some((k, v)) if !k.contains('(') => {
                let key = k.trim_matches(['"', '\'', '`']);
                if ENGINE_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                    if let Some(db) = unquote(v).and_then(database_of_name) {
                        if !r.engines.contains(&db) {
                            r.engines.push(db);
                        }
                    }
                }
                if nested.contains(&key) && depth < 2 {
                    let inner = v.trim();
                    if inner.starts_with('{') || inner.starts_with('[') || inner.contains("dict(") {
                        let open = v.find(['{', '[', '(']).unwrap_or(0);
                        if let Some(body) = bracketed(v, open) {
                            keys_into(resolver, base, keys, &[], nested, body, depth + 1, r);
                            continue;
                        }
                    }
                    // A name bound to a dict: its keys (an ENGINE read from
                    // `DB_ENGINE` is the backend's name, not the URL).
                    if let Some((body, file)) = resolver.mapping_named(inner) {
                        resolver.within(&file, || {
                            keys_into(resolver, base, keys, &[], nested, &body, depth + 1, r)
                        });
                        continue;
                    }
                }
                let Some(f) = key_format(keys, key) else {
                    continue;
                };
                let got = resolver.resolve(v);
                r.sqlite_default |= got.sqlite_default;
                r.foreign |= got.foreign;
                if r.scheme.is_none() {
                    r.scheme = got.scheme.clone();
                }
                if got.parts {
                    r.parts = true;
                    r.settings.extend(got.settings);
                } else if let Some((mut e, _)) = got.settings.into_iter().next() {
                    if e.at.is_none() {
                        e.at = base.at(part);
                    }
                    r.settings.push((e, f));
                }
            }
            // A spread / bare object argument (`{…}` as the 4th Sequelize argument).
            _ if part.starts_with('{') && depth < 2 => {
                if let Some(body) = bracketed(part, 0) {
                    keys_into(resolver, base, keys, &[], nested, body, depth + 1, r);
                }
            }
            _ => {
                // A lone argument naming a dict (`conf.update(app.config.get(
                // "CELERY_CONFIG"))`): its keys, not its first read.
                let mapping = (positional_count == 1 && depth == 0)
                    .then(|| resolver.mapping_of(part))
                    .flatten();
                if let Some((body, file)) = mapping {
                    resolver.within(&file, || {
                        keys_into(resolver, base, keys, &[], nested, &body, depth + 1, r)
                    });
                    pos += 1;
                    continue;
                }
                // One positional argument alone is the connection URL
                // (`new Sequelize(process.env.DATABASE_URL)`).
                let f = if positional_count == 1 && depth == 0 {
                    Some(&F::Url)
                } else {
                    positional.get(pos)
                };
                if let Some(f) = f.filter(|f| **f != F::Literal) {
                    let got = resolver.resolve(part);
                    r.sqlite_default |= got.sqlite_default;
                    if got.parts {
                        r.parts = true;
                        r.settings.extend(got.settings);
                    } else if let Some((mut e, _)) = got.settings.into_iter().next() {
                        if e.at.is_none() {
                            e.at = base.at(part);
                        }
                        r.settings.push((e, *f));
                    }
                }
                pos += 1;
            }
        }
    }
    if r.settings.iter().any(|(_, f)| *f != F::Url) && r.settings.len() > 1 {
        r.parts = true;
    }
}

/// The expression right after an assignment's `=` / `:`: up to the end of
/// the line, or of the bracketed expression that starts there.
pub fn assigned_expr(rest: &str) -> &str {
    let rest = rest.trim_start_matches([' ', '\t']);
    let mut end = 0usize;
    let b = rest.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    while end < b.len() && end < 4096 {
        let c = b[end];
        if let Some(q) = quote {
            if c == b'\\' {
                end += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else {
            match c {
                b'"' | b'\'' | b'`' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth == 0 => break,
                b')' | b']' | b'}' => depth -= 1,
                b'\n'
                    if depth == 0 && !rest[..end].trim_end_matches([' ', '\t']).ends_with('\\') =>
                {
                    break
                }
                b',' | b';' if depth == 0 => break,
                _ => {}
            }
        }
        end += 1;
    }
    rest[..end.min(rest.len())].trim()
}

/// A fixed-name convention: `names` with their formats, read by the
/// framework whatever the code says (Rails' `DATABASE_URL`, Spring's
/// `SPRING_DATASOURCE_*`).
pub fn fixed(
    convention: &str,
    target: WiringTarget,
    engines: &[Database],
    names: &[(&str, SettingFormat)],
    evidence: &Evidence,
) -> Wiring {
    Wiring {
        target,
        convention: convention.to_string(),
        engines: engines.to_vec(),
        settings: names
            .iter()
            .map(|(n, f)| WiringSetting {
                name: n.to_string(),
                format: *f,
                values: BTreeMap::new(),
                value: None,
                evidence: evidence.clone(),
            })
            .collect(),
        sqlite_fallback: None,
    }
}

/// Conventions read from a start command: the flag or the variable a CLI
/// reads (`rq worker --url $REDIS_URL`; bare `rq worker` reads `RQ_REDIS_URL`).
struct CommandRow {
    convention: &'static str,
    target: WiringTarget,
    /// Matches the command (the process it starts).
    command: &'static str,
    /// Flags whose value is the connection URL (`--url $X` → `X`).
    flags: &'static [&'static str],
    /// What the tool reads when no flag is given.
    default_env: Option<(&'static str, SettingFormat)>,
}

const COMMAND_ROWS: &[CommandRow] = &[
    CommandRow {
        convention: "rq-worker",
        target: WiringTarget::Cache,
        command: r"\brq\s+worker\b",
        flags: &["--url", "-u"],
        default_env: Some(("RQ_REDIS_URL", F::Url)),
    },
    CommandRow {
        convention: "celery-cli-broker",
        target: WiringTarget::Cache,
        command: r"\bcelery\b.*\b(?:worker|beat)\b",
        flags: &["--broker", "-b"],
        default_env: None,
    },
    CommandRow {
        convention: "sidekiq",
        target: WiringTarget::Cache,
        command: r"\bsidekiq\b",
        flags: &[],
        default_env: Some(("REDIS_URL", F::Url)),
    },
];

static FLAG_VALUE: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::regex(r#"^["']?\$\{?([A-Za-z_]\w*)\}?["']?$"#));

/// Wiring a start command implies (`evidence` is where the command is written).
pub fn command_wiring(cmd: &str, evidence: &Evidence) -> Vec<Wiring> {
    let mut out = Vec::new();
    for row in COMMAND_ROWS {
        if !crate::scan::table_regex(row.command).is_match(cmd) {
            continue;
        }
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let mut flagged: Option<&str> = None;
        let mut literal = false;
        for (i, w) in words.iter().enumerate() {
            for f in row.flags {
                let v = if *w == *f {
                    words.get(i + 1).copied()
                } else {
                    w.strip_prefix(&format!("{f}="))
                };
                if let Some(v) = v {
                    match FLAG_VALUE.captures(v) {
                        Some(c) => flagged = Some(c.get(1).map_or("", |m| m.as_str())),
                        None => literal = true,
                    }
                }
            }
        }
        let name = match (flagged, literal, row.default_env) {
            (Some(n), _, _) => (n.to_string(), F::Url),
            (None, false, Some((n, f))) => (n.to_string(), f),
            _ => continue,
        };
        out.push(fixed(
            row.convention,
            row.target,
            &[Database::Redis],
            &[(name.0.as_str(), name.1)],
            evidence,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_note_is_the_trimmed_line_cut_at_100_characters() {
        fn old(text: &str, at: usize) -> String {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            let line = text[start..end].trim();
            let mut t: String = line.chars().take(100).collect();
            if line.chars().count() > 100 {
                t.push('…');
            }
            t
        }
        let long = "x".repeat(100);
        let lines = [
            String::new(),
            "  a = 1  ".to_string(),
            format!("  {long}  "),
            format!("{long}y"),
            format!("\t{long}   \u{3000}"),
            format!("{long} z"),
            format!("é{}  ", "ü".repeat(99)),
            format!("é{}ß", "ü".repeat(99)),
            format!("{}\u{2003}", "a".repeat(99)),
            format!("{} \u{2003}b", "a".repeat(99)),
        ];
        for line in &lines {
            let text = format!("before\n{line}\nafter");
            for at in (7..=7 + line.len()).filter(|&i| text.is_char_boundary(i)) {
                assert_eq!(line_note(&text, at), old(&text, at), "{line:?} at {at}");
            }
        }
    }

    fn enc(t: &str) -> String {
        // `{0}`, `{1}`… stand for holes in these tests.
        let mut s = t.to_string();
        for i in 0..6 {
            s = s.replace(&format!("{{{i}}}"), &hole(i));
        }
        s
    }

    #[test]
    fn url_templates() {
        let r = url_roles(&enc("postgresql+psycopg://{0}:{1}@{2}:{3}/{4}"));
        assert_eq!(r.scheme.as_deref(), Some("postgresql+psycopg"));
        assert_eq!(
            r.holes,
            vec![
                (0, F::Username),
                (1, F::Password),
                (2, F::Host),
                (3, F::Port),
                (4, F::Name)
            ]
        );
        let r = url_roles(&enc("{0}:{1}@tcp({2}:{3})/{4}?parseTime=true"));
        assert!(r.mysql_dsn);
        assert_eq!(r.holes.len(), 5);
        let r = url_roles(&enc(
            "host={0} user={1} password={2} dbname={3} port={4} sslmode=disable",
        ));
        assert_eq!(
            r.holes,
            vec![
                (0, F::Host),
                (1, F::Username),
                (2, F::Password),
                (3, F::Name),
                (4, F::Port)
            ]
        );
        let r = url_roles(&enc("jdbc:postgresql://{0}:{1}/{2}"));
        assert_eq!(r.holes, vec![(0, F::Host), (1, F::Port), (2, F::Name)]);
        assert_eq!(url_roles(&enc("{0}")).holes, vec![(0, F::Url)]);
        assert_eq!(
            url_roles(&enc("{0}:{1}")).holes,
            vec![(0, F::Host), (1, F::Port)]
        );
        assert_eq!(
            url_roles(&enc("redis://{0}:6379/0")).holes,
            vec![(0, F::Host)]
        );
        assert!(url_roles("plain text").holes.is_empty());
    }

    #[test]
    fn splitting_and_keys() {
        assert_eq!(
            split_top("a, f(b, c), {d: 1, e: [2, 3]}, 'x,y'"),
            vec!["a", "f(b, c)", "{d: 1, e: [2, 3]}", "'x,y'"]
        );
        assert_eq!(
            key_value("host=os.getenv('H')"),
            Some(("host", "os.getenv('H')"))
        );
        assert_eq!(key_value("'HOST': x"), Some(("'HOST'", "x")));
        assert_eq!(
            key_value("'host' => env('DB_HOST')"),
            Some(("'host'", "env('DB_HOST')"))
        );
        assert_eq!(key_value("a == b"), None);
        assert_eq!(key_value("f(x=1)"), None);
        assert_eq!(key_format(DB_KEYS, "'USER'"), Some(F::Username));
        assert_eq!(key_format(DB_KEYS, "database-name"), Some(F::Name));
        assert_eq!(key_format(CACHE_KEYS, "db"), None);
        assert_eq!(
            assigned_expr(" os.getenv('X', 'y')  # c\nnext"),
            "os.getenv('X', 'y')  # c"
        );
        assert_eq!(assigned_expr(" f(a,\n b), other"), "f(a,\n b)");
    }

    #[test]
    fn c_comments_are_masked() {
        let t = "a = 1 // sql.Open(\"mysql\", dsn)\n/* db.go:\n gorm.Open(postgres.Open(x)) */ b = \"// kept\"\n";
        let m = mask_c_comments(t);
        assert_eq!(m.len(), t.len());
        assert_eq!(m.lines().count(), t.lines().count());
        assert!(!m.contains("sql.Open") && !m.contains("gorm") && m.contains("// kept"));
    }

    #[test]
    fn commands() {
        let e = ev("Procfile", Some(2), "worker: rq worker");
        let w = command_wiring("rq worker --url $REDIS_URL high default", &e);
        assert_eq!(w[0].settings[0].name, "REDIS_URL");
        let w = command_wiring("rq worker", &e);
        assert_eq!(w[0].settings[0].name, "RQ_REDIS_URL");
        assert!(command_wiring("rq worker --url redis://redis:6379/0", &e).is_empty());
        assert!(command_wiring("gunicorn app:app", &e).is_empty());
        assert_eq!(
            driver_scheme("postgresql+asyncpg://u@h/d").as_deref(),
            Some("postgresql+asyncpg")
        );
        assert_eq!(driver_scheme("postgres://u@h/d"), None);
        assert_eq!(engine_of_scheme("mysql+pymysql"), Some(Database::Mysql));
    }
}
