//! The local data services against the real servers: a private PostgreSQL,
//! MariaDB and Redis per home, one database and user per deployment, data
//! kept across provisioning again (redeploy), dropped on release, servers
//! stopped when nobody uses them, and the failures a person can hit (a port
//! taken, `initdb` failing, a full disk) worded clearly.
//!
//! Needs `initdb`/`pg_ctl`/`psql`, `mariadbd`/`mariadb`, `redis-server`/
//! `redis-cli` (scripts/setup.sh installs them). Without them a test fails
//! under `CI=true` and says loudly that it skipped elsewhere.

use autodeploy_local::data::{self, DataOptions, Engine, Grant};
use autodeploy_local::LocalError;
use std::path::Path;
use std::process::Command;

fn have(program: &str) -> bool {
    let in_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    in_path
        || Path::new("/usr/sbin").join(program).is_file()
        || std::fs::read_dir("/usr/lib/postgresql")
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.path().join("bin").join(program).is_file())
            })
            .unwrap_or(false)
}

/// False (after saying so) when a program the test needs is missing;
/// a failure under CI, where setup must have installed it.
fn prerequisites(programs: &[&str]) -> bool {
    let missing: Vec<&&str> = programs.iter().filter(|p| !have(p)).collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("missing {missing:?}: run scripts/setup.sh");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED (not counted as a pass): {msg}");
    false
}

fn opts(home: &Path) -> DataOptions {
    DataOptions {
        home: home.to_path_buf(),
        path: std::env::var_os("PATH").unwrap_or_default(),
    }
}

fn quiet(_: &str) {}

