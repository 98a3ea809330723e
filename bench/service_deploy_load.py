#!/usr/bin/env python3
"""Load bench (issue #16, point 5b): 10 and then 100 deployments submitted at
once through the service on PostgreSQL, executed by worker processes; reports
deployments/hour and how many were lost (not healthy, or whose job did not
run exactly once), beside the Python prototype's 6 of 10 lost to Terraform
state-lock errors.

Usage: bench/service_deploy_load.py [--rounds 10,100] [--workers 2]
                                    [--concurrency 4] [--bin PATH]
                                    [--admin-url URL]

The deployments use the local target ("run it on this machine"): a
standard-library Python HTTP server (tests/fixtures/python_stdlib_http_server)
copied, started under its own account, health-checked; no cloud is needed,
and the service path is the whole real one — API → PostgreSQL job queue
(claims, leases, heartbeats) → worker → execute → store. After each round
every deployment is destroyed through the API and must reach `destroyed`.

PostgreSQL: --admin-url, else $BENCH_DATABASE_URL, else
$AUTODEPLOY_TEST_DATABASE_URL (`eval "$(scripts/services.sh start)"` sets it).
A database `adbench_load_<pid>` is created there and dropped at the end;
no other database is touched. Only 127.0.0.1 is contacted.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINAL = {"healthy", "unhealthy", "failed", "interrupted", "destroyed", "cancelled"}


def build_binary() -> str:
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "autodeploy"], cwd=ROOT, check=True)
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=ROOT, check=True, capture_output=True).stdout
    return os.path.join(json.loads(meta)["target_directory"], "release", "autodeploy")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(method, url, token, body=None, headers=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def psql(admin_url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", admin_url, "-c", sql],
                   check=True, stdout=subprocess.DEVNULL)


def wait_until(base, token, ids, accept, deadline_s):
    """Poll until `accept(deployment)` holds for every id; returns {id: deployment}."""
    deadline = time.time() + deadline_s
    done = {}
    while time.time() < deadline:
        for i in [i for i in ids if i not in done]:
            status, d = call("GET", f"{base}/v1/deployments/{i}", token)
            if status == 200 and accept(d):
                done[i] = d
        if len(done) == len(ids):
            break
        time.sleep(0.25)
    return done


def jobs_per_deployment(url, ids):
    """(deployment id → [(kind, status, attempt)]) straight from the job table."""
    q = ("SELECT deployment_id, kind, status, attempt FROM jobs WHERE deployment_id IN (%s)"
         % ",".join("'%s'" % i for i in ids))
    out = subprocess.run(["psql", "-At", "-F", "\t", url, "-c", q], capture_output=True,
                         text=True)
    if out.returncode != 0:
        return None
    jobs = {}
    for line in out.stdout.splitlines():
        dep, kind, status, attempt = line.split("\t")
        jobs.setdefault(dep, []).append((kind, status, int(attempt)))
    return jobs


def round_(base, token, db_url, fixture, n, tag):
    def submit(i):
        return call("POST", f"{base}/v1/deployments", token,
                    {"repo": fixture, "request": "run it on this machine",
                     "options": {"target": "local", "name": f"load-{tag}-{i}"}},
                    headers={"Idempotency-Key": f"load-{tag}-{i}"})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(n, 100)) as pool:
        answers = list(pool.map(submit, range(n)))
    submitted = time.perf_counter() - t0
    ids = [d["id"] for s, d in answers if s == 202]
    refused = [(s, d) for s, d in answers if s != 202]
    final = wait_until(base, token, ids, lambda d: d["status"] in FINAL, 1800)
    all_final = time.perf_counter() - t0
    healthy = [i for i, d in final.items() if d["status"] == "healthy"]
    jobs = jobs_per_deployment(db_url, ids)
    once = None
    if jobs is not None:
        once = sum(1 for i in ids
                   if [(k, s) for k, s, _ in jobs.get(i, [])] == [("deploy", "done")])
    errors = {}
    for i, d in final.items():
        if d["status"] != "healthy":
            key = (d.get("error") or d["status"])[:120]
            errors[key] = errors.get(key, 0) + 1
    # Tear down: destroy every deployment through the API.
    for i in ids:
        call("POST", f"{base}/v1/deployments/{i}/destroy", token)
    gone = wait_until(base, token, ids,
                      lambda d: d["status"] in FINAL and d["status"] != "healthy", 900)
    destroyed = sum(1 for d in gone.values() if d["status"] == "destroyed")
    return {
        "n": n, "accepted": len(ids), "refused": len(refused), "submitted_s": submitted,
        "all_final_s": all_final, "healthy": len(healthy), "lost": n - len(healthy),
        "once": once, "per_hour": len(healthy) / all_final * 3600, "errors": errors,
        "destroyed": destroyed,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", default="10,100", help="deployments submitted at once, per round")
    ap.add_argument("--workers", type=int, default=2, help="`autodeploy worker` processes")
    ap.add_argument("--concurrency", type=int, default=4, help="jobs per worker process")
    ap.add_argument("--bin", help="autodeploy binary (default: build target/release/autodeploy)")
    ap.add_argument("--admin-url", help="PostgreSQL URL to create the bench database from")
    a = ap.parse_args()
    admin = (a.admin_url or os.environ.get("BENCH_DATABASE_URL")
             or os.environ.get("AUTODEPLOY_TEST_DATABASE_URL"))
    if not admin:
        print("needs PostgreSQL: pass --admin-url or set BENCH_DATABASE_URL / "
              "AUTODEPLOY_TEST_DATABASE_URL (eval \"$(scripts/services.sh start)\")", file=sys.stderr)
        return 2
    binary = a.bin or build_binary()
    fixture = os.path.join(ROOT, "tests", "fixtures", "python_stdlib_http_server")
    db = f"adbench_load_{os.getpid()}"
    u = urllib.parse.urlsplit(admin)
    db_url = urllib.parse.urlunsplit(u._replace(path="/" + db))
    work = tempfile.mkdtemp(prefix="ad-load-")
    os.chmod(work, 0o711)  # the deployments' own accounts pass through (run as root)
    procs = []
    psql(admin, f"CREATE DATABASE {db}")
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        api_log = open(os.path.join(work, "api.log"), "w+")
        procs.append(subprocess.Popen(
            [binary, "serve", "--workers", "0", "--allow-local-sources",
             "--listen", f"127.0.0.1:{port}", "--rate-limit", "100000", "--rate-burst", "100000",
             "--database-url", db_url, "--home", os.path.join(work, "api-home")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=api_log))
        token = None
        deadline = time.time() + 60
        while time.time() < deadline and token is None:
            api_log.seek(0)
            m = re.search(r"adt_[A-Za-z0-9]{32}", api_log.read())
            if m:
                try:
                    urllib.request.urlopen(f"{base}/readyz", timeout=2)
                    token = m.group(0)
                except OSError:
                    pass
            if procs[0].poll() is not None:
                break
            time.sleep(0.1)
        if token is None:
            api_log.seek(0)
            print("serve did not come up:\n" + api_log.read()[-2000:], file=sys.stderr)
            return 1
        for w in range(a.workers):
            log = open(os.path.join(work, f"worker{w}.log"), "w")
            procs.append(subprocess.Popen(
                [binary, "worker", "--concurrency", str(a.concurrency), "--allow-local-target",
                 "--database-url", db_url, "--home", os.path.join(work, "workers-home")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                env={**os.environ, "AUTODEPLOY_HEALTH_TIMEOUT": "120"}))
        print(f"PostgreSQL store; 1 API + {a.workers} worker processes x {a.concurrency} jobs; "
              f"local target, {os.path.relpath(fixture, ROOT)}; {os.cpu_count()} cores")
        print(f"{'at once':>7} {'accepted':>8} {'healthy':>7} {'lost':>4} {'ran once':>8} "
              f"{'submit s':>8} {'all done s':>10} {'deploys/hour':>12} {'destroyed':>9}")
        bad = False
        for n in [int(x) for x in a.rounds.split(",") if x]:
            r = round_(base, token, db_url, fixture, n, f"{n}")
            once = "?" if r["once"] is None else r["once"]
            print(f"{n:>7} {r['accepted']:>8} {r['healthy']:>7} {r['lost']:>4} {once:>8} "
                  f"{r['submitted_s']:8.2f} {r['all_final_s']:10.1f} {r['per_hour']:12,.0f} "
                  f"{r['destroyed']:>9}")
            if r["lost"] or r["errors"]:
                bad = True
                for e, c in r["errors"].items():
                    print(f"  {c} x {e}")
        print("prototype (Python): 6 of 10 concurrent deployments lost (Terraform state lock)")
        return 1 if bad else 0
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        try:
            psql(admin, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        except subprocess.CalledProcessError:
            print(f"could not drop database {db}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
