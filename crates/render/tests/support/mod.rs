//! Shared test helpers: real `terraform fmt -check` / `init` / `validate`
//! against the offline AWS provider mirror, and scenario builders that run
//! the real analyze → parse → decide stages on a fixture.
#![allow(dead_code)]

pub mod schema;

use autodeploy_core::{Analysis, Decision};
use autodeploy_render::Bundle;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The start of a Python probe of a bundle's VM launcher: reads the
/// cloud-init file `sys.argv[1]`, writes its `launch.py` to `sys.argv[2]`,
/// imports it as `m` and keeps the written files in `files`.
pub const LOAD_LAUNCHER: &str = r#"
import importlib.util, json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
files = {f["path"]: f["content"] for f in doc["write_files"]}
open(sys.argv[2], "w").write(files["/opt/autodeploy/launch.py"])
spec = importlib.util.spec_from_file_location("launch", sys.argv[2])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
"#;

/// Run `probe` with the real python3 and these arguments; its standard
/// output, after checking it succeeded.
pub fn python(probe: &str, args: &[&Path]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(probe)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the python probe failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run the probe `body` after [`LOAD_LAUNCHER`] on the launcher of the
/// cloud-init text `cloud_init` (`sys.argv[1]` the cloud-init file, `[2]`
/// the launcher's path, then `extra`), and read its answer: the JSON on its
/// last line (the launcher prints its steps before it).
#[allow(dead_code)]
pub fn probe_launcher(cloud_init: &str, body: &str, extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cloud-init.yaml");
    std::fs::write(&path, cloud_init).unwrap();
    let launch = dir.path().join("launch.py");
    let mut args: Vec<&Path> = vec![&path, &launch];
    args.extend(extra.iter().map(Path::new));
    let stdout = python(&format!("{LOAD_LAUNCHER}{body}"), &args);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Where the AWS provider mirror is (`AUTODEPLOY_TF_MIRROR`, else searched for).
pub fn provider_mirror() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("AUTODEPLOY_TF_MIRROR") {
        return Some(PathBuf::from(p));
    }
    for candidate in [
        "/opt/tf-plugins",
        "/usr/share/terraform/plugins",
        "/usr/local/share/terraform/plugins",
    ] {
        if Path::new(candidate)
            .join("registry.terraform.io/hashicorp/aws")
            .is_dir()
        {
            return Some(PathBuf::from(candidate));
        }
    }
    None
}

/// A CLI config that installs providers only from the mirror (never the network).
fn cli_config() -> PathBuf {
    static CFG: OnceLock<PathBuf> = OnceLock::new();
    CFG.get_or_init(|| {
        let mirror = provider_mirror().expect(
            "no Terraform provider mirror found: set AUTODEPLOY_TF_MIRROR to the folder holding registry.terraform.io/",
        );
        // In the build's own scratch folder (one file shared by every test
        // process, replaced atomically), never one folder per process in the
        // system temp folder: those were left behind by every run.
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("autodeploy-tfrc");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("terraformrc");
        let tmp = dir.join(format!("terraformrc.{}.tmp", std::process::id()));
        std::fs::write(
            &tmp,
            format!("provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n", mirror.display().to_string()),
        )
        .unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        path
    })
    .clone()
}

fn terraform(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", cli_config())
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .expect("terraform is on PATH")
}

/// At most two `terraform validate` at once: each loads a ~600 MB provider.
fn validate_slot() -> &'static Mutex<()> {
    static SLOT: OnceLock<Mutex<()>> = OnceLock::new();
    SLOT.get_or_init(|| Mutex::new(()))
}

/// Write the bundle to a temp dir; return (tempdir guard, terraform dir).
pub fn write_bundle(bundle: &Bundle) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    bundle.write_to(dir.path()).unwrap();
    // The deploy stage puts the source archive here; Terraform hashes it.
    if let Some(name) = &bundle.source_archive {
        std::fs::write(
            dir.path().join(name),
            autodeploy_render::EMPTY_SOURCE_ARCHIVE,
        )
        .unwrap();
    }
    let tf = dir.path().join("terraform");
    (dir, tf)
}

