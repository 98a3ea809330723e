//! Just enough Rust expression evaluation to know what address a server binds:
//! string/integer literals, `[0, 0, 0, 0]` arrays, `Ipv4Addr::LOCALHOST`,
//! `(host, port)` tuples, `SocketAddr::from/new`, `format!`, `.parse()`
//! chains, `env::var("PORT").unwrap_or_else(|_| "8080".into())` defaults
//! and `let` bindings in the same file.
//!
//! Deliberately not a Rust parser: one file's text, `let`s looked up by name,
//! "unknown" for anything else (struct fields, function results, config crates).

/// A literal piece of a value, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub line: u32,
    /// The literal as written (`"127.0.0.1"`, `[127, 0, 0, 1]`).
    pub raw: String,
    /// What to write instead to mean "all interfaces", when it is not
    /// `raw` with the host replaced by `0.0.0.0`.
    pub zero: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Known(Piece),
    Unknown,
}

/// A bind address made of evaluated parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub host: Option<String>,
    pub host_piece: Option<Piece>,
    pub port: Option<u16>,
    pub port_line: Option<u32>,
    /// The literal the port is written in (`8080`, `"0.0.0.0:8080"`).
    pub port_piece: Option<Piece>,
}

impl Addr {
    pub fn is_loopback(&self) -> bool {
        matches!(
            self.host.as_deref(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        )
    }

    /// The source fix that makes a port written in the code read `PORT`
    /// first (the port stays the default): an integer literal becomes
    /// `std::env::var("PORT")…unwrap_or(8080)`, a `"host:8080"` string a
    /// `format!` of the host and `PORT` — with a loopback host made
    /// `0.0.0.0` in the same edit. `None` for any other shape.
    pub fn port_fix(&self) -> Option<(u32, String, String)> {
        let p = self.port_piece.as_ref()?;
        let port = self.port?;
        let raw = p.raw.as_str();
        if raw.bytes().all(|b| b.is_ascii_digit()) && raw == port.to_string() {
            return Some((
                p.line,
                raw.to_string(),
                format!(
                    "std::env::var(\"PORT\").ok().and_then(|p| p.parse().ok()).unwrap_or({port})"
                ),
            ));
        }
        let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
        let host = inner.strip_suffix(&format!(":{port}"))?;
        let plain = |c: char| c.is_ascii_alphanumeric() || ".:[]-".contains(c);
        if host.is_empty() || !host.chars().all(plain) {
            return None;
        }
        let host = if self.is_loopback() { "0.0.0.0" } else { host };
        Some((
            p.line,
            raw.to_string(),
            format!(
                "format!(\"{host}:{{}}\", std::env::var(\"PORT\").unwrap_or_else(|_| \"{port}\".into()))"
            ),
        ))
    }

    /// The source fix that makes the bind address all interfaces.
    pub fn zero_fix(&self) -> Option<(u32, String, String)> {
        let p = self.host_piece.as_ref()?;
        let host = self.host.as_deref()?;
        let replace = match &p.zero {
            Some(z) => z.clone(),
            None if p.raw.contains(host) => p.raw.replacen(host, "0.0.0.0", 1),
            None => return None,
        };
        Some((p.line, p.raw.clone(), replace))
    }
}

const MAX_DEPTH: u8 = 6;

/// Method calls that do not change the value for our purpose.
const TRANSPARENT: &[&str] = &[
    "unwrap",
    "expect",
    "parse",
    "to_string",
    "to_owned",
    "into",
    "as_str",
    "clone",
    "as_ref",
    "ok",
    "as_deref",
    "await",
    "unwrap_or_default",
    "to_socket_addrs",
];

pub struct RsFile<'a> {
    pub text: &'a str,
    starts: Vec<usize>,
}

