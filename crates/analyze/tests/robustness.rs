//! Random trees never make the analyzer panic: random paths (manifest names
//! among them) holding random bytes, truncated or mutated manifests, deep
//! nesting; on disk, symlink loops and links out of the tree.

use autodeploy_analyze::repo::MemRepo;
use autodeploy_analyze::{analyze_dir, analyze_repo, AnalyzeError, AnalyzeOptions};
use autodeploy_core::{SourceInfo, SourceKind};
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "package.json",
    "requirements.txt",
    "pyproject.toml",
    "Pipfile",
    "setup.py",
    "manage.py",
    "app.py",
    "main.py",
    "go.mod",
    "main.go",
    "Cargo.toml",
    "main.rs",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "application.properties",
    "Gemfile",
    "config.ru",
    "composer.json",
    "index.php",
    "artisan",
    "mix.exs",
    "App.csproj",
    "Program.cs",
    "appsettings.json",
    "launchSettings.json",
    "index.html",
    "Dockerfile",
    "docker-compose.yml",
    "Procfile",
    ".env",
    ".env.example",
    "server.js",
    "index.ts",
    "tsconfig.json",
    "next.config.js",
    "vite.config.ts",
    "settings.py",
    "wsgi.py",
    "runtime.exs",
    "Rocket.toml",
    "x.txt",
];

const SEEDS: &[&str] = &[
    r#"{"name":"x","scripts":{"start":"node server.js","build":"tsc"},"dependencies":{"express":"^4","pg":"8","next":"14"}}"#,
    "flask==3\ndjango>=4\n-r other.txt\ngunicorn\npsycopg2-binary\n",
    "[project]\nname = \"x\"\ndependencies = [\"fastapi\", \"uvicorn\"]\nrequires-python = \">=3.11\"\n",
    "module example.com/x\n\ngo 1.22\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n\tgithub.com/lib/pq v1.10.9 // indirect\n)\n",
    "[package]\nname = \"x\"\n[dependencies]\naxum = \"0.7\"\nsqlx = { version = \"0.7\", features = [\"postgres\"] }\n",
    "<project><parent><artifactId>spring-boot-starter-parent</artifactId></parent><artifactId>x</artifactId></project>",
    "source 'https://rubygems.org'\ngem 'rails'\ngem 'pg'\n",
    r#"{"require":{"laravel/framework":"^11","php":"^8.2"}}"#,
    "FROM python:3.12\nEXPOSE 8000\nCMD [\"gunicorn\", \"app:app\"]\n",
    "services:\n  web:\n    build: .\n    ports: [\"8000:8000\"]\n  db:\n    image: postgres\n",
    "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.run(host='127.0.0.1', port=int(os.environ.get('PORT', 5000)))\n",
    "const express = require('express');\nconst app = express();\napp.listen(process.env.PORT || 3000, '127.0.0.1');\n",
    "package main\nimport \"net/http\"\nfunc main() { http.ListenAndServe(\":8080\", nil) }\n",
    "web: gunicorn app:app --bind 0.0.0.0:$PORT\nworker: celery -A tasks worker\n",
    "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>",
    "defmodule X.MixProject do\n  defp deps do\n    [{:phoenix, \"~> 1.7\"}, {:postgrex, \">= 0.0.0\"}]\n  end\nend\n",
    "<script>fetch(\"http://localhost:5000/api\")</script>",
];

fn content() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "\\PC{0,300}".prop_map(|s| s.into_bytes()),
        (0..SEEDS.len(), any::<usize>()).prop_map(|(i, cut)| {
            let s = SEEDS[i].as_bytes();
            s[..cut % (s.len() + 1)].to_vec()
        }),
        (
            0..SEEDS.len(),
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6)
        )
            .prop_map(|(i, flips)| {
                let mut s = SEEDS[i].as_bytes().to_vec();
                for (at, b) in flips {
                    if !s.is_empty() {
                        let n = s.len();
                        s[at % n] = b;
                    }
                }
                s
            }),
        (0..SEEDS.len()).prop_map(|i| SEEDS[i].as_bytes().to_vec()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(
            prop_oneof![
                "[a-z]{1,6}",
                Just("src".to_string()),
                Just("app".to_string()),
                Just("..".to_string()),
                Just("tests".to_string())
            ],
            0..5,
        ),
        0..NAMES.len(),
    )
        .prop_map(|(dirs, n)| {
            let mut parts: Vec<String> = dirs.into_iter().filter(|d| d != "..").collect();
            parts.push(NAMES[n].to_string());
            parts.join("/")
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_never_panic(files in proptest::collection::vec((path(), content()), 0..25)) {
        let repo = MemRepo::new(files);
        match analyze_repo(&repo, Some("x")) {
            Ok(services) => {
                for s in services {
                    prop_assert!((0.0..=1.0).contains(&s.confidence));
                    prop_assert!(!s.name.is_empty());
                    prop_assert!(s.path == "." || !s.path.starts_with('/'));
                }
            }
            Err(AnalyzeError::NothingFound { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_on_disk_never_panic(files in proptest::collection::vec((path(), content()), 1..15), link_at in 0usize..15) {
        let dir = tempfile::tempdir().unwrap();
        for (p, c) in &files {
            let full = dir.path().join(p);
            if std::fs::create_dir_all(full.parent().unwrap()).is_ok() {
                let _ = std::fs::write(&full, c);
            }
        }
        #[cfg(unix)]
        {
            // A loop, a link to the root, and a link out of the tree.
            let _ = std::os::unix::fs::symlink(dir.path(), dir.path().join("loop"));
            let _ = std::os::unix::fs::symlink("/etc", dir.path().join(format!("etc{link_at}")));
            let _ = std::os::unix::fs::symlink("/etc/passwd", dir.path().join("requirements-link.txt"));
        }
        let source = SourceInfo { input: "t".into(), kind: SourceKind::Path, commit: None };
        let r = analyze_dir(dir.path(), source, &AnalyzeOptions { threads: 2, name_hint: None });
        if let Ok(a) = r {
            let text = serde_json::to_string(&a).unwrap();
            prop_assert!(!text.contains("root:x:0:0"), "read through a symlink");
        }
    }
}

#[test]
fn deep_nesting_is_fine() {
    let deep = (0..200)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("/");
    let repo = MemRepo::new([
        (format!("{deep}/requirements.txt"), "flask\n".to_string()),
        (
            format!("{deep}/app.py"),
            "from flask import Flask\napp = Flask(__name__)\n".to_string(),
        ),
    ]);
    let services = analyze_repo(&repo, None).expect("found");
    assert_eq!(services[0].framework.as_deref(), Some("flask"));
}
