//! The local MySQL: one MariaDB server per home (Debian packages MariaDB, which
//! speaks the MySQL protocol), `mariadb-install-db` on first use, `mariadbd`
//! started detached on 127.0.0.1 with its own socket (never the system
//! one), an admin user `autodeploy`@`127.0.0.1` whose password lives in
//! `admin.secret` (0600), and one database + user per deployment granted
//! only on that database.
//!
//! SQL runs through the `mariadb` client over TCP, the password passed in
//! the environment (never on a command line `ps` shows).

use super::*;

const ADMIN: &str = "autodeploy";

struct Programs {
    install_db: PathBuf,
    server: PathBuf,
    client: PathBuf,
}

fn programs(path: &OsString) -> Result<Programs, LocalError> {
    let sbin = [PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")];
    Ok(Programs {
        install_db: find_program(&["mariadb-install-db", "mysql_install_db"], path, &sbin)
            .ok_or_else(|| missing(Engine::Mysql, "mariadb-install-db"))?,
        server: find_program(&["mariadbd", "mysqld"], path, &sbin)
            .ok_or_else(|| missing(Engine::Mysql, "mariadbd"))?,
        client: find_program(&["mariadb", "mysql"], path, &sbin)
            .ok_or_else(|| missing(Engine::Mysql, "mariadb"))?,
    })
}

fn data_dir(place: &Place) -> PathBuf {
    place.dir.join("data")
}

fn pid_file(place: &Place) -> PathBuf {
    place.dir.join("mariadbd.pid")
}

/// Unix socket paths are limited to 107 bytes: a long home gets one in /tmp.
fn socket(place: &Place) -> PathBuf {
    let p = place.dir.join("mysqld.sock");
    if p.as_os_str().len() < 100 {
        return p;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in place.dir.as_os_str().as_encoded_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    PathBuf::from(format!("/tmp/autodeploy-mysql-{h:016x}.sock"))
}

fn pid(place: &Place) -> Option<u32> {
    std::fs::read_to_string(pid_file(place))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|p| {
            proc::alive_and_mentions(*p, "mariadbd") || proc::alive_and_mentions(*p, "mysqld")
        })
}

fn admin_password(place: &Place) -> Result<String, LocalError> {
    let p = place.dir.join("admin.secret");
    std::fs::read_to_string(&p)
        .map(|s| s.trim().to_string())
        .map_err(|e| LocalError::io("read", p, e))
}

fn version(progs: &Programs) -> String {
    // `mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu …`
    Command::new(&progs.server)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let t = String::from_utf8_lossy(&o.stdout).into_owned();
            let mut w = t.split_whitespace().skip_while(|w| *w != "Ver").skip(1);
            w.next()
                .map(|v| v.split('-').next().unwrap_or(v).to_string())
        })
        .unwrap_or_default()
}

fn admin_ok(opts: &DataOptions, place: &Place, progs: &Programs, port: u16) -> bool {
    sql(opts, place, progs, port, "SELECT 1").is_ok()
}

