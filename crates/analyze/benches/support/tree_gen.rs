//! Generates a synthetic repository tree of a given size for benchmarks: a
//! Flask backend and a Vite frontend at the top, then many packages of Python
//! and JavaScript sources, stylesheets, docs, JSON and small binary assets in
//! nested folders (no vendored folders, so `find` and the analyzer see the same
//! tree). Deterministic for a given file count.

use std::fs;
use std::io::Write;
use std::path::Path;

pub fn generate(root: &Path, files: usize) -> std::io::Result<()> {
    fs::create_dir_all(root.join("backend"))?;
    fs::create_dir_all(root.join("frontend/src"))?;
    let fixed: &[(&str, &str)] = &[
        ("README.md", "# synthetic\n"),
        (".gitignore", "__pycache__/\nnode_modules/\n"),
        ("backend/requirements.txt", "flask==3.0.3\ngunicorn==22.0.0\npsycopg2-binary==2.9.9\n"),
        (
            "backend/app.py",
            "import os\nfrom flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'ok'\n\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', port=int(os.environ.get('PORT', 5000)))\n",
        ),
        (
            "frontend/package.json",
            r#"{"name":"web","private":true,"scripts":{"dev":"vite","build":"vite build"},"dependencies":{"react":"^18.3.1","react-dom":"^18.3.1"},"devDependencies":{"vite":"^5.4.0","@vitejs/plugin-react":"^4.3.1"}}"#,
        ),
        ("frontend/index.html", "<!doctype html><div id=root></div><script type=module src=/src/main.jsx></script>\n"),
        ("frontend/src/main.jsx", "import React from 'react';\nexport default function App() { return null }\n"),
    ];
    for (p, c) in fixed {
        fs::write(root.join(p), c)?;
    }
    let mut written = fixed.len();
    let mut i = 0usize;
    while written < files {
        let pkg = i / 40;
        let top = if pkg.is_multiple_of(2) {
            "backend/pkg"
        } else {
            "frontend/src/feature"
        };
        let dir = root.join(format!("{top}{}/sub{}", pkg / 2, (i / 8) % 5));
        fs::create_dir_all(&dir)?;
        let (name, body): (String, Vec<u8>) = match i % 10 {
            0..=3 => (
                format!("module_{i}.py"),
                format!(
                    "import os\n\nSETTING_{i} = os.environ.get('SETTING_{i}', 'x')\n\n\ndef handler_{i}(request):\n    value = request.args.get('q', '')\n    return {{'id': {i}, 'value': value}}\n{}",
                    "# padding line for a realistic file size\n".repeat(20)
                )
                .into_bytes(),
            ),
            4..=6 => (
                format!("component_{i}.js"),
                format!(
                    "export function Component{i}(props) {{\n  const url = `/api/items/${{props.id}}`;\n  return fetch(url).then(r => r.json());\n}}\n{}",
                    "// padding line for a realistic file size\n".repeat(20)
                )
                .into_bytes(),
            ),
            7 => (format!("style_{i}.css"), b".a { color: red }\n".repeat(30)),
            8 => (format!("notes_{i}.md"), b"Some documentation text.\n".repeat(20)),
            _ => (format!("asset_{i}.png"), (0..512u32).map(|b| (b * 7 % 256) as u8).collect()),
        };
        fs::File::create(dir.join(name))?.write_all(&body)?;
        written += 1;
        i += 1;
    }
    Ok(())
}