/// `terraform fmt -check -recursive`: panics with the unformatted files.
pub fn assert_fmt(tf_dir: &Path) {
    let out = terraform(tf_dir, &["fmt", "-check", "-recursive", "-list=true"]);
    assert!(
        out.status.success(),
        "terraform fmt -check failed in {}:\n{}{}",
        tf_dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `terraform init -backend=false` + `validate -json` with the mirrored provider.
pub fn assert_valid(tf_dir: &Path) {
    let _slot = validate_slot().lock().unwrap_or_else(|e| e.into_inner());
    let init = terraform(
        tf_dir,
        &["init", "-backend=false", "-input=false", "-no-color"],
    );
    assert!(
        init.status.success(),
        "terraform init failed in {}:\n{}{}",
        tf_dir.display(),
        String::from_utf8_lossy(&init.stdout),
        String::from_utf8_lossy(&init.stderr)
    );
    let out = terraform(tf_dir, &["validate", "-json", "-no-color"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert!(
        v["valid"] == true,
        "terraform validate failed in {}:\n{}",
        tf_dir.display(),
        serde_json::to_string_pretty(&v["diagnostics"]).unwrap_or_default()
    );
}

/// Analyse a fixture, parse the request, decide: the real stages.
pub fn scenario(fixture: &str, request: &str) -> (Analysis, Decision) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(fixture);
    let source = autodeploy_core::SourceInfo {
        input: format!("tests/fixtures/{fixture}"),
        kind: autodeploy_core::SourceKind::Path,
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
    };
    let analysis = autodeploy_analyze::analyze_dir(
        &root,
        source,
        &autodeploy_analyze::AnalyzeOptions {
            threads: 1,
            name_hint: Some(fixture.into()),
        },
    )
    .expect("fixture analyses");
    let intent = autodeploy_parse::parse(request);
    let mut decision = autodeploy_decide::decide(
        &analysis,
        &intent,
        &autodeploy_decide::DecideOptions::default(),
    )
    .expect("decision");
    let mut analysis = analysis;
    // GCP and Azure machines clone the code: their bundles are only written
    // for a git remote (a local folder is refused, see
    // `a_local_folder_is_refused_on_machines_that_clone`).
    if decision.cloud != autodeploy_core::Cloud::Aws
        && decision.services.iter().any(|s| s.hosting.is_vm())
    {
        let remote = autodeploy_core::SourceInfo {
            input: format!("https://git.example.com/fixtures/{fixture}.git"),
            kind: autodeploy_core::SourceKind::Git,
            commit: analysis.source.commit.clone(),
        };
        analysis.source = remote.clone();
        decision.source = remote;
    }
    (analysis, decision)
}

/// The line of `PLAN.md` in `bundle` that names `needle` (a release step's
/// command); panics with the whole plan when there is none.
#[allow(dead_code)]
pub fn plan_row(bundle: &Bundle, needle: &str) -> String {
    let plan = &bundle.get("PLAN.md").unwrap().contents;
    plan.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no row naming {needle:?} in PLAN.md:\n{plan}"))
        .to_string()
}

/// What a VM bundle's machine runs, found by running its launcher with the
/// real python3: for every systemd unit `cloud-init.yaml` writes, the
/// process its `ExecStart` (`launch.py run …`) starts — the folder, the
/// command `run` execs and the settings it gives it (the names the
/// process's own `env` lists) — plus `runcmd` and `app.json`. `stubs` is
/// Python answering the cloud's metadata and secret lookups of the launcher
/// module `m`. Panics when a unit names no process the launcher knows.
pub fn vm_processes(cloud_init: &str, stubs: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let ci = dir.path().join("cloud-init.yaml");
    std::fs::write(&ci, cloud_init).unwrap();
    let probe = format!(
        r#"
import importlib.util, json, os, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
files = {{f["path"]: f["content"] for f in doc["write_files"]}}
launch = sys.argv[2]
open(launch, "w").write(files["/opt/autodeploy/launch.py"])
spec = importlib.util.spec_from_file_location("launch", launch)
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
cfg = json.loads(files["/etc/autodeploy/app.json"])
{stubs}
out = {{"units": {{}}, "runcmd": doc["runcmd"], "config": cfg}}
for path, content in files.items():
    if not path.startswith("/etc/systemd/system/"):
        continue
    line = next(l for l in content.splitlines() if l.startswith("ExecStart="))
    argv = line[len("ExecStart="):].split()
    assert argv[:3] == ["/usr/bin/python3", "/opt/autodeploy/launch.py", "run"], argv
    seen = {{}}
    os.execve = lambda path, args, env: seen.update(path=path, args=args, env=env)
    os.chdir = lambda d: seen.update(cwd=d)
    sys.argv = argv[1:]
    m.run(cfg)
    own = m.process(cfg, argv[3] if len(argv) > 3 else None)[1]
    out["units"][os.path.basename(path)] = {{
        "unit": content,
        "cwd": seen["cwd"],
        "exec": seen["args"],
        "env": {{e["name"]: seen["env"][e["name"]] for e in own["env"]}},
    }}
print(json.dumps(out))
"#
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(probe)
        .arg(&ci)
        .arg(dir.path().join("launch.py"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the launcher probe failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the probe prints JSON")
}

/// The position in `runcmd` of the first entry whose words include `word`.
pub fn runcmd_at(runcmd: &serde_json::Value, word: &str) -> usize {
    runcmd
        .as_array()
        .unwrap()
        .iter()
        .position(|c| match c {
            serde_json::Value::Array(words) => words.iter().any(|w| w == word),
            serde_json::Value::String(s) => s.split_whitespace().any(|w| w == word),
            _ => false,
        })
        .unwrap_or_else(|| panic!("no runcmd entry with {word:?} in {runcmd:#}"))
}
