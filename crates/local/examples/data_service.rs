//! `cargo run --release -p autodeploy-local --example data_service -- HOME ENGINE provision|release ID`
//!
//! One data-service operation of the local target, for `bench/local_data.sh`
//! (hyperfine times whole processes): `provision` starts the engine's server
//! for HOME if needed and gives deployment ID its database; `release` drops
//! it and stops the server when nobody uses it.

use autodeploy_local::data::{self, DataOptions, Engine};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [home, engine, op, id] = args.as_slice() else {
        eprintln!("usage: data_service HOME postgresql|mysql|redis provision|release ID");
        std::process::exit(2);
    };
    let engine = match engine.as_str() {
        "postgresql" => Engine::Postgresql,
        "mysql" => Engine::Mysql,
        "redis" => Engine::Redis,
        other => {
            eprintln!("unknown engine {other}");
            std::process::exit(2);
        }
    };
    let opts = DataOptions {
        home: home.into(),
        path: std::env::var_os("PATH").unwrap_or_default(),
    };
    let r = match op.as_str() {
        "provision" => data::provision(&opts, engine, id, None, &|_| {})
            .map(|g| format!("{}:{}", g.host, g.port)),
        "release" => data::release(&opts, id, false).map(|l| l.join("; ")),
        other => {
            eprintln!("unknown operation {other}");
            std::process::exit(2);
        }
    };
    match r {
        Ok(s) => println!("{s}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
