//! Runtime version requirements as projects write them — `.python-version`
//! `3.12`, `requires-python = ">=3.9,<3.13"`, poetry `^3.11`, Pipfile
//! `python_version = "3.11"`, `.nvmrc` `20.11.1`, `engines.node` `">=18 <23"`
//! or `"^20 || ^22"` — parsed into intervals that can be asked "does this
//! version satisfy you?" and "does any release of this line?".
//!
//! One home for these rules: decide uses them to choose the version a plan
//! names, the local target to choose an interpreter on this machine, so the
//! plan and the runtime cannot disagree about what a string means.
//!
//! A *line* is the unit interpreters are chosen by: a Python minor (3.12) or a
//! Node major (20). Pure functions; no I/O. Deliberately not a full PEP 440 or
//! node-semver implementation: pre-releases, local versions and build
//! metadata are ignored (`3.13.0rc1` reads as 3.13.0), and `==3.12` is read as
//! "any 3.12" the way people mean it, not as 3.12.0 exactly.

use std::fmt;

/// A release number; missing parts read as 0 (`3.12` → 3.12.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// `3.12.1`, `v20`, `3.13.0rc1` (→ 3.13.0), `Python 3.11.2` is not accepted.
    pub fn parse(s: &str) -> Option<Version> {
        let p = Partial::parse(s.trim())?;
        if p.parts.is_empty() {
            return None;
        }
        Some(p.lower())
    }

    fn from_parts(parts: &[u32]) -> Version {
        Version::new(
            parts.first().copied().unwrap_or(0),
            parts.get(1).copied().unwrap_or(0),
            parts.get(2).copied().unwrap_or(0),
        )
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// How a runtime's requirements are written and how wide one line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PEP 440 specifiers plus poetry's `^`/`~`/`||`; lines are minors (3.12).
    Python,
    /// npm semver ranges (`^20`, `>=18 <21`, `18 - 20`, `20.x`, `||`); lines are majors (20).
    Node,
}

impl Dialect {
    /// The dialect of a runtime family (`python`, `node`), if it has one.
    pub fn of_family(family: &str) -> Option<Dialect> {
        match family {
            "python" => Some(Dialect::Python),
            "node" => Some(Dialect::Node),
            _ => None,
        }
    }

    /// The line `v` belongs to: 3.12.4 → 3.12.0 (Python), 20.11.1 → 20.0.0 (Node).
    pub fn line(self, v: Version) -> Version {
        match self {
            Dialect::Python => Version::new(v.major, v.minor, 0),
            Dialect::Node => Version::new(v.major, 0, 0),
        }
    }

    /// How a line is written for people: `3.12` / `20`.
    pub fn line_name(self, v: Version) -> String {
        match self {
            Dialect::Python => format!("{}.{}", v.major, v.minor),
            Dialect::Node => format!("{}", v.major),
        }
    }

    fn line_end(self, line: Version) -> Version {
        match self {
            Dialect::Python => Version::new(line.major, line.minor + 1, 0),
            Dialect::Node => Version::new(line.major + 1, 0, 0),
        }
    }
}

/// A version as written, possibly partial or with a wildcard (`3.12`, `20.x`, `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Partial {
    parts: Vec<u32>,
}

impl Partial {
    fn parse(s: &str) -> Option<Partial> {
        let s = s.trim().trim_start_matches(['v', 'V', '=']);
        if s.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for (i, piece) in s.split('.').enumerate() {
            if i >= 3 {
                break;
            }
            if matches!(piece, "*" | "x" | "X") {
                break;
            }
            let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                return None;
            }
            parts.push(digits.parse().ok()?);
            // `13rc1`, `0-alpine`, `1+local`: the rest of the string says nothing we use.
            if digits.len() != piece.len() {
                break;
            }
        }
        Some(Partial { parts })
    }

    fn lower(&self) -> Version {
        Version::from_parts(&self.parts)
    }

    /// The first version after everything this prefix names: `3.12` → 3.13.0,
    /// `20` → 21.0.0, `3.12.1` → 3.12.2; `None` for `*`.
    fn next(&self) -> Option<Version> {
        let mut p = self.parts.clone();
        let last = p.last_mut()?;
        *last += 1;
        Some(Version::from_parts(&p))
    }

    /// `^`: below the next release of the first non-zero part.
    fn caret_end(&self) -> Option<Version> {
        let i = self
            .parts
            .iter()
            .position(|&x| x != 0)
            .unwrap_or(self.parts.len().saturating_sub(1));
        Partial {
            parts: self.parts.get(..=i)?.to_vec(),
        }
        .next()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bound {
    v: Version,
    inclusive: bool,
}

/// One conjunction: `lo ≤/< v ≤/< hi`, minus excluded ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Interval {
    lo: Option<Bound>,
    hi: Option<Bound>,
    /// `[from, to)` ranges taken out by `!=`.
    not: Vec<(Version, Version)>,
}

