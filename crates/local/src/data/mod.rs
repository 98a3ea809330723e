//! Data services on the local target: PostgreSQL, MySQL (MariaDB) and Redis
//! that autodeploy starts itself, so an app that needs a database comes up
//! with no help.
//!
//! PostgreSQL and MariaDB: one private instance per `AUTODEPLOY_HOME`
//! (`<home>/services/<engine>/`: data folder, a free port on 127.0.0.1,
//! generated admin credentials in a 0600 file), started on first use, and
//! one database + user per deployment (`users/<deployment>.json`, 0600),
//! which survives redeploys and is dropped on destroy (unless kept). The
//! instance stops when no deployment uses it. Redis has no per-database
//! access control — two apps on one server could read each other's keys —
//! so each deployment gets its own small server
//! (`<home>/services/redis/<deployment>/`) with its own password.
//!
//! When autodeploy runs as root, every server runs as the unprivileged
//! system account `autodeploy` ([`crate::account`]); otherwise as the
//! invoking user. Servers outlive the CLI (they are daemons); a deploy after
//! a reboot starts them again.
//!
//! Deliberately not here: which environment variables get which value
//! (decide's wiring, formatted by `autodeploy_core::conn`), MongoDB (Debian
//! does not package it: the caller says which flag supplies a URL).

mod mariadb;
mod postgres;
mod redis;

use crate::account::{self, RunAs};
use crate::error::LocalError;
use crate::proc;
use autodeploy_core::conn::{CacheConn, DbConn};
use autodeploy_core::DatabaseEngine;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A data service the local target can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Postgresql,
    Mysql,
    Redis,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgresql => "postgresql",
            Engine::Mysql => "mysql",
            Engine::Redis => "redis",
        }
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Engine::Postgresql => "PostgreSQL",
            Engine::Mysql => "MySQL (MariaDB)",
            Engine::Redis => "Redis",
        }
    }

    /// The relational engine of a decision, when the local target runs it.
    pub fn for_database(e: DatabaseEngine) -> Option<Engine> {
        match e {
            DatabaseEngine::Postgresql => Some(Engine::Postgresql),
            DatabaseEngine::Mysql => Some(Engine::Mysql),
            DatabaseEngine::Mongodb => None,
        }
    }

    /// The Debian package that provides it.
    fn package(self) -> &'static str {
        match self {
            Engine::Postgresql => "postgresql",
            Engine::Mysql => "mariadb-server",
            Engine::Redis => "redis-server",
        }
    }

    /// Free space the first start needs (data files, logs, some headroom).
    fn min_free_bytes(self) -> u64 {
        match self {
            Engine::Postgresql => 200 << 20,
            Engine::Mysql => 300 << 20,
            Engine::Redis => 20 << 20,
        }
    }
}

/// What one deployment was given: where to connect and as whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub engine: Engine,
    /// Server version (`15.18`, `10.11.19`, `7.0.15`).
    pub version: String,
    pub host: String,
    pub port: u16,
    /// Database name (Redis: `0`).
    pub database: String,
    /// User (Redis: `default`).
    pub user: String,
    pub password: String,
}

impl Grant {
    /// The connection parts of a relational grant.
    pub fn db_conn(&self, engine: DatabaseEngine) -> DbConn {
        DbConn {
            engine,
            host: self.host.clone(),
            port: self.port,
            name: self.database.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
        }
    }

    /// The connection parts of a Redis grant.
    pub fn cache_conn(&self) -> CacheConn {
        CacheConn {
            host: self.host.clone(),
            port: self.port,
            password: Some(self.password.clone()).filter(|p| !p.is_empty()),
            tls: false,
        }
    }
}

/// A deployment's data service as `status` shows it (no password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataStatus {
    pub engine: Engine,
    pub version: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    /// The server answers on its port right now.
    pub running: bool,
    /// Where the server keeps its files.
    pub data_dir: PathBuf,
}

/// Where data services live and which programs to use.
#[derive(Debug, Clone)]
pub struct DataOptions {
    /// `$AUTODEPLOY_HOME`.
    pub home: PathBuf,
    /// PATH used to find the servers' programs.
    pub path: OsString,
}

impl DataOptions {
    fn root(&self) -> PathBuf {
        self.home.join("services")
    }
}

/// The instance record (`instance.json`) of a running or stopped server.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Instance {
    port: u16,
    version: String,
}

/// A server's folder, its account and its record.
struct Place {
    engine: Engine,
    dir: PathBuf,
    run_as: Option<RunAs>,
}

