//! Unprivileged OS accounts for what the local target starts while
//! autodeploy runs as root: the data servers (PostgreSQL refuses to run as
//! root anyway) run as the system user `autodeploy`, created on first use
//! with `useradd --system` and no login shell.
//!
//! Also the check that such an account can reach a folder at all: every
//! ancestor must let it pass (`x` for others, or owned by it). A home under
//! `/root` (mode 0700) cannot work, and the error says which folder blocks.
//!
//! Deliberately not here: what runs as the account (the callers decide) and
//! any sandboxing beyond the uid/gid switch.

use crate::error::LocalError;
use std::ffi::CString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The account data servers run as when autodeploy runs as root.
pub const DATA_ACCOUNT: &str = "autodeploy";

/// An OS account to run a process as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// Make `cmd` run as this account (std drops supplementary groups when
    /// switching away from root).
    pub fn apply(&self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        cmd.uid(self.uid).gid(self.gid);
    }

    /// Give `path` to this account.
    pub fn chown(&self, path: &Path) -> Result<(), LocalError> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .map_err(|e| LocalError::io("change the owner of", path, e))
    }
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid never fails.
    unsafe { libc::geteuid() == 0 }
}

/// The account `name`, when it exists.
pub fn lookup(name: &str) -> Option<RunAs> {
    let c = CString::new(name).ok()?;
    // SAFETY: getpwnam returns a pointer into static storage or null; the
    // fields are copied out before any other call.
    unsafe {
        let pw = libc::getpwnam(c.as_ptr());
        if pw.is_null() {
            return None;
        }
        Some(RunAs {
            name: name.to_string(),
            uid: (*pw).pw_uid,
            gid: (*pw).pw_gid,
        })
    }
}

/// `None` when not root (processes run as the invoking user); else the
/// system account `name`, created if it does not exist yet.
pub fn service_account(name: &str) -> Result<Option<RunAs>, LocalError> {
    if !is_root() {
        return Ok(None);
    }
    if let Some(a) = lookup(name) {
        return Ok(Some(a));
    }
    let out = Command::new("useradd")
        .args([
            "--system",
            "--user-group",
            "--home-dir",
            "/nonexistent",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ])
        .output()
        .map_err(|e| LocalError::io("run useradd to create the account", name, e))?;
    // Another process may have created it meanwhile: look again either way.
    match lookup(name) {
        Some(a) => Ok(Some(a)),
        None => Err(LocalError::Account {
            name: name.to_string(),
            reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
    }
}

/// The group every deployment's account has as its primary group: the one
/// group an operator grants passage to folders a toolchain lives under
/// (`setfacl -m g:autodeploy-apps:x /root`), never anything of another
/// deployment (those are 0700 folders of their own account).
pub const APPS_GROUP: &str = "autodeploy-apps";

/// The gid of `name`, when the group exists.
pub fn group_id(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: getgrnam returns static storage or null; gr_gid is copied out.
    unsafe {
        let gr = libc::getgrnam(c.as_ptr());
        (!gr.is_null()).then(|| (*gr).gr_gid)
    }
}

/// As root: the system account `name` in the group [`APPS_GROUP`] (both
/// created if missing). Not root: `None`.
pub fn app_account(name: &str) -> Result<Option<RunAs>, LocalError> {
    if !is_root() {
        return Ok(None);
    }
    if group_id(APPS_GROUP).is_none() {
        let _ = Command::new("groupadd")
            .args(["--system", APPS_GROUP])
            .output();
    }
    if let Some(a) = lookup(name) {
        return Ok(Some(a));
    }
    let out = Command::new("useradd")
        .args([
            "--system",
            "--gid",
            APPS_GROUP,
            "--home-dir",
            "/nonexistent",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ])
        .output()
        .map_err(|e| LocalError::io("run useradd to create the account", name, e))?;
    match lookup(name) {
        Some(a) => Ok(Some(a)),
        None => Err(LocalError::Account {
            name: name.to_string(),
            reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
    }
}

/// The first ancestor of `dir` (or `dir` itself) that `who` cannot pass
/// through, if any. As root the kernel is asked (a shell running as `who`
/// tests each folder, so ACLs count); otherwise the mode bits are read.
pub fn blocked_ancestor(dir: &Path, who: &RunAs) -> Option<PathBuf> {
    if is_root() {
        let mut folders = Vec::new();
        let mut cur = PathBuf::new();
        for part in dir.components() {
            cur.push(part);
            if !cur.exists() {
                break;
            }
            folders.push(cur.clone());
        }
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(r#"for d; do [ -x "$d" ] || { printf '%s' "$d"; exit 1; }; done"#)
            .arg("sh")
            .args(&folders)
            .env_clear()
            .current_dir("/");
        who.apply(&mut cmd);
        return match cmd.output() {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(PathBuf::from(
                String::from_utf8_lossy(&o.stdout).into_owned(),
            )),
            Err(_) => folders.first().cloned(),
        };
    }
    blocked_by_mode(dir, who)
}

fn blocked_by_mode(dir: &Path, who: &RunAs) -> Option<PathBuf> {
    let mut cur = PathBuf::new();
    for part in dir.components() {
        cur.push(part);
        let Ok(m) = std::fs::metadata(&cur) else {
            // Not created yet: whoever creates it decides its mode.
            return None;
        };
        let mode = m.permissions().mode();
        let passes = if m.uid() == who.uid {
            mode & 0o100 != 0
        } else if m.gid() == who.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !passes {
            return Some(cur);
        }
    }
    None
}

/// Let others pass through `dir` (`o+x`) without listing it; for folders
/// autodeploy owns (the home) that an unprivileged account must traverse.
pub fn allow_traverse(dir: &Path) -> Result<(), LocalError> {
    let m = std::fs::metadata(dir).map_err(|e| LocalError::io("read", dir, e))?;
    let mode = m.permissions().mode() & 0o7777;
    if mode & 0o011 != 0o011 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o011))
            .map_err(|e| LocalError::io("set the mode of", dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_and_nobody_is_looked_up() {
        assert_eq!(lookup("root").map(|a| a.uid), Some(0));
        assert!(lookup("no-such-account-autodeploy").is_none());
    }

    #[test]
    fn a_private_folder_blocks_others() {
        let d = tempfile::tempdir().unwrap();
        let inner = d.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::set_permissions(d.path().join("a"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        let stranger = RunAs {
            name: "x".into(),
            uid: 4_000_000,
            gid: 4_000_000,
        };
        // The tempdir itself is 0700 as well, so it is the first to block.
        let blocked = blocked_by_mode(&inner, &stranger).unwrap();
        assert!(inner.starts_with(&blocked));
        allow_traverse(d.path()).unwrap();
        allow_traverse(&d.path().join("a")).unwrap();
        assert_eq!(blocked_by_mode(&inner, &stranger), None);
    }
}
