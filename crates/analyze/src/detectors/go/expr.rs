//! Just enough Go expression evaluation to know what address a server
//! listens on: string and integer literals, `+` concatenation,
//! `fmt.Sprintf`, `net.JoinHostPort`, `cmp.Or`, `strconv.Itoa`, flag
//! defaults (`flag.String("addr", ":8080", …)`), env helpers with a default
//! (`getEnv("PORT", "8080")`) and local variables — including the idiom
//! `port := os.Getenv("PORT"); if port == "" { port = "8080" }`.
//!
//! Deliberately not a Go parser: it works on one file's text, line by line,
//! and answers "unknown" for anything else (struct fields, function results).

use regex::Regex;
use std::sync::LazyLock;

/// A literal piece of a value, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The value (escapes resolved).
    pub text: String,
    /// 1-based line of the literal.
    pub line: u32,
    /// The literal exactly as written in the source (with its quotes).
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Known(Piece),
    Unknown,
}

/// A listen address made of evaluated parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// Host as written (`""` for all interfaces); `None` when not known.
    pub host: Option<String>,
    /// The literal holding the host, when it is a single literal.
    pub host_piece: Option<Piece>,
    pub port: Option<u16>,
    /// Line of the literal that holds the port digits.
    pub port_line: Option<u32>,
}

impl Addr {
    pub fn is_loopback(&self) -> bool {
        matches!(
            self.host.as_deref(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        )
    }
}

const MAX_DEPTH: u8 = 6;

/// One source file, ready for lookups.
pub struct GoFile<'a> {
    pub text: &'a str,
    /// Byte offset where each line starts (index 0 = line 1).
    starts: Vec<usize>,
}

