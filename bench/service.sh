#!/usr/bin/env bash
# Service throughput/latency (issue #6), release build, on PostgreSQL:
#   1. POST /v1/plan on a cached repository.   Target: >= 2,000 requests/s.
#      a) the same preview repeated (served from the plan response cache);
#      b) a new sentence each request (analysis cached; parse + decide +
#         render + JSON per request).
#   2. GET /v1/deployments/{id} with 1,000,000 deployments in the table
#      (rows inserted with generate_series).  Target: p99 <= 5 ms.
# The load generator (crates/server/examples/load.rs) runs on the same
# 2 cores as the server, so the figures include its own cost.
#
# Needs PostgreSQL: BENCH_DATABASE_URL (an admin URL; a database
# adt_bench_<pid> is created and dropped), default
# postgres://postgres:postgres@127.0.0.1:5432/postgres.
# Knobs: CONCURRENCY (32), SECONDS_PER_RUN (10), ROWS (1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
admin=${BENCH_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
conc=${CONCURRENCY:-32}
secs=${SECONDS_PER_RUN:-10}
rows=${ROWS:-1000000}
command -v psql >/dev/null || { echo "psql missing" >&2; exit 1; }

. bench/lib/serve.sh
bench_serve adt_bench
body=$(printf '{"repo": "%s", "request": "deploy on AWS in eu-central-1 with 2 instances"}' "$fixture")

echo "== POST /v1/plan, cached repository, repeated preview ($conc connections, ${secs}s)"
"$load" --url "$base/v1/plan" --token "$token" --method POST --body "$body" \
  --concurrency "$conc" --seconds "$secs"
# Every request a new sentence: the analysis is cached, the plan is not
# (parse + decide + render + JSON each time).
vary=$(printf '{"repo": "%s", "request": "deploy on AWS in eu-central-1 with 2 instances, build {n}"}' "$fixture")
echo "== POST /v1/plan, cached analysis, a new sentence each request ($conc connections, ${secs}s)"
"$load" --url "$base/v1/plan" --token "$token" --method POST --body "$vary" \
  --concurrency "$conc" --seconds "$secs"

echo "== inserting $rows deployments"
owner=$(psql -qtA "$url" -c "SELECT id FROM users WHERE name = 'admin'")
t0=$(date +%s.%N)
psql -q "$url" <<SQL
INSERT INTO deployments (id, owner, name, source, request, cloud, status, outputs, options, created_at, updated_at)
SELECT 'dep_' || lpad(to_hex(g), 16, '0'),
       CASE WHEN g % 10 = 0 THEN '$owner' ELSE 'usr_other' || (g % 97) END,
       'app-' || g, 'https://example.com/r' || (g % 1000) || '.git', 'deploy on aws',
       (ARRAY['aws','gcp','azure','local'])[1 + g % 4],
       (ARRAY['healthy','failed','destroyed','queued'])[1 + g % 4],
       '{}', '{}',
       1700000000000 + g, 1700000000000 + g
FROM generate_series(1, $rows) AS g;
ANALYZE deployments;
SQL
echo "   took $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
# 2,000 random ids owned by the token's user.
psql -qtA "$url" -c "SELECT id FROM deployments WHERE owner = '$owner' ORDER BY random() LIMIT 2000" \
  | sed "s|^|$base/v1/deployments/|" > "$work/urls"

echo "== GET /v1/deployments/{id}, $rows rows ($conc connections, ${secs}s)"
"$load" --url-file "$work/urls" --token "$token" --concurrency "$conc" --seconds "$secs"
echo "== same, 4 connections (latency without queueing on 2 cores)"
"$load" --url-file "$work/urls" --token "$token" --concurrency 4 --seconds "$secs"
