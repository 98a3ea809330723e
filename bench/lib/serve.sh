# Sourced by bench/service.sh and bench/preview_cpu.sh: build the release
# binary and the load generator, make a scratch PostgreSQL database named
# "$1_$$" on $admin, start `serve` on it (no workers, no rate limits) and
# warm the analysis cache of the python_stdlib_http_server fixture.
# Sets bin, load, db, url, work, base, token, fixture, server_pid; drops the
# database and stops the server on EXIT.
bench_serve() {
  cargo build --release -q -p autodeploy
  cargo build --release -q -p autodeploy-server --example load
  local target_dir
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target_dir/release/autodeploy"
  load="$target_dir/release/examples/load"

  db="$1_$$"
  url="${admin%/*}/$db"
  work=$(mktemp -d)
  server_pid=""
  trap bench_cleanup EXIT
  psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null

  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" serve --workers 0 --allow-local-sources --listen "127.0.0.1:$port" \
    --rate-limit 1000000000 --rate-burst 1000000000 \
    --address-rate-limit 1000000000 --address-rate-burst 1000000000 \
    --admin-token-file "$work/admin-token" \
    --database-url "$url" --home "$work/home" --log-format json 2>"$work/serve.log" &
  server_pid=$!
  for _ in $(seq 100); do
    token=$(cat "$work/admin-token" 2>/dev/null || true)
    [ -n "$token" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
  done
  [ -n "$token" ] || { echo "server did not start:"; cat "$work/serve.log"; exit 1; }
  base="http://127.0.0.1:$port"

  fixture="$PWD/tests/fixtures/python_stdlib_http_server"
  local body
  body=$(printf '{"repo": "%s", "request": "deploy on AWS in eu-central-1 with 2 instances"}' "$fixture")
  curl -sf -X POST -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$body" "$base/v1/plan" >/dev/null
}

bench_cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
