//! #14 points 5 and 8 through the binary: requests the parser cannot use
//! are named back, an empty request is refused as the API refuses it,
//! `plan` writes into a clean folder, completions, and the config file's
//! place in the precedence flag > env > file > default.

mod support;

use serde_json::Value;
use std::path::Path;
use support::{cli, fixture, run, text};

fn last_json_line(stderr: &[u8]) -> Value {
    let s = String::from_utf8_lossy(stderr);
    serde_json::from_str(s.lines().last().expect("a line on stderr")).expect("JSON error")
}

#[test]
fn an_empty_request_is_refused_by_parse_plan_and_deploy_alike() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("out");
    let src = fixture("hello_world_shape");
    for args in [
        vec!["parse", "  ", "--json"],
        vec!["plan", &src, "", "--json", "--out", out.to_str().unwrap()],
        vec!["deploy", &src, "", "--yes", "--json"],
    ] {
        let o = run(cli(home.path()).args(&args));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let e = last_json_line(&o.stderr);
        // The API's code, and words that say what to write.
        assert_eq!(e["error"]["code"], "invalid_request_text", "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("say what to deploy where"),
            "{e}"
        );
    }
    assert!(!out.exists(), "nothing written for an empty request");
}

#[test]
fn what_was_not_understood_is_named_in_parse_and_plan() {
    let home = tempfile::tempdir().unwrap();
    let request = "on aws mars-west-9 for -5 dollars a month and no database";
    let o = run(cli(home.path()).args(["parse", request]));
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("Understood: cloud aws, no database server."),
        "{stdout}"
    );
    assert!(
        !stdout.contains("\\n"),
        "lines, not an escaped newline: {stdout}"
    );
    for said in [
        "\"mars-west-9\" is not a region of any cloud",
        "\"-5 dollars\" is not a budget",
    ] {
        assert!(stdout.contains(said), "{said}: {stdout}");
    }

    let out = home.path().join("bundle");
    let o = run(cli(home.path()).args([
        "plan",
        &fixture("hello_world_shape"),
        request,
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes = v["notes"].to_string();
    assert!(notes.contains("mars-west-9"), "{notes}");
    assert!(notes.contains("-5 dollars"), "{notes}");

    // 0 instances is read as said and refused with a reason before anything is written.
    let zero = home.path().join("zero");
    let o = run(cli(home.path()).args([
        "plan",
        &fixture("hello_world_shape"),
        "on aws with 0 instances",
        "--json",
        "--out",
        zero.to_str().unwrap(),
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let e = last_json_line(&o.stderr);
    assert_eq!(e["error"]["code"], "invalid_request", "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("instance"),
        "{e}"
    );
    assert!(!zero.exists());
}

fn plan_into(home: &Path, out: &Path, request: &str) -> std::process::Output {
    run(cli(home).args([
        "plan",
        &fixture("hello_world_shape"),
        request,
        "--out",
        out.to_str().unwrap(),
    ]))
}

#[test]
fn plan_writes_into_a_clean_folder_and_never_removes_what_is_not_its_own() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("bundle");
    let o = plan_into(home.path(), &out, "deploy on AWS");
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("terraform").is_dir() && out.join("cloud-init.yaml").is_file());
    std::fs::write(out.join("notes-of-mine.txt"), "mine").unwrap();

    // A plan of another shape: the earlier plan's files are gone, mine stays.
    let o = plan_into(home.path(), &out, "run it locally");
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("PLAN.md").is_file());
    assert!(
        !out.join("terraform").exists(),
        "stale Terraform left behind"
    );
    assert!(!out.join("cloud-init.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("notes-of-mine.txt")).unwrap(),
        "mine"
    );
    let manifest = std::fs::read_to_string(out.join(".autodeploy-plan")).unwrap();
    assert!(manifest.lines().any(|l| l == "PLAN.md"), "{manifest}");

    // A folder that holds something but no earlier plan is refused, untouched.
    let theirs = home.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("README"), "x").unwrap();
    let o = plan_into(home.path(), &theirs, "deploy on AWS");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("holds no earlier plan"), "{}", text(&o));
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 1);
}

#[test]
fn completions_are_printed_for_each_shell() {
    let home = tempfile::tempdir().unwrap();
    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef autodeploy"),
        ("fish", "complete -c autodeploy"),
    ] {
        let o = run(cli(home.path()).args(["completions", shell]));
        assert!(o.status.success(), "{}", text(&o));
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(s.contains(mark) && s.contains("redeploy"), "{shell}: {s}");
    }
    let o = run(cli(home.path()).args(["completions", "tcsh"]));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn config_file_is_beneath_env_and_flags_and_its_mistakes_are_errors() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let db = |n: &str| h.join(n).display().to_string();
    std::fs::write(
        h.join("autodeploy.toml"),
        format!("database-url = {:?}\n", db("file.db")),
    )
    .unwrap();
    // file > default
    let o = run(cli(h).args(["list", "--json"]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(h.join("file.db").exists() && !h.join("autodeploy.db").exists());
    // env > file
    let o = run(cli(h)
        .env("AUTODEPLOY_DATABASE_URL", db("env.db"))
        .args(["list", "--json"]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(h.join("env.db").exists());
    // flag > env
    let o = run(cli(h).env("AUTODEPLOY_DATABASE_URL", db("env.db")).args([
        "list",
        "--json",
        "--database-url",
        &db("flag.db"),
    ]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(h.join("flag.db").exists());

    // --config names another file, which must exist.
    let other = h.join("other.toml");
    std::fs::write(&other, format!("database-url = {:?}\n", db("other.db"))).unwrap();
    let o = run(cli(h).args(["list", "--config", other.to_str().unwrap()]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(h.join("other.db").exists());
    let o = run(cli(h).args(["list", "--json", "--config", "/no/such.toml"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(last_json_line(&o.stderr)["error"]["code"], "invalid_config");

    // An unknown key is an error that lists the known ones.
    std::fs::write(h.join("autodeploy.toml"), "databse-url = \"x\"\n").unwrap();
    let o = run(cli(h).args(["list", "--json"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let e = last_json_line(&o.stderr);
    assert_eq!(e["error"]["code"], "invalid_config");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"databse-url\""));
    assert!(e["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("database-url"));

    // A bad value names where it came from: the file, or the variable.
    std::fs::write(h.join("autodeploy.toml"), "listen = \"nowhere\"\n").unwrap();
    let o = run(cli(h).args(["serve"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("`listen` in"), "{}", text(&o));
    std::fs::remove_file(h.join("autodeploy.toml")).unwrap();
    let o = run(cli(h).env("AUTODEPLOY_WORKERS", "many").args(["serve"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("AUTODEPLOY_WORKERS"), "{}", text(&o));
    let o = run(cli(h)
        .env("AUTODEPLOY_HEALTH_TIMEOUT", "soon")
        .args(["deploy", "x", "y", "--json"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        last_json_line(&o.stderr)["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("AUTODEPLOY_HEALTH_TIMEOUT"),
        "{}",
        text(&o)
    );
}
