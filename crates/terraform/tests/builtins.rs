//! The runner against real terraform with built-in resources only (no
//! provider download): init → plan → apply → output → plan again → destroy,
//! streaming, redaction, failures and retries.
mod support;

use autodeploy_core::LogStream;
use autodeploy_terraform::{Backend, TfError, Workspace};
use std::time::{Duration, Instant};
use support::{builtins_config, config_dir, terraform, Lines};

#[test]
fn round_trip_with_summary_outputs_and_destroy() {
    let tf = terraform().with_env("MY_API_TOKEN", "tok-98765-abcdef");
    assert!(tf.version().starts_with('1'), "{}", tf.version());
    let rc = std::fs::read_to_string(tf.cli_config()).unwrap();
    // Our own CLI config: mirrors are linked as they are (no plugin cache);
    // without mirrors, a plugin cache and direct downloads.
    assert!(rc.contains("provider_installation"), "{rc}");
    assert_eq!(
        rc.contains("filesystem_mirror"),
        !rc.contains("plugin_cache_dir"),
        "{rc}"
    );

    let mut config = builtins_config(3, 0.2);
    // A resource whose creation prints the token from the environment.
    config.push_str(
        r#"
resource "terraform_data" "talker" {
  provisioner "local-exec" {
    command = "echo token=$MY_API_TOKEN"
  }
}
"#,
    );
    let (_t, dir) = config_dir(&config);
    let ws = Workspace::new(&dir, Backend::Local)
        .var("greeting", "hi")
        .var("secret_word", "sup3r-secret-word");
    let lines = Lines::default();
    let sink = lines.sink();

    assert_eq!(tf.state_resources(&ws).unwrap(), Vec::<String>::new());
    tf.init(&ws, &sink).unwrap();
    let backend = std::fs::read_to_string(dir.join("backend.tf")).unwrap();
    assert!(backend.contains("backend \"local\""));

    let plan = tf.plan(&ws, false, &sink).unwrap();
    assert!(plan.changes);
    assert_eq!((plan.add, plan.change, plan.destroy), (4, 0, 0));
    assert!(plan
        .resources
        .iter()
        .any(|r| r.address == "terraform_data.item[2]" && r.action == "create"));

    tf.apply(&ws, &sink).unwrap();
    assert!(
        !dir.join("plan.tfplan").exists(),
        "the applied plan is removed"
    );
    let text = lines.text();
    assert!(text.contains("created hi-1"), "{text}");
    assert!(text.contains("token=***"), "{text}");
    assert!(!text.contains("tok-98765-abcdef"), "secret leaked:\n{text}");
    assert!(
        !text.contains("sup3r-secret-word"),
        "secret leaked:\n{text}"
    );
    assert!(lines.all().iter().any(|(s, l)| *s == LogStream::System
        && l.starts_with("$ terraform apply -input=false -no-color -lock-timeout=60s")));

    let out = tf.output(&ws).unwrap();
    assert_eq!(
        out["inputs"].value,
        serde_json::json!(["hi-0", "hi-1", "hi-2"])
    );
    assert_eq!(out["count"].value, serde_json::json!(3));
    assert!(!out["count"].sensitive);
    assert!(out["secret"].sensitive);
    assert_eq!(out["secret"].value, serde_json::json!("sup3r-secret-word"));

    let mut listed = tf.state_resources(&ws).unwrap();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            "terraform_data.item[0]",
            "terraform_data.item[1]",
            "terraform_data.item[2]",
            "terraform_data.talker"
        ]
    );

    let again = tf.plan(&ws, false, &sink).unwrap();
    assert!(!again.changes, "{again:?}");
    assert_eq!((again.add, again.change, again.destroy), (0, 0, 0));

    let destroy_plan = tf.plan(&ws, true, &sink).unwrap();
    assert_eq!(destroy_plan.destroy, 4);
    tf.destroy(&ws, &sink).unwrap();
    assert!(tf.state_resources(&ws).unwrap().is_empty());
    assert!(tf.output(&ws).unwrap().is_empty());
    // Destroying twice is harmless.
    tf.destroy(&ws, &sink).unwrap();
}