impl Place {
    fn record(&self) -> Option<Instance> {
        std::fs::read(self.dir.join("instance.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    fn save(&self, inst: &Instance) -> Result<(), LocalError> {
        let p = self.dir.join("instance.json");
        let bytes = serde_json::to_vec_pretty(inst).unwrap_or_default();
        proc::write_atomic(&p, &bytes).map_err(|e| LocalError::io("write", &p, e))
    }

    /// Our own log of the commands run for this server (the server writes `server.log`).
    fn log(&self) -> PathBuf {
        self.dir.join("commands.log")
    }

    /// The server's own log, written by the server as its account.
    fn server_log(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// A command that runs as the server's account, with a clean environment.
    fn command(&self, program: &Path, path: &OsString) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", path)
            .env("LANG", "C.UTF-8")
            .env("HOME", &self.dir)
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        if let Some(r) = &self.run_as {
            r.apply(&mut c);
        }
        c
    }
}

/// Serialises everything that starts, stops or changes one server.
fn lock(opts: &DataOptions, name: &str) -> Result<proc::FileLock, LocalError> {
    let p = opts.root().join(".locks").join(format!("{name}.lock"));
    proc::lock_file(&p).map_err(|e| LocalError::io("lock", p, e))
}

/// Create (as needed) the folder a server keeps its files in, owned by the
/// account it runs as, and check that account can reach it.
fn place(opts: &DataOptions, engine: Engine, sub: &str) -> Result<Place, LocalError> {
    let run_as = account::service_account(account::DATA_ACCOUNT)?;
    let root = opts.root();
    std::fs::create_dir_all(&root).map_err(|e| LocalError::io("create the folder", &root, e))?;
    let dir = root.join(sub);
    std::fs::create_dir_all(&dir).map_err(|e| LocalError::io("create the folder", &dir, e))?;
    if let Some(r) = &run_as {
        // The home and its `services` folder belong to us: let the account
        // pass through them (without listing them); it owns only its folder.
        for d in [&opts.home, &root] {
            account::allow_traverse(d)?;
        }
        if let Some(parent) = dir.parent().filter(|p| *p != root) {
            account::allow_traverse(parent)?;
        }
        r.chown(&dir)?;
        if let Some(blocked) = account::blocked_ancestor(&dir, r) {
            return Err(LocalError::DataService {
                engine: engine.label(),
                reason: format!(
                    "it runs as the unprivileged account `{}`, which cannot enter {} (its mode lets only its owner in)",
                    r.name,
                    blocked.display()
                ),
                hint: "set AUTODEPLOY_HOME to a folder outside it (e.g. /var/lib/autodeploy)".into(),
            });
        }
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| LocalError::io("set the mode of", &dir, e))?;
    Ok(Place {
        engine,
        dir,
        run_as,
    })
}

/// Look `program` up on `path`, then in the places Debian puts servers.
fn find_program(names: &[&str], path: &OsString, extra: &[PathBuf]) -> Option<PathBuf> {
    for n in names {
        if let Some(p) = crate::toolchain::which(n, path) {
            return Some(p);
        }
    }
    for dir in extra {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn missing(engine: Engine, program: &str) -> LocalError {
    LocalError::DataService {
        engine: engine.label(),
        reason: format!("`{program}` is not installed on this machine"),
        hint: format!(
            "install it (apt-get install {}, or scripts/setup.sh), or run your own and pass its address with --env",
            engine.package()
        ),
    }
}

/// Refuse to create a server's files on a nearly full disk.
fn check_space(engine: Engine, dir: &Path) -> Result<(), LocalError> {
    let Some(free) = free_bytes(dir) else {
        return Ok(());
    };
    let need = engine.min_free_bytes();
    if free < need {
        return Err(LocalError::DataService {
            engine: engine.label(),
            reason: format!(
                "the disk holding {} has {} MiB free and the server needs at least {} MiB",
                dir.display(),
                free >> 20,
                need >> 20
            ),
            hint: "free some space (`autodeploy destroy` of deployments you no longer need) or set AUTODEPLOY_HOME to a folder on a larger disk".into(),
        });
    }
    Ok(())
}

/// Bytes available to unprivileged users on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs writes into the struct we own; the path is a valid C string.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some(s.f_bavail as u64 * s.f_frsize as u64)
}

/// Run a one-shot command to completion; its output is appended to the
/// server's log and its last lines are returned in the error.
fn run(place: &Place, mut cmd: Command, what: &str) -> Result<String, LocalError> {
    let out = cmd.output().map_err(|e| LocalError::DataService {
        engine: place.engine.label(),
        reason: format!("could not run {what}: {e}"),
        hint: format!("install {} (scripts/setup.sh)", place.engine.package()),
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    append(&place.log(), &format!("$ {what}\n{text}"));
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LocalError::DataService {
            engine: place.engine.label(),
            reason: format!("{what} failed ({}): {}", out.status, last_lines(&text, 12)),
            hint: format!("see {}", place.log().display()),
        })
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = f.write_all(b"\n");
        }
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
fn answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// A value safe inside quotes of SQL, shell and config files: letters and digits.
fn secret() -> Result<String, LocalError> {
    let t = crate::env::token(32);
    if t.is_empty() {
        return Err(LocalError::NotProvided {
            service: "-".into(),
            what: "a random password".into(),
            hint: "the operating system's random source failed; try again".into(),
        });
    }
    Ok(t)
}

/// Write `bytes` to `path` with mode 0600 (readable by its owner only).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), LocalError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| LocalError::io("create", &tmp, e))?;
    f.write_all(bytes)
        .map_err(|e| LocalError::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| LocalError::io("write", path, e))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// The database and user name of a deployment: `ad_` + its id, lower case,
/// `-` → `_` (ids are already restricted to letters, digits, `-`, `_`).
pub fn database_name(deployment: &str) -> String {
    let clean: String = deployment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut n = format!("ad_{clean}");
    // PostgreSQL identifiers: 63 bytes; MariaDB user names: 80; databases: 64.
    n.truncate(63);
    n
}

/// Start `engine` for `deployment` if needed and give it a database and a
/// user of its own (the same ones again on a redeploy). `auth`: how a
/// PostgreSQL user's password is stored, when the app's driver needs it.
pub fn provision(
    opts: &DataOptions,
    engine: Engine,
    deployment: &str,
    auth: Option<autodeploy_core::PostgresAuth>,
    say: &dyn Fn(&str),
) -> Result<Grant, LocalError> {
    let ask = Ask {
        postgres_auth: auth,
        redis_password: true,
    };
    provision_with(opts, engine, deployment, &ask, say)
}

/// What a deployment's apps can do when they connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// md5 for PostgreSQL drivers that cannot do SCRAM.
    pub postgres_auth: Option<autodeploy_core::PostgresAuth>,
    /// False when an app reaches Redis by host and port and reads no
    /// password ([`redis_password_read`]): its private server asks for none.
    pub redis_password: bool,
}

/// [`provision`] with what the deployment's apps can do.
pub fn provision_with(
    opts: &DataOptions,
    engine: Engine,
    deployment: &str,
    ask: &Ask,
    say: &dyn Fn(&str),
) -> Result<Grant, LocalError> {
    match engine {
        Engine::Postgresql => postgres::provision(opts, deployment, ask.postgres_auth, say),
        Engine::Mysql => mariadb::provision(opts, deployment, say),
        Engine::Redis => redis::provision(opts, deployment, ask.redis_password, say),
    }
}

/// Whether every connection these services make to the cache can carry a
/// password: false when one reads the cache's host, port or address and no
/// password setting beside them (arq's `RedisSettings(host=…, port=…)`), so
/// a server that asks for one would refuse it (`NOAUTH`).
pub fn redis_password_read<'a>(
    services: impl IntoIterator<Item = &'a [autodeploy_core::EnvBinding]>,
) -> bool {
    use autodeploy_core::{CacheOutput, EnvValue};
    services.into_iter().all(|env| {
        let outputs: Vec<CacheOutput> = env
            .iter()
            .filter_map(|b| match b.value {
                EnvValue::Cache { output } => Some(output),
                _ => None,
            })
            .collect();
        let by_parts = outputs.iter().any(|o| {
            matches!(
                o,
                CacheOutput::Host | CacheOutput::Port | CacheOutput::Address
            )
        });
        !by_parts || outputs.contains(&CacheOutput::Password)
    })
}

/// The key of a deployment's build database (its own database and user,
/// `ad_<id>_build`): never the deployment's own.
fn build_key(deployment: &str) -> String {
    format!("{deployment}-build")
}

/// A scratch database for the build of `deployment` with the project's
/// migrations (`migrations`, sqlx's layout: `<version>_<name>.sql` or
/// `.up.sql`, applied by version) — for builds that check their queries
/// against a live schema. Made fresh each time; drop it with
/// [`release_build_database`]. PostgreSQL only.
pub fn build_database(
    opts: &DataOptions,
    engine: Engine,
    deployment: &str,
    migrations: &Path,
    say: &dyn Fn(&str),
) -> Result<Grant, LocalError> {
    if engine != Engine::Postgresql {
        return Err(LocalError::DataService {
            engine: engine.label(),
            reason: "a build database with the project's migrations is made for PostgreSQL only".into(),
            hint: "commit sqlx's offline query data (`cargo sqlx prepare`) so the build needs no database".into(),
        });
    }
    let key = build_key(deployment);
    release_build_database(opts, deployment)?;
    let files = migration_files(migrations)?;
    let grant = postgres::provision(opts, &key, None, &|_| {})?;
    let applied = files.iter().try_for_each(|(name, path)| {
        let text = std::fs::read_to_string(path).map_err(|e| LocalError::io("read", path, e))?;
        postgres::apply_migration(opts, &grant, name, &text)
    });
    if let Err(e) = applied {
        let _ = release_build_database(opts, deployment);
        return Err(e);
    }
    say(&format!(
        "PostgreSQL {}: build database {} with the {} migration(s) of {} (the build checks its queries against it; dropped after the build)",
        grant.version,
        grant.database,
        files.len(),
        migrations.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    Ok(grant)
}

/// Drop the build database of `deployment`, if there is one.
pub fn release_build_database(opts: &DataOptions, deployment: &str) -> Result<(), LocalError> {
    postgres::release(opts, &build_key(deployment), false).map(drop)
}

/// sqlx's migration files in `dir`, in the order it applies them (by the
/// version before the first `_`; `.down.sql` files are reverts, skipped).
fn migration_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, LocalError> {
    let rd = std::fs::read_dir(dir).map_err(|e| LocalError::io("read the folder", dir, e))?;
    let mut files: Vec<(i64, String, PathBuf)> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".sql") || name.ends_with(".down.sql") {
                return None;
            }
            let version = name.split('_').next()?.parse::<i64>().ok()?;
            Some((version, name, e.path()))
        })
        .collect();
    files.sort();
    Ok(files.into_iter().map(|(_, n, p)| (n, p)).collect())
}

/// Drop the deployment's databases and users (unless `keep_data`), and stop
/// the servers nobody uses any more. Returns one line per thing done.
pub fn release(
    opts: &DataOptions,
    deployment: &str,
    keep_data: bool,
) -> Result<Vec<String>, LocalError> {
    let mut done = Vec::new();
    done.extend(postgres::release(opts, deployment, keep_data)?);
    done.extend(mariadb::release(opts, deployment, keep_data)?);
    done.extend(redis::release(opts, deployment, keep_data)?);
    Ok(done)
}

/// The data services a deployment has, as `status` shows them.
pub fn describe(opts: &DataOptions, deployment: &str) -> Vec<DataStatus> {
    let mut out = Vec::new();
    out.extend(postgres::describe(opts, deployment));
    out.extend(mariadb::describe(opts, deployment));
    out.extend(redis::describe(opts, deployment));
    out
}

/// A per-deployment record of a shared server (`users/<deployment>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UserRecord {
    database: String,
    user: String,
    password: String,
    /// Destroyed with `--keep-data`: the database stays, nobody runs on it.
    #[serde(default)]
    kept: bool,
}

