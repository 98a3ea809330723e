//! Analyse a folder, parse a request and print the Decision as JSON.
//!
//! `cargo run -p autodeploy-decide --example decide_dir -- tests/fixtures/hello_world_shape "deploy on aws"`

use autodeploy_analyze::{analyze_dir, AnalyzeOptions};
use autodeploy_core::{SourceInfo, SourceKind};
use autodeploy_decide::{decide, DecideOptions};
use std::path::Path;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: decide_dir FOLDER [REQUEST]");
    let request = args.next().unwrap_or_default();
    let source = SourceInfo {
        input: dir.clone(),
        kind: SourceKind::Path,
        commit: None,
    };
    let opts = AnalyzeOptions {
        name_hint: Path::new(&dir)
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
        ..Default::default()
    };
    let analysis = match analyze_dir(Path::new(&dir), source, &opts) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("analyze: {e}");
            std::process::exit(1);
        }
    };
    let intent = autodeploy_parse::parse(&request);
    match decide(&analysis, &intent, &DecideOptions::default()) {
        Ok(d) => println!("{}", serde_json::to_string_pretty(&d).unwrap()),
        Err(e) => {
            eprintln!("decide: {e}");
            std::process::exit(2);
        }
    }
}
