//! Repository and request text never reaches the terminal or PLAN.md raw:
//! ESC sequences (colours, screen clears, OSC 8 links, window titles), C1
//! controls, NUL and bidirectional overrides from a repository's folder and
//! file names, a request sentence, or stored deployment fields come out as
//! visible escapes in `analyze`, `plan` (and its PLAN.md), `status`, `list`
//! and `logs`.

mod support;

use std::path::Path;
use support::{cli, run, text};

/// Characters that must never be printed as themselves.
fn has_raw_controls(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
    })
}

fn assert_clean(what: &str, out: &[u8]) {
    let s = String::from_utf8_lossy(out);
    if let Some(c) = has_raw_controls(&s) {
        panic!("{what} printed {c:?} raw:\n{s:?}");
    }
}

const ESC: &str = "\u{1b}[2J\u{1b}[31m";
const OSC8: &str = "\u{1b}]8;;https://evil.example/\u{1b}\\click\u{1b}]8;;\u{1b}\\";
const BIDI: &str = "\u{202e}gnp.exe\u{2066}";

/// A Flask app in a folder whose name, file names and env var use carry escapes.
fn hostile_app(root: &Path) -> std::path::PathBuf {
    let dir = root.join(format!("app{ESC}x{BIDI}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("requirements.txt"), "flask\ngunicorn\n").unwrap();
    std::fs::write(
        dir.join("app.py"),
        "import os\nfrom flask import Flask\napp = Flask(__name__)\n\
         SECRET = os.environ['API\u{1b}[0mKEY']\n\
         @app.route('/')\ndef index():\n    return 'hi'\n\
         if __name__ == '__main__':\n    app.run(host='127.0.0.1', port=5000)\n",
    )
    .unwrap();
    // A file name cannot hold `/`: an OSC 8 link to a relative target.
    std::fs::write(
        dir.join("notes\u{1b}]8;;x\u{1b}\\click\u{1b}]8;;\u{1b}\\.md"),
        "x",
    )
    .unwrap();
    dir
}

#[test]
fn analyze_and_plan_print_hostile_names_as_escapes() {
    let t = tempfile::tempdir().unwrap();
    let app = hostile_app(t.path());
    let home = t.path().join("home");

    let o = run(cli(&home).arg("analyze").arg(&app));
    assert!(o.status.success(), "{}", text(&o));
    assert_clean("analyze", &o.stdout);
    assert_clean("analyze (stderr)", &o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("\\x1b[2J"),
        "the escape is shown, not dropped: {out}"
    );

    let out_dir = t.path().join("plan");
    // (argv cannot carry NUL: the stored fields below do.)
    let request = format!("deploy on aws in containers {OSC8} https on app.example.com{BIDI}\u{7}");
    let o = run(cli(&home)
        .arg("plan")
        .arg(&app)
        .arg(&request)
        .arg("--out")
        .arg(&out_dir));
    assert!(o.status.success(), "{}", text(&o));
    assert_clean("plan", &o.stdout);
    assert_clean("plan (stderr)", &o.stderr);
    let plan_md = std::fs::read_to_string(out_dir.join("PLAN.md")).unwrap();
    assert_clean("PLAN.md", plan_md.as_bytes());
}

#[test]
fn status_list_and_logs_print_stored_fields_as_escapes() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let db = home.join("autodeploy.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = rt.block_on(async {
        let store = autodeploy_store::open(db.to_str().unwrap()).await.unwrap();
        let (d, _) = store
            .create_deployment(
                autodeploy_store::NewDeployment {
                    owner: "local".into(),
                    name: format!("name{ESC}"),
                    source: format!("https://example.com/{BIDI}/r.git"),
                    request: format!("run it locally {OSC8}\nstatus:   healthy"),
                    cloud: Some("aws".into()),
                    options: serde_json::json!({}),
                    idempotency_key: None,
                },
                None,
            )
            .await
            .unwrap();
        store
            .update_deployment(
                &d.id,
                autodeploy_store::DeploymentPatch {
                    status: Some(autodeploy_core::DeploymentStatus::Failed),
                    error: Some(Some(format!("boom {ESC}\nlast line\u{7}\u{0}"))),
                    url: Some(Some(format!("http://x/{OSC8}"))),
                    outputs: Some(serde_json::json!({ "k\u{1b}]0;t\u{7}": "v\u{9b}1m" })),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        store
            .append_logs(
                &d.id,
                &[autodeploy_store::NewLogLine {
                    stream: autodeploy_core::LogStream::Stdout,
                    phase: None,
                    line: format!("app says {ESC}{OSC8}{BIDI}"),
                }],
            )
            .await
            .unwrap();
        d.id
    });
    for args in [
        vec!["status", id.as_str()],
        vec!["list"],
        vec!["logs", id.as_str()],
    ] {
        let o = run(cli(&home).args(&args));
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert_clean(&format!("{args:?}"), &o.stdout);
        assert_clean(&format!("{args:?} (stderr)"), &o.stderr);
    }
    let o = run(cli(&home).args(["status", id.as_str()]));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        !out.lines()
            .any(|l| l.trim_start().starts_with("status:   healthy")),
        "a line break in the request cannot forge a field: {out}"
    );
}