impl<'a> GoFile<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        GoFile { text, starts }
    }

    pub fn line_count(&self) -> u32 {
        self.starts.len() as u32
    }

    /// Text of line `n` (1-based), without the newline.
    pub fn line(&self, n: u32) -> &'a str {
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

    /// Byte offset of the start of line `n`.
    pub fn offset(&self, n: u32) -> usize {
        self.starts
            .get(n.wrapping_sub(1) as usize)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Evaluate an expression written on line `line`.
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
        let e = expr.trim();
        if depth > MAX_DEPTH || e.is_empty() {
            return vec![Part::Unknown];
        }
        let line = self.line_in(e, line);
        if e.starts_with('(') && matching(e, 0) == Some(e.len() - 1) {
            return self.eval_at(&e[1..e.len() - 1], line, depth + 1);
        }
        let terms = split_top(e, b'+');
        if terms.len() > 1 {
            return terms
                .iter()
                .flat_map(|t| self.eval_at(t, line, depth + 1))
                .collect();
        }
        if let Some(text) = string_literal(e) {
            return vec![Part::Known(Piece {
                text,
                line,
                raw: e.to_string(),
            })];
        }
        if e.bytes().all(|b| b.is_ascii_digit()) {
            return vec![Part::Known(Piece {
                text: e.to_string(),
                line,
                raw: e.to_string(),
            })];
        }
        if let Some(rest) = e.strip_prefix('*').or_else(|| e.strip_prefix('&')) {
            return self.eval_at(rest, line, depth + 1);
        }
        if let Some((name, args)) = parse_call(e) {
            return self.eval_call(name, &args, line, depth);
        }
        if is_ident(e) {
            return self.lookup(e, line, depth);
        }
        vec![Part::Unknown]
    }

    fn eval_call(&self, name: &str, args: &[&str], line: u32, depth: u8) -> Vec<Part> {
        let arg = |i: usize| args.get(i).copied().unwrap_or("");
        match name {
            "fmt.Sprintf" => self.sprintf(args, line, depth),
            "strconv.Itoa" | "string" | "strconv.FormatInt" | "strconv.FormatUint"
            | "fmt.Sprint" | "strings.TrimSpace" | "uint16" | "int" => {
                self.eval_at(arg(0), line, depth + 1)
            }
            "cmp.Or" => {
                for a in args {
                    let v = self.eval_at(a, line, depth + 1);
                    if !v.contains(&Part::Unknown) {
                        return v;
                    }
                }
                vec![Part::Unknown]
            }
            "net.JoinHostPort" if args.len() == 2 => {
                let mut v = self.eval_at(arg(0), line, depth + 1);
                v.push(Part::Known(Piece {
                    text: ":".into(),
                    line,
                    raw: String::new(),
                }));
                v.extend(self.eval_at(arg(1), line, depth + 1));
                v
            }
            "os.Getenv" | "os.LookupEnv" => vec![Part::Unknown],
            _ => {
                if let Some(i) = flag_default_index(name) {
                    return self.eval_at(arg(i), line, depth + 1);
                }
                if is_env_helper(name) && args.len() >= 2 {
                    return self.eval_at(args[args.len() - 1], line, depth + 1);
                }
                vec![Part::Unknown]
            }
        }
    }

    fn sprintf(&self, args: &[&str], line: u32, depth: u8) -> Vec<Part> {
        static VERB: LazyLock<Regex> = LazyLock::new(|| {
            crate::scan::try_regex(r"%[-+# 0]*\d*(?:\.\d+)?[sdvq]").expect("regex")
        });
        let Some(Part::Known(fmt)) = self
            .eval_at(args.first().copied().unwrap_or(""), line, depth + 1)
            .into_iter()
            .next()
        else {
            return vec![Part::Unknown];
        };
        let mut out = Vec::new();
        let mut last = 0;
        for (i, m) in VERB.find_iter(&fmt.text).enumerate() {
            out.push(Part::Known(Piece {
                text: fmt.text[last..m.start()].replace("%%", "%"),
                ..fmt.clone()
            }));
            match args.get(i + 1) {
                Some(a) => out.extend(self.eval_at(a, line, depth + 1)),
                None => out.push(Part::Unknown),
            }
            last = m.end();
        }
        out.push(Part::Known(Piece {
            text: fmt.text[last..].replace("%%", "%"),
            ..fmt
        }));
        out
    }

    /// The value of a variable used on `line`: its nearest assignment above
    /// (or a package-level one anywhere), then an `if x == "" { x = … }` fallback.
    fn lookup(&self, ident: &str, line: u32, depth: u8) -> Vec<Part> {
        let n = self.line_count();
        let before = (1..line.min(n + 1)).rev();
        let after = (line..=n).filter(|&l| l != line);
        for l in before.chain(after) {
            let text = self.line(l);
            if !text.contains(ident) {
                continue;
            }
            let rhs = if let Some(rhs) = assignment_rhs(text, ident) {
                Some(rhs)
            } else {
                flag_var_default(text, ident)
            };
            let Some(rhs) = rhs else { continue };
            let abs = self.offset(l) + (rhs.as_ptr() as usize - text.as_ptr() as usize);
            let expr = take_expr(&self.text[abs..]);
            let v = self.eval_at(expr, l, depth + 1);
            if v.contains(&Part::Unknown) {
                if let Some((fl, fexpr)) = self.fallback(ident, l) {
                    return self.eval_at(fexpr, fl, depth + 1);
                }
            }
            return v;
        }
        vec![Part::Unknown]
    }

    /// After `ident` is assigned on line `at`: the expression of a fallback
    /// assignment in a following `if ident == "" {` / `if !ok {` block.
    pub fn fallback(&self, ident: &str, at: u32) -> Option<(u32, &'a str)> {
        let n = self.line_count();
        let empty_checks = [
            format!("{ident} == \"\""),
            format!("\"\" == {ident}"),
            format!("len({ident}) == 0"),
            format!("{ident} == 0"),
            "!ok".to_string(),
            "!found".to_string(),
            "!exists".to_string(),
        ];
        for k in at..=(at + 8).min(n) {
            let cond_line = self.line(k);
            if !cond_line.trim_start().starts_with("if ")
                || !empty_checks.iter().any(|c| cond_line.contains(c.as_str()))
            {
                continue;
            }
            for j in k..=(k + 3).min(n) {
                let full = self.line(j);
                let text = if j == k {
                    match full.find('{') {
                        Some(b) => &full[b + 1..],
                        None => continue,
                    }
                } else {
                    full
                };
                if let Some(rhs) = assignment_rhs(text, ident) {
                    let abs = self.offset(j) + (rhs.as_ptr() as usize - full.as_ptr() as usize);
                    return Some((j, take_expr(&self.text[abs..])));
                }
                if j > k && full.trim_start().starts_with('}') {
                    break;
                }
            }
            return None;
        }
        None
    }
}

