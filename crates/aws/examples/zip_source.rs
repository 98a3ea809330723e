//! Zip a folder the way a container release does and print size and time:
//! `cargo run -p autodeploy-aws --example zip_source -- <folder> [out.zip]`.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next() else {
        eprintln!("usage: zip_source <folder> [out.zip]");
        std::process::exit(2);
    };
    let out = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("autodeploy-zip-source-example.zip"));
    let t = Instant::now();
    match autodeploy_aws::zip_source(std::path::Path::new(&root), &out) {
        Ok(bytes) => {
            let files = zip::ZipArchive::new(std::fs::File::open(&out).expect("open the zip"))
                .map(|a| a.len())
                .unwrap_or(0);
            println!(
                "{root}: {files} files, {bytes} bytes zipped in {:.0} ms -> {}",
                t.elapsed().as_secs_f64() * 1000.0,
                out.display()
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
