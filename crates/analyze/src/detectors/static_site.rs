//! Static sites: plain HTML folders (an `index.html` and no app around it) and
//! the common static-site generators — Hugo, Zola, Jekyll, MkDocs — each a row
//! of [`GENERATORS`]: how it is recognised, how it is built, where the output
//! lands.
//!
//! A plain folder of HTML is the weakest evidence there is (strength 1):
//! `resolve` drops it when it sits inside another app (Flask templates, a
//! SPA's `public/`) or next to a stronger draft. A generator's config file is
//! strong evidence (strength 6), so a Jekyll site comes out as a static site
//! even though its Gemfile also makes it a Ruby project.
//!
//! Deliberately not here: JavaScript-built sites (Vite, Next export, Astro,
//! Docusaurus) — the Node detector reads `package.json` for those.

use crate::ctx::Ctx;
use crate::detectors::Detector;
use crate::draft::{ev, Draft, Trust};
use crate::repo::join;
use autodeploy_core::{Evidence, Language, ServiceKind};

pub struct StaticSite;

/// What a generator needs to build a site.
struct Build {
    evidence: Evidence,
    build: String,
    install: Option<String>,
    package_manager: Option<&'static str>,
    static_dir: String,
}

/// One static-site generator.
struct Generator {
    name: &'static str,
    /// Recognise the generator in `dir` and say how to build it.
    detect: fn(&Ctx, &str) -> Option<Build>,
}

const GENERATORS: &[Generator] = &[
    Generator {
        name: "hugo",
        detect: hugo,
    },
    Generator {
        name: "zola",
        detect: zola,
    },
    Generator {
        name: "jekyll",
        detect: jekyll,
    },
    Generator {
        name: "mkdocs",
        detect: mkdocs,
    },
];

impl Detector for StaticSite {
    fn name(&self) -> &'static str {
        "static_site"
    }

    fn markers(&self) -> &'static [&'static str] {
        &[
            "index.html",
            "index.htm",
            "hugo.toml",
            "hugo.yaml",
            "hugo.yml",
            "hugo.json",
            "config.toml",
            "config.yaml",
            "config.yml",
            "_config.yml",
            "mkdocs.yml",
            "mkdocs.yaml",
        ]
    }

    fn detect(&self, ctx: &Ctx, dir: &str) -> Vec<Draft> {
        for g in GENERATORS {
            if let Some(b) = (g.detect)(ctx, dir) {
                let mut d = Draft::new(dir, Language::Html, ServiceKind::Static);
                d.strength = 6.0;
                d.has_manifest = true;
                d.set_framework(g.name, b.evidence.clone());
                d.note("language", b.evidence.clone());
                d.build(b.build, Trust::Inferred, b.evidence.clone());
                d.install = b.install;
                d.package_manager = b.package_manager.map(str::to_string);
                d.static_dir = Some(b.static_dir);
                d.note("static_dir", b.evidence);
                return vec![d];
            }
        }
        let Some(index) = ctx.first_of(dir, &["index.html", "index.htm"]) else {
            return Vec::new();
        };
        let file = join(dir, index);
        let mut d = Draft::new(dir, Language::Html, ServiceKind::Static);
        d.strength = 1.0;
        d.set_framework("static", ev(&file, None, "index.html"));
        d.note("language", ev(&file, None, "HTML page"));
        d.static_dir = Some(".".into());
        d.note("static_dir", ev(&file, None, "served as is"));
        vec![d]
    }
}

/// True when `dir` has a subfolder called `name` (with at least one file in it).
fn has_dir(ctx: &Ctx, dir: &str, name: &str) -> bool {
    let sub = join(dir, name);
    ctx.index().files_under(&sub).next().is_some()
}

fn hugo(ctx: &Ctx, dir: &str) -> Option<Build> {
    let specific = ["hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json"];
    let structure = ["content", "layouts", "themes", "archetypes"]
        .iter()
        .any(|d| has_dir(ctx, dir, d));
    let config = match ctx.first_of(dir, &specific) {
        Some(c) => c,
        None => {
            // `config.toml` is Hugo's only when it reads like Hugo (and the tree looks like a site).
            let c = ctx.first_of(dir, &["config.toml", "config.yaml", "config.yml"])?;
            let text = ctx.read(dir, c)?;
            let hugo_keys = text.contains("baseURL")
                || text.contains("baseurl")
                || (text.contains("theme") && text.contains("languageCode"));
            if !(hugo_keys && structure && !text.contains("base_url")) {
                return None;
            }
            c
        }
    };
    if !structure && !config.starts_with("hugo.") {
        return None;
    }
    let file = join(dir, config);
    Some(Build {
        evidence: ev(&file, None, "Hugo site configuration"),
        build: "hugo --minify".into(),
        install: None,
        package_manager: None,
        static_dir: "public".into(),
    })
}

fn zola(ctx: &Ctx, dir: &str) -> Option<Build> {
    let text = ctx.read(dir, "config.toml")?;
    if !text.contains("base_url")
        || !(has_dir(ctx, dir, "templates") || has_dir(ctx, dir, "content"))
    {
        return None;
    }
    Some(Build {
        evidence: ev(
            &join(dir, "config.toml"),
            None,
            "Zola site configuration (base_url)",
        ),
        build: "zola build".into(),
        install: None,
        package_manager: None,
        static_dir: "public".into(),
    })
}

