//! The local PostgreSQL: one cluster per home (`initdb` on first use, `pg_ctl`
//! to start and stop it), TCP on 127.0.0.1 only (no Unix socket, so nothing
//! clashes with a system cluster), password authentication (SCRAM) for
//! everyone, and one database owned by one login role per deployment with
//! `CONNECT` revoked from everyone else.
//!
//! SQL runs through `psql` as the cluster's admin role `autodeploy`, whose
//! password lives in `admin.secret` (0600). Names and passwords it writes are
//! letters, digits and `_` only, so nothing from a repository reaches SQL.

use super::*;
use autodeploy_core::PostgresAuth;

const ADMIN: &str = "autodeploy";

struct Programs {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    psql: PathBuf,
}

fn programs(path: &OsString) -> Result<Programs, LocalError> {
    // Debian keeps the server programs in /usr/lib/postgresql/<major>/bin.
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.reverse();
    let find = |n: &str| {
        find_program(&[n], &OsString::new(), &versions)
            .or_else(|| find_program(&[n], path, &[]))
            .ok_or_else(|| missing(Engine::Postgresql, n))
    };
    Ok(Programs {
        initdb: find("initdb")?,
        pg_ctl: find("pg_ctl")?,
        psql: find("psql")?,
    })
}

fn data_dir(place: &Place) -> PathBuf {
    place.dir.join("data")
}

fn admin_password(place: &Place) -> Result<String, LocalError> {
    let p = place.dir.join("admin.secret");
    std::fs::read_to_string(&p)
        .map(|s| s.trim().to_string())
        .map_err(|e| LocalError::io("read", p, e))
}

fn running(place: &Place, progs: &Programs, path: &OsString) -> bool {
    if !data_dir(place).join("postmaster.pid").exists() {
        return false;
    }
    let mut c = place.command(&progs.pg_ctl, path);
    c.arg("status")
        .arg("-D")
        .arg(data_dir(place))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c.status().map(|s| s.success()).unwrap_or(false)
}

fn version(progs: &Programs) -> String {
    Command::new(&progs.initdb)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            // `initdb (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let mut words = text.split_whitespace();
            words.find(|w| *w == "(PostgreSQL)");
            words.next().map(str::to_string)
        })
        .unwrap_or_default()
}