impl Interval {
    fn raise_lo(&mut self, b: Bound) {
        let tighter = match self.lo {
            None => true,
            Some(cur) => b.v > cur.v || (b.v == cur.v && !b.inclusive),
        };
        if tighter {
            self.lo = Some(b);
        }
    }

    fn lower_hi(&mut self, b: Bound) {
        let tighter = match self.hi {
            None => true,
            Some(cur) => b.v < cur.v || (b.v == cur.v && !b.inclusive),
        };
        if tighter {
            self.hi = Some(b);
        }
    }

    fn prefix(&mut self, p: &Partial) {
        self.raise_lo(Bound {
            v: p.lower(),
            inclusive: true,
        });
        if let Some(end) = p.next() {
            self.lower_hi(Bound {
                v: end,
                inclusive: false,
            });
        }
    }

    fn matches(&self, v: Version) -> bool {
        let lo_ok = self.lo.is_none_or(|b| v > b.v || (b.inclusive && v == b.v));
        let hi_ok = self.hi.is_none_or(|b| v < b.v || (b.inclusive && v == b.v));
        lo_ok && hi_ok && !self.not.iter().any(|(a, b)| v >= *a && v < *b)
    }

    /// Does some version in `[from, to)` satisfy this interval?
    fn meets(&self, from: Version, to: Version) -> bool {
        // The interval's part of [from, to): [start, end).
        let (start, start_incl) = match self.lo {
            Some(b) if b.v > from || (b.v == from && !b.inclusive) => (b.v, b.inclusive),
            _ => (from, true),
        };
        let (end, end_incl) = match self.hi {
            Some(b) if b.v < to => (b.v, b.inclusive),
            _ => (to, false),
        };
        let non_empty = start < end || (start == end && start_incl && end_incl);
        if !non_empty {
            return false;
        }
        // An exclusion only matters when it swallows the whole overlap.
        !self
            .not
            .iter()
            .any(|(a, b)| *a <= start && (end < *b || (end == *b && !end_incl)))
    }
}

/// A parsed requirement: any of several intervals (`||`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    raw: String,
    dialect: Dialect,
    any_of: Vec<Interval>,
}

/// Words that mean "any version".
const ANY: &[&str] = &[
    "", "*", "x", "X", "latest", "node", "stable", "current", "system", "lts/*", "lts",
];

impl Requirement {
    /// No requirement: every version satisfies it.
    pub fn any(dialect: Dialect) -> Requirement {
        Requirement {
            raw: String::new(),
            dialect,
            any_of: vec![Interval::default()],
        }
    }

    /// Parse a requirement as the project wrote it. The error says what could
    /// not be read (`pypy3.10`, `3.12; rm -rf /`).
    pub fn parse(dialect: Dialect, raw: &str) -> Result<Requirement, String> {
        let text = raw.trim();
        if ANY.contains(&text) {
            return Ok(Requirement {
                raw: text.to_string(),
                ..Requirement::any(dialect)
            });
        }
        if text.len() > 200 {
            return Err("it is longer than any version requirement".into());
        }
        let mut any_of = Vec::new();
        for alt in text.split("||").flat_map(|a| a.split('|')) {
            any_of.push(parse_conjunction(dialect, alt.trim())?);
        }
        Ok(Requirement {
            raw: text.to_string(),
            dialect,
            any_of,
        })
    }

    /// The text as the project wrote it (empty for [`Requirement::any`]).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// True when every version satisfies it.
    pub fn is_any(&self) -> bool {
        self.any_of.iter().any(|i| *i == Interval::default())
    }