/// The listen address the parts spell, if they look like one.
pub fn address(parts: &[Part]) -> Option<Addr> {
    const HOLE: char = '\u{1}';
    let mut joined = String::new();
    // (start offset in `joined`, piece)
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
        None if !joined.is_empty() && joined.bytes().all(|b| b.is_ascii_digit()) => {
            (Some(""), joined.as_str(), 0)
        }
        None => return None,
    };
    let port = (!port_text.is_empty() && port_text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| port_text.parse::<u16>().ok())
        .flatten()
        .filter(|p| *p > 0);
    let port_line = port.and_then(|_| piece_at(port_start, joined.len()).map(|p| p.line));
    let host = host.filter(|h| !h.contains(HOLE)).map(str::to_string);
    let host_piece = host
        .as_deref()
        .filter(|h| !h.is_empty())
        .and_then(|h| piece_at(0, h.len()));
    Some(Addr {
        host,
        host_piece,
        port,
        port_line,
    })
}

/// `flag.String("addr", ":8080", …)` → index of the default argument.
fn flag_default_index(name: &str) -> Option<usize> {
    let (pkg, func) = name.rsplit_once('.')?;
    if !matches!(pkg, "flag" | "pflag" | "kingpin") && !pkg.ends_with("Flags()") {
        return None;
    }
    match func {
        "String" | "Int" | "Uint" | "Int64" | "Uint64" => Some(1),
        "StringP" | "IntP" | "UintP" => Some(2),
        _ => None,
    }
}

/// `getEnv`, `envOr`, `GetEnvDefault`, `config.EnvString` … (not `os.Setenv`).
pub fn is_env_helper(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    last.contains("env")
        && !last.contains("setenv")
        && !last.contains("unsetenv")
        && name != "os.Getenv"
        && name != "os.LookupEnv"
}

/// `flag.StringVar(&addr, "addr", ":8080", …)` on this line → the default.
fn flag_var_default<'l>(line: &'l str, ident: &str) -> Option<&'l str> {
    let at = line.find("Var(")?;
    let args_start = at + 3;
    let end = matching(line, args_start)?;
    let args = split_top(&line[args_start + 1..end], b',');
    let target = args.first()?.trim().trim_start_matches('&');
    if target != ident {
        return None;
    }
    let func = line[..at]
        .rsplit(['.', ' ', '\t', '('])
        .next()
        .unwrap_or("");
    let idx = if func.ends_with('P') { 3 } else { 2 };
    let a = *args.get(idx)?;
    Some(a.trim_start())
}

/// The right-hand side of an assignment of `ident` on this line
/// (`x := …`, `x = …`, `var x T = …`, `const x = …`, `x, ok := …`,
/// `if x := …; …`), or None.
pub fn assignment_rhs<'l>(line: &'l str, ident: &str) -> Option<&'l str> {
    let code = strip_comment(line);
    let eq = assign_eq(code)?;
    let lhs = code[..eq].trim_end_matches(':');
    let mut lhs = lhs.trim();
    for kw in ["if ", "var ", "const ", "} else if "] {
        if let Some(r) = lhs.strip_prefix(kw) {
            lhs = r.trim_start();
        }
    }
    let names: Vec<&str> = lhs
        .split(',')
        .map(|n| n.split_whitespace().next().unwrap_or(""))
        .collect();
    if !names.iter().all(|n| is_ident(n)) {
        return None;
    }
    let idx = names.iter().position(|n| *n == ident)?;
    let rhs = code[eq + 1..].trim_start();
    if names.len() > 1 {
        let parts = split_top(take_expr_multi(rhs), b',');
        if parts.len() == names.len() {
            return Some(parts[idx].trim_start());
        }
        if idx != 0 {
            return None;
        }
    }
    Some(rhs)
}

