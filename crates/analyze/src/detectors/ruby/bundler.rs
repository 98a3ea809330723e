//! Bundler: what a `Gemfile` declares (gems, their groups, the Ruby version)
//! and the few facts read from `Gemfile.lock` (that it exists, the locked
//! rack version, the locked Ruby version).
//!
//! Deliberately not here: what a gem means (frameworks, databases) — that is
//! the tables in `mod.rs`. The lockfile never adds dependencies: databases
//! come from gems the Gemfile declares directly.

use crate::ctx::Ctx;
use crate::repo::join;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One gem the Gemfile declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gem {
    pub line: u32,
    /// Only in `development`/`test` groups: not installed in production.
    pub dev_only: bool,
}

#[derive(Debug, Default)]
pub struct Bundle {
    /// Path of the Gemfile (repo-relative), when there is one.
    pub gemfile: Option<String>,
    pub gems: BTreeMap<String, Gem>,
    /// Some gems live only in development/test groups.
    pub has_dev_groups: bool,
    pub lockfile: Option<String>,
    /// Major version of `rack` in the lockfile.
    pub locked_rack_major: Option<u32>,
    /// Locked gem names (to tell whether `rackup` is installed at all).
    pub locked: Vec<String>,
    /// (version, file, line)
    pub ruby: Option<(String, String, Option<u32>)>,
}

impl Bundle {
    /// A gem installed in production.
    pub fn prod(&self, name: &str) -> Option<&Gem> {
        self.gems.get(name).filter(|g| !g.dev_only)
    }

    pub fn has(&self, name: &str) -> bool {
        self.prod(name).is_some()
    }

    /// Evidence-ready location of a production gem.
    pub fn at(&self, name: &str) -> Option<(String, u32)> {
        let g = self.prod(name)?;
        Some((self.gemfile.clone()?, g.line))
    }
}

static GEM: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"^\s*gem\s*\(?\s*["']([A-Za-z0-9_.-]+)["'](.*)$"#).expect("regex")
});
static GROUP_OPT: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\bgroups?\s*:\s*(\[[^\]]*\]|%i\[[^\]]*\]|%i\([^)]*\)|:\w+)|:groups?\s*=>\s*(\[[^\]]*\]|:\w+)")
        .expect("regex")
});
static GROUP_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"^\s*group\s*\(?\s*(.+?)\)?\s+do\b").expect("regex"));
static BLOCK_OPEN: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bdo\s*(?:\|[^|]*\|)?\s*$").expect("regex"));
static BLOCK_END: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"^\s*end\b").expect("regex"));
static RUBY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"^\s*ruby\s*\(?\s*["']([^"']+)["']"#).expect("regex")
});
static RUBY_FILE: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"^\s*ruby\s*\(?\s*file:\s*["']([^"']+)["']"#).expect("regex")
});
static VERSION: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(\d+\.\d+(?:\.\d+)?)").expect("regex"));
static GROUP_NAME: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\w+").expect("regex"));

/// Are all group names in `spec` (`:development, :test`, `[:test]`, `%i[development test]`)
/// development or test groups?
fn dev_groups(spec: &str) -> bool {
    let names: Vec<&str> = GROUP_NAME
        .find_iter(spec)
        .map(|m| m.as_str())
        .filter(|n| *n != "i")
        .collect();
    !names.is_empty()
        && names
            .iter()
            .all(|n| matches!(*n, "development" | "test" | "dev"))
}

/// Cut a `# comment` that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// What a Gemfile's text says.
#[derive(Debug, Default)]
pub struct Gemfile {
    pub gems: BTreeMap<String, Gem>,
    /// Some gems are only for development/test.
    pub has_dev: bool,
    /// `ruby "3.3.0"`: (version, line)
    pub ruby: Option<(String, u32)>,
    /// `ruby file: ".ruby-version"`
    pub ruby_file: Option<String>,
}

/// Parse a Gemfile's text.
pub fn parse_gemfile(text: &str) -> Gemfile {
    let mut gems = BTreeMap::new();
    let mut has_dev = false;
    let mut ruby = None;
    let mut ruby_file = None;
    // Open blocks: true when the block is a development/test group.
    let mut stack: Vec<bool> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let line = strip_comment(raw);
        if BLOCK_END.is_match(line) {
            stack.pop();
            continue;
        }
        if let Some(c) = GROUP_BLOCK.captures(line) {
            let dev = dev_groups(&c[1]);
            has_dev |= dev;
            stack.push(dev);
            continue;
        }
        if let Some(c) = GEM.captures(line) {
            let opt_dev = GROUP_OPT
                .captures(&c[2])
                .and_then(|g| g.get(1).or(g.get(2)))
                .map(|g| dev_groups(g.as_str()));
            let dev_only = opt_dev.unwrap_or(false) || stack.iter().any(|d| *d);
            has_dev |= dev_only;
            gems.entry(c[1].to_string()).or_insert(Gem {
                line: line_no,
                dev_only,
            });
            if BLOCK_OPEN.is_match(line) {
                stack.push(false);
            }
            continue;
        }
        if let Some(c) = RUBY_FILE.captures(line) {
            ruby_file = Some(c[1].to_string());
        } else if let Some(c) = RUBY_LINE.captures(line) {
            if let Some(v) = VERSION.captures(&c[1]) {
                ruby = Some((v[1].to_string(), line_no));
            }
        }
        if BLOCK_OPEN.is_match(line) {
            stack.push(false);
        }
    }
    Gemfile {
        gems,
        has_dev,
        ruby,
        ruby_file,
    }
}

