#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, formatting, lints, every test.
# Starts (and stops) the services the tests use by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

scripts/setup.sh --quiet --no-build

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --locked --workspace --all-targets -q -- -D warnings

echo "== services (PostgreSQL; moto is started per test binary)"
eval "$(scripts/services.sh start)"
trap 'scripts/services.sh stop' EXIT

echo "== tests"
export INSTA_UPDATE=no
# The service's scale-out and browser tests run the real binary.
cargo build --locked -q -p autodeploy
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export AUTODEPLOY_BIN="$target_dir/debug/autodeploy"
cargo nextest run --locked --workspace --no-fail-fast

echo "== fault injection (bench/faults.py)"
# PostgreSQL restarted with jobs in flight (on a cluster of its own), a worker
# and the API SIGKILLed, a CLI deploy SIGKILLed, a full disk (a small tmpfs).
python3 bench/faults.py --jobs 20
