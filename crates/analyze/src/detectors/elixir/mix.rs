//! `mix.exs`: the application name, Elixir version, production dependencies
//! (`only:` dev/test deps left out), aliases, release names, whether the
//! project starts an application callback (`mod:`), and umbrella layout.
//!
//! Read with patterns, not evaluated: a `mix.exs` is Elixir code, so values
//! computed at run time are simply not seen.

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

#[derive(Debug, Default, Clone)]
pub struct MixProject {
    pub app: Option<String>,
    /// (`1.15`, line)
    pub elixir: Option<(String, u32)>,
    /// Production dependencies: name → line.
    pub deps: BTreeMap<String, u32>,
    /// Names of the aliases defined (`assets.deploy`, `setup`…).
    pub aliases: Vec<String>,
    /// First release name under `releases:`.
    pub release: Option<String>,
    /// `mod: {App.Application, []}`: the project starts a supervision tree.
    pub has_mod: bool,
    /// Umbrella: folder holding the child apps.
    pub apps_path: Option<String>,
}

static APP: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bapp:\s*:(\w+)").expect("regex"));
static ELIXIR: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\belixir:\s*"[~>=< ]*(\d+\.\d+)"#).expect("regex"));
static APPS_PATH: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r#"\bapps_path:\s*"([^"]+)""#).expect("regex"));
static MOD: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bmod:\s*\{").expect("regex"));
static RELEASES: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\breleases:\s*\[\s*(\w+):").expect("regex"));
static DEPS_FN: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?m)^[ \t]*defp?\s+deps\b").expect("regex"));
static NEXT_FN: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?m)^[ \t]*defp?\s+\w+").expect("regex"));
static DEP: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r"\{\s*:(\w+)\s*(,[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}").expect("regex")
});
static ONLY: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"\bonly:\s*(\[[^\]]*\]|:\w+)").expect("regex"));
static ALIAS: LazyLock<Regex> = LazyLock::new(|| {
    crate::scan::try_regex(r#"(?m)^[ \t]*(?:"([\w.-]+)"|([a-z_]\w*)):\s*(?:\[|&|fn|"|~w)"#)
        .expect("regex")
});
static ALIASES_FN: LazyLock<Regex> =
    LazyLock::new(|| crate::scan::try_regex(r"(?m)^[ \t]*defp?\s+aliases\b").expect("regex"));

/// The body of `def(p) name … ` up to the next function definition.
fn fn_body<'a>(text: &'a str, start_re: &Regex) -> Option<(&'a str, usize)> {
    let m = start_re.find(text)?;
    let rest = &text[m.end()..];
    let end = NEXT_FN.find(rest).map(|n| n.start()).unwrap_or(rest.len());
    Some((&rest[..end], m.end()))
}

pub fn parse(text: &str) -> MixProject {
    let mut p = MixProject {
        app: APP.captures(text).map(|c| c[1].to_string()),
        apps_path: APPS_PATH.captures(text).map(|c| c[1].to_string()),
        has_mod: MOD.is_match(text),
        release: RELEASES.captures(text).map(|c| c[1].to_string()),
        ..MixProject::default()
    };
    if let Some(c) = ELIXIR.captures(text) {
        let at = c.get(0).map(|m| m.start()).unwrap_or(0);
        p.elixir = Some((c[1].to_string(), crate::scan::line_of(text, at)));
    }
    if let Some((body, offset)) = fn_body(text, &DEPS_FN) {
        for c in DEP.captures_iter(body) {
            let opts = c.get(2).map(|m| m.as_str()).unwrap_or("");
            let prod = match ONLY.captures(opts) {
                Some(o) => o[1].contains(":prod"),
                None => true,
            };
            if prod {
                let at = offset + c.get(0).map(|m| m.start()).unwrap_or(0);
                p.deps
                    .entry(c[1].to_string())
                    .or_insert(crate::scan::line_of(text, at));
            }
        }
    }
    if let Some((body, _)) = fn_body(text, &ALIASES_FN) {
        for c in ALIAS.captures_iter(body) {
            if let Some(name) = c.get(1).or(c.get(2)) {
                p.aliases.push(name.as_str().to_string());
            }
        }
    }
    p
}

/// `1.16.2-otp-26` → `1.16.2` from `.tool-versions`.
pub fn tool_version(text: &str, tool: &str) -> Option<(String, u32)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let mut parts = l.split_whitespace();
        if parts.next() != Some(tool) {
            return None;
        }
        let v = parts.next()?.split("-otp").next()?.trim();
        (!v.is_empty() && v.chars().next()?.is_ascii_digit()).then(|| (v.to_string(), i as u32 + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_deps_and_aliases() {
        let p = parse(
            r#"defmodule Shop.MixProject do
  use Mix.Project

  def project do
    [app: :shop, version: "0.1.0", elixir: "~> 1.15", deps: deps(), aliases: aliases(),
     releases: [shop_web: [include_executables_for: [:unix]]]]
  end

  def application, do: [mod: {Shop.Application, []}, extra_applications: [:logger]]

  defp deps do
    [
      {:phoenix, "~> 1.7"},
      {:postgrex, ">= 0.0.0"},
      {:floki, ">= 0.30.0", only: :test},
      {:credo, "~> 1.7", only: [:dev, :test], runtime: false},
      {:redix, "~> 1.1", only: [:dev, :prod]},
      {:heroicons, github: "tailwindlabs/heroicons", tag: "v2.1.1", sparse: "optimized", app: false, compile: false, depth: 1},
      {:tz, git: "https://e.com/tz.git", override: true, opts: {:a, :b}}
    ]
  end

  defp aliases do
    [
      setup: ["deps.get"],
      "assets.deploy": ["esbuild default --minify", "phx.digest"]
    ]
  end
end
"#,
        );
        assert_eq!(p.app.as_deref(), Some("shop"));
        assert_eq!(p.elixir.as_ref().map(|e| e.0.as_str()), Some("1.15"));
        let deps: Vec<&str> = p.deps.keys().map(String::as_str).collect();
        assert_eq!(
            deps,
            vec!["heroicons", "phoenix", "postgrex", "redix", "tz"]
        );
        assert_eq!(p.deps["phoenix"], 13);
        assert_eq!(p.aliases, vec!["setup", "assets.deploy"]);
        assert_eq!(p.release.as_deref(), Some("shop_web"));
        assert!(p.has_mod);
        assert!(p.apps_path.is_none());
    }

    #[test]
    fn tool_versions() {
        let t = "erlang 26.2.2\nelixir 1.16.2-otp-26\n";
        assert_eq!(tool_version(t, "elixir"), Some(("1.16.2".into(), 2)));
        assert_eq!(tool_version("elixir ref:main\n", "elixir"), None);
    }
}