/// Read the Gemfile, Gemfile.lock and version files of `dir`.
pub fn read(ctx: &Ctx, dir: &str) -> Bundle {
    let mut b = Bundle::default();
    let gemfile_name = ctx.first_of(dir, &["Gemfile", "gems.rb"]);
    if let Some(name) = gemfile_name {
        let path = join(dir, name);
        if let Some(text) = ctx.read_path(&path) {
            let g = parse_gemfile(&text);
            b.gems = g.gems;
            b.has_dev_groups = g.has_dev;
            if let Some((v, l)) = g.ruby {
                b.ruby = Some((v, path.clone(), Some(l)));
            }
            if let Some(f) = g.ruby_file {
                b.ruby = version_file(ctx, dir, &f).or(b.ruby.take());
            }
        }
        b.gemfile = Some(path);
    }
    let lock_name = match gemfile_name {
        Some("gems.rb") => "gems.locked",
        _ => "Gemfile.lock",
    };
    if let Some(text) = ctx.read(dir, lock_name) {
        let path = join(dir, lock_name);
        parse_lock(&text, &mut b, &path);
        b.lockfile = Some(path);
    }
    // .ruby-version and .tool-versions are what version managers (and the Gemfile's
    // `ruby file:`) use; they name the exact version.
    if let Some(v) = version_file(ctx, dir, ".ruby-version").or_else(|| tool_versions(ctx, dir)) {
        b.ruby = Some(v);
    }
    b
}

fn version_file(ctx: &Ctx, dir: &str, name: &str) -> Option<(String, String, Option<u32>)> {
    let text = ctx.read(dir, name)?;
    let first = text.lines().next()?.trim();
    let first = first.strip_prefix("ruby-").unwrap_or(first);
    let v = VERSION.captures(first)?;
    Some((v[1].to_string(), join(dir, name), Some(1)))
}

fn tool_versions(ctx: &Ctx, dir: &str) -> Option<(String, String, Option<u32>)> {
    let text = ctx.read(dir, ".tool-versions")?;
    text.lines().enumerate().find_map(|(i, l)| {
        let mut parts = l.split_whitespace();
        (parts.next() == Some("ruby"))
            .then(|| parts.next())
            .flatten()
            .and_then(|v| VERSION.captures(v))
            .map(|v| {
                (
                    v[1].to_string(),
                    join(dir, ".tool-versions"),
                    Some(i as u32 + 1),
                )
            })
    })
}

/// The facts kept from a lockfile: locked gem names, rack's major version, the Ruby
/// version (which wins over the Gemfile's `ruby` constraint).
fn parse_lock(text: &str, b: &mut Bundle, path: &str) {
    static SPEC: LazyLock<Regex> = LazyLock::new(|| {
        crate::scan::try_regex(r"^    ([A-Za-z0-9_.-]+) \((\d+)[^)]*\)\s*$").expect("regex")
    });
    let mut in_ruby = false;
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = SPEC.captures(line) {
            if &c[1] == "rack" {
                b.locked_rack_major = c[2].parse().ok();
            }
            b.locked.push(c[1].to_string());
        }
        if line.trim() == "RUBY VERSION" {
            in_ruby = true;
            continue;
        }
        if in_ruby {
            in_ruby = false;
            // The exact version the Gemfile's constraint was locked with.
            if let Some(v) = line
                .trim()
                .strip_prefix("ruby ")
                .and_then(|v| VERSION.captures(v))
            {
                b.ruby = Some((v[1].to_string(), path.to_string(), Some(i as u32 + 1)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_blocks_and_options() {
        let Gemfile {
            gems,
            has_dev,
            ruby,
            ..
        } = parse_gemfile(
            r#"source "https://rubygems.org"
ruby "~> 3.2.2"
gem "rails", "~> 7.1" # the framework
gem 'pg'
gem "rspec", group: :test
gem "pry", groups: [:development, :test]
gem "sentry", group: [:production]
platforms :ruby do
  gem "oj"
end
group :development, :test do
  gem "sqlite3"
  group :test do
    gem "capybara"
  end
  gem "debug"
end
group(:production) do
  gem "redis"
end
gem "puma"
"#,
        );
        let dev = |n: &str| gems[n].dev_only;
        assert!(!dev("rails") && !dev("pg") && !dev("oj") && !dev("sentry"));
        assert!(dev("rspec") && dev("pry") && dev("sqlite3") && dev("capybara") && dev("debug"));
        assert!(!dev("redis") && !dev("puma"), "blocks closed correctly");
        assert!(has_dev);
        assert_eq!(ruby, Some(("3.2.2".into(), 2)));
        assert_eq!(gems["pg"].line, 4);
    }

    #[test]
    fn gem_with_block_and_comment_hash_in_string() {
        let Gemfile {
            gems,
            has_dev,
            ruby_file,
            ..
        } = parse_gemfile(
            "ruby file: \".ruby-version\"\ngem \"x\", git: \"https://e.com/x#main\" do\nend\ngem \"y\"\n",
        );
        assert!(!gems["y"].dev_only);
        assert!(!has_dev);
        assert_eq!(ruby_file.as_deref(), Some(".ruby-version"));
    }
}
