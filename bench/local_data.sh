#!/usr/bin/env bash
# Start-up cost of the local target's data services (issue #10): for
# PostgreSQL, MariaDB and Redis, the first deployment of a home (create the
# server's files, start it, create a database and user), the next one on a
# running server (a database and user only), and releasing a deployment.
# Whole processes timed with hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine missing: run scripts/setup.sh" >&2; exit 1; }
cargo build --release -q -p autodeploy-local --example data_service
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/examples/data_service"
work=$(mktemp -d /tmp/autodeploy-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  for h in "$work"/*/; do
    for e in postgresql mysql redis; do
      for d in d1 d2 keeper; do "$bin" "$h" "$e" release "$d" >/dev/null 2>&1 || true; done
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT
for engine in postgresql mysql redis; do
  echo "== $engine"
  # Cold: a fresh home each run (files created, server started, database made);
  # the release in the cleanup stops the server again.
  # (hyperfine 1.15 has no per-run cleanup: the next run's preparation
  # releases the previous run's server before removing its home.)
  hyperfine --runs 5 \
    --prepare "[ -d $work/cold-$engine ] && $bin $work/cold-$engine $engine release d1 >/dev/null; rm -rf $work/cold-$engine; mkdir -p $work/cold-$engine" \
    --cleanup "$bin $work/cold-$engine $engine release d1" \
    -n "$engine first deployment (cold home)" "$bin $work/cold-$engine $engine provision d1"
  # Warm: the server runs; each run makes and drops one deployment's database.
  mkdir -p "$work/warm-$engine"
  "$bin" "$work/warm-$engine" "$engine" provision keeper >/dev/null
  hyperfine --runs 10 \
    --prepare "$bin $work/warm-$engine $engine release d2 >/dev/null" \
    --cleanup "$bin $work/warm-$engine $engine release d2" \
    -n "$engine next deployment (server running)" "$bin $work/warm-$engine $engine provision d2"
  "$bin" "$work/warm-$engine" "$engine" release keeper >/dev/null
done
