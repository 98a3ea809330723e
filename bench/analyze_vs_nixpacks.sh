#!/usr/bin/env bash
# Whole-process, side by side in one run: `autodeploy analyze DIR --json`
# against `nixpacks plan DIR` (the closest peer, 1.41.0) and `find DIR -type f`
# on real public repositories from 5 to 92k files; then `autodeploy plan` end
# to end on a small Flask fixture (issue #16 points 1 and 3).
#
# Usage: bench/analyze_vs_nixpacks.sh [TREE...]
#   TREE is a name below $BENCH_TREES (default /work/bench-trees) or a path;
#   with none, every tree of the list below that is present.
#   RUNS (default 10; 5 at >= 25k files), WARMUP (3), NIXPACKS (binary,
#   default `nixpacks` on PATH), OUT (JSON results, default /tmp/ad-bench-vs),
#   AUTODEPLOY_BIN (a built binary; default: cargo build --release).
#
# nixpacks: `cargo install nixpacks --version 1.41.0 --locked --root DIR`,
# then put DIR/bin on PATH (or NIXPACKS=DIR/bin/nixpacks). Without it the
# script says so and times analyze and find only.
#
# The trees (never committed; HEAD of each repository's default branch when
# fetched, commit given so the run can be repeated):
#   name               repository                    commit        files
#   flask-hello-world  render-examples/flask-hello-world facfc73c44b3      5
#   outline            outline/outline               d77dcdf85386   2,706  TS app
#   saleor             saleor/saleor                 723cd4eba87d   4,671  Django app
#   deno               denoland/deno                 98f9507affc9  14,800  Rust + TS monorepo
#   babel              babel/babel                   1da3cfa1a255  27,674  JS monorepo
#   test262            tc39/test262                  be13516fb644  56,970  test suite
#   netbeans           apache/netbeans               dd278257675c  92,424  Java IDE
# To make one: `git clone https://github.com/<repo> /tmp/x && git -C /tmp/x
# checkout <commit>` then `bench/materialize_tree.py /tmp/x/.git
# $BENCH_TREES/<name>` (or `git archive <commit> | tar -x -C ...`). From a
# size-capped mirror whose largest blobs are absent, materialize_tree.py
# writes those files empty (deno: 2, netbeans: 5), keeping the layout.
# (intellij-community and vscode are too large for the mirror used here.)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install hyperfine" >&2; exit 1; }

trees_root=${BENCH_TREES:-/work/bench-trees}
runs=${RUNS:-10}
warmup=${WARMUP:-3}
out=${OUT:-/tmp/ad-bench-vs}
mkdir -p "$out"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for n in flask-hello-world outline saleor deno babel test262 netbeans; do
    [ -d "$trees_root/$n" ] && names+=("$n")
  done
fi
[ ${#names[@]} -gt 0 ] || { echo "no trees under $trees_root: see the list at the top of $0" >&2; exit 1; }

nixpacks=${NIXPACKS:-$(command -v nixpacks || true)}
if [ -z "$nixpacks" ] || [ ! -x "$nixpacks" ]; then
  echo "NOTE: nixpacks is NOT on PATH — timing analyze and find only." >&2
  echo "      install: cargo install nixpacks --version 1.41.0 --locked --root DIR; PATH=DIR/bin:\$PATH" >&2
  nixpacks=""
else
  echo "nixpacks: $("$nixpacks" --version) ($nixpacks)"
fi

if [ -n "${AUTODEPLOY_BIN:-}" ]; then
  bin=$AUTODEPLOY_BIN
else
  cargo build --release -q -p autodeploy
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target_dir/release/autodeploy"
fi
export AUTODEPLOY_HOME=${AUTODEPLOY_HOME:-$(mktemp -d)}

echo "date: $(date -u +%F)  machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)  commit: $(git rev-parse --short HEAD)"
printf '%-18s %8s %12s %12s %9s %9s %9s\n' tree files "analyze ms" "nixpacks ms" "a/nixp" "find ms" "a/find"
for name in "${names[@]}"; do
  dir=$name
  [ -d "$dir" ] || dir="$trees_root/$name"
  [ -d "$dir" ] || { echo "$name: no such tree" >&2; continue; }
  files=$(find "$dir" -type f | wc -l)
  r=$runs
  [ "$files" -ge 25000 ] && r=${RUNS_LARGE:-5}
  cmds=(-n analyze "$bin analyze $dir --json" -n find "find $dir -type f")
  [ -n "$nixpacks" ] && cmds+=(-n nixpacks "$nixpacks plan $dir")
  # -i: nixpacks 1.41 exits 1 on babel (a deliberately broken package.json
  # among its test fixtures) after doing its work; its time still counts and
  # the table marks it with `!`.
  hyperfine -N -i --warmup "$warmup" --runs "$r" --export-json "$out/$(basename "$dir").json" \
    "${cmds[@]}" >/dev/null 2>"$out/$(basename "$dir").err" \
    || { echo "$name: hyperfine failed, see $out/$(basename "$dir").err" >&2; continue; }
  python3 - "$out/$(basename "$dir").json" "$(basename "$dir")" "$files" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = lambda k: res[k]["median"] * 1000 if k in res else None
a, f, n = med("analyze"), med("find"), med("nixpacks")
failed = lambda k: any(c != 0 for c in res[k].get("exit_codes", [0]))
if failed("analyze"):
    print(f"{sys.argv[2]}: autodeploy analyze FAILED", file=sys.stderr)
ns = f"{n:11.1f}{'!' if failed('nixpacks') else ' '}" if n is not None else f"{'—':>12}"
ratio = f"{a / n:9.2f}" if n else f"{'—':>9}"
print(f"{sys.argv[2]:<18} {int(sys.argv[3]):>8,} {a:12.1f} {ns} {ratio} {f:9.1f} {a / f:9.2f}")
PY
done
echo "(medians; hyperfine -N --warmup $warmup, $runs runs, ${RUNS_LARGE:-5} at >= 25k files; ! = nixpacks exited non-zero; JSON in $out)"

# `plan` end to end (fetch + analyze + parse + decide + render + write) on a
# small Flask app, whole process. Target: <= 10 ms.
plan_out=$(mktemp -d)
hyperfine -N --warmup "$warmup" --runs 30 --export-json "$out/plan.json" \
  -n plan-flask "$bin plan tests/fixtures/hello_world_shape 'deploy on aws' --out $plan_out/a" \
  -n plan-django "$bin plan tests/fixtures/python_django_postgres 'Django on AWS with Postgres, 2 to 4 instances, https on app.example.com' --out $plan_out/b" \
  >/dev/null
rm -rf "$plan_out"
python3 - "$out/plan.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']:<12} median {r['median']*1000:6.1f} ms  mean {r['mean']*1000:6.1f} ± {r['stddev']*1000:.1f} ms")
PY
