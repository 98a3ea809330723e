#!/usr/bin/env python3
"""Stress bench (issue #16, point 5a): N analyses of N *different* repositories
through the service's API (`POST /v1/analyze`), with W client workers, against
one `autodeploy serve` on this machine. Reports throughput (analyses/minute)
and latency p50/p99 beside the Python prototype's 26 analyses a minute.

Usage: bench/api_analyze_stress.py [--repos 100] [--workers 1,4,8]
                                   [--bin PATH] [--database-url URL]

Every repository is generated fresh under a temporary folder and differs from
the others (its own route, env var and dependency pin; a Flask, Express or
Django layout in turn), and each is a separate folder, so the service's
analysis cache (keyed by folder and a fingerprint of its listing) never hits:
the script checks that on /metrics (`autodeploy_analysis_cache_requests_total`: every
request must be `computed`). Each worker count gets its own fresh set.

Without --bin it builds `target/release/autodeploy` (cargo build --release).
Without --database-url the service uses its embedded SQLite store in a
temporary home. Only 127.0.0.1 is contacted; the server is stopped at the end.
"""
import argparse
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

PROTOTYPE_PER_MINUTE = 26


def build_binary() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "autodeploy"], cwd=root, check=True)
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=root, check=True, capture_output=True).stdout
    return os.path.join(json.loads(meta)["target_directory"], "release", "autodeploy")


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def make_repo(dest: str, i: int) -> None:
    """A small app that differs from every other one: three layouts in turn."""
    kind = i % 3
    if kind == 0:
        write(f"{dest}/requirements.txt", f"flask==3.0.{i % 4}\ngunicorn\npsycopg2-binary\n")
        write(f"{dest}/app.py",
              "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
              f"DB = os.environ['DATABASE_URL']\nTOKEN_{i} = os.getenv('TOKEN_{i}')\n\n"
              f"@app.route('/r{i}')\ndef r{i}():\n    return 'hello {i}'\n\n"
              "if __name__ == '__main__':\n"
              f"    app.run(host='0.0.0.0', port=int(os.environ.get('PORT', {5000 + i})))\n")
        write(f"{dest}/templates/index.html", f"<h1>app {i}</h1>\n")
    elif kind == 1:
        write(f"{dest}/package.json", json.dumps({
            "name": f"api-{i}", "version": f"1.0.{i}",
            "scripts": {"start": "node server.js"},
            "dependencies": {"express": "^4.19.2", "pg": "^8.11.0"}}, indent=2))
        write(f"{dest}/server.js",
              "const express = require('express');\nconst app = express();\n"
              f"const secret = process.env.API_SECRET_{i};\n"
              f"app.get('/r{i}', (req, res) => res.send('hello {i}'));\n"
              f"app.listen(process.env.PORT || {3000 + i});\n")
        write(f"{dest}/lib/db.js",
              "const { Pool } = require('pg');\n"
              "module.exports = new Pool({ connectionString: process.env.DATABASE_URL });\n")
    else:
        write(f"{dest}/requirements.txt", f"Django==5.0.{i % 6}\ngunicorn\ndj-database-url\n")
        write(f"{dest}/manage.py",
              "#!/usr/bin/env python\nimport os, sys\n"
              f"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site{i}.settings')\n"
              "from django.core.management import execute_from_command_line\n"
              "execute_from_command_line(sys.argv)\n")
        write(f"{dest}/site{i}/__init__.py", "")
        write(f"{dest}/site{i}/settings.py",
              "import os\nimport dj_database_url\n"
              "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']\n"
              f"ROOT_URLCONF = 'site{i}.urls'\nWSGI_APPLICATION = 'site{i}.wsgi.application'\n"
              "DATABASES = {'default': dj_database_url.config()}\n"
              f"FEATURE_{i} = os.getenv('FEATURE_{i}')\n")
        write(f"{dest}/site{i}/urls.py", "urlpatterns = []\n")
        write(f"{dest}/site{i}/wsgi.py",
              "import os\nfrom django.core.wsgi import get_wsgi_application\n"
              f"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site{i}.settings')\n"
              "application = get_wsgi_application()\n")
    write(f"{dest}/README.md", f"# repository {i}\n")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(url, token=None, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def cache_counts(base: str) -> dict:
    _, text = request(f"{base}/metrics")
    out = {}
    for m in re.finditer(r'^autodeploy_analysis_cache_requests_total\{result="(\w+)"\} (\S+)$',
                         text.decode(), re.M):
        out[m.group(1)] = int(float(m.group(2)))
    return out


def percentile(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def start_server(binary, home, database_url):
    port = free_port()
    args = [binary, "serve", "--workers", "0", "--allow-local-sources",
            "--listen", f"127.0.0.1:{port}", "--rate-limit", "1000000000",
            "--rate-burst", "1000000000", "--home", home]
    if database_url:
        args += ["--database-url", database_url]
    log = open(os.path.join(home + ".log"), "w+")
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    token, base = None, f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            sys.exit(f"serve exited: {log.read()[-2000:]}")
        log.seek(0)
        m = re.search(r"adt_[A-Za-z0-9]{32}", log.read())
        if m:
            token = m.group(0)
            try:
                request(f"{base}/readyz", timeout=2)
                return proc, base, token
            except OSError:
                pass
        time.sleep(0.05)
    proc.kill()
    sys.exit("serve did not become ready (no token or /readyz) within 60 s")


def run(binary, n_repos, workers, database_url):
    work = tempfile.mkdtemp(prefix="ad-stress-")
    try:
        repos = []
        for i in range(n_repos):
            d = os.path.join(work, "repos", f"repo-{workers}-{i:03d}")
            make_repo(d, i)
            repos.append(d)
        proc, base, token = start_server(binary, os.path.join(work, "home"), database_url)
        try:
            before = cache_counts(base)
            latencies, failures = [], []
            lock = threading.Lock()

            def one(path):
                t0 = time.perf_counter()
                try:
                    status, body = request(f"{base}/v1/analyze", token, {"repo": path})
                    ok = status == 200 and len(json.loads(body).get("services", [])) >= 1
                except Exception as e:  # noqa: BLE001 - any failure counts
                    ok, status = False, str(e)
                dt = time.perf_counter() - t0
                with lock:
                    (latencies if ok else failures).append(dt if ok else (path, status))

            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(one, repos))
            wall = time.perf_counter() - t0
            after = cache_counts(base)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
        hits = sum(v for k, v in delta.items() if k != "computed" and k != "uncacheable")
        return {
            "workers": workers, "repos": n_repos, "ok": len(latencies), "failed": len(failures),
            "wall_s": wall, "per_minute": len(latencies) / wall * 60,
            "p50_ms": percentile(latencies, 50) * 1000 if latencies else None,
            "p99_ms": percentile(latencies, 99) * 1000 if latencies else None,
            "computed": delta.get("computed", 0), "cache_hits": hits,
            "failures": failures[:5],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=100)
    ap.add_argument("--workers", default="1,4,8", help="comma-separated client worker counts")
    ap.add_argument("--bin", help="autodeploy binary (default: build target/release/autodeploy)")
    ap.add_argument("--database-url", help="PostgreSQL URL for the service's store (default SQLite)")
    a = ap.parse_args()
    binary = a.bin or build_binary()
    print(f"{a.repos} analyses of {a.repos} different generated repositories via POST /v1/analyze; "
          f"{os.cpu_count()} cores; store: {'PostgreSQL' if a.database_url else 'SQLite'}")
    print(f"{'workers':>7} {'ok':>4} {'failed':>6} {'wall s':>7} {'per minute':>11} "
          f"{'vs prototype':>12} {'p50 ms':>7} {'p99 ms':>7} {'computed':>8} {'cache hits':>10}")
    bad = False
    for w in [int(x) for x in a.workers.split(",") if x]:
        r = run(binary, a.repos, w, a.database_url)
        p50 = f"{r['p50_ms']:7.1f}" if r["p50_ms"] is not None else f"{'—':>7}"
        p99 = f"{r['p99_ms']:7.1f}" if r["p99_ms"] is not None else f"{'—':>7}"
        print(f"{w:>7} {r['ok']:>4} {r['failed']:>6} {r['wall_s']:7.2f} {r['per_minute']:11,.0f} "
              f"{r['per_minute'] / PROTOTYPE_PER_MINUTE:11,.0f}x {p50} {p99} "
              f"{r['computed']:>8} {r['cache_hits']:>10}")
        if r["failed"] or r["cache_hits"] or r["computed"] != a.repos:
            bad = True
            print(f"  PROBLEM: failures {r['failures']}, cache hits {r['cache_hits']}, "
                  f"computed {r['computed']} of {a.repos}")
    print(f"prototype (Python): {PROTOTYPE_PER_MINUTE} analyses/minute")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