impl<'a> RsFile<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        RsFile { text, starts }
    }

    fn line(&self, n: u32) -> &'a str {
        let Some(&start) = self.starts.get(n.wrapping_sub(1) as usize) else {
            return "";
        };
        let end = self
            .starts
            .get(n as usize)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        self.text.get(start..end.max(start)).unwrap_or("")
    }

    fn offset(&self, n: u32) -> usize {
        self.starts
            .get(n.wrapping_sub(1) as usize)
            .copied()
            .unwrap_or(self.text.len())
    }

    pub fn line_of(&self, at: usize) -> u32 {
        self.starts.partition_point(|&s| s <= at) as u32
    }

    pub fn eval(&self, expr: &str, line: u32) -> Vec<Part> {
        self.eval_at(expr, line, 0)
    }

    /// Line of `s` when it is a slice of this file's text, else `fallback`.
    fn line_in(&self, s: &str, fallback: u32) -> u32 {
        let base = self.text.as_ptr() as usize;
        let at = s.as_ptr() as usize;
        if at >= base && at + s.len() <= base + self.text.len() {
            self.starts.partition_point(|&st| st <= at - base) as u32
        } else {
            fallback
        }
    }

    fn eval_at(&self, expr: &str, line: u32, depth: u8) -> Vec<Part> {
        let mut e = expr.trim();
        if depth > MAX_DEPTH || e.is_empty() {
            return vec![Part::Unknown];
        }
        let line = self.line_in(e, line);
        for p in ["&mut ", "&", "*", "move "] {
            if let Some(r) = e.strip_prefix(p) {
                return self.eval_at(r, line, depth + 1);
            }
        }
        // Closures: `|_| "8080".into()`, `|| 3000`.
        if let Some(params) = e.strip_prefix('|') {
            if let Some(end) = params.find('|') {
                return self.eval_at(&params[end + 1..], line, depth + 1);
            }
        }
        // `{ expr }` blocks with a single expression.
        if e.starts_with('{') && matching(e, 0) == Some(e.len() - 1) {
            return self.eval_at(&e[1..e.len() - 1], line, depth + 1);
        }
        // A default given to an env lookup (or any fallible chain).
        if let Some(arg) = last_default(e) {
            return self.eval_at(arg, line, depth + 1);
        }
        // Strip `.parse::<u16>()`, `.unwrap()`, `?`, `.await` …
        loop {
            let before = e;
            e = e.trim_end();
            if let Some(r) = e.strip_suffix('?') {
                e = r;
            }
            if let Some((recv, _)) = trailing_call(e, TRANSPARENT) {
                e = recv;
            } else if let Some(r) = e.strip_suffix(".await") {
                e = r;
            }
            if e == before {
                break;
            }
        }
        let e = e.trim();
        if e.starts_with('(') && matching(e, 0) == Some(e.len() - 1) {
            let inner = split_top(&e[1..e.len() - 1], b',');
            return match inner.as_slice() {
                [one] => self.eval_at(one, line, depth + 1),
                [host, port] => self.host_port(host, port, line, depth),
                _ => vec![Part::Unknown],
            };
        }
        if let Some(text) = string_literal(e) {
            return vec![Part::Known(Piece {
                text,
                line,
                raw: e.to_string(),
                zero: None,
            })];
        }
        if let Some(n) = int_literal(e) {
            return vec![Part::Known(Piece {
                text: n.to_string(),
                line,
                raw: e.to_string(),
                zero: None,
            })];
        }
        if e.starts_with('[') && matching(e, 0) == Some(e.len() - 1) {
            return vec![ip_array(e, line)];
        }
        if let Some(p) = ip_const(e, line) {
            return vec![p];
        }
        if let Some((name, args)) = parse_call(e) {
            return self.eval_call(e, name, &args, line, depth);
        }
        if is_ident(e) {
            return self.lookup(e, line, depth);
        }
        vec![Part::Unknown]
    }

    fn host_port(&self, host: &str, port: &str, line: u32, depth: u8) -> Vec<Part> {
        let mut v = self.eval_at(host, line, depth + 1);
        v.push(Part::Known(Piece {
            text: ":".into(),
            line,
            raw: String::new(),
            zero: None,
        }));
        v.extend(self.eval_at(port, line, depth + 1));
        v
    }

    fn eval_call(&self, whole: &str, name: &str, args: &[&str], line: u32, depth: u8) -> Vec<Part> {
        let last = name.rsplit("::").next().unwrap_or(name);
        let owner = name
            .rsplit_once("::")
            .map(|(o, _)| o.rsplit("::").next().unwrap_or(o))
            .unwrap_or("");
        let arg = |i: usize| args.get(i).copied().unwrap_or("");
        match (owner, last) {
            (_, "format!") => self.format(args, line, depth),
            ("SocketAddr" | "SocketAddrV4" | "SocketAddrV6", "new") if args.len() >= 2 => {
                self.host_port(arg(0), arg(1), line, depth)
            }
            ("Ipv4Addr", "new") if args.len() == 4 => {
                let octets: Vec<Option<u8>> = args.iter().map(|a| a.trim().parse().ok()).collect();
                if octets.iter().all(Option::is_some) {
                    let text = octets
                        .iter()
                        .map(|o| o.unwrap_or(0).to_string())
                        .collect::<Vec<_>>()
                        .join(".");
                    let zero = whole.replace(&args.join(","), "0, 0, 0, 0");
                    return vec![Part::Known(Piece {
                        text,
                        line,
                        raw: whole.to_string(),
                        zero: Some(if zero == whole {
                            format!("{name}(0, 0, 0, 0)")
                        } else {
                            zero
                        }),
                    })];
                }
                vec![Part::Unknown]
            }
            ("SocketAddr" | "IpAddr" | "String" | "From", "from")
            | ("IpAddr", "V4" | "V6")
            | ("", "Some" | "String::from") => self.eval_at(arg(0), line, depth + 1),
            ("env" | "dotenvy" | "dotenv", "var" | "var_os") => vec![Part::Unknown],
            _ => vec![Part::Unknown],
        }
    }

    fn format(&self, args: &[&str], line: u32, depth: u8) -> Vec<Part> {
        let Some(fmt_raw) = args.first() else {
            return vec![Part::Unknown];
        };
        let Some(fmt) = string_literal(fmt_raw.trim()) else {
            return vec![Part::Unknown];
        };
        let piece = |text: String| {
            Part::Known(Piece {
                text,
                line,
                raw: fmt_raw.trim().to_string(),
                zero: None,
            })
        };
        let named = |n: &str| -> Option<&str> {
            args[1..].iter().find_map(|a| {
                let (k, v) = a.split_once('=')?;
                (k.trim() == n && !v.starts_with('=')).then_some(v.trim())
            })
        };
        let mut out = Vec::new();
        let mut lit = String::new();
        let mut next_pos = 1;
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let mut spec = String::new();
                    for x in chars.by_ref() {
                        if x == '}' {
                            break;
                        }
                        spec.push(x);
                    }
                    out.push(piece(std::mem::take(&mut lit)));
                    let key = spec.split(':').next().unwrap_or("").trim();
                    let value = if key.is_empty() {
                        let a = args.get(next_pos).copied();
                        next_pos += 1;
                        a
                    } else if let Ok(i) = key.parse::<usize>() {
                        args.get(i + 1).copied()
                    } else {
                        named(key).or(Some(key))
                    };
                    match value {
                        Some(v) => out.extend(self.eval_at(v, line, depth + 1)),
                        None => out.push(Part::Unknown),
                    }
                }
                other => lit.push(other),
            }
        }
        out.push(piece(lit));
        out
    }

    /// The value of a `let`/`const`/`static` binding visible on `line`.
    fn lookup(&self, ident: &str, line: u32, depth: u8) -> Vec<Part> {
        let n = self.starts.len() as u32;
        let before = (1..line.min(n + 1)).rev();
        let after = (line + 1)..=n;
        for l in before.chain(after) {
            let text = self.line(l);
            if !text.contains(ident) {
                continue;
            }
            let Some(rhs_at) = binding_rhs(text, ident) else {
                continue;
            };
            let abs = self.offset(l) + rhs_at;
            let expr = take_expr(&self.text[abs..]);
            return self.eval_at(expr, l, depth + 1);
        }
        vec![Part::Unknown]
    }
}

