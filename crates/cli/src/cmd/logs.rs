//! `autodeploy logs ID [-f]`: the deployment's log (every phase, every
//! terraform/build line) and, for a local deployment, the app's own output
//! from its supervisor. `-f` follows until the deployment settles and then
//! keeps following the app's output (Ctrl-C to stop). Lines are printed
//! through `escape::display` (an app's output must not drive the terminal).

use crate::cmd::common::{acting_user, exec_config, open_store, runtime, StateArgs, UserArgs};
use crate::cmd::deploy::find;
use autodeploy_render::escape::display;
use autodeploy_store::LogLine;
use clap::Args;
use std::io::{BufRead, Seek, SeekFrom};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct LogsArgs {
    /// The deployment (see `autodeploy list`).
    pub id: String,
    /// Keep printing new lines as they come.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// One JSON object per line (seq, at, stream, phase, line).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub user: UserArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

fn print_line(l: &LogLine, json: bool) {
    if json {
        outln!("{}", serde_json::to_string(l).unwrap_or_default());
        return;
    }
    let phase = l.phase.map(|p| p.as_str()).unwrap_or("-");
    outln!("[{phase}] {}", display(&l.line));
}

pub fn run(args: LogsArgs) -> anyhow::Result<ExitCode> {
    let cfg = exec_config(&args.state, None);
    runtime()?.block_on(async move {
        let store = open_store(&args.state, &cfg).await?;
        let user = acting_user(&store, &args.user).await?;
        let d = find(&store, &args.id, &user).await?;
        let mut after = 0i64;
        loop {
            let lines = store.read_logs(&d.id, after, 1000).await?;
            for l in &lines {
                print_line(l, args.json);
                after = l.seq;
            }
            if lines.len() == 1000 {
                continue;
            }
            if !args.follow {
                break;
            }
            let now = store.get_deployment(&d.id).await?;
            let now = match now {
                Some(n) => autodeploy_execute::reconcile(&store, &cfg, n).await?,
                None => break,
            };
            if now.status.is_final() {
                let rest = store.read_logs(&d.id, after, 100_000).await?;
                for l in &rest {
                    print_line(l, args.json);
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if d.cloud.as_deref() == Some("local") {
            let opts = autodeploy_local::LocalOptions::new(cfg.home.clone());
            let path = autodeploy_local::app_log_path(&d.id, &opts);
            if path.exists() {
                if !args.json {
                    outln!("--- app output ({}) ---", path.display());
                }
                follow_file(&path, args.follow, args.json)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn follow_file(path: &std::path::Path, follow: bool, json: bool) -> anyhow::Result<()> {
    let mut f = std::fs::File::open(path)?;
    let mut pos = 0u64;
    loop {
        f.seek(SeekFrom::Start(pos))?;
        let mut reader = std::io::BufReader::new(&f);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            pos += n as u64;
            let text = line.trim_end_matches('\n');
            if json {
                outln!("{}", serde_json::json!({ "stream": "app", "line": text }));
            } else {
                outln!("{}", display(text));
            }
        }
        if !follow || !path.exists() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}