/// Create the cluster (first use) and start it; returns its record.
fn ensure_running(
    opts: &DataOptions,
    place: &Place,
    progs: &Programs,
    say: &dyn Fn(&str),
) -> Result<Instance, LocalError> {
    let data = data_dir(place);
    if running(place, progs, &opts.path) {
        if let Some(inst) = place.record() {
            if answers(inst.port) {
                return Ok(inst);
            }
        }
        // Up but not where the record says: restart it on a known port.
        stop(opts, place, progs)?;
    }
    if !data.join("PG_VERSION").exists() {
        check_space(Engine::Postgresql, &place.dir)?;
        say("PostgreSQL: creating a private cluster for this home (first use)");
        let _ = std::fs::remove_dir_all(&data);
        let password = secret()?;
        write_private(&place.dir.join("admin.secret"), password.as_bytes())?;
        // initdb reads the password from a file it can open as the account.
        let pwfile = place.dir.join("admin.pw");
        write_private(&pwfile, format!("{password}\n").as_bytes())?;
        if let Some(r) = &place.run_as {
            r.chown(&pwfile)?;
        }
        let mut c = place.command(&progs.initdb, &opts.path);
        c.arg("-D")
            .arg(&data)
            .args([
                "-U",
                ADMIN,
                // Passwords stored as SCRAM (the admin's too); pg_hba.conf
                // is ours, written before each start (`HBA`).
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-instructions",
                // The cluster is re-creatable: skip the final fsync of the template files.
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        let r = run(place, c, "initdb");
        let _ = std::fs::remove_file(&pwfile);
        r?;
        let conf = data.join("postgresql.conf");
        let mut text =
            std::fs::read_to_string(&conf).map_err(|e| LocalError::io("read", &conf, e))?;
        text.push_str("\n# autodeploy: port and addresses are set per start\ninclude_if_exists = 'autodeploy.conf'\n");
        std::fs::write(&conf, text).map_err(|e| LocalError::io("write", &conf, e))?;
    }
    // A stale pid file of a server that died (reboot, kill -9) is removed by
    // the server itself; start on the recorded port when it is still free.
    let port = match place.record() {
        Some(i) if proc::port_is_free(i.port).is_ok() => i.port,
        _ => {
            proc::free_port().map_err(|e| LocalError::io("find a free port on", "127.0.0.1", e))?
        }
    };
    write_hba(place, &data)?;
    let tls = ensure_certificate(opts, place, &data);
    let conf = data.join("autodeploy.conf");
    std::fs::write(
        &conf,
        format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\nmax_connections = 200\nshared_buffers = 32MB\n{}",
            if tls {
                "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
            } else {
                ""
            }
        ),
    )
    .map_err(|e| LocalError::io("write", &conf, e))?;
    if let Some(r) = &place.run_as {
        r.chown(&conf)?;
    }
    say(&format!("PostgreSQL: starting on 127.0.0.1:{port}"));
    let mut c = place.command(&progs.pg_ctl, &opts.path);
    c.arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(place.server_log())
        .args(["-w", "-t", "60", "start"]);
    // The server must not die with this process's session (Ctrl-C of a deploy).
    detach(&mut c);
    run(place, c, "pg_ctl start")?;
    let inst = Instance {
        port,
        version: version(progs),
    };
    place.save(&inst)?;
    Ok(inst)
}

/// Who may log in, and how: TCP on 127.0.0.1 only (the server has no
/// socket), by password. `md5` is PostgreSQL's method that uses SCRAM for a
/// role whose password is stored as SCRAM (every role, unless an app's
/// driver predates SCRAM: [`PostgresAuth::Md5`]) and md5 otherwise; clusters
/// made by earlier versions said `scram-sha-256`, which refuses md5 roles.
const HBA: &str = "# autodeploy: written at each start\nhost all all 127.0.0.1/32 md5\n";

/// Write `pg_hba.conf`; true when it changed (a running server must reload).
fn write_hba(place: &Place, data: &Path) -> Result<bool, LocalError> {
    let hba = data.join("pg_hba.conf");
    if std::fs::read_to_string(&hba).is_ok_and(|t| t == HBA) {
        return Ok(false);
    }
    std::fs::write(&hba, HBA).map_err(|e| LocalError::io("write", &hba, e))?;
    if let Some(r) = &place.run_as {
        r.chown(&hba)?;
    }
    Ok(true)
}

/// A self-signed certificate for the private server, made once: apps that
/// turn TLS on in production with an unverified connection (Heroku's
/// pattern: `ssl: { rejectUnauthorized: false }`, `sslmode=require`) then
/// connect, and the rest go on without it (`PGSSLMODE=disable` is set for
/// them). False, and the server runs without TLS, when openssl is missing
/// or fails.
fn ensure_certificate(opts: &DataOptions, place: &Place, data: &Path) -> bool {
    let (crt, key) = (data.join("server.crt"), data.join("server.key"));
    if crt.exists() && key.exists() {
        return true;
    }
    let Some(openssl) = crate::toolchain::which("openssl", &opts.path) else {
        return false;
    };
    let mut c = place.command(&openssl, &opts.path);
    c.current_dir(data).args([
        "req",
        "-new",
        "-x509",
        "-days",
        "3650",
        "-nodes",
        "-newkey",
        "rsa:2048",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.crt",
    ]);
    if run(place, c, "openssl").is_err() {
        let _ = std::fs::remove_file(&crt);
        let _ = std::fs::remove_file(&key);
        return false;
    }
    use std::os::unix::fs::PermissionsExt;
    // The server refuses a key others may read.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).is_ok()
}

/// Put a command in its own session, so signals to our terminal's process
/// group never reach the server it starts.
pub(super) fn detach(c: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

fn stop(opts: &DataOptions, place: &Place, progs: &Programs) -> Result<(), LocalError> {
    let mut c = place.command(&progs.pg_ctl, &opts.path);
    c.arg("-D")
        .arg(data_dir(place))
        .args(["-m", "fast", "-w", "-t", "60", "stop"]);
    run(place, c, "pg_ctl stop").map(drop)
}

fn sql(
    opts: &DataOptions,
    place: &Place,
    progs: &Programs,
    port: u16,
    statement: &str,
) -> Result<String, LocalError> {
    let mut c = Command::new(&progs.psql);
    c.env_clear()
        .env("PATH", &opts.path)
        .env("PGPASSWORD", admin_password(place)?)
        .env("PGCONNECT_TIMEOUT", "10")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            ADMIN,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qAt",
            "-c",
            statement,
        ])
        .stdin(Stdio::null());
    run(place, c, "psql")
}

