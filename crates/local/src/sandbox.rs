//! Confinement of a deployment's own processes — its install, build and
//! release commands and the app itself, all of them code from the
//! repository, hostile until proven otherwise.
//!
//! When autodeploy runs as root (the service, or a CLI run by root), every
//! deployment gets an unprivileged system account of its own (`ad-<hash>`,
//! no login shell, created with `useradd`), owns only its release folder
//! and its own download cache, and cannot read the store, the secrets key,
//! the tokens or another deployment's files (0700 folders, 0600 files). Its
//! processes get a memory, process-count and CPU limit through a cgroup per
//! deployment (v2 `/sys/fs/cgroup/autodeploy/<id>`, or the v1 `memory`,
//! `pids`, `cpu` hierarchies — whatever the machine mounts), plus resource
//! limits (no core dumps, a bounded number of open files). A regular user's
//! apps run as that user with the resource limits, and the cgroup when the
//! user may create one.
//!
//! Deliberately not a container: no filesystem or network namespace (what
//! Debian gives everywhere is users, permissions, cgroups and rlimits; a
//! per-user namespace setup would make the local target depend on kernel
//! settings machines differ in). Apps reach the network as their user.

use crate::account::{self, RunAs};
use crate::error::LocalError;
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Resource limits of one deployment (all its processes together, where a
/// cgroup is available; per process otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory, bytes (builds such as `next build` need ~1.5 GiB).
    pub memory_bytes: u64,
    /// Processes and threads.
    pub pids: u32,
    /// CPU time per 100 ms period, in ms (100 = one core); 0 = no cap.
    pub cpu_ms_per_100ms: u32,
    /// Open files per process.
    pub open_files: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 2 << 30,
            pids: 1024,
            cpu_ms_per_100ms: 0,
            open_files: 8192,
        }
    }
}

/// How one deployment's processes are confined (also written into the
/// supervisor's spec, so the app gets the same).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    /// The account the processes run as (None: the invoking user).
    #[serde(default)]
    pub uid: Option<u32>,
    #[serde(default)]
    pub gid: Option<u32>,
    #[serde(default)]
    pub user: Option<String>,
    /// `cgroup.procs` files a new process joins (one per hierarchy).
    #[serde(default)]
    pub cgroup_procs: Vec<PathBuf>,
    /// The cgroup folders (removed on destroy).
    #[serde(default)]
    pub cgroups: Vec<PathBuf>,
    pub limits: Option<Limits>,
}

/// `ad-` and 12 hex digits of the deployment id (account names are short
/// and lower case; ids may be neither).
pub fn account_name(deployment: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in deployment.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("ad-{:012x}", h & 0xffff_ffff_ffff)
}

/// The confinement of `deployment`: its account (when root) and cgroup
/// (when the machine lets us make one), created on first use.
pub fn prepare(deployment: &str, limits: Limits) -> Result<Confinement, LocalError> {
    let mut c = Confinement {
        limits: Some(limits),
        ..Default::default()
    };
    if let Some(run_as) = account::app_account(&account_name(deployment))? {
        c.uid = Some(run_as.uid);
        c.gid = Some(run_as.gid);
        c.user = Some(run_as.name);
    }
    for (dir, procs) in cgroup_dirs(deployment) {
        if std::fs::create_dir_all(&dir).is_err() {
            continue;
        }
        let ok = write_limits(&dir, &limits);
        if ok && procs.exists() {
            c.cgroups.push(dir);
            c.cgroup_procs.push(procs);
        }
    }
    Ok(c)
}

/// Where this machine keeps cgroups of the controllers we use, for `deployment`.
fn cgroup_dirs(deployment: &str) -> Vec<(PathBuf, PathBuf)> {
    let root = Path::new("/sys/fs/cgroup");
    let name = format!("autodeploy/{deployment}");
    let v2 = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    if v2.contains("memory") && v2.contains("pids") {
        // Enable the controllers for our subtree (harmless when already on).
        let _ = std::fs::create_dir_all(root.join("autodeploy"));
        let _ = std::fs::write(root.join("cgroup.subtree_control"), "+memory +pids +cpu");
        let _ = std::fs::write(
            root.join("autodeploy/cgroup.subtree_control"),
            "+memory +pids +cpu",
        );
        let d = root.join(&name);
        return vec![(d.clone(), d.join("cgroup.procs"))];
    }
    ["memory", "pids", "cpu"]
        .iter()
        .map(|c| root.join(c))
        .filter(|p| p.join("cgroup.procs").exists())
        .map(|p| {
            let d = p.join(&name);
            (d.clone(), d.join("cgroup.procs"))
        })
        .collect()
}

