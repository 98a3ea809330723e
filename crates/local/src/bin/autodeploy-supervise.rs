//! `autodeploy-supervise SPEC`: the local target's supervisor as its own
//! binary, for tests and for embedding without the CLI's hidden
//! `__supervise` subcommand. Not meant to be run by hand.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    autodeploy_local::supervise_main(&args)
}