fn psql(g: &Grant, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .env("PGPASSWORD", &g.password)
        .args([
            "-h",
            &g.host,
            "-p",
            &g.port.to_string(),
            "-U",
            &g.user,
            "-d",
            &g.database,
            "-v",
            "ON_ERROR_STOP=1",
            "-qAtc",
            sql,
        ])
        .output()
        .expect("psql runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn mysql(g: &Grant, db: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("mariadb")
        .env("MYSQL_PWD", &g.password)
        .args([
            "--no-defaults",
            "--protocol=TCP",
            "-h",
            &g.host,
            "-P",
            &g.port.to_string(),
            "-u",
            &g.user,
            "-N",
            "-B",
            db,
            "-e",
            sql,
        ])
        .output()
        .expect("mariadb runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn redis(g: &Grant, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .env("REDISCLI_AUTH", &g.password)
        .args(["-h", &g.host, "-p", &g.port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn port_answers(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn postgresql_gives_each_deployment_its_own_database_and_keeps_it_until_released() {
    if !prerequisites(&["initdb", "pg_ctl", "psql"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let o = opts(home.path());
    let a = data::provision(&o, Engine::Postgresql, "dep-a", None, &quiet).unwrap();
    let b = data::provision(&o, Engine::Postgresql, "dep-b", None, &quiet).unwrap();
    assert_eq!(a.port, b.port, "one server per home");
    assert_ne!(a.database, b.database);
    assert_ne!(a.password, b.password);

    psql(
        &a,
        "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('from a')",
    )
    .unwrap();
    // b cannot reach a's database, even knowing its name.
    let mut intruder = b.clone();
    intruder.database = a.database.clone();
    let err = psql(&intruder, "SELECT count(*) FROM notes").unwrap_err();
    assert!(err.contains("permission denied"), "{err}");

    // TLS is offered (a self-signed certificate) for apps that turn it on
    // with an unverified connection; the others connect without it.
    assert_eq!(psql(&a, "SHOW ssl").unwrap(), "on");
    let tls = Command::new("psql")
        .env("PGPASSWORD", &a.password)
        .env("PGSSLMODE", "require")
        .args([
            "-h",
            &a.host,
            "-p",
            &a.port.to_string(),
            "-U",
            &a.user,
            "-d",
            &a.database,
        ])
        .args([
            "-qAtc",
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ])
        .output()
        .expect("psql runs");
    assert_eq!(String::from_utf8_lossy(&tls.stdout).trim(), "t", "{tls:?}");

    // Provisioning again (a redeploy) keeps the data and the credentials.
    let again = data::provision(&o, Engine::Postgresql, "dep-a", None, &quiet).unwrap();
    assert_eq!(again, a);
    assert_eq!(psql(&a, "SELECT body FROM notes").unwrap(), "from a");

    let st = data::describe(&o, "dep-a");
    assert_eq!(st.len(), 1);
    assert!(st[0].running);
    assert_eq!(st[0].database, a.database);

    // Releasing a drops only a's database; the server keeps serving b.
    let done = data::release(&o, "dep-a", false).unwrap();
    assert!(done.iter().any(|l| l.contains("dropped")), "{done:?}");
    assert!(psql(&a, "SELECT 1").is_err());
    assert_eq!(psql(&b, "SELECT 1").unwrap(), "1");
    assert!(data::describe(&o, "dep-a").is_empty());

    // The last user gone: the server stops.
    let done = data::release(&o, "dep-b", false).unwrap();
    assert!(done.iter().any(|l| l.contains("stopped")), "{done:?}");
    assert!(!port_answers(b.port));

    // Files with credentials are private.
    use std::os::unix::fs::PermissionsExt;
    let admin = home.path().join("services/postgresql/admin.secret");
    assert_eq!(
        std::fs::metadata(admin).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// A driver from before SCRAM-SHA-256 (lib/pq before 1.1.0, pgx.v2) can
/// only log in with an md5 password: its deployment's role gets one, the
/// others keep SCRAM, and a cluster made when the server accepted SCRAM
/// only is opened to md5 roles on the next provision.
#[test]
fn an_old_driver_gets_an_md5_role_and_the_others_keep_scram() {
    if !prerequisites(&["initdb", "pg_ctl", "psql"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let o = opts(home.path());
    let modern = data::provision(&o, Engine::Postgresql, "modern", None, &quiet).unwrap();
    let dir = home.path().join("services/postgresql");
    let admin = Grant {
        user: "autodeploy".into(),
        password: std::fs::read_to_string(dir.join("admin.secret")).unwrap(),
        database: "postgres".into(),
        ..modern.clone()
    };
    // As clusters were made before: SCRAM only.
    std::fs::write(
        dir.join("data/pg_hba.conf"),
        "host all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    psql(&admin, "SELECT pg_reload_conf()").unwrap();

    let old = data::provision(
        &o,
        Engine::Postgresql,
        "old-driver",
        Some(autodeploy_core::PostgresAuth::Md5),
        &quiet,
    )
    .unwrap();
    let stored = |g: &Grant| {
        psql(
            &admin,
            &format!(
                "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = '{}'",
                g.user
            ),
        )
        .unwrap()
    };
    assert_eq!(stored(&old), "md5");
    assert_eq!(stored(&modern), "SCR");
    assert_eq!(psql(&old, "SELECT 1").unwrap(), "1");
    assert_eq!(psql(&modern, "SELECT 1").unwrap(), "1");
    data::release(&o, "old-driver", false).unwrap();
    data::release(&o, "modern", false).unwrap();
}

#[test]
fn a_build_database_has_the_migrations_in_order_and_leaves_the_deployments_own_alone() {
    if !prerequisites(&["initdb", "pg_ctl", "psql"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let o = opts(home.path());
    let own = data::provision(&o, Engine::Postgresql, "dep-sqlx", None, &quiet).unwrap();
    let migrations = tempfile::tempdir().unwrap();
    let m = migrations.path();
    // sqlx's layout: by version, `.up.sql` applied and `.down.sql` not;
    // version 10 comes after 2 (numbers, not names).
    std::fs::write(
        m.join("10_article.sql"),
        "ALTER TABLE author ADD COLUMN bio text;",
    )
    .unwrap();
    std::fs::write(
        m.join("2_author.up.sql"),
        "CREATE TABLE author (name text);",
    )
    .unwrap();
    std::fs::write(m.join("2_author.down.sql"), "DROP TABLE author;").unwrap();
    std::fs::write(m.join("README.md"), "not a migration").unwrap();
    let said = std::sync::Mutex::new(Vec::new());
    let say = |l: &str| said.lock().unwrap().push(l.to_string());
    let b = data::build_database(&o, Engine::Postgresql, "dep-sqlx", m, &say).unwrap();
    assert_ne!(b.database, own.database);
    assert_ne!(b.user, own.user);
    assert_eq!(
        psql(&b, "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'author'").unwrap(),
        "bio,name"
    );
    assert!(
        said.lock().unwrap()[0].contains("2 migration(s)"),
        "{said:?}"
    );
    // The deployment's own database is untouched: the app migrates it.
    assert_eq!(
        psql(
            &own,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'author'"
        )
        .unwrap(),
        "0"
    );
    data::release_build_database(&o, "dep-sqlx").unwrap();
    assert!(
        psql(&b, "SELECT 1").is_err(),
        "the build database is dropped"
    );
    assert_eq!(psql(&own, "SELECT 1").unwrap(), "1");

    // A migration that fails is reported with the server's reason; one that
    // starts with a psql meta-command is refused, never run.
    std::fs::write(m.join("11_bad.sql"), "CREATE TABLE author (name text);").unwrap();
    let err = data::build_database(&o, Engine::Postgresql, "dep-sqlx", m, &quiet).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(
        data::describe(&o, "dep-sqlx-build").is_empty(),
        "a failed one is dropped"
    );
    std::fs::write(
        m.join("11_bad.sql"),
        "\\! touch /tmp/autodeploy-pwned\nSELECT 1;",
    )
    .unwrap();
    let err = data::build_database(&o, Engine::Postgresql, "dep-sqlx", m, &quiet).unwrap_err();
    assert!(err.to_string().contains("meta-command"), "{err}");
    data::release_build_database(&o, "dep-sqlx").unwrap();
    data::release(&o, "dep-sqlx", false).unwrap();
}

#[test]
fn postgresql_keeps_data_when_asked_and_restarts_on_a_free_port() {
    if !prerequisites(&["initdb", "pg_ctl", "psql"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let o = opts(home.path());
    let a = data::provision(&o, Engine::Postgresql, "keep", None, &quiet).unwrap();
    psql(&a, "CREATE TABLE t (x int); INSERT INTO t VALUES (7)").unwrap();
    let done = data::release(&o, "keep", true).unwrap();
    assert!(done.iter().any(|l| l.contains("kept")), "{done:?}");
    // Kept data is not a user: the server stopped.
    assert!(!port_answers(a.port));

    // Someone else takes the old port meanwhile.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", a.port)).unwrap();
    let back = data::provision(&o, Engine::Postgresql, "keep", None, &quiet).unwrap();
    assert_ne!(back.port, a.port);
    assert_eq!(psql(&back, "SELECT x FROM t").unwrap(), "7");
    drop(squatter);
    data::release(&o, "keep", false).unwrap();
}

#[test]
fn initdb_failing_is_reported_with_its_reason() {
    if !prerequisites(&["initdb", "pg_ctl", "psql"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let o = opts(home.path());
    // A file where the cluster's folder must go makes initdb fail.
    let dir = home.path().join("services/postgresql");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("data"), "not a folder").unwrap();
    let err = data::provision(&o, Engine::Postgresql, "x", None, &quiet).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, LocalError::DataService { .. }), "{msg}");
    assert!(msg.contains("initdb failed"), "{msg}");
    assert!(msg.contains("commands.log"), "{msg}");
}

#[test]
fn a_full_disk_is_refused_before_anything_is_created() {
    if !prerequisites(&["initdb", "pg_ctl", "psql"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let mnt = home.path().join("small");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        // Only root may mount a small file system to fill.
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "CI runs as root and must be able to mount a tmpfs"
        );
        eprintln!("SKIPPED (not counted as a pass): cannot mount a tmpfs as this user");
        return;
    }
    let o = opts(&mnt);
    let err = data::provision(&o, Engine::Postgresql, "x", None, &quiet).unwrap_err();
    let _ = Command::new("umount").arg(&mnt).status();
    let msg = err.to_string();
    assert!(msg.contains("MiB free"), "{msg}");
    assert!(msg.contains("AUTODEPLOY_HOME"), "{msg}");
}

#[test]
fn mysql_gives_each_deployment_its_own_database() {
    if !prerequisites(&["mariadbd", "mariadb", "mariadb-install-db"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let o = opts(home.path());
    let a = data::provision(&o, Engine::Mysql, "my-a", None, &quiet).unwrap();
    let b = data::provision(&o, Engine::Mysql, "my-b", None, &quiet).unwrap();
    assert_eq!(a.port, b.port);
    mysql(
        &a,
        &a.database,
        "CREATE TABLE t (x INT); INSERT INTO t VALUES (1)",
    )
    .unwrap();
    let err = mysql(&b, &a.database, "SELECT * FROM t").unwrap_err();
    assert!(err.contains("denied"), "{err}");
    let again = data::provision(&o, Engine::Mysql, "my-a", None, &quiet).unwrap();
    assert_eq!(mysql(&again, &a.database, "SELECT x FROM t").unwrap(), "1");
    data::release(&o, "my-a", false).unwrap();
    assert!(mysql(&a, &a.database, "SELECT 1").is_err());
    let done = data::release(&o, "my-b", false).unwrap();
    assert!(done.iter().any(|l| l.contains("stopped")), "{done:?}");
    assert!(!port_answers(a.port));
}

#[test]
fn redis_is_one_private_server_per_deployment() {
    if !prerequisites(&["redis-server", "redis-cli"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let o = opts(home.path());
    let a = data::provision(&o, Engine::Redis, "r-a", None, &quiet).unwrap();
    let b = data::provision(&o, Engine::Redis, "r-b", None, &quiet).unwrap();
    assert_ne!(a.port, b.port);
    assert_eq!(redis(&a, &["SET", "k", "from-a"]), "OK");
    assert_eq!(redis(&b, &["GET", "k"]), "");
    // Without the password nothing is readable.
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &a.port.to_string(), "GET", "k"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOAUTH"));
    // A redeploy finds the same server and data.
    let again = data::provision(&o, Engine::Redis, "r-a", None, &quiet).unwrap();
    assert_eq!(again.port, a.port);
    assert_eq!(redis(&a, &["GET", "k"]), "from-a");
    data::release(&o, "r-a", false).unwrap();
    data::release(&o, "r-b", false).unwrap();
    assert!(!port_answers(a.port) && !port_answers(b.port));
    assert!(!home.path().join("services/redis/r-a").exists());
}

/// An app that reaches Redis by host and port and reads no password (arq's
/// `RedisSettings(host=…, port=…)`) gets a server that asks for none; the
/// next deploy whose apps can send one gets a password again, on the same
/// data.
#[test]
fn redis_asks_for_no_password_when_the_app_can_send_none() {
    if !prerequisites(&["redis-server", "redis-cli"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let o = opts(home.path());
    let open = data::Ask {
        postgres_auth: None,
        redis_password: false,
    };
    let a = data::provision_with(&o, Engine::Redis, "r-open", &open, &quiet).unwrap();
    assert!(a.password.is_empty());
    assert_eq!(a.cache_conn().password, None);
    let bare = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &a.port.to_string()])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(bare(&["SET", "k", "kept"]), "OK");
    let closed = data::Ask {
        redis_password: true,
        ..open
    };
    let b = data::provision_with(&o, Engine::Redis, "r-open", &closed, &quiet).unwrap();
    assert!(!b.password.is_empty());
    assert!(bare(&["GET", "k"]).contains("NOAUTH"));
    assert_eq!(redis(&b, &["GET", "k"]), "kept");
    data::release(&o, "r-open", false).unwrap();
}