/// Offset (in `line`) of the right-hand side of `let [mut] ident[: T] =`,
/// `const ident: T =` or `static ident: T =`.
fn binding_rhs(line: &str, ident: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    let lead = line.len() - trimmed.len();
    let mut s = trimmed;
    let mut consumed = lead;
    let mut strip = |s: &mut &str, p: &str| {
        if let Some(r) = s.strip_prefix(p) {
            consumed += p.len();
            *s = r;
            true
        } else {
            false
        }
    };
    strip(&mut s, "pub ");
    if !(strip(&mut s, "let ") || strip(&mut s, "const ") || strip(&mut s, "static ")) {
        return None;
    }
    strip(&mut s, "mut ");
    if !strip(&mut s, ident) {
        return None;
    }
    if s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let eq = s.find('=')?;
    if s[eq + 1..].starts_with('=') || s[eq + 1..].starts_with('>') {
        return None;
    }
    let between = s[..eq].trim();
    if !(between.is_empty() || between.starts_with(':')) {
        return None;
    }
    Some(consumed + eq + 1)
}

/// `….unwrap_or(x)` / `….unwrap_or_else(|_| x)` / `….map_or(x, …)` at the top
/// level of a method chain → the default expression.
fn last_default(e: &str) -> Option<&str> {
    let b = e.as_bytes();
    let mut depth = 0i32;
    let mut found: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = skip_string(b, i),
            b'\'' => i = skip_char(b, i),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'.' if depth == 0 => {
                let rest = &e[i + 1..];
                for m in ["unwrap_or_else(", "unwrap_or(", "map_or("] {
                    if rest.starts_with(m) {
                        found = Some(i + m.len());
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    let open = found?;
    let close = matching(e, open)?;
    split_top(&e[open + 1..close], b',').into_iter().next()
}

/// `recv.method(args)` at the end of `e` where `method` is one of `names` → (recv, args).
fn trailing_call<'e>(e: &'e str, names: &[&str]) -> Option<(&'e str, &'e str)> {
    let (recv, name, args) = if let Some(open) = e.ends_with(')').then(|| open_of_last(e)).flatten()
    {
        let head = &e[..open];
        let dot = head.rfind('.')?;
        let mut name = &head[dot + 1..];
        if let Some(t) = name.find("::<") {
            name = &name[..t];
        }
        (&e[..dot], name, &e[open + 1..e.len() - 1])
    } else {
        return None;
    };
    names.contains(&name).then_some((recv, args))
}

/// Index of the `(` matching the final `)`.
fn open_of_last(e: &str) -> Option<usize> {
    let b = e.as_bytes();
    let mut depth = 0i32;
    let mut i = b.len();
    while i > 0 {
        i -= 1;
        match b[i] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' => {
                depth -= 1;
                if depth == 0 {
                    return (b[i] == b'(').then_some(i);
                }
            }
            b'"' => {
                // Walk back over a string literal.
                let mut j = i;
                while j > 0 {
                    j -= 1;
                    if b[j] == b'"' && (j == 0 || b[j - 1] != b'\\') {
                        break;
                    }
                }
                i = j;
            }
            _ => {}
        }
    }
    None
}

