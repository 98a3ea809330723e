#!/usr/bin/env bash
# Whole-process time of `autodeploy plan` (fetch + analyze + parse + decide +
# render + write, Terraform excluded) on two fixtures. Target: ≤ 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine missing: run scripts/setup.sh" >&2; exit 1; }
cargo build --release -q -p autodeploy
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/autodeploy"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
hyperfine -N --warmup 3 --runs 30 \
  -n hello_world_vm "$bin plan tests/fixtures/hello_world_shape 'deploy this Flask app on AWS' --out $out/a" \
  -n django_ecs_rds_https "$bin plan tests/fixtures/python_django_postgres 'Django on AWS with Postgres, 2 to 4 instances, https on app.example.com' --out $out/b"
