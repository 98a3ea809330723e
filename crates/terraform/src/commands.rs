//! The terraform commands of a deployment's life: init, plan (with a summary
//! read from `show -json`), apply of exactly the saved plan, output, destroy
//! and `state list`.
//!
//! Every command that takes the state lock gets `-lock-timeout`, every one
//! gets `-input=false -no-color`. Deliberately not here: process handling,
//! redaction and retries (`run.rs`), the files in the directory
//! (`workspace.rs`).

use crate::discover::Terraform;
use crate::error::TfError;
use crate::run::{Mode, Retry, Sink};
use crate::workspace::{Backend, Workspace, PLAN_FILE};
use autodeploy_core::LogStream;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// What a saved plan would do, counted the way Terraform's own
/// "Plan: X to add, Y to change, Z to destroy" line counts (a replacement is
/// one add and one destroy; data-source reads are not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// Terraform found something to do (resources or outputs).
    pub changes: bool,
    /// Every resource the plan acts on, in plan order.
    pub resources: Vec<PlannedChange>,
}

/// One resource instance the plan acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedChange {
    pub address: String,
    /// create, update, delete, replace or forget.
    pub action: String,
}

/// One root-module output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputValue {
    pub value: serde_json::Value,
    pub sensitive: bool,
}

/// Reads the resource changes of `terraform show -json <plan>`.
pub fn summarize_plan_json(json: &str, changes: bool) -> Result<PlanSummary, String> {
    #[derive(Deserialize)]
    struct Plan {
        #[serde(default)]
        resource_changes: Vec<ResourceChange>,
    }
    #[derive(Deserialize)]
    struct ResourceChange {
        address: String,
        change: Change,
    }
    #[derive(Deserialize)]
    struct Change {
        actions: Vec<String>,
    }
    let plan: Plan = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut s = PlanSummary {
        changes,
        ..PlanSummary::default()
    };
    for rc in plan.resource_changes {
        let actions: Vec<&str> = rc.change.actions.iter().map(String::as_str).collect();
        let action = match actions.as_slice() {
            ["create"] => {
                s.add += 1;
                "create"
            }
            ["update"] => {
                s.change += 1;
                "update"
            }
            ["delete"] => {
                s.destroy += 1;
                "delete"
            }
            ["delete", "create"] | ["create", "delete"] => {
                s.add += 1;
                s.destroy += 1;
                "replace"
            }
            ["forget"] => "forget",
            _ => continue, // no-op, read
        };
        s.resources.push(PlannedChange {
            address: rc.address,
            action: action.to_string(),
        });
    }
    Ok(s)
}

/// An exclusive `flock(2)` on a file, released when dropped (the descriptor
/// closes). Works across processes sharing one autodeploy home.
struct CacheLock {
    _file: File,
}