fn ip_array(e: &str, line: u32) -> Part {
    let items: Vec<Option<u16>> = split_top(&e[1..e.len() - 1], b',')
        .iter()
        .map(|x| x.trim().parse().ok())
        .collect();
    if items.iter().any(Option::is_none) {
        return Part::Unknown;
    }
    let v: Vec<u16> = items.into_iter().map(|x| x.unwrap_or(0)).collect();
    let (text, zero) = match v.len() {
        4 => (
            v.iter().map(u16::to_string).collect::<Vec<_>>().join("."),
            "[0, 0, 0, 0]".to_string(),
        ),
        8 if v[..7].iter().all(|x| *x == 0) && v[7] == 1 => {
            ("[::1]".into(), "[0, 0, 0, 0, 0, 0, 0, 0]".into())
        }
        8 if v.iter().all(|x| *x == 0) => ("[::]".into(), e.to_string()),
        _ => return Part::Unknown,
    };
    Part::Known(Piece {
        text,
        line,
        raw: e.to_string(),
        zero: Some(zero),
    })
}

fn ip_const(e: &str, line: u32) -> Option<Part> {
    let (owner, c) = e.rsplit_once("::")?;
    let owner_last = owner.rsplit("::").next().unwrap_or(owner);
    let (text, zero) = match (owner_last, c) {
        ("Ipv4Addr", "LOCALHOST") => ("127.0.0.1", format!("{owner}::UNSPECIFIED")),
        ("Ipv4Addr", "UNSPECIFIED") => ("0.0.0.0", e.to_string()),
        ("Ipv6Addr", "LOCALHOST") => ("[::1]", format!("{owner}::UNSPECIFIED")),
        ("Ipv6Addr", "UNSPECIFIED") => ("[::]", e.to_string()),
        _ => return None,
    };
    Some(Part::Known(Piece {
        text: text.to_string(),
        line,
        raw: e.to_string(),
        zero: Some(zero),
    }))
}

