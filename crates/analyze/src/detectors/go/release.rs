//! A Go program's own "migrate and exit" switch: a boolean command-line
//! flag named for migrations (`flag.BoolVar(&flagMigrate, "migrate", …)`)
//! whose `if` block returns or exits (miniflux's `-migrate`). Run with it,
//! the binary migrates the schema and stops: the release step, run once per
//! deploy before the new version takes traffic, instead of every copy
//! migrating as it starts.
//!
//! Not here: flags that migrate and then go on serving (the block neither
//! returns nor exits: running it as a release would never end), cobra
//! subcommands, flags of another `package main` than the one deployed.

use crate::scan::line_of;
use regex::Regex;
use std::sync::LazyLock;

/// Flag names that mean "run the migrations".
const NAMES: &[&str] = &["migrate", "migrations", "db-migrate", "migrate-db"];

/// `flag.BoolVar(&name, "migrate", …)` (1: the variable, 2: the flag) or
/// `name := flag.Bool("migrate", …)` (3: the variable, 4: the flag).
static BOOL_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(
        r#"flag\.BoolVar\(\s*&\s*([A-Za-z_]\w*)\s*,\s*"([\w-]+)"|([A-Za-z_]\w*)\s*:?=\s*flag\.Bool\(\s*"([\w-]+)""#,
    )
    .expect("regex")
});

/// The migrate flag `text` defines and acts on by migrating and stopping:
/// (flag name, line of its definition).
pub(super) fn migrate_flag(text: &str) -> Option<(String, u32)> {
    if !text.contains("flag.Bool") {
        return None;
    }
    for c in BOOL_FLAG.captures_iter(text) {
        let (var, pointer) = match (c.get(1), c.get(3)) {
            (Some(v), _) => (v.as_str(), false),
            (None, Some(v)) => (v.as_str(), true),
            _ => continue,
        };
        let Some(flag) = c.get(2).or_else(|| c.get(4)) else {
            continue;
        };
        if !NAMES.contains(&flag.as_str()) {
            continue;
        }
        let test = if pointer {
            format!("if *{var} {{")
        } else {
            format!("if {var} {{")
        };
        if stops_after(text, &test) {
            let line = line_of(text, c.get(0).map(|m| m.start()).unwrap_or(0));
            return Some((flag.as_str().to_string(), line));
        }
    }
    None
}

/// The block opened by the line `test` (`if flagMigrate {`) returns or
/// exits before it closes: the program stops after it.
fn stops_after(text: &str, test: &str) -> bool {
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.trim() != test {
            continue;
        }
        let indent = &l[..l.len() - l.trim_start().len()];
        let close = format!("{indent}}}");
        for body in lines.by_ref() {
            if body.trim_end() == close {
                break;
            }
            let t = body.trim();
            if t == "return"
                || t.starts_with("return ")
                || t.starts_with("os.Exit(")
                || t.starts_with("log.Fatal")
            {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// miniflux: the flag's block migrates and returns.
    #[test]
    fn a_migrate_flag_that_returns_is_found() {
        let text = "package cli\n\nfunc Parse() {\n\tvar flagMigrate bool\n\tflag.BoolVar(&flagMigrate, \"migrate\", false, \"Run SQL migrations\")\n\tflag.Parse()\n\n\tif flagMigrate {\n\t\tif err := database.Migrate(db); err != nil {\n\t\t\tprintErrorAndExit(err)\n\t\t}\n\t\treturn\n\t}\n\tserve()\n}\n";
        assert_eq!(migrate_flag(text), Some(("migrate".into(), 5)));
        let pointer = "package main\n\nfunc main() {\n\tmigrate := flag.Bool(\"migrate\", false, \"\")\n\tflag.Parse()\n\tif *migrate {\n\t\trunMigrations()\n\t\tos.Exit(0)\n\t}\n\tserve()\n}\n";
        assert_eq!(migrate_flag(pointer), Some(("migrate".into(), 4)));
    }

    /// A flag that migrates and goes on serving is no release step (it
    /// would never end), nor is a flag of another name.
    #[test]
    fn a_migrate_flag_that_serves_on_or_another_flag_is_not() {
        let serves = "package main\n\nfunc main() {\n\tmigrate := flag.Bool(\"migrate\", false, \"\")\n\tflag.Parse()\n\tif *migrate {\n\t\trunMigrations()\n\t}\n\tserve()\n}\n";
        assert_eq!(migrate_flag(serves), None);
        let other = "package main\n\nfunc main() {\n\tv := flag.Bool(\"version\", false, \"\")\n\tflag.Parse()\n\tif *v {\n\t\treturn\n\t}\n}\n";
        assert_eq!(migrate_flag(other), None);
    }
}