    /// Does `v` itself satisfy the requirement?
    pub fn matches(&self, v: Version) -> bool {
        self.any_of.iter().any(|i| i.matches(v))
    }

    /// Does some release of the line `v` belongs to satisfy it? (`3.12.1`
    /// for `.python-version 3.12.4`: yes — same minor.)
    pub fn fits_line(&self, v: Version) -> bool {
        let line = self.dialect.line(v);
        let end = self.dialect.line_end(line);
        self.any_of.iter().any(|i| i.meets(line, end))
    }

    /// True when everything it allows is older than `v`'s line (the machine is
    /// newer than the project asks for).
    pub fn entirely_below(&self, v: Version) -> bool {
        let line = self.dialect.line(v);
        !self.fits_line(v)
            && self
                .any_of
                .iter()
                .all(|i| !i.meets(line, Version::new(u32::MAX, 0, 0)))
    }

    /// True when it names one line only (`3.12`, `==3.12.*`, `~=3.12.1`, `20.11.1`, `20.x`).
    pub fn single_line(&self) -> Option<Version> {
        let [i] = self.any_of.as_slice() else {
            return None;
        };
        let lo = i.lo?.v;
        let line = self.dialect.line(lo);
        let end = self.dialect.line_end(line);
        let hi = i.hi?;
        (hi.v < end || (hi.v == end && !hi.inclusive)).then_some(line)
    }

    /// The oldest version it allows, when it has a lower bound.
    pub fn lowest(&self) -> Option<Version> {
        self.any_of
            .iter()
            .map(|i| i.lo.map(|b| b.v))
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min()
    }

    /// Choose a line from `lines` (e.g. the versions installed, or the ones
    /// images exist for): `preferred` when it fits, else the newest that fits.
    pub fn pick_line(&self, lines: &[Version], preferred: Option<Version>) -> Option<Version> {
        if let Some(p) = preferred.filter(|p| self.fits_line(*p)) {
            if lines
                .iter()
                .any(|l| self.dialect.line(*l) == self.dialect.line(p))
            {
                return Some(self.dialect.line(p));
            }
        }
        lines
            .iter()
            .filter(|l| self.fits_line(**l))
            .map(|l| self.dialect.line(*l))
            .max()
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.raw.is_empty() {
            f.write_str("any version")
        } else {
            f.write_str(&self.raw)
        }
    }
}

fn parse_conjunction(dialect: Dialect, text: &str) -> Result<Interval, String> {
    let mut iv = Interval::default();
    if ANY.contains(&text) {
        return Ok(iv);
    }
    if dialect == Dialect::Node {
        // Hyphen range: `18 - 20` → >=18.0.0 <21.0.0.
        if let Some((a, b)) = text.split_once(" - ") {
            let (a, b) = (partial(a)?, partial(b)?);
            iv.raise_lo(Bound {
                v: a.lower(),
                inclusive: true,
            });
            if let Some(end) = b.next() {
                iv.lower_hi(Bound {
                    v: end,
                    inclusive: false,
                });
            }
            return Ok(iv);
        }
    }
    for tok in tokens(text)? {
        apply(dialect, &mut iv, &tok.0, &tok.1)?;
    }
    Ok(iv)
}

fn partial(s: &str) -> Result<Partial, String> {
    Partial::parse(s).ok_or_else(|| format!("{s:?} is not a version number"))
}

/// Split `>=3.9, <3.13` / `>=18 <21` / `^3.11` into (operator, version) pairs.
fn tokens(text: &str) -> Result<Vec<(String, String)>, String> {
    const OPS: &[&str] = &["===", "==", "!=", "~=", "<=", ">=", "<", ">", "^", "~", "="];
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let op = OPS.iter().find(|o| rest.starts_with(**o)).copied();
        let after = rest[op.map_or(0, str::len)..].trim_start();
        let end = after
            .find(|c: char| c == ',' || c.is_whitespace())
            .unwrap_or(after.len());
        let ver = &after[..end];
        if ver.is_empty() {
            return Err(format!("{text:?} has an operator without a version"));
        }
        if !ver
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '-' | '+'))
            || !ver.starts_with(|c: char| {
                c.is_ascii_digit() || matches!(c, 'v' | 'V' | '*' | 'x' | 'X')
            })
        {
            return Err(format!("{ver:?} is not a version number"));
        }
        out.push((op.unwrap_or("").to_string(), ver.to_string()));
        rest = &after[end..];
    }
    if out.is_empty() {
        return Err(format!("{text:?} names no version"));
    }
    Ok(out)
}