impl CacheLock {
    fn acquire(path: &Path) -> Result<Self, TfError> {
        let io = |source| TfError::Io {
            action: "lock the plugin cache lock",
            path: path.to_path_buf(),
            source,
        };
        let file = File::create(path).map_err(io)?;
        loop {
            // SAFETY: flock on a descriptor this function owns; no memory is shared.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(CacheLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(io(err));
            }
        }
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Terraform {
    fn lock_flag(&self) -> String {
        format!("-lock-timeout={}s", self.lock_timeout.as_secs())
    }

    /// Runs a streaming command with retries; `ok` says which exit codes succeed.
    fn streamed(
        &self,
        ws: &Workspace,
        args: &[String],
        retry: Retry,
        sink: Sink,
        ok: &[i32],
    ) -> Result<i32, TfError> {
        let what = self.command_line(args);
        self.retrying(&what, retry, sink, || {
            sink(LogStream::System, &format!("$ {what}"));
            let out = self.run_once(ws, args, Mode::Stream, sink)?;
            match out.code {
                Some(c) if ok.contains(&c) => Ok(c),
                _ => Err(self.failure(ws, args, &out)),
            }
        })
    }

    /// Runs a capturing command with retries and returns its stdout.
    fn captured(&self, ws: &Workspace, args: &[String]) -> Result<String, TfError> {
        let quiet = |_: LogStream, _: &str| {};
        self.retrying(&self.command_line(args), Retry::Transient, &quiet, || {
            let out = self.run_once(ws, args, Mode::Capture, &quiet)?;
            if out.success() {
                Ok(out.stdout)
            } else {
                Err(self.failure(ws, args, &out))
            }
        })
    }

    /// Writes the workspace's backend (and emulator override) files, then
    /// `terraform init -input=false -reconfigure -lock-timeout=…`. Inits that
    /// share this runner's plugin cache run one at a time (across processes,
    /// through a file lock) because Terraform's cache is not safe for
    /// concurrent installs. `-reconfigure`: a deployment never migrates state
    /// between backends, and re-running init must not ask to.
    ///
    /// A workspace's first init starts from the dependency lock file of the
    /// last successful one (`<cache>.lock.hcl`): with checksums that match
    /// the cache, Terraform links the cached provider instead of installing
    /// it again over the entry other deployments' `plan`/`apply` are using.
    pub fn init(&self, ws: &Workspace, sink: Sink) -> Result<(), TfError> {
        ws.prepare()?;
        let lock_path = self.plugin_cache.with_extension("lock");
        let seed = self.plugin_cache.with_extension("lock.hcl");
        let ws_lock = ws.dir.join(".terraform.lock.hcl");
        let cache_lock = CacheLock::acquire(&lock_path)?;
        if !ws_lock.exists() && seed.is_file() {
            std::fs::copy(&seed, &ws_lock).map_err(|source| TfError::Io {
                action: "copy the provider lock file into",
                path: ws_lock.clone(),
                source,
            })?;
        }
        let mut a = args(&["init", "-input=false", "-no-color", "-reconfigure"]);
        a.push(self.lock_flag());
        let result = self.streamed(ws, &a, Retry::Transient, sink, &[0]);
        if result.is_ok() {
            // Best effort: a missing seed only costs the next init a reinstall.
            let tmp = seed.with_extension(format!("hcl.{}.tmp", std::process::id()));
            if std::fs::copy(&ws_lock, &tmp).is_ok() {
                let _ = std::fs::rename(&tmp, &seed);
            }
        }
        drop(cache_lock);
        result.map(|_| ())
    }

    /// `terraform plan -out=plan.tfplan` (with `-destroy` when asked), then
    /// the summary of that saved plan from `terraform show -json`.
    pub fn plan(&self, ws: &Workspace, destroy: bool, sink: Sink) -> Result<PlanSummary, TfError> {
        let plan_path = ws.plan_path();
        match std::fs::remove_file(&plan_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(TfError::Io {
                    action: "remove the previous plan",
                    path: plan_path,
                    source: e,
                })
            }
            _ => {}
        }
        let mut a = args(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
        a.push(self.lock_flag());
        a.push(format!("-out={PLAN_FILE}"));
        if destroy {
            a.push("-destroy".into());
        }
        let code = self.streamed(ws, &a, Retry::Transient, sink, &[0, 2])?;
        let show = args(&["show", "-json", "-no-color", PLAN_FILE]);
        let json = self.captured(ws, &show)?;
        let summary =
            summarize_plan_json(&json, code == 2).map_err(|reason| TfError::BadOutput {
                command: self.command_line(&show),
                dir: ws.dir.clone(),
                reason,
            })?;
        sink(
            LogStream::System,
            &format!(
                "plan: {} to add, {} to change, {} to destroy",
                summary.add, summary.change, summary.destroy
            ),
        );
        Ok(summary)
    }

    /// Applies exactly the saved plan of the last [`Terraform::plan`] (the
    /// reviewed one), then deletes it (a saved plan holds variable values).
    /// Only a held lock is retried: after any other failure the plan may be
    /// stale, and the caller must plan again (`TfError::is_transient` says
    /// whether that is worth it).
    pub fn apply(&self, ws: &Workspace, sink: Sink) -> Result<(), TfError> {
        let plan_path = ws.plan_path();
        if !plan_path.is_file() {
            return Err(TfError::InvalidWorkspace {
                dir: ws.dir.clone(),
                what: format!("there is no saved plan ({PLAN_FILE}) to apply; run plan first"),
            });
        }
        let mut a = args(&["apply", "-input=false", "-no-color"]);
        a.push(self.lock_flag());
        a.push(PLAN_FILE.into());
        self.streamed(ws, &a, Retry::LockOnly, sink, &[0])?;
        // A leftover plan is only a stale file: the next plan replaces it.
        let _ = std::fs::remove_file(&plan_path);
        Ok(())
    }

    /// The root module's outputs (`terraform output -json`); empty before the first apply.
    pub fn output(&self, ws: &Workspace) -> Result<BTreeMap<String, OutputValue>, TfError> {
        let a = args(&["output", "-json", "-no-color"]);
        let json = self.captured(ws, &a)?;
        let trimmed = json.trim();
        if trimmed.is_empty() {
            return Ok(BTreeMap::new());
        }
        serde_json::from_str(trimmed).map_err(|e| TfError::BadOutput {
            command: self.command_line(&a),
            dir: ws.dir.clone(),
            reason: e.to_string(),
        })
    }

    /// Destroys everything in the deployment's state: `plan -destroy` then
    /// apply of that plan; a transient failure re-plans and tries again.
    pub fn destroy(&self, ws: &Workspace, sink: Sink) -> Result<(), TfError> {
        // The plan and apply inside already waited for (and retried) a held lock.
        self.retrying("destroy", Retry::FailuresOnly, sink, || {
            let summary = self.plan(ws, true, sink)?;
            if !summary.changes {
                sink(LogStream::System, "destroy: nothing to destroy");
                let _ = std::fs::remove_file(ws.plan_path());
                return Ok(());
            }
            self.apply(ws, sink)
        })
    }

    /// The resource addresses in the state (`terraform state list`); empty when there is no state.
    /// A local workspace that never wrote state answers without running terraform.
    pub fn state_resources(&self, ws: &Workspace) -> Result<Vec<String>, TfError> {
        if ws.backend == Backend::Local && !ws.dir.join("terraform.tfstate").exists() {
            return Ok(Vec::new());
        }
        let a = args(&["state", "list"]);
        match self.captured(ws, &a) {
            Ok(out) => Ok(out
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()),
            Err(TfError::Failed { tail, .. })
                if tail.iter().any(|l| l.contains("No state file was found")) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// Removes a state lock left by a run that died (`terraform force-unlock -force <id>`).
    /// Only call it when you know the holder is gone: the id is in [`TfError::LockHeld`].
    pub fn force_unlock(&self, ws: &Workspace, lock_id: &str, sink: Sink) -> Result<(), TfError> {
        if lock_id.is_empty() || lock_id.starts_with('-') {
            return Err(TfError::InvalidWorkspace {
                dir: ws.dir.clone(),
                what: format!("{lock_id:?} is not a lock id"),
            });
        }
        let a = args(&["force-unlock", "-force", lock_id]);
        self.streamed(ws, &a, Retry::LockOnly, sink, &[0])
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_cache_lock_is_exclusive() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("plugin-cache.lock");
        let held = CacheLock::acquire(&path).unwrap();
        let waited = std::thread::scope(|s| {
            let h = s.spawn(|| {
                let start = std::time::Instant::now();
                let _second = CacheLock::acquire(&path).unwrap();
                start.elapsed()
            });
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
            h.join().unwrap()
        });
        assert!(
            waited >= std::time::Duration::from_millis(250),
            "{waited:?}"
        );
    }

    #[test]
    fn summary_counts_like_terraform() {
        let json = r#"{"format_version":"1.2","resource_changes":[
          {"address":"a.x","change":{"actions":["create"]}},
          {"address":"a.y","change":{"actions":["update"]}},
          {"address":"a.z","change":{"actions":["delete","create"]}},
          {"address":"a.w","change":{"actions":["create","delete"]}},
          {"address":"a.v","change":{"actions":["delete"]}},
          {"address":"a.u","change":{"actions":["no-op"]}},
          {"address":"data.a.t","change":{"actions":["read"]}}
        ]}"#;
        let s = summarize_plan_json(json, true).unwrap();
        assert_eq!((s.add, s.change, s.destroy), (3, 1, 3));
        assert_eq!(s.resources.len(), 5);
        assert_eq!(s.resources[2].action, "replace");
        let empty = summarize_plan_json(r#"{"format_version":"1.2"}"#, false).unwrap();
        assert_eq!(empty, PlanSummary::default());
        assert!(summarize_plan_json("not json", true).is_err());
    }
}