/// Position of the first top-level `=` that is an assignment (`:=` or `=`,
/// not `==`, `!=`, `<=`, `>=`, `+=` …).
fn assign_eq(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    let mut i = 0;
    let mut depth = 0i32;
    while i < b.len() {
        match b[i] {
            b'"' | b'`' | b'\'' => i = skip_string(b, i),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'=' if depth == 0 => {
                let next = b.get(i + 1).copied();
                let prev = if i > 0 { Some(b[i - 1]) } else { None };
                if next == Some(b'=') {
                    return None;
                }
                if matches!(
                    prev,
                    Some(
                        b'!' | b'<'
                            | b'>'
                            | b'='
                            | b'+'
                            | b'-'
                            | b'*'
                            | b'/'
                            | b'%'
                            | b'&'
                            | b'|'
                            | b'^'
                    )
                ) {
                    return None;
                }
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Remove a trailing `// comment` (outside strings).
pub fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'`' | b'\'' => i = skip_string(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

/// Index of the closing quote of the string starting at `i` (or the end).
fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == b'\\' && q != b'`' {
            j += 2;
            continue;
        }
        if b[j] == q || (b[j] == b'\n' && q != b'`') {
            return j;
        }
        j += 1;
    }
    b.len()
}

/// The expression at the start of `s`: up to a top-level `,` `;` newline,
/// `//` comment or unbalanced closing bracket.
pub fn take_expr(s: &str) -> &str {
    take_until(s, true)
}

/// Like [`take_expr`] but `,` does not end it (multi-value right-hand sides).
fn take_expr_multi(s: &str) -> &str {
    take_until(s, false)
}

fn take_until(s: &str, comma_ends: bool) -> &str {
    let b = s.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'`' | b'\'' => {
                i = skip_string(b, i);
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            b',' if depth == 0 && comma_ends => break,
            b';' | b'\n' if depth == 0 => break,
            b'/' if b.get(i + 1) == Some(&b'/') => break,
            _ => {}
        }
        i += 1;
    }
    s[..i.min(s.len())].trim()
}

/// Split at top-level `sep` (outside strings and brackets).
pub fn split_top(s: &str, sep: u8) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'`' | b'\'' => i = skip_string(b, i),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
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

/// Index of the bracket closing the one at `open`.
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
            b'"' | b'`' | b'\'' => i = skip_string(b, i),
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

/// `name(args)` spanning the whole expression → (name, args).
pub fn parse_call(e: &str) -> Option<(&str, Vec<&str>)> {
    let open = e.find('(')?;
    let name = e[..open].trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return None;
    }
    let close = matching(e, open)?;
    if close != e.len() - 1 {
        return None;
    }
    Some((name, split_top(&e[open + 1..close], b',')))
}

/// Arguments of the call whose `(` is at `open` in `text`.
pub fn call_args(text: &str, open: usize) -> Option<Vec<&str>> {
    let close = matching(text, open)?;
    Some(split_top(&text[open + 1..close], b','))
}

/// A Go string literal's value (`"a\"b"`, `` `raw` ``), or None.
pub fn string_literal(e: &str) -> Option<String> {
    let b = e.as_bytes();
    if b.len() < 2 {
        return None;
    }
    let q = b[0];
    if (q != b'"' && q != b'`') || skip_string(b, 0) != b.len() - 1 {
        return None;
    }
    let inner = &e[1..e.len() - 1];
    if q == b'`' {
        return Some(inner.to_string());
    }
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

pub fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr_of(src: &str, expr: &str, line: u32) -> Option<Addr> {
        let f = GoFile::new(src);
        address(&f.eval(expr, line))
    }

    #[test]
    fn literals_and_concatenation() {
        let a = addr_of("", "\":8080\"", 1).unwrap();
        assert_eq!((a.host.as_deref(), a.port), (Some(""), Some(8080)));
        let a = addr_of("", "\"127.0.0.1:3000\"", 4).unwrap();
        assert!(a.is_loopback());
        assert_eq!(a.host_piece.unwrap().raw, "\"127.0.0.1:3000\"");
        assert_eq!(a.port_line, Some(4));
        assert_eq!(addr_of("", "handler", 1), None);
    }

    #[test]
    fn env_with_fallback() {
        let src = "func main() {\n\tport := os.Getenv(\"PORT\")\n\tif port == \"\" {\n\t\tport = \"8080\"\n\t}\n\thttp.ListenAndServe(\":\"+port, nil)\n}\n";
        let a = addr_of(src, "\":\"+port", 6).unwrap();
        assert_eq!(a.port, Some(8080));
        assert_eq!(a.port_line, Some(4));
        // One-line form.
        let src =
            "if port = os.Getenv(\"PORT\"); port == \"\" { port = \"9000\" }\nx(\":\" + port)\n";
        assert_eq!(addr_of(src, "\":\" + port", 2).unwrap().port, Some(9000));
        // A fatal check is not a fallback.
        let src = "port := os.Getenv(\"PORT\")\nif port == \"\" {\n\tlog.Fatal(\"PORT\")\n}\nx(\":\"+port)\n";
        assert_eq!(addr_of(src, "\":\"+port", 5).unwrap().port, None);
    }

    #[test]
    fn sprintf_flags_helpers() {
        let src = "var port = flag.Int(\"port\", 7000, \"p\")\n";
        assert_eq!(
            addr_of(src, "fmt.Sprintf(\":%d\", *port)", 3).unwrap().port,
            Some(7000)
        );
        let src = "addr := flag.String(\"addr\", \"localhost:8081\", \"listen\")\n";
        let a = addr_of(src, "*addr", 5).unwrap();
        assert_eq!(a.port, Some(8081));
        assert!(a.is_loopback());
        assert_eq!(a.host_piece.unwrap().line, 1);
        let src = "addr := getEnv(\"LISTEN_ADDR\", \":1323\")\n";
        assert_eq!(addr_of(src, "addr", 2).unwrap().port, Some(1323));
        let src = "var addr string\nflag.StringVar(&addr, \"addr\", \":9090\", \"x\")\n";
        assert_eq!(addr_of(src, "addr", 3).unwrap().port, Some(9090));
        let src = "host := \"127.0.0.1\"\nport := cmp.Or(os.Getenv(\"PORT\"), \"5000\")\n";
        let a = addr_of(src, "net.JoinHostPort(host, port)", 3).unwrap();
        assert_eq!(a.port, Some(5000));
        assert!(a.is_loopback());
        assert_eq!(a.host_piece.unwrap().raw, "\"127.0.0.1\"");
        let src = "port, ok := os.LookupEnv(\"PORT\")\nif !ok {\n\tport = \"4000\"\n}\n";
        assert_eq!(
            addr_of(src, "fmt.Sprintf(\"0.0.0.0:%s\", port)", 5)
                .unwrap()
                .port,
            Some(4000)
        );
    }

    #[test]
    fn comparisons_are_not_assignments() {
        assert_eq!(assignment_rhs("if port == \"\" {", "port"), None);
        assert_eq!(assignment_rhs("x := port != y", "port"), None);
        assert_eq!(
            assignment_rhs("\tport := \"1\" // c", "port"),
            Some("\"1\" ")
        );
        assert_eq!(
            assignment_rhs("host, port := \"h\", \"9\"", "port"),
            Some("\"9\"")
        );
        assert_eq!(
            assignment_rhs("url := \"http://x\" // y", "url"),
            Some("\"http://x\" ")
        );
    }

    #[test]
    fn never_panics_on_odd_text() {
        for s in [
            "\"",
            "(",
            "fmt.Sprintf(",
            "a+",
            "`x",
            "\"é:ü\"",
            "*",
            "x(",
            ")",
        ] {
            let f = GoFile::new(s);
            let _ = address(&f.eval(s, 1));
            let _ = address(&f.eval(s, 99));
            let _ = f.fallback("x", 1);
        }
    }
}
