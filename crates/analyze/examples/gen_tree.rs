//! Write a synthetic repository of N files (for `bench/analyze.sh`).
//! Usage: `cargo run --release --example gen_tree -- DIR N`.

#[path = "../benches/support/tree_gen.rs"]
mod tree_gen;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(n)) = (args.next(), args.next().and_then(|n| n.parse().ok())) else {
        eprintln!("usage: gen_tree DIR FILES");
        std::process::exit(2);
    };
    tree_gen::generate(std::path::Path::new(&dir), n).expect("could not write the tree");
}
