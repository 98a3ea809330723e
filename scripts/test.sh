#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, formatting, lints, every test.
# Starts (and stops) the services the tests use by itself, and prints the time
# of every phase and of every test binary at the end, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Under CI a test whose prerequisite (PostgreSQL, moto, Chromium, promtool…)
# is missing fails instead of skipping.
export CI=${CI:-true}

phases=$(mktemp)
rm -f target/nextest/ci/junit.xml
phase_start=$SECONDS
phase() { # phase NAME: closes the running phase, opens NAME
    if [ -n "${current:-}" ]; then
        echo "$current $((SECONDS - phase_start))" >>"$phases"
    fi
    current=$1
    phase_start=$SECONDS
    echo "== $1"
}
finish() {
    local rc=$?
    phase "done" >/dev/null
    scripts/services.sh stop >/dev/null 2>&1 || true
    # nextest keeps its reports under the workspace's target/nextest, whatever
    # CARGO_TARGET_DIR says.
    local junit="target/nextest/ci/junit.xml"
    [ -f "$junit" ] || junit=""
    python3 scripts/phase_times.py "$phases" $junit || true
    rm -f "$phases"
    exit $rc
}
trap finish EXIT

phase "setup (scripts/setup.sh)"
scripts/setup.sh --quiet --no-build

phase "cargo fmt --check"
cargo fmt --all -- --check

phase "cargo clippy"
cargo clippy --locked --workspace --all-targets -q -- -D warnings

phase "services"
eval "$(scripts/services.sh start)"

phase "build (binary and tests)"
export INSTA_UPDATE=no
# The service's scale-out and browser tests run the real binary.
cargo build --locked -q -p autodeploy
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export AUTODEPLOY_BIN="$target_dir/debug/autodeploy"
cargo nextest run --locked --workspace --no-run

phase "tests (cargo nextest)"
cargo nextest run --locked --workspace --profile ci

phase "fault injection (bench/faults.py)"
# PostgreSQL restarted with jobs in flight (on a cluster of its own), a worker
# and the API SIGKILLed, a CLI deploy SIGKILLed, a full disk (a small tmpfs).
python3 bench/faults.py --jobs 20
