//! What a person sees while a deployment runs, under a real pseudo-terminal:
//! a spinner line per phase with its elapsed time and a live summary,
//! replaced by `✓ phase (12.3s)` when it ends, in colour; no colour at all
//! with `NO_COLOR`; and with stderr redirected to a file, plain `==> phase`
//! lines with their durations and not one escape byte.

mod support;

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::Read;
use std::path::Path;
use std::time::Duration;
use support::*;

/// Output and success of the CLI run under a pseudo-terminal (stdin, stdout
/// and stderr all on it, unless `stderr_to` sends stderr to a file).
fn in_pty(
    home: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stderr_to: Option<&Path>,
) -> (bool, String) {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pseudo-terminal");
    let bin = env!("CARGO_BIN_EXE_autodeploy");
    let mut cmd = match stderr_to {
        None => {
            let mut c = CommandBuilder::new(bin);
            c.args(args);
            c
        }
        Some(file) => {
            let mut c = CommandBuilder::new("/bin/sh");
            c.arg("-c");
            c.arg("f=$1; shift; exec \"$@\" 2>\"$f\"");
            c.arg("sh");
            c.arg(file);
            c.arg(bin);
            c.args(args);
            c
        }
    };
    cmd.env("AUTODEPLOY_HOME", home);
    cmd.env_remove("AUTODEPLOY_DATABASE_URL");
    cmd.env_remove("AUTODEPLOY_STATE_URL");
    cmd.env_remove("NO_COLOR");
    cmd.env("TERM", "xterm-256color");
    cmd.cwd(std::env::current_dir().unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = pair.slave.spawn_command(cmd).expect("the CLI starts");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let read = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        // EIO once the last writer has gone: the end of the output.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    let mut killer = child.clone_killer();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(Duration::from_secs(600)) {
        Ok(s) => s.expect("wait"),
        Err(_) => {
            let _ = killer.kill();
            panic!("{args:?} did not end within 10 minutes");
        }
    };
    drop(pair.master);
    let out = read.join().unwrap();
    (status.success(), String::from_utf8_lossy(&out).into_owned())
}

/// The text with CSI sequences (colours, line clears, cursor moves)
/// removed, each redraw of a line (after a carriage return) a line of its own.
fn plain(s: &str) -> String {
    console::strip_ansi_codes(s).replace('\r', "\n")
}

/// SGR (colour) sequences: ESC [ params m.
fn colour_codes(s: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in s.match_indices("\u{1b}[") {
        let rest = &s[i + 2..];
        let params = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        if rest[params..].starts_with('m') {
            found.push(format!("ESC[{}m", &rest[..params]));
        }
    }
    found
}

/// `title` followed by a space and an elapsed time such as `1.4s` somewhere.
fn has_with_elapsed(s: &str, title: &str) -> bool {
    s.match_indices(title).any(|(i, _)| {
        let rest = s[i + title.len()..].trim_start_matches([' ', '(']);
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
        digits > 0
            && rest[digits..].starts_with('.')
            && rest[digits + 1..].starts_with(|c: char| c.is_ascii_digit())
            && rest[digits + 2..].starts_with('s')
    })
}

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

#[test]
fn a_terminal_sees_spinners_and_finished_phases_a_file_sees_plain_lines() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let app_start = "app start: preparing, building and starting the app";

    // Deploy on a terminal: spinners with elapsed time, ✓ lines, colour.
    let (ok, out) = in_pty(
        &home,
        &[
            "deploy",
            &fixture("hello_world_shape"),
            "run it locally",
            "--yes",
        ],
        &[],
        None,
    );
    let text = plain(&out);
    assert!(ok, "deploy failed:\n{text}");
    let spinner_lines: Vec<&str> = text.lines().filter(|l| l.starts_with(SPINNER)).collect();
    assert!(
        spinner_lines.iter().any(|l| has_with_elapsed(l, app_start)),
        "a spinner line for app start with its elapsed time:\n{text}"
    );
    for title in [
        "fetch: getting the source",
        "analyze: working out what the app is",
        app_start,
        "health: waiting for the app to answer",
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("✓ {title} (")) && has_with_elapsed(l, title)),
            "a finished line for {title}:\n{text}"
        );
    }
    assert!(
        !text.contains("==> "),
        "no plain phase headers on a terminal:\n{text}"
    );
    assert!(
        colour_codes(&out).iter().any(|c| c == "ESC[32m"),
        "the ✓ is green on a terminal: {:?}",
        colour_codes(&out)
    );
    assert!(text.contains(" is up: http://"), "{text}");
    let id = text
        .split_whitespace()
        .skip_while(|w| *w != "Deployment")
        .nth(1)
        .unwrap_or_else(|| panic!("the deployment id:\n{text}"))
        .to_string();

    // Redeploy with stderr redirected to a file: plain lines, durations,
    // not one escape byte.
    let log = t.path().join("redeploy.log");
    let (ok, out) = in_pty(&home, &["redeploy", &id], &[], Some(&log));
    let err = std::fs::read_to_string(&log).unwrap();
    assert!(ok, "redeploy failed:\n{out}\n--- stderr\n{err}");
    assert!(
        !err.contains('\u{1b}'),
        "an escape byte in the file:\n{err:?}"
    );
    assert!(err.contains(&format!("==> {app_start}")), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("    app_start done in ") && l.ends_with('s')),
        "the phase's duration as a plain line:\n{err}"
    );
    assert!(!err.contains(SPINNER), "no spinner in a file:\n{err}");

    // Destroy with NO_COLOR: still live, but no colour sequence at all.
    let (ok, out) = in_pty(
        &home,
        &["destroy", &id, "--yes"],
        &[("NO_COLOR", "1")],
        None,
    );
    let text = plain(&out);
    assert!(ok, "destroy failed:\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("✓ destroy (") && has_with_elapsed(l, "destroy")),
        "{text}"
    );
    assert_eq!(colour_codes(&out), Vec::<String>::new(), "{out:?}");
}

#[test]
fn the_elapsed_matcher_reads_what_the_progress_prints() {
    assert!(has_with_elapsed("✓ destroy (0.3s)", "destroy"));
    assert!(has_with_elapsed(
        "⠙ health: waiting 12.0s  GET /",
        "health: waiting"
    ));
    assert!(!has_with_elapsed("✓ destroy", "destroy"));
    assert!(!has_with_elapsed("destroy (12s)", "destroy"));
    assert_eq!(colour_codes("a\u{1b}[2K\u{1b}[1Ab"), Vec::<String>::new());
    assert_eq!(
        colour_codes("\u{1b}[1;32mok\u{1b}[0m"),
        ["ESC[1;32m", "ESC[0m"]
    );
}
