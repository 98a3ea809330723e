//! Whose deployments a home holds, through the binary: the CLI acts as a
//! named user of the store (`--as`, `AUTODEPLOY_USER`, `as` in
//! autodeploy.toml; default `local`, the owner of every deployment made
//! before there were named users), `list` says whose it shows and how many
//! other users' it leaves out, `list --all-users` shows them with their
//! owner, and a deployment of another user is named with its owner and the
//! flag to use — never "not found".

mod support;

use std::path::Path;
use std::process::Output;
use support::{cli, fixture, json, run, text};

struct Seeded {
    local: Vec<String>,
    alice: String,
    bob: String,
    alice_id: String,
}

/// A home with two deployments of the CLI's default user, one of alice
/// (made with `--as alice`) and one of bob (made through the API).
fn seeded_home(home: &Path) -> Seeded {
    std::fs::create_dir_all(home).unwrap();
    let db = home.join("autodeploy.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = autodeploy_store::open(db.to_str().unwrap()).await.unwrap();
        let alice = store.create_user("alice").await.unwrap();
        let bob = store.create_user("bob").await.unwrap();
        let mut made = Vec::new();
        for (owner, name) in [
            ("local", "local-one"),
            ("local", "local-two"),
            (alice.id.as_str(), "alice-app"),
            (bob.id.as_str(), "bob-app"),
        ] {
            let (d, _) = store
                .create_deployment(
                    autodeploy_store::NewDeployment {
                        owner: owner.into(),
                        name: name.into(),
                        source: format!("https://example.com/{name}.git"),
                        request: "deploy on aws".into(),
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
                        error: Some(Some("terraform apply failed: boom".into())),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            made.push(d.id);
        }
        Seeded {
            local: made[..2].to_vec(),
            alice: made[2].clone(),
            bob: made[3].clone(),
            alice_id: alice.id,
        }
    })
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The JSON failure on the last line of stderr.
fn failure(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    assert!(o.stdout.is_empty(), "{}", text(o));
    let err = String::from_utf8_lossy(&o.stderr);
    serde_json::from_str(err.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not a JSON failure ({e}): {}", text(o)))
}

#[test]
fn list_shows_the_acting_users_deployments_and_says_whose() {
    let t = tempfile::tempdir().unwrap();
    let h = t.path();
    let s = seeded_home(h);

    // The default user: the CLI's deployments of before, and a line that
    // says whose they are and what else the home holds.
    let o = run(cli(h).arg("list"));
    assert!(o.status.success(), "{}", text(&o));
    let out = stdout(&o);
    assert_eq!(
        out.lines().next().unwrap(),
        "Deployments of local (2); 2 more belong to other users (alice, bob): autodeploy list --all-users",
        "{out}"
    );
    assert!(s.local.iter().all(|id| out.contains(id.as_str())), "{out}");
    assert!(!out.contains(&s.alice) && !out.contains(&s.bob), "{out}");
    let o = run(cli(h).args(["list", "--json"]));
    assert_eq!(ids(&json(&o)), sorted(s.local.clone()));
    assert!(json(&o)
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["owner"] == "local" && d["owner_name"] == "local"));

    // --as, AUTODEPLOY_USER, and `as` in autodeploy.toml (flag > env > file).
    let o = run(cli(h).args(["list", "--as", "alice"]));
    let out = stdout(&o);
    assert!(
        out.starts_with("Deployments of alice (1); 3 more belong to other users (bob, local)"),
        "{}",
        text(&o)
    );
    assert!(out.contains(&s.alice), "{out}");
    let o = run(cli(h)
        .env("AUTODEPLOY_USER", "alice")
        .args(["list", "--json"]));
    let v = json(&o);
    assert_eq!(ids(&v), vec![s.alice.clone()]);
    assert_eq!(v[0]["owner"], s.alice_id.as_str());
    assert_eq!(v[0]["owner_name"], "alice");
    std::fs::write(h.join("autodeploy.toml"), "as = \"bob\"\n").unwrap();
    let o = run(cli(h).args(["list", "--json"]));
    assert_eq!(ids(&json(&o)), vec![s.bob.clone()], "{}", text(&o));
    let o = run(cli(h)
        .env("AUTODEPLOY_USER", "alice")
        .args(["list", "--json"]));
    assert_eq!(ids(&json(&o)), vec![s.alice.clone()], "env > file");
    let o = run(cli(h)
        .env("AUTODEPLOY_USER", "alice")
        .args(["list", "--json", "--as", "local"]));
    assert_eq!(ids(&json(&o)), sorted(s.local.clone()), "flag > env");
    std::fs::remove_file(h.join("autodeploy.toml")).unwrap();

    // Every user's, with an OWNER column / owner and owner_name.
    let o = run(cli(h).args(["list", "--all-users"]));
    let out = stdout(&o);
    assert!(
        out.starts_with("Deployments of every user (4; acting as local)"),
        "{out}"
    );
    let header = out.lines().nth(1).unwrap();
    assert!(header.contains("OWNER"), "{out}");
    let alice_line = out.lines().find(|l| l.contains(&s.alice)).unwrap();
    assert!(alice_line.contains("alice "), "{out}");
    let o = run(cli(h).args(["list", "--all-users", "--json"]));
    let v = json(&o);
    let mut all = s.local.clone();
    all.extend([s.alice.clone(), s.bob.clone()]);
    assert_eq!(ids(&v), sorted(all));
    let alices = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == s.alice.as_str())
        .unwrap();
    assert_eq!(alices["owner"], s.alice_id.as_str());
    assert_eq!(alices["owner_name"], "alice");

    // A user the store does not have is an error naming the ones it has.
    let o = run(cli(h).args(["list", "--as", "alcie", "--json"]));
    let e = failure(&o);
    assert_eq!(e["error"]["code"], "unknown_user", "{e}");
    let hint = e["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("alice, bob, local") && hint.contains("users add"),
        "{hint}"
    );
}

#[test]
fn a_deployment_of_another_user_is_named_with_its_owner_not_missing() {
    let t = tempfile::tempdir().unwrap();
    let h = t.path();
    let s = seeded_home(h);

    // Plain text: who owns it and the flag to use.
    let o = run(cli(h).args(["status", &s.alice]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "{} (alice-app) belongs to user alice, not to local",
            s.alice
        )),
        "{err}"
    );
    assert!(err.contains("--as alice"), "{err}");

    // Under --json, for every command that names a deployment, by id or name.
    for args in [
        vec!["status", s.alice.as_str(), "--json"],
        vec!["status", "alice-app", "--json"],
        vec!["logs", s.alice.as_str(), "--json"],
        vec!["destroy", s.alice.as_str(), "--yes", "--json"],
        vec!["redeploy", s.alice.as_str(), "--json"],
    ] {
        let o = run(cli(h).args(&args));
        let e = failure(&o);
        assert_eq!(e["error"]["code"], "owned_by_other_user", "{args:?}: {e}");
        assert!(
            e["error"]["hint"].as_str().unwrap().contains("--as alice"),
            "{args:?}: {e}"
        );
    }
    // As its owner it is found; an id nobody has is still not found.
    let o = run(cli(h).args(["status", &s.alice, "--as", "alice", "--json"]));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json(&o)["owner_name"], "alice");
    let o = run(cli(h).args(["status", "dep_ffffffffffffffff", "--json"]));
    assert_eq!(failure(&o)["error"]["code"], "not_found");
    // The other user's deployment is untouched by the refused destroy.
    let o = run(cli(h).args(["status", &s.alice, "--as", "alice", "--json"]));
    assert_eq!(json(&o)["status"], "failed");
}