pub(super) fn provision(
    opts: &DataOptions,
    deployment: &str,
    auth: Option<PostgresAuth>,
    say: &dyn Fn(&str),
) -> Result<Grant, LocalError> {
    let progs = programs(&opts.path)?;
    let _lock = lock(opts, "postgresql")?;
    let place = place(opts, Engine::Postgresql, "postgresql")?;
    let inst = ensure_running(opts, &place, &progs, say)?;
    if write_hba(&place, &data_dir(&place))? {
        sql(opts, &place, &progs, inst.port, "SELECT pg_reload_conf()")?;
    }
    let rec_path = user_record_path(&place, deployment);
    let rec = match read_json::<UserRecord>(&rec_path) {
        Some(mut r) => {
            r.kept = false;
            r
        }
        None => {
            let name = database_name(deployment);
            UserRecord {
                database: name.clone(),
                user: name,
                password: secret()?,
                kept: false,
            }
        }
    };
    std::fs::create_dir_all(users_dir(&place))
        .map_err(|e| LocalError::io("create the folder", users_dir(&place), e))?;
    write_private(
        &rec_path,
        &serde_json::to_vec_pretty(&rec).unwrap_or_default(),
    )?;
    let exists = sql(
        opts,
        &place,
        &progs,
        inst.port,
        &format!(
            "SELECT 1 FROM pg_database WHERE datname = '{}'",
            rec.database
        ),
    )?;
    // Role first (idempotent, password reset to the recorded one), then the
    // database it owns, private to it.
    sql(
        opts,
        &place,
        &progs,
        inst.port,
        &format!(
            "SET password_encryption = '{method}'; DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{u}') THEN CREATE ROLE \"{u}\" LOGIN PASSWORD '{p}'; ELSE ALTER ROLE \"{u}\" LOGIN PASSWORD '{p}'; END IF; END$$",
            method = match auth {
                Some(PostgresAuth::Md5) => "md5",
                None => "scram-sha-256",
            },
            u = rec.user,
            p = rec.password
        ),
    )?;
    if exists.trim() != "1" {
        sql(
            opts,
            &place,
            &progs,
            inst.port,
            &format!(
                "CREATE DATABASE \"{d}\" OWNER \"{u}\"",
                d = rec.database,
                u = rec.user
            ),
        )?;
        sql(
            opts,
            &place,
            &progs,
            inst.port,
            &format!(
                "REVOKE ALL ON DATABASE \"{d}\" FROM PUBLIC",
                d = rec.database
            ),
        )?;
        say(&format!(
            "PostgreSQL {}: created database {} for this deployment",
            inst.version, rec.database
        ));
    } else {
        say(&format!(
            "PostgreSQL {}: reusing database {} (data kept across redeploys)",
            inst.version, rec.database
        ));
    }
    Ok(Grant {
        engine: Engine::Postgresql,
        version: inst.version,
        host: "127.0.0.1".into(),
        port: inst.port,
        database: rec.database,
        user: rec.user,
        password: rec.password,
    })
}