fn ensure_running(
    opts: &DataOptions,
    place: &Place,
    progs: &Programs,
    say: &dyn Fn(&str),
) -> Result<Instance, LocalError> {
    if let (Some(_), Some(inst)) = (pid(place), place.record()) {
        if answers(inst.port) {
            return Ok(inst);
        }
    }
    if pid(place).is_some() {
        stop(place)?;
    }
    let data = data_dir(place);
    if !data.join("mysql").is_dir() {
        check_space(Engine::Mysql, &place.dir)?;
        say("MySQL (MariaDB): creating a private server for this home (first use)");
        let _ = std::fs::remove_dir_all(&data);
        write_private(&place.dir.join("admin.secret"), secret()?.as_bytes())?;
        let mut c = place.command(&progs.install_db, &opts.path);
        c.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args([
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ]);
        run(place, c, "mariadb-install-db")?;
    }
    let password = admin_password(place)?;
    // The admin user is (re)created from the password file on every start.
    let init = place.dir.join("init.sql");
    write_private(
        &init,
        format!(
            "CREATE USER IF NOT EXISTS '{ADMIN}'@'127.0.0.1' IDENTIFIED BY '{password}';\nALTER USER '{ADMIN}'@'127.0.0.1' IDENTIFIED BY '{password}';\nGRANT ALL PRIVILEGES ON *.* TO '{ADMIN}'@'127.0.0.1' WITH GRANT OPTION;\n"
        )
        .as_bytes(),
    )?;
    if let Some(r) = &place.run_as {
        r.chown(&init)?;
    }
    let port = match place.record() {
        Some(i) if proc::port_is_free(i.port).is_ok() => i.port,
        _ => {
            proc::free_port().map_err(|e| LocalError::io("find a free port on", "127.0.0.1", e))?
        }
    };
    say(&format!("MySQL (MariaDB): starting on 127.0.0.1:{port}"));
    let mut c = place.command(&progs.server, &opts.path);
    c.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", socket(place).display()))
        .arg(format!("--pid-file={}", pid_file(place).display()))
        .arg(format!("--log-error={}", place.server_log().display()))
        .arg(format!("--init-file={}", init.display()))
        .args([
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M",
            "--max-connections=200",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    postgres::detach(&mut c);
    let mut child = c.spawn().map_err(|e| LocalError::DataService {
        engine: Engine::Mysql.label(),
        reason: format!("could not start {}: {e}", progs.server.display()),
        hint: "reinstall mariadb-server (scripts/setup.sh)".into(),
    })?;
    let ready = proc::wait_until(Duration::from_secs(60), || {
        matches!(child.try_wait(), Ok(None)) && answers(port) && admin_ok(opts, place, progs, port)
    });
    let _ = std::fs::remove_file(&init);
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        let tail = std::fs::read_to_string(place.server_log()).unwrap_or_default();
        return Err(LocalError::DataService {
            engine: Engine::Mysql.label(),
            reason: format!(
                "the server did not accept connections on 127.0.0.1:{port} within 60 s: {}",
                last_lines(&tail, 8)
            ),
            hint: format!("see {}", place.server_log().display()),
        });
    }
    // The server lives on in its own session; our handle is not needed.
    drop(child);
    let inst = Instance {
        port,
        version: version(progs),
    };
    place.save(&inst)?;
    Ok(inst)
}

fn stop(place: &Place) -> Result<(), LocalError> {
    if let Some(p) = pid(place) {
        proc::signal(p, libc::SIGTERM);
        if !proc::wait_until(Duration::from_secs(60), || pid(place).is_none()) {
            proc::signal(p, libc::SIGKILL);
        }
    }
    Ok(())
}

fn sql(
    opts: &DataOptions,
    place: &Place,
    progs: &Programs,
    port: u16,
    statement: &str,
) -> Result<String, LocalError> {
    let mut c = Command::new(&progs.client);
    c.env_clear()
        .env("PATH", &opts.path)
        .env("MYSQL_PWD", admin_password(place)?)
        .args([
            "--no-defaults",
            "--protocol=TCP",
            "-h",
            "127.0.0.1",
            "-P",
            &port.to_string(),
            "-u",
            ADMIN,
            "--connect-timeout=10",
            "-N",
            "-B",
            "-e",
            statement,
        ])
        .stdin(Stdio::null());
    run(place, c, "mariadb")
}

pub(super) fn provision(
    opts: &DataOptions,
    deployment: &str,
    say: &dyn Fn(&str),
) -> Result<Grant, LocalError> {
    let progs = programs(&opts.path)?;
    let _lock = lock(opts, "mysql")?;
    let place = place(opts, Engine::Mysql, "mysql")?;
    let inst = ensure_running(opts, &place, &progs, say)?;
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
                // MariaDB user names: up to 80 characters.
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
    let existed = sql(
        opts,
        &place,
        &progs,
        inst.port,
        &format!(
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{}'",
            rec.database
        ),
    )?;
    let mut stmt = format!(
        "CREATE DATABASE IF NOT EXISTS `{d}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
        d = rec.database
    );
    // Apps reach it as 127.0.0.1 (TCP); `localhost` covers clients that name it so.
    for host in ["127.0.0.1", "localhost"] {
        stmt.push_str(&format!(
            "CREATE USER IF NOT EXISTS '{u}'@'{host}' IDENTIFIED BY '{p}'; ALTER USER '{u}'@'{host}' IDENTIFIED BY '{p}'; GRANT ALL PRIVILEGES ON `{d}`.* TO '{u}'@'{host}';",
            u = rec.user,
            p = rec.password,
            d = rec.database
        ));
    }
    sql(opts, &place, &progs, inst.port, &stmt)?;
    say(&format!(
        "MySQL (MariaDB) {}: {} database {} for this deployment",
        inst.version,
        if existed.trim() == "0" {
            "created"
        } else {
            "reusing (data kept across redeploys)"
        },
        rec.database
    ));
    Ok(Grant {
        engine: Engine::Mysql,
        version: inst.version,
        host: "127.0.0.1".into(),
        port: inst.port,
        database: rec.database,
        user: rec.user,
        password: rec.password,
    })
}

pub(super) fn release(
    opts: &DataOptions,
    deployment: &str,
    keep_data: bool,
) -> Result<Vec<String>, LocalError> {
    let dir = opts.root().join("mysql");
    if !dir
        .join("users")
        .join(format!("{deployment}.json"))
        .exists()
    {
        return Ok(vec![]);
    }
    let progs = programs(&opts.path)?;
    let _lock = lock(opts, "mysql")?;
    let place = place(opts, Engine::Mysql, "mysql")?;
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
            "kept MySQL database {} (user {}, password in {})",
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
            &format!(
                "DROP DATABASE IF EXISTS `{d}`; DROP USER IF EXISTS '{u}'@'127.0.0.1', '{u}'@'localhost';",
                d = rec.database,
                u = rec.user
            ),
        )?;
        std::fs::remove_file(&rec_path).map_err(|e| LocalError::io("remove", &rec_path, e))?;
        done.push(format!("dropped MySQL database {}", rec.database));
    }
    if active_users(&place) == 0 && pid(&place).is_some() {
        stop(&place)?;
        done.push("stopped the local MySQL (MariaDB): no deployment uses it".into());
    }
    Ok(done)
}

pub(super) fn describe(opts: &DataOptions, deployment: &str) -> Vec<DataStatus> {
    let dir = opts.root().join("mysql");
    let Some(rec) = read_json::<UserRecord>(&dir.join("users").join(format!("{deployment}.json")))
    else {
        return vec![];
    };
    let inst: Option<Instance> = read_json(&dir.join("instance.json"));
    let port = inst.as_ref().map(|i| i.port).unwrap_or(0);
    vec![DataStatus {
        engine: Engine::Mysql,
        version: inst.map(|i| i.version).unwrap_or_default(),
        host: "127.0.0.1".into(),
        port,
        database: rec.database,
        user: rec.user,
        running: port != 0 && answers(port),
        data_dir: dir.join("data"),
    }]
}