#[test]
fn users_are_the_services_users() {
    let t = tempfile::tempdir().unwrap();
    let h = t.path();
    let o = run(cli(h).args(["users", "add", "carol", "--admin"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(cli(h).args(["users", "--json"]));
    let v = json(&o);
    let names: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_string(),
                u["admin"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("carol".to_string(), true), ("local".to_string(), false)]
    );
    assert_eq!(v[1]["id"], "local", "the CLI's default user keeps its id");
    let o = run(cli(h).args(["users", "add", "carol", "--json"]));
    assert_eq!(failure(&o)["error"]["code"], "conflict");
    let o = run(cli(h).args(["users", "admin", "carol", "--revoke"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(cli(h).args(["users", "--json"]));
    assert_eq!(json(&o)[0]["admin"], false);
    // A token for `local` belongs to the CLI's default user: no new user.
    let o = run(cli(h).args(["token", "create", "--user", "local"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(cli(h).args(["users", "--json"]));
    assert_eq!(json(&o).as_array().unwrap().len(), 2);
}

#[test]
fn a_deploy_as_another_user_is_theirs() {
    let t = tempfile::tempdir().unwrap();
    let h = t.path();
    // A mistyped user stops the deploy before anything is fetched.
    let app = fixture("python_stdlib_http_server");
    let o = run(cli(h).args([
        "deploy",
        &app,
        "run it locally",
        "--as",
        "dave",
        "--yes",
        "--json",
    ]));
    assert_eq!(failure(&o)["error"]["code"], "unknown_user");
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("==>"),
        "{}",
        text(&o)
    );

    let o = run(cli(h).args(["users", "add", "dave"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(cli(h).args([
        "deploy",
        &app,
        "run it locally",
        "--as",
        "dave",
        "--yes",
        "--json",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let d = json(&o);
    let id = d["id"].as_str().unwrap().to_string();
    assert_ne!(d["owner"], "local");
    let o = run(cli(h).args(["list", "--json"]));
    assert_eq!(ids(&json(&o)), Vec::<String>::new(), "not local's");
    let o = run(cli(h).arg("list"));
    assert!(
        stdout(&o).starts_with(
            "No deployments of local yet; 1 more belongs to another user (dave): autodeploy list --all-users"
        ),
        "{}",
        text(&o)
    );
    let o = run(cli(h).args(["list", "--as", "dave", "--json"]));
    assert_eq!(ids(&json(&o)), vec![id.clone()]);
    // The same source again as dave: the hint updates dave's, with --as.
    let o = run(cli(h).args([
        "deploy",
        &app,
        "run it locally",
        "--as",
        "dave",
        "--yes",
        "--json",
    ]));
    let e = failure(&o);
    assert_eq!(e["error"]["code"], "already_deployed", "{e}");
    assert!(
        e["error"]["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("autodeploy redeploy {id} --as dave")),
        "{e}"
    );
    let o = run(cli(h).args(["destroy", &id, "--yes", "--json"]));
    assert_eq!(failure(&o)["error"]["code"], "owned_by_other_user");
    let o = run(cli(h).args(["destroy", &id, "--as", "dave", "--yes", "--json"]));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json(&o)["status"], "destroyed");
}