/// Write whichever limit files the folder has (v1 or v2 names).
fn write_limits(dir: &Path, l: &Limits) -> bool {
    let mut wrote = false;
    let mut put = |file: &str, value: String| {
        let p = dir.join(file);
        if p.exists() && std::fs::write(&p, value).is_ok() {
            wrote = true;
        }
    };
    // v2
    put("memory.max", l.memory_bytes.to_string());
    put("memory.swap.max", "0".into());
    put("pids.max", l.pids.to_string());
    if l.cpu_ms_per_100ms > 0 {
        put("cpu.max", format!("{} 100000", l.cpu_ms_per_100ms * 1000));
    }
    // v1
    put("memory.limit_in_bytes", l.memory_bytes.to_string());
    if l.cpu_ms_per_100ms > 0 {
        put("cpu.cfs_period_us", "100000".into());
        put("cpu.cfs_quota_us", (l.cpu_ms_per_100ms * 1000).to_string());
    } else if dir.join("cpu.cfs_quota_us").exists() {
        // A cpu hierarchy without a cap still groups the deployment.
        wrote = true;
    }
    wrote
}

impl Confinement {
    /// The account, when processes run as one.
    pub fn run_as(&self) -> Option<RunAs> {
        Some(RunAs {
            name: self.user.clone()?,
            uid: self.uid?,
            gid: self.gid?,
        })
    }