fn jekyll(ctx: &Ctx, dir: &str) -> Option<Build> {
    if !ctx.has(dir, "_config.yml") {
        return None;
    }
    let gemfile = ctx.read(dir, "Gemfile");
    let gem_says = gemfile.as_deref().is_some_and(|g| {
        g.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("gem")
                && (l.contains("\"jekyll\"")
                    || l.contains("'jekyll'")
                    || l.contains("github-pages"))
        })
    });
    let layout_says = ["_posts", "_layouts", "_includes", "_data"]
        .iter()
        .any(|d| has_dir(ctx, dir, d));
    if !(gem_says || gemfile.is_none() && layout_says) {
        return None;
    }
    let config = join(dir, "_config.yml");
    let (install, build, pm) = if gemfile.is_some() {
        (
            "bundle install",
            "bundle exec jekyll build",
            Some("bundler"),
        )
    } else {
        ("gem install jekyll", "jekyll build", None)
    };
    Some(Build {
        evidence: ev(
            &config,
            None,
            if gem_says {
                "Jekyll site (_config.yml, Gemfile declares jekyll)"
            } else {
                "Jekyll site (_config.yml and _layouts/_posts)"
            },
        ),
        build: build.into(),
        install: Some(install.into()),
        package_manager: pm,
        static_dir: "_site".into(),
    })
}

fn mkdocs(ctx: &Ctx, dir: &str) -> Option<Build> {
    let name = ctx.first_of(dir, &["mkdocs.yml", "mkdocs.yaml"])?;
    let file = join(dir, name);
    let text = ctx.read_path(&file).unwrap_or_default();
    let mut static_dir = "site".to_string();
    let mut material = false;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("site_dir:") {
            let v = v.trim().trim_matches(['"', '\'']);
            if !v.is_empty() && !v.contains("..") && !v.starts_with('/') {
                static_dir = v.trim_start_matches("./").to_string();
            }
        }
        if line.trim_start().starts_with("name:") && line.contains("material")
            || line.trim() == "theme: material"
        {
            material = true;
        }
    }
    let install = if ctx.has(dir, "requirements.txt") {
        "pip install -r requirements.txt".to_string()
    } else if ctx.has(dir, "docs/requirements.txt") {
        "pip install -r docs/requirements.txt".to_string()
    } else if material {
        "pip install mkdocs-material".to_string()
    } else {
        "pip install mkdocs".to_string()
    };
    Some(Build {
        evidence: ev(&file, None, "MkDocs configuration"),
        build: "mkdocs build".into(),
        install: Some(install),
        package_manager: Some("pip"),
        static_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::MemRepo;

    fn detect(files: &[(&str, &str)], dir: &str) -> Vec<Draft> {
        let repo = MemRepo::new(files.iter().map(|(p, c)| (p.to_string(), c.to_string())));
        let ctx = Ctx::new(&repo);
        StaticSite.detect(&ctx, dir)
    }

    #[test]
    fn plain_html() {
        let d = detect(
            &[("site/index.html", "<h1>hi</h1>"), ("site/a.css", "")],
            "site",
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].framework.as_deref(), Some("static"));
        assert_eq!(d[0].static_dir.as_deref(), Some("."));
        assert_eq!(d[0].strength, 1.0);
        assert!(d[0].starts.is_empty() && d[0].ports.is_empty());
        assert!(detect(&[("a/readme.md", "")], "a").is_empty());
    }

    #[test]
    fn generic_config_files_are_not_hugo_by_themselves() {
        // An app's config.toml next to an index.html stays a plain page.
        let d = detect(
            &[
                ("config.toml", "[server]\nport = 8080\n"),
                ("index.html", ""),
            ],
            "",
        );
        assert_eq!(d[0].framework.as_deref(), Some("static"));
        // Hugo via config.toml needs Hugo keys and a site tree.
        let d = detect(
            &[
                ("config.toml", "baseURL = 'https://x/'\ntitle = 'x'\n"),
                ("content/_index.md", ""),
            ],
            "",
        );
        assert_eq!(d[0].framework.as_deref(), Some("hugo"));
        // Zola uses base_url.
        let d = detect(
            &[
                ("config.toml", "base_url = \"https://x\"\n"),
                ("templates/index.html", ""),
            ],
            "",
        );
        assert_eq!(d[0].framework.as_deref(), Some("zola"));
        assert_eq!(d[0].static_dir.as_deref(), Some("public"));
    }

    #[test]
    fn jekyll_needs_the_gem_or_its_layout() {
        let d = detect(
            &[
                ("_config.yml", "title: x\n"),
                ("Gemfile", "gem \"github-pages\", group: :jekyll_plugins\n"),
            ],
            "",
        );
        assert_eq!(d[0].framework.as_deref(), Some("jekyll"));
        assert_eq!(d[0].install.as_deref(), Some("bundle install"));
        // A Rails-ish Gemfile with some other _config.yml is not Jekyll.
        let d = detect(
            &[("_config.yml", "x: 1\n"), ("Gemfile", "gem 'rails'\n")],
            "",
        );
        assert!(d.is_empty());
        let d = detect(
            &[
                ("_config.yml", "title: x\n"),
                ("_posts/2024-01-01-a.md", ""),
            ],
            "",
        );
        assert_eq!(
            d[0].builds.first().map(|c| c.value.as_str()),
            Some("jekyll build")
        );
    }

    #[test]
    fn mkdocs_site_dir_and_theme() {
        let d = detect(
            &[(
                "mkdocs.yml",
                "site_name: x\nsite_dir: build/html\ntheme:\n  name: material\n",
            )],
            "",
        );
        assert_eq!(d[0].static_dir.as_deref(), Some("build/html"));
        assert_eq!(d[0].install.as_deref(), Some("pip install mkdocs-material"));
    }
}
