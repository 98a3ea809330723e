//! The local Redis: one small `redis-server` per deployment
//! (`<home>/services/redis/<deployment>/`), on 127.0.0.1 with a generated
//! password, no Unix socket, RDB snapshots in its folder so data survives
//! redeploys; stopped and removed on destroy (unless the data is kept).
//!
//! One server per deployment because Redis cannot keep two tenants of one
//! server apart: any client can `SELECT` any database, and ACL key patterns
//! need key prefixes that apps do not use.

use super::*;

fn program(path: &OsString) -> Result<PathBuf, LocalError> {
    find_program(&["redis-server"], path, &[PathBuf::from("/usr/bin")])
        .ok_or_else(|| missing(Engine::Redis, "redis-server"))
}

fn pid_file(place: &Place) -> PathBuf {
    place.dir.join("redis.pid")
}

fn pid(place: &Place) -> Option<u32> {
    std::fs::read_to_string(pid_file(place))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|p| proc::alive_and_mentions(*p, "redis"))
}

fn version(server: &Path) -> String {
    // `Redis server v=7.0.15 sha=…`
    Command::new(server)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .find_map(|w| w.strip_prefix("v=").map(str::to_string))
        })
        .unwrap_or_default()
}

fn record_path(place: &Place) -> PathBuf {
    place.dir.join("grant.json")
}

fn stop(place: &Place) {
    if let Some(p) = pid(place) {
        proc::signal(p, libc::SIGTERM);
        if !proc::wait_until(Duration::from_secs(30), || pid(place).is_none()) {
            proc::signal(p, libc::SIGKILL);
        }
    }
}

/// `password`: whether the server asks for one (see [`super::Ask`]).
pub(super) fn provision(
    opts: &DataOptions,
    deployment: &str,
    password: bool,
    say: &dyn Fn(&str),
) -> Result<Grant, LocalError> {
    let server = program(&opts.path)?;
    let _lock = lock(opts, &format!("redis-{deployment}"))?;
    let place = place(opts, Engine::Redis, &format!("redis/{deployment}"))?;
    let rec_path = record_path(&place);
    let mut rec = match read_json::<UserRecord>(&rec_path) {
        Some(r) => r,
        None => {
            check_space(Engine::Redis, &place.dir)?;
            UserRecord {
                database: "0".into(),
                user: "default".into(),
                password: secret()?,
                kept: false,
            }
        }
    };
    rec.kept = false;
    // The apps' needs can change between deploys: a server started the
    // other way is restarted with the new configuration.
    let changed = rec.password.is_empty() == password;
    if password && rec.password.is_empty() {
        rec.password = secret()?;
    } else if !password {
        rec.password.clear();
    }
    write_private(
        &rec_path,
        &serde_json::to_vec_pretty(&rec).unwrap_or_default(),
    )?;
    if let (Some(_), Some(inst)) = (pid(&place), place.record()) {
        if answers(inst.port) && !changed {
            return Ok(grant(inst, rec));
        }
        stop(&place);
    }
    let port = match place.record() {
        Some(i) if proc::port_is_free(i.port).is_ok() => i.port,
        _ => {
            proc::free_port().map_err(|e| LocalError::io("find a free port on", "127.0.0.1", e))?
        }
    };
    let conf = place.dir.join("redis.conf");
    write_private(
        &conf,
        format!(
            "bind 127.0.0.1\nport {port}\nprotected-mode yes\ndaemonize yes\npidfile \"{pid}\"\nlogfile \"{log}\"\ndir \"{dir}\"\ndbfilename dump.rdb\nsave 60 1\nsave 300 10\nappendonly no\nmaxmemory 256mb\n{auth}",
            pid = pid_file(&place).display(),
            log = place.server_log().display(),
            dir = place.dir.display(),
            auth = if password {
                format!("requirepass {}\n", rec.password)
            } else {
                String::new()
            }
        )
        .as_bytes(),
    )?;
    if let Some(r) = &place.run_as {
        r.chown(&conf)?;
    }
    if password {
        say(&format!(
            "Redis: starting a private server on 127.0.0.1:{port}"
        ));
    } else {
        say(&format!(
            "Redis: starting a private server on 127.0.0.1:{port} without a password: the app reaches it by host and port and reads no password setting (any process of this machine can connect to it)"
        ));
    }
    let mut c = place.command(&server, &opts.path);
    c.arg(&conf);
    postgres::detach(&mut c);
    run(&place, c, "redis-server")?;
    if !proc::wait_until(Duration::from_secs(20), || {
        pid(&place).is_some() && answers(port)
    }) {
        let tail = std::fs::read_to_string(place.server_log()).unwrap_or_default();
        return Err(LocalError::DataService {
            engine: Engine::Redis.label(),
            reason: format!(
                "the server did not accept connections on 127.0.0.1:{port} within 20 s: {}",
                last_lines(&tail, 8)
            ),
            hint: format!("see {}", place.server_log().display()),
        });
    }
    let inst = Instance {
        port,
        version: version(&server),
    };
    place.save(&inst)?;
    Ok(grant(inst, rec))
}

fn grant(inst: Instance, rec: UserRecord) -> Grant {
    Grant {
        engine: Engine::Redis,
        version: inst.version,
        host: "127.0.0.1".into(),
        port: inst.port,
        database: rec.database,
        user: rec.user,
        password: rec.password,
    }
}

pub(super) fn release(
    opts: &DataOptions,
    deployment: &str,
    keep_data: bool,
) -> Result<Vec<String>, LocalError> {
    let dir = opts.root().join("redis").join(deployment);
    if !dir.exists() {
        return Ok(vec![]);
    }
    let _lock = lock(opts, &format!("redis-{deployment}"))?;
    let place = Place {
        engine: Engine::Redis,
        dir: dir.clone(),
        run_as: None,
    };
    let was_running = pid(&place).is_some();
    // SIGTERM makes Redis write its snapshot before it exits.
    stop(&place);
    let mut done = Vec::new();
    if was_running {
        done.push("stopped the deployment's Redis".to_string());
    }
    if keep_data {
        if let Some(mut rec) = read_json::<UserRecord>(&record_path(&place)) {
            rec.kept = true;
            write_private(
                &record_path(&place),
                &serde_json::to_vec_pretty(&rec).unwrap_or_default(),
            )?;
        }
        done.push(format!("kept the Redis data in {}", dir.display()));
    } else {
        std::fs::remove_dir_all(&dir).map_err(|e| LocalError::io("remove", &dir, e))?;
        done.push("removed the deployment's Redis data".into());
    }
    Ok(done)
}

pub(super) fn describe(opts: &DataOptions, deployment: &str) -> Vec<DataStatus> {
    let dir = opts.root().join("redis").join(deployment);
    let Some(rec) = read_json::<UserRecord>(&dir.join("grant.json")) else {
        return vec![];
    };
    let inst: Option<Instance> = read_json(&dir.join("instance.json"));
    let port = inst.as_ref().map(|i| i.port).unwrap_or(0);
    vec![DataStatus {
        engine: Engine::Redis,
        version: inst.map(|i| i.version).unwrap_or_default(),
        host: "127.0.0.1".into(),
        port,
        database: rec.database,
        user: rec.user,
        running: port != 0 && answers(port),
        data_dir: dir,
    }]
}