fn apply(dialect: Dialect, iv: &mut Interval, op: &str, ver: &str) -> Result<(), String> {
    let p = partial(ver)?;
    let lower = p.lower();
    let incl = |v| Bound { v, inclusive: true };
    let excl = |v| Bound {
        v,
        inclusive: false,
    };
    match (op, dialect) {
        ("" | "=" | "==" | "===", _) => iv.prefix(&p),
        ("!=", _) => {
            if let Some(end) = p.next() {
                iv.not.push((lower, end));
            }
        }
        (">=", _) => iv.raise_lo(incl(lower)),
        // npm: `>20` means >=21.0.0; PEP 440: `>3.9` allows 3.9.1.
        (">", Dialect::Node) => {
            if let Some(end) = p.next() {
                iv.raise_lo(incl(end));
            }
        }
        (">", Dialect::Python) => iv.raise_lo(excl(lower)),
        ("<", _) => iv.lower_hi(excl(lower)),
        // npm: `<=20` means <21.0.0; PEP 440 zero-pads: `<=3.11` is <=3.11.0.
        ("<=", Dialect::Node) => {
            if let Some(end) = p.next() {
                iv.lower_hi(excl(end));
            }
        }
        ("<=", Dialect::Python) => iv.lower_hi(incl(lower)),
        ("~=", _) => {
            if p.parts.len() < 2 {
                return Err(format!("~={ver} needs at least two parts"));
            }
            iv.raise_lo(incl(lower));
            let up = Partial {
                parts: p.parts[..p.parts.len() - 1].to_vec(),
            };
            if let Some(end) = up.next() {
                iv.lower_hi(excl(end));
            }
        }
        ("^", _) => {
            iv.raise_lo(incl(lower));
            if let Some(end) = p.caret_end() {
                iv.lower_hi(excl(end));
            }
        }
        ("~", _) => {
            iv.raise_lo(incl(lower));
            // ~3.11 / ~3.11.2 → <3.12; ~3 → <4 (poetry and npm agree).
            let up = Partial {
                parts: p.parts.iter().take(2).copied().collect(),
            };
            if let Some(end) = up.next() {
                iv.lower_hi(excl(end));
            }
        }
        _ => return Err(format!("unknown operator {op:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn py(s: &str) -> Requirement {
        Requirement::parse(Dialect::Python, s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn node(s: &str) -> Requirement {
        Requirement::parse(Dialect::Node, s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn versions_parse_leniently() {
        assert_eq!(v("3.12"), Version::new(3, 12, 0));
        assert_eq!(v("v20.11.1"), Version::new(20, 11, 1));
        assert_eq!(v("3.13.0rc1"), Version::new(3, 13, 0));
        assert_eq!(Version::parse("pypy3.10"), None);
        assert_eq!(Version::parse(""), None);
        assert_eq!(v("3.11.7").to_string(), "3.11.7");
    }

    #[test]
    fn python_requirements_as_projects_write_them() {
        // (requirement, lines that fit among 3.6 … 3.14)
        let cases: &[(&str, &[&str])] = &[
            ("3.12", &["3.12"]),
            ("3.12.1", &["3.12"]),
            ("==3.12.*", &["3.12"]),
            ("==3.12", &["3.12"]),
            (">=3.9", &["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]),
            (">=3.9,<3.12", &["3.9", "3.10", "3.11"]),
            (">=3.10, <4.0", &["3.10", "3.11", "3.12", "3.13", "3.14"]),
            ("^3.11", &["3.11", "3.12", "3.13", "3.14"]),
            ("~3.11", &["3.11"]),
            ("~=3.10", &["3.10", "3.11", "3.12", "3.13", "3.14"]),
            ("~=3.10.2", &["3.10"]),
            (">3.9", &["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]),
            ("<=3.8", &["3.6", "3.7", "3.8"]),
            (
                ">=3.8,!=3.9.*",
                &["3.8", "3.10", "3.11", "3.12", "3.13", "3.14"],
            ),
            (">=3.7,<3.8 || >=3.12", &["3.7", "3.12", "3.13", "3.14"]),
            (
                "*",
                &[
                    "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14",
                ],
            ),
        ];
        let lines: Vec<Version> = (6..=14).map(|m| Version::new(3, m, 0)).collect();
        for (req, want) in cases {
            let r = py(req);
            let got: Vec<String> = lines
                .iter()
                .filter(|l| r.fits_line(**l))
                .map(|l| Dialect::Python.line_name(*l))
                .collect();
            assert_eq!(got, *want, "{req}");
        }
    }

    #[test]
    fn exact_pins_match_their_patch_but_fit_their_whole_line() {
        let r = py("3.12.4");
        assert!(r.matches(v("3.12.4")));
        assert!(!r.matches(v("3.12.1")));
        assert!(r.fits_line(v("3.12.1")));
        assert_eq!(r.single_line(), Some(v("3.12")));
        assert_eq!(py(">=3.9").single_line(), None);
        assert_eq!(py("~=3.10.2").single_line(), Some(v("3.10")));
        assert!(py("~=3.10.2").matches(v("3.10.5")));
        assert!(!py("~=3.10.2").matches(v("3.10.1")));
    }

    #[test]
    fn node_ranges_as_package_json_writes_them() {
        let cases: &[(&str, &[u32])] = &[
            ("20", &[20]),
            ("20.11.1", &[20]),
            ("20.x", &[20]),
            (">=18", &[18, 20, 22, 24]),
            (">=18.17.0", &[18, 20, 22, 24]),
            (">18", &[20, 22, 24]),
            ("<=20", &[16, 18, 20]),
            ("^20.11.0", &[20]),
            ("~20.1", &[20]),
            (">=18 <21", &[18, 20]),
            ("^20 || ^22", &[20, 22]),
            ("18 - 20", &[18, 20]),
            ("lts/*", &[16, 18, 20, 22, 24]),
            ("24.7.0", &[24]),
        ];
        let lines: Vec<Version> = [16, 18, 20, 22, 24]
            .iter()
            .map(|m| Version::new(*m, 0, 0))
            .collect();
        for (req, want) in cases {
            let r = node(req);
            let got: Vec<u32> = lines
                .iter()
                .filter(|l| r.fits_line(**l))
                .map(|l| l.major)
                .collect();
            assert_eq!(got, *want, "{req}");
        }
        assert!(node(">=18 <21").matches(v("20.20.2")));
        assert!(!node("^22").matches(v("20.20.2")));
    }

    #[test]
    fn machine_too_new_or_too_old() {
        assert!(node("18").entirely_below(v("20.20.2")));
        assert!(!node("22").entirely_below(v("20.20.2")));
        assert!(!node(">=18").entirely_below(v("20.20.2")));
        assert!(py("<3.8").entirely_below(v("3.11.2")));
        assert_eq!(node("^22").lowest(), Some(v("22")));
        assert_eq!(node("^20 || >=22").lowest(), Some(v("20")));
        assert_eq!(py("<3.12").lowest(), None);
    }

    #[test]
    fn picking_prefers_the_planned_line_then_the_newest_that_fits() {
        let have: Vec<Version> = ["3.6.15", "3.11.7", "3.12.1", "3.13.0"]
            .iter()
            .map(|s| v(s))
            .collect();
        assert_eq!(
            py(">=3.9").pick_line(&have, Some(v("3.12"))),
            Some(v("3.12"))
        );
        assert_eq!(py(">=3.9").pick_line(&have, None), Some(v("3.13")));
        assert_eq!(
            py("<3.12").pick_line(&have, Some(v("3.12"))),
            Some(v("3.11"))
        );
        assert_eq!(py("3.10").pick_line(&have, None), None);
        assert_eq!(py("3.12.5").pick_line(&have, None), Some(v("3.12")));
    }

    #[test]
    fn unreadable_requirements_are_errors_not_guesses() {
        for bad in ["pypy3.10", "3.12; rm -rf /", ">=", "abc", "3.12 && curl x"] {
            assert!(Requirement::parse(Dialect::Python, bad).is_err(), "{bad}");
        }
        assert!(py("").is_any());
        assert!(node("lts/*").is_any());
        assert!(!py(">=3.9").is_any());
    }
}
