//! Shared helpers for the runner's tests: a runner with a per-binary home,
//! configurations built from Terraform built-ins only, and a sink that keeps
//! every line it gets.
#![allow(dead_code)]

use autodeploy_core::LogStream;
use autodeploy_terraform::Terraform;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// One autodeploy home per test binary (holds terraformrc and the plugin cache).
pub fn home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().expect("temp home"))
        .path()
}

/// The real terraform on PATH, configured like the product configures it.
pub fn terraform() -> Terraform {
    Terraform::discover(None, home()).expect("terraform is installed (it is on PATH here)")
}

/// A configuration with `n` `terraform_data` resources whose creation sleeps
/// `sleep_s` seconds (local-exec), an input variable and three outputs.
pub fn builtins_config(n: usize, sleep_s: f32) -> String {
    let mut s = String::from(
        r#"variable "greeting" {
  type    = string
  default = "hello"
}

variable "secret_word" {
  type      = string
  default   = "none"
  sensitive = true
}
"#,
    );
    s.push_str(&format!(
        r#"
resource "terraform_data" "item" {{
  count = {n}
  input = "${{var.greeting}}-${{count.index}}"

  provisioner "local-exec" {{
    command = "sleep {sleep_s}; echo created ${{self.input}}"
  }}
}}

output "inputs" {{
  value = terraform_data.item[*].output
}}

output "count" {{
  value = length(terraform_data.item)
}}

output "secret" {{
  value     = var.secret_word
  sensitive = true
}}
"#
    ));
    s
}

/// A fresh directory holding `main.tf` with `text`.
pub fn config_dir(text: &str) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("temp dir");
    std::fs::write(t.path().join("main.tf"), text).expect("write main.tf");
    let p = t.path().to_path_buf();
    (t, p)
}

/// A sink that remembers every line.
#[derive(Default)]
pub struct Lines(Mutex<Vec<(LogStream, String)>>);

impl Lines {
    pub fn sink(&self) -> impl Fn(LogStream, &str) + Sync + '_ {
        move |stream, line| {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((stream, line.to_string()))
        }
    }

    pub fn all(&self) -> Vec<(LogStream, String)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn text(&self) -> String {
        self.all()
            .into_iter()
            .map(|(_, l)| l)
            .collect::<Vec<_>>()
            .join("\n")
    }
}