    /// Make `cmd` run confined: as the account, in the cgroups, with the
    /// resource limits.
    pub fn apply(&self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        // The cgroups are joined while still root, then the account is
        // taken: one closure does both in that order (std would switch the
        // user before running any closure).
        let ids = self.uid.zip(self.gid);
        // Everything the child runs between fork and exec is prepared here:
        // no allocation after the fork.
        let procs: Vec<CString> = self
            .cgroup_procs
            .iter()
            .filter_map(|p| CString::new(p.as_os_str().as_bytes()).ok())
            .collect();
        let limits = self.limits.unwrap_or_default();
        // SAFETY: the closure only calls async-signal-safe functions (open,
        // write, close, getpid, setrlimit, setgroups, setgid, setuid) on data
        // prepared before the fork.
        unsafe {
            cmd.pre_exec(move || {
                let mut buf = [0u8; 20];
                let pid = libc::getpid();
                let n = itoa(pid as u64, &mut buf);
                for p in &procs {
                    let fd = libc::open(p.as_ptr(), libc::O_WRONLY);
                    if fd >= 0 {
                        libc::write(fd, buf.as_ptr() as *const libc::c_void, n);
                        libc::close(fd);
                    }
                }
                let set = |res, v: u64| {
                    let r = libc::rlimit {
                        rlim_cur: v as libc::rlim_t,
                        rlim_max: v as libc::rlim_t,
                    };
                    libc::setrlimit(res, &r);
                };
                set(libc::RLIMIT_CORE, 0);
                set(libc::RLIMIT_NOFILE, limits.open_files);
                if let Some((u, g)) = ids {
                    if libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(g) != 0
                        || libc::setuid(u) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }

    /// Give `path` (a folder tree the deployment's processes write) to the account.
    pub fn own(&self, path: &Path) -> Result<(), LocalError> {
        let Some(r) = self.run_as() else {
            return Ok(());
        };
        chown_tree(path, &r)
    }

    /// Check the account can reach `dir` at all; say which folder blocks it.
    pub fn check_reachable(&self, dir: &Path) -> Result<(), LocalError> {
        let Some(r) = self.run_as() else {
            return Ok(());
        };
        match account::blocked_ancestor(dir, &r) {
            None => Ok(()),
            Some(b) => Err(LocalError::Confinement {
                reason: format!(
                    "the app runs as the unprivileged account `{}`, which cannot enter {} (its mode lets only its owner in)",
                    r.name,
                    b.display()
                ),
                hint: "set AUTODEPLOY_HOME to a folder outside it (as root the default is /var/lib/autodeploy)".into(),
            }),
        }
    }

    /// The programs `names` (found on `path`) the account cannot run because
    /// a folder above them is private, with that folder.
    pub fn unreachable(
        &self,
        names: &[&str],
        path: &std::ffi::OsString,
    ) -> Vec<(PathBuf, PathBuf)> {
        let Some(r) = self.run_as() else {
            return vec![];
        };
        names
            .iter()
            .filter_map(|n| crate::toolchain::which(n, path))
            .filter_map(|p| account::blocked_ancestor(&p, &r).map(|b| (p, b)))
            .collect()
    }

    /// Variables the deployment's processes get instead of the caller's: a
    /// home and temp folder of their own in the release (`base`) — so no two
    /// deployments share a dot-file, a lock or a control socket such as
    /// gunicorn's `$HOME/gunicorn.ctl` — cargo's cache in the download cache
    /// (`cache`), and where toolchains installed in the caller's home keep
    /// their data (rustup, pyenv).
    pub fn env_overrides(&self, base: &Path, cache: &Path) -> Vec<(String, String)> {
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        let mut out = vec![
            ("HOME".to_string(), s(base.join("home"))),
            ("TMPDIR".to_string(), s(base.join("tmp"))),
        ];
        if let Some(r) = self.run_as() {
            out.push(("USER".to_string(), r.name.clone()));
            out.push(("LOGNAME".to_string(), r.name.clone()));
        }
        let caller_home = std::env::var_os("HOME").map(PathBuf::from);
        for (var, default) in [("RUSTUP_HOME", ".rustup"), ("PYENV_ROOT", ".pyenv")] {
            let v = std::env::var_os(var)
                .map(PathBuf::from)
                .or_else(|| caller_home.as_ref().map(|h| h.join(default)))
                .filter(|p| p.is_dir());
            if let Some(v) = v {
                out.push((var.to_string(), s(v)));
            }
        }
        // Cargo writes its registry cache: the deployment's download cache.
        out.push(("CARGO_HOME".to_string(), s(cache.join("cargo"))));
        out
    }

    /// Remove the deployment's cgroups (when its processes are gone).
    pub fn remove_cgroups(&self) {
        for d in &self.cgroups {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Remove the cgroups `deployment` may have (destroy).
pub fn remove_cgroups(deployment: &str) {
    for (dir, _) in cgroup_dirs(deployment) {
        let _ = std::fs::remove_dir(dir);
    }
}

/// SIGKILL every process `deployment` still has: whatever sits in its
/// cgroups and, as root, whatever runs as its account. This reaches what no
/// supervisor recorded — an install or build step whose caller was killed
/// (`kill -9` of a CLI deploy) keeps writing into the release folder and
/// would make removing it fail. Waits up to 5 s for them to go; returns the
/// number of processes still there (0 when all are gone).
pub fn kill_all(deployment: &str) -> usize {
    let account = if account::is_root() {
        account::lookup(&account_name(deployment)).map(|r| r.uid)
    } else {
        None
    };
    let cgroups: Vec<PathBuf> = cgroup_dirs(deployment)
        .into_iter()
        .map(|(_, procs)| procs)
        .filter(|p| p.exists())
        .collect();
    let me = std::process::id();
    let left = || {
        let mut pids: Vec<u32> = cgroups
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .flat_map(|s| {
                s.lines()
                    .filter_map(|l| l.trim().parse::<u32>().ok())
                    .collect::<Vec<_>>()
            })
            .chain(account.map(crate::proc::pids_of_uid).unwrap_or_default())
            .filter(|p| *p != me && crate::proc::alive(*p))
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    };
    let mut pids = left();
    if pids.is_empty() {
        return 0;
    }
    crate::proc::wait_until(std::time::Duration::from_secs(5), || {
        for p in &pids {
            crate::proc::signal(*p, libc::SIGKILL);
        }
        pids = left();
        pids.is_empty()
    });
    pids.len()
}

/// Remove the deployment's account (destroy). Its files are gone by then,
/// and what it left in the machine's shared temporary folders goes too:
/// an app whose default database is `/tmp/app.db` (ihatemoney) would
/// otherwise leave a file the next deployment — another account — can
/// only read ("attempt to write a readonly database").
pub fn remove_account(deployment: &str) {
    if !account::is_root() {
        return;
    }
    if let Some(r) = account::lookup(&account_name(deployment)) {
        remove_owned_in(
            &[
                Path::new("/tmp"),
                Path::new("/var/tmp"),
                Path::new("/dev/shm"),
            ],
            r.uid,
        );
        let _ = Command::new("userdel")
            .arg(account_name(deployment))
            .output();
    }
}

/// Remove the entries directly inside `folders` that `uid` owns (links
/// removed, never followed; a folder with everything in it). Returns how
/// many entries went.
pub(crate) fn remove_owned_in(folders: &[&Path], uid: u32) -> usize {
    use std::os::unix::fs::MetadataExt;
    let mut n = 0;
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.uid() != uid {
                continue;
            }
            let gone = if meta.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            n += usize::from(gone.is_ok());
        }
    }
    n
}

/// Decimal digits of `v` into `buf`, returning the length (no allocation).
fn itoa(mut v: u64, buf: &mut [u8; 20]) -> usize {
    let mut tmp = [0u8; 20];
    let mut i = 0;
    loop {
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        i += 1;
        if v == 0 {
            break;
        }
    }
    for j in 0..i {
        buf[j] = tmp[i - 1 - j];
    }
    i
}

fn chown_tree(path: &Path, r: &RunAs) -> Result<(), LocalError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(LocalError::io("read", path, e)),
    };
    // lchown: a link is given away, never followed.
    std::os::unix::fs::lchown(path, Some(r.uid), Some(r.gid))
        .map_err(|e| LocalError::io("change the owner of", path, e))?;
    if meta.is_dir() {
        let rd = std::fs::read_dir(path).map_err(|e| LocalError::io("read", path, e))?;
        for e in rd.flatten() {
            chown_tree(&e.path(), r)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_are_short_lower_case_and_stable() {
        let a = account_name("dep_A1-very-long-deployment-identifier-0123456789");
        assert_eq!(a.len(), 15);
        assert!(a.starts_with("ad-"));
        assert!(a[3..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(
            a,
            account_name("dep_A1-very-long-deployment-identifier-0123456789")
        );
        assert_ne!(account_name("a"), account_name("b"));
    }

    /// What a destroyed deployment's account left in a shared temporary
    /// folder goes (ihatemoney's `/tmp/ihatemoney.db`); everyone else's
    /// stays, and a link is removed without touching what it points to.
    #[test]
    fn what_an_account_owns_in_a_shared_folder_is_removed() {
        if !account::is_root() {
            eprintln!("SKIPPING: changing a file's owner needs root");
            return;
        }
        let shared = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let uid = 54_321;
        let mine = shared.path().join("ihatemoney.db");
        std::fs::write(&mine, "x").unwrap();
        let dir = shared.path().join("cache");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("f"), "x").unwrap();
        let theirs = shared.path().join("other.db");
        std::fs::write(&theirs, "x").unwrap();
        let target = outside.path().join("keep");
        std::fs::write(&target, "x").unwrap();
        let link = shared.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        for p in [&mine, &dir, &dir.join("f"), &link] {
            std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
        }
        assert_eq!(remove_owned_in(&[shared.path()], uid), 3);
        assert!(!mine.exists() && !dir.exists() && link.symlink_metadata().is_err());
        assert!(theirs.exists() && target.exists());
    }

    #[test]
    fn itoa_writes_digits() {
        let mut b = [0u8; 20];
        let n = itoa(40213, &mut b);
        assert_eq!(&b[..n], b"40213");
        let n = itoa(0, &mut b);
        assert_eq!(&b[..n], b"0");
    }
}