fn users_dir(place: &Place) -> PathBuf {
    place.dir.join("users")
}

fn user_record_path(place: &Place, deployment: &str) -> PathBuf {
    users_dir(place).join(format!("{deployment}.json"))
}

/// Deployments that still use a shared server (kept data does not count).
fn active_users(place: &Place) -> usize {
    std::fs::read_dir(users_dir(place))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .filter_map(|e| read_json::<UserRecord>(&e.path()))
                .filter(|r| !r.kept)
                .count()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {

    #[test]
    fn redis_asks_for_a_password_only_where_every_connection_can_send_one() {
        use autodeploy_core::{CacheOutput as O, EnvBinding, EnvValue};
        let b = |name: &str, output: O| EnvBinding {
            name: name.into(),
            value: EnvValue::Cache { output },
            secret: false,
            reason: String::new(),
        };
        let url = vec![b("REDIS_URL", O::Url)];
        let parts = vec![b("REDIS_HOST", O::Host), b("REDIS_PORT", O::Port)];
        let parts_and_password = vec![b("REDIS_HOST", O::Host), b("REDIS_PASSWORD", O::Password)];
        assert!(redis_password_read([url.as_slice()]));
        assert!(redis_password_read([parts_and_password.as_slice()]));
        assert!(redis_password_read(std::iter::empty::<&[EnvBinding]>()));
        // One service that reaches it by host and port with no password is enough.
        assert!(!redis_password_read([url.as_slice(), parts.as_slice()]));
    }

    use super::*;

    #[test]
    fn database_names_are_safe_identifiers() {
        assert_eq!(database_name("dep_0A-b"), "ad_dep_0a_b");
        assert_eq!(database_name(&"x".repeat(64)).len(), 63);
    }

    #[test]
    fn free_space_is_read() {
        assert!(free_bytes(Path::new("/")).is_some_and(|b| b > 0));
        assert_eq!(free_bytes(Path::new("/no/such/folder")), None);
    }
}
