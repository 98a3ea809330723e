#!/usr/bin/env bash
# Whole-process timing of `autodeploy analyze DIR --json` against
# `find DIR -type f` on generated trees of 50 / 5k / 30k / 90k files
# (warm page cache; hyperfine, no shell). Prints a table; figures go to
# docs/PERFORMANCE.md. Usage: bench/analyze.sh [SIZES...]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine missing: run scripts/setup.sh" >&2; exit 1; }

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(50 5000 30000 90000)
work="${BENCH_DIR:-/tmp/autodeploy-bench}"
mkdir -p "$work"

cargo build --release -q -p autodeploy
cargo build --release -q -p autodeploy-analyze --example gen_tree
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/autodeploy"
gen="$target_dir/release/examples/gen_tree"

printf '%-8s %12s %14s %8s\n' files "find (ms)" "analyze (ms)" ratio
for n in "${sizes[@]}"; do
  dir="$work/tree-$n"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    "$gen" "$dir" "$n"
    touch "$dir/.complete"
  fi
  runs=30; [ "$n" -ge 30000 ] && runs=10
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/result-$n.json" \
    "find $dir -type f" "$bin analyze $dir --json" >/dev/null 2>&1
  python3 - "$work/result-$n.json" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
f, a = r[0]["mean"] * 1000, r[1]["mean"] * 1000
print(f"{sys.argv[2]:<8} {f:12.1f} {a:14.1f} {a / f:8.2f}")
PY
done
