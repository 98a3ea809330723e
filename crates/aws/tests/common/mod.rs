//! Test support: one moto_server per test binary on a free 127.0.0.1 port,
//! found through AUTODEPLOY_TEST_MOTO. The server runs under a small `sh`
//! wrapper that kills it when this process's end of its stdin pipe closes,
//! i.e. when the test binary exits, however it exits.
#![allow(dead_code)]

use autodeploy_aws::{AwsClient, Credentials};
use autodeploy_core::LogStream;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Moto {
    pub url: String,
    _child: Mutex<Child>,
}

/// Start moto with extra environment; None (after a loud message) when
/// AUTODEPLOY_TEST_MOTO is unset.
pub fn start(env: &[(&str, &str)]) -> Option<Moto> {
    let Ok(bin) = std::env::var("AUTODEPLOY_TEST_MOTO") else {
        eprintln!("\n*** SKIPPED: AUTODEPLOY_TEST_MOTO is not set (path of moto_server); this test did not run ***\n");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this prerequisite must be there (see above)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let log = std::env::temp_dir().join(format!("autodeploy-aws-moto-{port}.log"));
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("\"$0\" -H 127.0.0.1 -p \"$1\" >\"$2\" 2>&1 & pid=$!; read _ignored; kill $pid; wait $pid; rm -f \"$2\"")
        .arg(&bin)
        .arg(port.to_string())
        .arg(&log)
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start moto_server");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if ureq::get(&format!("{url}/moto-api/"))
            .timeout(Duration::from_secs(2))
            .call()
            .is_ok()
        {
            break;
        }
        if Instant::now() > deadline {
            let mut text = String::new();
            let _ = std::fs::File::open(&log).map(|mut f| f.read_to_string(&mut text));
            panic!("moto_server did not answer on {url} within 60 s; its log:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Some(Moto {
        url,
        _child: Mutex::new(child),
    })
}

pub fn client(moto: &Moto, region: &str) -> AwsClient {
    AwsClient::with_credentials(
        Credentials::new("AKIDTEST", "test-secret", None),
        region,
        Some(&moto.url),
    )
    .expect("client")
}

/// A sink that keeps the lines.
#[derive(Default)]
pub struct Lines(pub Mutex<Vec<String>>);

impl Lines {
    pub fn push(&self, _s: LogStream, line: &str) {
        self.0.lock().unwrap().push(line.to_string());
    }
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn contains(&self, needle: &str) -> bool {
        self.all().iter().any(|l| l.contains(needle))
    }
}

/// A unique lowercase name for this run.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}
