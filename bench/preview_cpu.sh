#!/usr/bin/env bash
# Where the CPU of a new-sentence preview goes (issue #16): `serve` versus
# its PostgreSQL backends, per stored preview, under the same load as
# bench/service.sh's "a new sentence each request" run. The request rate
# itself depends on the machine's load; the CPU per preview much less.
#
# Needs PostgreSQL: BENCH_DATABASE_URL (an admin URL; a database
# adt_cpu_<pid> is created and dropped). Knobs: CONCURRENCY (32),
# SECONDS_PER_RUN (10), PERF=1 to also `perf record -g` the server
# (written to perf.data in the current folder).
set -euo pipefail
out_dir=$PWD
cd "$(dirname "$0")/.."
admin=${BENCH_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
conc=${CONCURRENCY:-32}
secs=${SECONDS_PER_RUN:-10}

. bench/lib/serve.sh
bench_serve adt_cpu
vary=$(printf '{"repo": "%s", "request": "deploy on AWS in eu-central-1 with 2 instances, build {n}"}' "$fixture")

# CPU ticks (user + system) of one process, and of this database's backends.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() {
  local s=0
  for p in $(pgrep -f "postgres: .* $db" || true); do s=$((s + $(ticks "$p"))); done
  echo "$s"
}
hz=$(getconf CLK_TCK)
s0=$(ticks "$server_pid")
perf_pid=""
if [ -n "${PERF:-}" ]; then
  perf record -F 999 -g -p "$server_pid" -o "$out_dir/perf.data" 2>/dev/null &
  perf_pid=$!
fi
"$load" --url "$base/v1/plan" --token "$token" --method POST --body "$vary" \
  --concurrency "$conc" --seconds "$secs"
s1=$(ticks "$server_pid")
pg=$(pg_ticks)   # the backends live only for this run: their whole life
[ -n "$perf_pid" ] && { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
n=$(psql -qtA "$url" -c "SELECT count(*) FROM plan_previews")
python3 - "$n" "$((s1 - s0))" "$pg" "$hz" <<'PY'
import sys
n, serve, pg, hz = (int(x) for x in sys.argv[1:])
ms = lambda t: t * 1000 / hz / max(n, 1)
print(f"previews stored: {n}; CPU per preview: serve {ms(serve):.3f} ms, PostgreSQL {ms(pg):.3f} ms")
PY
