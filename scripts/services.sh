#!/usr/bin/env bash
# Starts the services the test suite talks to and prints `export` lines for
# the variables the tests read:
#   AUTODEPLOY_TEST_DATABASE_URL  PostgreSQL (admin URL; tests create their own databases)
#   AUTODEPLOY_TEST_MOTO          the moto_server binary (tests start their own emulator per binary)
# Usage: eval "$(scripts/services.sh start)"     scripts/services.sh stop
# PostgreSQL: the Debian cluster 15/main on 127.0.0.1:5432 (started only if it
# is down; stopped by `stop` only if this script started it).
set -euo pipefail
cd "$(dirname "$0")/.."
state=.services-started
pg_password=${AUTODEPLOY_TEST_PG_PASSWORD:-postgres}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi
}

start_pg() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "services: PostgreSQL not installed (scripts/setup.sh installs it); PostgreSQL tests will be skipped" >&2
    return 0
  fi
  local cluster
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1{print $1" "$2}')
  if [ -z "$cluster" ]; then
    echo "services: no PostgreSQL cluster found (pg_lsclusters); PostgreSQL tests will be skipped" >&2
    return 0
  fi
  if pg_lsclusters -h | awk 'NR==1{print $4}' | grep -q down; then
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start >&2
    echo "pg $cluster" >> "$state"
  fi
  for _ in $(seq 1 50); do
    as_postgres "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
    sleep 0.2
  done
  as_postgres "psql -qc \"ALTER USER postgres PASSWORD '$pg_password'\"" >/dev/null
  echo "export AUTODEPLOY_TEST_DATABASE_URL=postgres://postgres:$pg_password@127.0.0.1:5432/postgres"
}

case "${1:-}" in
  start)
    start_pg
    if [ -x .venv-moto/bin/moto_server ]; then
      echo "export AUTODEPLOY_TEST_MOTO=$PWD/.venv-moto/bin/moto_server"
    else
      echo "services: moto not installed (scripts/setup.sh installs it); emulator tests will be skipped" >&2
    fi
    ;;
  stop)
    if [ -f "$state" ]; then
      while read -r kind a b; do
        [ "$kind" = pg ] && pg_ctlcluster "$a" "$b" stop >&2 || true
      done < "$state"
      rm -f "$state"
    fi
    ;;
  *) echo "usage: scripts/services.sh start|stop" >&2; exit 2 ;;
esac