#[test]
fn lines_stream_while_terraform_runs() {
    let tf = terraform();
    let (_t, dir) = config_dir(
        r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "echo step-one; sleep 3; echo step-two"
  }
}
"#,
    );
    let ws = Workspace::new(&dir, Backend::Local);
    let start = Instant::now();
    let seen = std::sync::Mutex::new(Vec::<(Duration, String)>::new());
    let sink = |_: LogStream, line: &str| {
        seen.lock()
            .unwrap()
            .push((start.elapsed(), line.to_string()))
    };
    tf.init(&ws, &sink).unwrap();
    tf.plan(&ws, false, &sink).unwrap();
    tf.apply(&ws, &sink).unwrap();
    let seen = seen.into_inner().unwrap();
    let at = |needle: &str| {
        seen.iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("{needle} never reached the sink: {seen:?}"))
    };
    let gap = at("(local-exec): step-two") - at("(local-exec): step-one");
    assert!(
        gap >= Duration::from_millis(2500),
        "step-one arrived only {gap:?} before step-two: output was not streamed"
    );
}

#[test]
fn a_broken_configuration_fails_at_once_with_the_error_block() {
    let tf = terraform();
    let (_t, dir) =
        config_dir("resource \"terraform_data\" \"x\" {\n  input = undefined_thing\n}\n");
    let ws = Workspace::new(&dir, Backend::Local);
    let lines = Lines::default();
    let sink = lines.sink();
    let start = Instant::now();
    let err = tf
        .init(&ws, &sink)
        .and_then(|_| tf.plan(&ws, false, &sink))
        .unwrap_err();
    match &err {
        TfError::Failed {
            tail,
            transient,
            code,
            ..
        } => {
            assert!(!transient);
            assert_eq!(*code, Some(1));
            assert!(
                tail.iter().any(|l| l.starts_with("Error:")),
                "tail has no Error: line: {tail:?}"
            );
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(err.to_string().contains("Error:"), "{err}");
    // No retry of a permanent failure: one `$ terraform plan` line only.
    let plans = lines
        .all()
        .iter()
        .filter(|(s, l)| *s == LogStream::System && l.starts_with("$ terraform plan"))
        .count();
    assert_eq!(plans, 1);
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_throttled_destroy_is_retried_and_completes() {
    let tf = terraform().with_backoff(Duration::from_millis(100));
    // The destroy-time provisioner fails once the way a throttled API call
    // does, then succeeds.
    let (_t, dir) = config_dir(
        r#"
resource "terraform_data" "flaky" {
  provisioner "local-exec" {
    when    = destroy
    command = "if [ ! -f throttled.marker ]; then touch throttled.marker; echo 'ThrottlingException: Rate exceeded'; exit 1; fi; echo destroyed-after-retry"
  }
}
"#,
    );
    let ws = Workspace::new(&dir, Backend::Local);
    let lines = Lines::default();
    let sink = lines.sink();
    tf.init(&ws, &sink).unwrap();
    tf.plan(&ws, false, &sink).unwrap();
    tf.apply(&ws, &sink).unwrap();
    tf.destroy(&ws, &sink).unwrap();
    let text = lines.text();
    assert!(text.contains("a transient failure; trying again"), "{text}");
    assert!(text.contains("destroyed-after-retry"), "{text}");
    assert!(tf.state_resources(&ws).unwrap().is_empty());
}

#[test]
fn apply_without_a_plan_says_to_plan_first() {
    let tf = terraform();
    let (_t, dir) = config_dir("resource \"terraform_data\" \"x\" {}\n");
    let ws = Workspace::new(&dir, Backend::Local);
    let err = tf.apply(&ws, &|_, _| {}).unwrap_err();
    assert!(err.to_string().contains("run plan first"), "{err}");
}