/// The bind address the parts spell, if they look like one.
pub fn address(parts: &[Part]) -> Option<Addr> {
    const HOLE: char = '\u{1}';
    let mut joined = String::new();
    let mut spans: Vec<(usize, usize, &Piece)> = Vec::new();
    for p in parts {
        match p {
            Part::Known(piece) => {
                let start = joined.len();
                joined.push_str(&piece.text);
                spans.push((start, joined.len(), piece));
            }
            Part::Unknown => joined.push(HOLE),
        }
    }
    let piece_at = |from: usize, to: usize| {
        spans
            .iter()
            .find(|(s, e, _)| *s <= from && to <= *e && s < e)
            .map(|(_, _, p)| (*p).clone())
    };
    let (host, port_text, port_start) = match joined.rfind(':') {
        Some(c) => (Some(&joined[..c]), &joined[c + 1..], c + 1),
        None => return None,
    };
    let port = (!port_text.is_empty() && port_text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| port_text.parse::<u16>().ok())
        .flatten()
        .filter(|p| *p > 0);
    let port_piece = port.and_then(|_| piece_at(port_start, joined.len()));
    let port_line = port_piece.as_ref().map(|p| p.line);
    let host = host
        .filter(|h| !h.contains(HOLE) && !h.is_empty())
        .map(str::to_string);
    let host_piece = host.as_deref().and_then(|h| piece_at(0, h.len()));
    Some(Addr {
        host,
        host_piece,
        port,
        port_line,
        port_piece,
    })
}

// ---- lexing helpers (strings, char literals vs lifetimes, brackets) ----

fn skip_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == b'\\' {
            j += 2;
            continue;
        }
        if b[j] == b'"' {
            return j;
        }
        j += 1;
    }
    b.len()
}

/// Skip a char literal (`'a'`, `'\n'`); a lifetime (`'a`) is left alone.
fn skip_char(b: &[u8], i: usize) -> usize {
    if b.get(i + 1) == Some(&b'\\') {
        let mut j = i + 2;
        while j < b.len() && j < i + 12 {
            if b[j] == b'\'' {
                return j;
            }
            j += 1;
        }
        return i;
    }
    // One (possibly multi-byte) character then a quote.
    let mut j = i + 1;
    if j < b.len() {
        j += 1;
        while j < b.len() && (b[j] & 0xC0) == 0x80 {
            j += 1;
        }
        if b.get(j) == Some(&b'\'') {
            return j;
        }
    }
    i
}

fn skip_comment(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while j < b.len() && b[j] != b'\n' {
        j += 1;
    }
    j
}

