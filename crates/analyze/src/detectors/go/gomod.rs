//! `go.mod` reading: module path, `go`/`toolchain` directives and the
//! `require`d modules, each marked direct or `// indirect`.
//!
//! Not a full parser of the go.mod grammar: `replace`, `exclude` and `retract`
//! are skipped, and a malformed line is ignored rather than reported.

/// One `require`d module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Require {
    /// Module path as written (`github.com/labstack/echo/v4`).
    pub path: String,
    pub version: String,
    /// 1-based line in go.mod.
    pub line: u32,
    /// Marked `// indirect`: a dependency of a dependency.
    pub indirect: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GoMod {
    pub module: Option<String>,
    /// `go 1.22` → `1.22`.
    pub go: Option<(String, u32)>,
    pub requires: Vec<Require>,
}

impl GoMod {
    /// Direct requirements only.
    pub fn direct(&self) -> impl Iterator<Item = &Require> {
        self.requires.iter().filter(|r| !r.indirect)
    }

    /// Last element of the module path without a `/vN` major-version suffix
    /// (`github.com/acme/api/v2` → `api`).
    pub fn short_name(&self) -> Option<String> {
        let m = strip_major(self.module.as_deref()?);
        let last = m.rsplit('/').next().unwrap_or(m).trim();
        (!last.is_empty()).then(|| last.to_string())
    }
}

/// `github.com/jackc/pgx/v5` → `github.com/jackc/pgx`; other paths unchanged.
pub fn strip_major(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some((head, tail))
            if tail.len() >= 2
                && tail.starts_with('v')
                && tail[1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            head
        }
        _ => path,
    }
}

pub fn parse(text: &str) -> GoMod {
    let mut m = GoMod::default();
    // Which block we are in: Some("require"), Some("replace"), …
    let mut block: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let (code, comment) = match raw.find("//") {
            Some(at) => (&raw[..at], &raw[at + 2..]),
            None => (raw, ""),
        };
        let indirect = comment.trim_start().starts_with("indirect");
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if let Some(b) = &block {
            if code == ")" {
                block = None;
                continue;
            }
            if b == "require" {
                push_require(&mut m, code, line_no, indirect);
            }
            continue;
        }
        let (verb, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
        let rest = rest.trim();
        if rest == "(" {
            block = Some(verb.to_string());
            continue;
        }
        match verb {
            "module" => m.module = Some(rest.trim_matches('"').to_string()),
            "go" if !rest.is_empty() => m.go = Some((rest.to_string(), line_no)),
            "require" => push_require(&mut m, rest, line_no, indirect),
            _ => {}
        }
    }
    m
}

fn push_require(m: &mut GoMod, spec: &str, line: u32, indirect: bool) {
    let mut parts = spec.split_whitespace();
    let (Some(path), Some(version)) = (parts.next(), parts.next()) else {
        return;
    };
    m.requires.push(Require {
        path: path.trim_matches('"').to_string(),
        version: version.to_string(),
        line,
        indirect,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_and_indirect_requires() {
        let m = parse(
            "module github.com/acme/api/v2\n\ngo 1.22\n\ntoolchain go1.22.4\n\nrequire github.com/lib/pq v1.10.9\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n\tgithub.com/redis/go-redis/v9 v9.5.1 // indirect\n)\n\nreplace (\n\tgithub.com/x/y => ../y\n)\n",
        );
        assert_eq!(m.module.as_deref(), Some("github.com/acme/api/v2"));
        assert_eq!(m.short_name().as_deref(), Some("api"));
        assert_eq!(m.go, Some(("1.22".into(), 3)));
        let direct: Vec<&str> = m.direct().map(|r| r.path.as_str()).collect();
        assert_eq!(
            direct,
            vec!["github.com/lib/pq", "github.com/gin-gonic/gin"]
        );
        assert_eq!(m.requires.len(), 3);
        assert!(m.requires[2].indirect);
        assert_eq!(m.requires[1].line, 10);
    }

    #[test]
    fn malformed_lines_are_ignored() {
        let m = parse("module\nrequire (\nbroken\n");
        assert_eq!(m.module.as_deref(), Some(""));
        assert!(m.requires.is_empty());
        assert_eq!(parse("\u{0}\u{1}").requires.len(), 0);
    }

    #[test]
    fn major_suffix() {
        assert_eq!(
            strip_major("github.com/jackc/pgx/v5"),
            "github.com/jackc/pgx"
        );
        assert_eq!(
            strip_major("gorm.io/driver/postgres"),
            "gorm.io/driver/postgres"
        );
        assert_eq!(strip_major("github.com/x/v"), "github.com/x/v");
    }
}
