//! Analyse a local folder and print the JSON (development aid; the real entry
//! point is `autodeploy analyze`). Usage: `cargo run --example analyze_dir -- DIR`.

use autodeploy_analyze::{analyze_dir, AnalyzeOptions};
use autodeploy_core::{SourceInfo, SourceKind};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let source = SourceInfo {
        input: dir.clone(),
        kind: SourceKind::Path,
        commit: None,
    };
    match analyze_dir(
        std::path::Path::new(&dir),
        source,
        &AnalyzeOptions::default(),
    ) {
        Ok(a) => println!(
            "{}",
            serde_json::to_string_pretty(&a).expect("serialisable")
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(3);
        }
    }
}