/// The expression at the start of `s`, up to a top-level `;` or `,` or an
/// unbalanced closing bracket (newlines do not end Rust expressions).
pub fn take_expr(s: &str) -> &str {
    let b = s.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = skip_string(b, i),
            b'\'' => i = skip_char(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => i = skip_comment(b, i),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            b';' | b',' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    s[..i.min(s.len())].trim()
}

/// The rest of a statement from `s`: up to a top-level `;` or an unbalanced
/// closing bracket (commas included: `a.b(c, d)` chains stay whole).
pub fn take_statement(s: &str) -> &str {
    let b = s.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < b.len() && i < 2000 {
        match b[i] {
            b'"' => i = skip_string(b, i),
            b'\'' => i = skip_char(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => i = skip_comment(b, i),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            b';' if depth == 0 => break,
            b',' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    &s[..i.min(s.len())]
}

pub fn split_top(s: &str, sep: u8) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = skip_string(b, i),
            b'\'' => i = skip_char(b, i),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'|' if depth == 0 && sep == b',' => {
                // A closure's parameter list may hold commas: `|a, b| …`.
                if let Some(end) = s[i + 1..].find('|') {
                    i += end + 1;
                }
            }
            c if c == sep && depth == 0 => {
                out.push(s[last..i].trim());
                last = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let tail = s.get(last..).unwrap_or("").trim();
    if !tail.is_empty() || !out.is_empty() {
        out.push(tail);
    }
    out
}

pub fn matching(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let (o, c) = match b.get(open)? {
        b'(' => (b'(', b')'),
        b'{' => (b'{', b'}'),
        b'[' => (b'[', b']'),
        _ => return None,
    };
    let mut depth = 0i32;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'"' => i = skip_string(b, i),
            b'\'' => i = skip_char(b, i),
            x if x == o => depth += 1,
            x if x == c => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `path::name(args)` / `name!(args)` spanning the whole expression.
pub fn parse_call(e: &str) -> Option<(&str, Vec<&str>)> {
    let open = e.find('(')?;
    let name = e[..open].trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '!')
    {
        return None;
    }
    let close = matching(e, open)?;
    if close != e.len() - 1 {
        return None;
    }
    Some((name, split_top(&e[open + 1..close], b',')))
}

pub fn call_args(text: &str, open: usize) -> Option<Vec<&str>> {
    let close = matching(text, open)?;
    Some(split_top(&text[open + 1..close], b','))
}

/// A Rust string literal's value (`"…"`, `r"…"`, `r#"…"#`).
pub fn string_literal(e: &str) -> Option<String> {
    if let Some(raw) = e.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let inner = raw[hashes..].strip_prefix('"')?;
        let inner = inner.strip_suffix(&"#".repeat(hashes))?.strip_suffix('"')?;
        return Some(inner.to_string());
    }
    let b = e.as_bytes();
    if b.len() < 2 || b[0] != b'"' || skip_string(b, 0) != b.len() - 1 {
        return None;
    }
    let mut out = String::new();
    let mut chars = e[1..e.len() - 1].chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(o) = chars.next() {
                out.push(if o == 'n' { '\n' } else { o });
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `3000`, `3_000`, `8080u16`.
fn int_literal(e: &str) -> Option<u64> {
    let s = ["u16", "u32", "u64", "i32", "i64", "usize"]
        .iter()
        .find_map(|suffix| e.strip_suffix(suffix))
        .unwrap_or(e);
    let s: String = s.chars().filter(|c| *c != '_').collect();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(src: &str, expr: &str, line: u32) -> Option<Addr> {
        address(&RsFile::new(src).eval(expr, line))
    }

    #[test]
    fn ports_written_in_the_code_are_made_to_read_port_first() {
        let env = "std::env::var(\"PORT\").ok().and_then(|p| p.parse().ok()).unwrap_or(3000)";
        let a = addr("", "SocketAddr::from(([0, 0, 0, 0], 3000))", 4).unwrap();
        assert_eq!(a.port_fix(), Some((4, "3000".into(), env.into())));
        // One literal for host and port: one edit, loopback made 0.0.0.0.
        let a = addr("", "&\"127.0.0.1:8080\".parse()?", 9).unwrap();
        assert_eq!(
            a.port_fix(),
            Some((
                9,
                "\"127.0.0.1:8080\"".into(),
                "format!(\"0.0.0.0:{}\", std::env::var(\"PORT\").unwrap_or_else(|_| \"8080\".into()))".into()
            ))
        );
        let src = "let addr = \"0.0.0.0:7000\";\n";
        let a = addr(src, "addr", 2).unwrap();
        assert_eq!(
            a.port_fix().unwrap().0,
            1,
            "the fix is where the literal is"
        );
        // A format string or a port from elsewhere: no edit.
        let src = "let port = 4000;\nlet host = \"localhost\";\n";
        assert!(addr(src, "format!(\"{host}:{port}\")", 3)
            .unwrap()
            .port_fix()
            .is_some_and(|f| f.1 == "4000"));
        let src = "let port = env::var(\"PORT\").unwrap_or_else(|_| \"8080\".into());\nlet addr = format!(\"0.0.0.0:{}\", port);\n";
        assert_eq!(addr(src, "addr", 3).unwrap().port_fix(), None);
    }

    #[test]
    fn socket_addrs() {
        let a = addr("", "SocketAddr::from(([0, 0, 0, 0], 3000))", 1).unwrap();
        assert_eq!((a.host.as_deref(), a.port), (Some("0.0.0.0"), Some(3000)));
        let a = addr("", "SocketAddr::from(([127, 0, 0, 1], 8080))", 7).unwrap();
        assert!(a.is_loopback());
        assert_eq!(
            a.zero_fix(),
            Some((7, "[127, 0, 0, 1]".into(), "[0, 0, 0, 0]".into()))
        );
        let a = addr("", "(\"127.0.0.1\", 8080)", 2).unwrap();
        assert_eq!(
            a.zero_fix(),
            Some((2, "\"127.0.0.1\"".into(), "\"0.0.0.0\"".into()))
        );
        let a = addr(
            "",
            "SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9000)",
            1,
        )
        .unwrap();
        assert!(a.is_loopback());
        assert_eq!(a.port, Some(9000));
        let a = addr("", "\"0.0.0.0:3000\".parse::<SocketAddr>().unwrap()", 1).unwrap();
        assert_eq!(a.port, Some(3000));
        assert_eq!(addr("", "&user.email", 1), None);
    }

    #[test]
    fn env_defaults_and_format() {
        let src = "fn main() {\n    let port = env::var(\"PORT\").unwrap_or_else(|_| \"8080\".into());\n    let addr = format!(\"0.0.0.0:{}\", port);\n}\n";
        assert_eq!(addr(src, "addr", 4).unwrap().port, Some(8080));
        let src = "let port: u16 = std::env::var(\"PORT\")\n    .ok()\n    .and_then(|p| p.parse().ok())\n    .unwrap_or(3000);\n";
        assert_eq!(
            addr(src, "([0, 0, 0, 0], port)", 6).unwrap().port,
            Some(3000)
        );
        let src = "let port = 4000;\nlet host = \"localhost\";\n";
        let a = addr(src, "format!(\"{host}:{port}\")", 3).unwrap();
        assert_eq!(a.port, Some(4000));
        assert!(a.is_loopback());
        let src = "let port = env::var(\"PORT\").unwrap_or(\"5000\".to_string());\nlet port: u16 = port.parse().expect(\"number\");\n";
        assert_eq!(
            addr(src, "(\"0.0.0.0\", port)", 3).unwrap().port,
            Some(5000)
        );
        let src = "const PORT: u16 = 7000;\n";
        assert_eq!(
            addr(src, "(Ipv4Addr::UNSPECIFIED, PORT)", 3).unwrap().port,
            Some(7000)
        );
    }

    #[test]
    fn lexing_survives_lifetimes_and_junk() {
        let src = "fn f<'a>(x: &'a str) -> &'a str { x }\nlet c = 'x';\n";
        assert_eq!(take_expr("'a', b"), "'a'");
        let f = RsFile::new(src);
        let _ = f.eval("f(x)", 1);
        for s in [
            "\"",
            "(",
            "format!(",
            "r#\"",
            "[",
            "|",
            "'",
            "x.unwrap_or(",
            "é'",
        ] {
            let f = RsFile::new(s);
            let _ = address(&f.eval(s, 1));
            let _ = take_statement(s);
        }
    }
}