/// Run one migration's SQL in `grant`'s database as its own user (never the
/// admin). The text goes to the server whole (`psql -c`: one simple query,
/// one implicit transaction, as sqlx runs a migration); psql reads no
/// meta-command from it — a text that starts with one is refused.
pub(super) fn apply_migration(
    opts: &DataOptions,
    grant: &Grant,
    name: &str,
    text: &str,
) -> Result<(), LocalError> {
    let progs = programs(&opts.path)?;
    let place = place(opts, Engine::Postgresql, "postgresql")?;
    if text.trim_start().starts_with('\\') {
        return Err(LocalError::DataService {
            engine: Engine::Postgresql.label(),
            reason: format!("migration {name} starts with a psql meta-command"),
            hint: "migrations must be plain SQL (sqlx runs them as such)".into(),
        });
    }
    let mut c = Command::new(&progs.psql);
    c.env_clear()
        .env("PATH", &opts.path)
        .env("PGPASSWORD", &grant.password)
        .env("PGCONNECT_TIMEOUT", "10")
        .args([
            "-h",
            &grant.host,
            "-p",
            &grant.port.to_string(),
            "-U",
            &grant.user,
            "-d",
            &grant.database,
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-qAt",
            "-c",
            text,
        ])
        .stdin(Stdio::null());
    run(&place, c, &format!("psql (migration {name})")).map(drop)
}

pub(super) fn release(
    opts: &DataOptions,
    deployment: &str,
    keep_data: bool,
) -> Result<Vec<String>, LocalError> {
    let dir = opts.root().join("postgresql");
    if !dir
        .join("users")
        .join(format!("{deployment}.json"))
        .exists()
    {
        return Ok(vec![]);
    }
    let progs = programs(&opts.path)?;
    let _lock = lock(opts, "postgresql")?;
    let place = place(opts, Engine::Postgresql, "postgresql")?;
    let rec_path = user_record_path(&place, deployment);
    let Some(mut rec) = read_json::<UserRecord>(&rec_path) else {
        return Ok(vec![]);
    };
    let mut done = Vec::new();
    if keep_data {
        rec.kept = true;
        write_private(
            &rec_path,
            &serde_json::to_vec_pretty(&rec).unwrap_or_default(),
        )?;
        done.push(format!(
            "kept PostgreSQL database {} (user {}, password in {}); `autodeploy destroy` without --keep-data of a later deployment does not touch it",
            rec.database,
            rec.user,
            rec_path.display()
        ));
    } else {
        let inst = ensure_running(opts, &place, &progs, &|_| {})?;
        sql(
            opts,
            &place,
            &progs,
            inst.port,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", rec.database),
        )?;
        sql(
            opts,
            &place,
            &progs,
            inst.port,
            &format!("DROP ROLE IF EXISTS \"{}\"", rec.user),
        )?;
        std::fs::remove_file(&rec_path).map_err(|e| LocalError::io("remove", &rec_path, e))?;
        done.push(format!("dropped PostgreSQL database {}", rec.database));
    }
    if active_users(&place) == 0 && running(&place, &progs, &opts.path) {
        stop(opts, &place, &progs)?;
        done.push("stopped the local PostgreSQL: no deployment uses it".into());
    }
    Ok(done)
}

pub(super) fn describe(opts: &DataOptions, deployment: &str) -> Vec<DataStatus> {
    let dir = opts.root().join("postgresql");
    let Some(rec) = read_json::<UserRecord>(&dir.join("users").join(format!("{deployment}.json")))
    else {
        return vec![];
    };
    let inst: Option<Instance> = read_json(&dir.join("instance.json"));
    let port = inst.as_ref().map(|i| i.port).unwrap_or(0);
    vec![DataStatus {
        engine: Engine::Postgresql,
        version: inst.map(|i| i.version).unwrap_or_default(),
        host: "127.0.0.1".into(),
        port,
        database: rec.database,
        user: rec.user,
        running: port != 0 && answers(port),
        data_dir: dir.join("data"),
    }]
}
