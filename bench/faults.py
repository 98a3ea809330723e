#!/usr/bin/env python3
"""Fault injection for autodeploy's service and CLI (issue 13, "How it is measured").

Scenarios, each on local-target deployments of tests/fixtures/python_stdlib_http_server:
  pg-restart   N jobs on 2 workers (PostgreSQL store); PostgreSQL is restarted while
               jobs are in flight.
  kill-worker  N jobs; one worker is SIGKILLed while it holds jobs, a new one starts.
  kill-api     N jobs; the API process is SIGKILLed and started again mid-run.
  kill-cli     a CLI deploy is SIGKILLed during its app start; `status` must say
               interrupted and `destroy` must clean it up.
  full-disk    a CLI home on a small tmpfs (needs root); the disk is filled;
               status/list/logs must work and destroy must free space.

Every scenario ends with: every deployment in a final state that is true (a healthy
app answers at its URL; a destroyed one has no process left), no deployment with
two releases running, no job run twice except reclaimed ones, no terraform or
supervisor process of a destroyed deployment left, nothing left in the temp folder.

Usage: bench/faults.py [--jobs N] [--only SCENARIO,...]
Needs: the autodeploy binary (AUTODEPLOY_BIN, else target/debug/autodeploy),
Debian's PostgreSQL tools (pg_createcluster: the service scenarios run on a
PostgreSQL cluster of their own, on a free port, so restarting it disturbs no
one else; it is dropped at the end), root (the cluster, the tmpfs). Prints one
line per scenario (jobs, faults, outcomes, time) and exits non-zero when a
check fails.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests/fixtures/python_stdlib_http_server")
FINAL = {"healthy", "applied", "unhealthy", "failed", "destroyed", "cancelled", "interrupted"}

procs = []
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"  FAIL: {what}", flush=True)
    return ok


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def binary():
    b = os.environ.get("AUTODEPLOY_BIN") or os.path.join(ROOT, "target/debug/autodeploy")
    if not os.path.exists(b):
        sys.exit(f"no autodeploy binary at {b}: cargo build -p autodeploy, or set AUTODEPLOY_BIN")
    return b


def spawn(args, log, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=open(log, "ab"), env=e)
    procs.append(p)
    return p


def http(method, url, token=None, body=None, timeout=10):
    req = urllib.request.Request(url, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = cond()
            if v:
                return v
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(0.2)
    check(False, f"timed out waiting for {what}")
    return None


class Cluster:
    """A throw-away PostgreSQL cluster (Debian's pg_createcluster) on a free port."""

    def __init__(self):
        self.version = sorted(os.listdir("/usr/lib/postgresql"))[-1]
        self.name = f"adfaults{os.getpid()}"
        self.port = free_port()
        subprocess.run(["pg_createcluster", self.version, self.name, "-p", str(self.port),
                        "--start", "--", "--auth-local=trust", "--auth-host=trust"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        wait_for(lambda: subprocess.run(["psql", "-qtA", self.url, "-c", "select 1"],
                                        capture_output=True).returncode == 0, 60, "PostgreSQL")

    def restart(self):
        subprocess.run(["pg_ctlcluster", self.version, self.name, "restart"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def drop(self):
        subprocess.run(["pg_dropcluster", self.version, self.name, "--stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def psql(admin, sql):
    subprocess.run(["psql", "-qtA", admin, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def supervisors():
    """deployment id → list of (release, spec) of running __supervise processes."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"__supervise" not in cmd:
            continue
        spec = cmd[-2].decode(errors="replace") if cmd[-1] == b"" else cmd[-1].decode(errors="replace")
        m = re.search(r"/deployments/([^/]+)/(releases/(\d+)|front)", spec)
        if m:
            out.setdefault(m.group(1), []).append((m.group(3) or "front", spec))
    return out


def processes_under(root):
    """Processes (other than the service's own) working in a folder under `root`:
    terraform, providers, builds left behind."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if cwd.startswith(root) and "__supervise" not in cmd:
                out.append(cmd.strip())
    return out


def check_apps(deps, what, explain=None):
    """Every deployment final; healthy ones answer; at most one release each.
    `explain(d)` prints why a failed one failed."""
    running = supervisors()
    outcomes = {}
    for d in deps:
        outcomes[d["status"]] = outcomes.get(d["status"], 0) + 1
        check(d["status"] in FINAL, f"{what}: {d['id']} ended {d['status']}")
        releases = {r for r, _ in running.get(d["id"], []) if r != "front"}
        check(len(releases) <= 1, f"{what}: {d['id']} runs releases {sorted(releases)}")
        specs = [s for _, s in running.get(d["id"], [])]
        check(len(specs) == len(set(specs)), f"{what}: {d['id']} has a duplicated supervisor")
        if d["status"] == "healthy" and d.get("url"):
            try:
                with urllib.request.urlopen(d["url"], timeout=10) as r:
                    check(r.status < 400, f"{what}: {d['id']} healthy but answers {r.status}")
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                check(False, f"{what}: {d['id']} healthy but does not answer ({e})")
        if d["status"] in ("failed", "destroyed", "cancelled"):
            check(not running.get(d["id"]), f"{what}: {d['id']} is {d['status']} but still has processes")
        if d["status"] == "failed" and explain is not None:
            explain(d)
    return outcomes


class Service:
    def __init__(self, work, url, binp):
        self.work, self.url, self.bin = work, url, binp
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = None
        self.workers = []
        self.token = None

    def start_api(self):
        token_file = os.path.join(self.work, "admin-token")
        self.api = spawn([self.bin, "serve", "--workers", "0", "--allow-local-sources",
                          "--listen", f"127.0.0.1:{self.port}", "--database-url", self.url,
                          "--home", os.path.join(self.work, "api-home"),
                          "--admin-token-file", token_file,
                          "--address-rate-limit", "100000", "--address-rate-burst", "100000",
                          "--rate-limit", "100000", "--rate-burst", "100000"],
                         os.path.join(self.work, "api.log"))
        wait_for(lambda: http("GET", self.base + "/readyz")[0] == 200, 60, "the API")
        if self.token is None:
            self.token = wait_for(lambda: open(token_file).read().strip(), 30, "the admin token")

    def start_worker(self):
        i = len(self.workers)
        w = spawn([self.bin, "worker", "--allow-local-target", "--concurrency", "4", "--lease", "6", "--heartbeat", "2",
                   "--database-url", self.url, "--home", os.path.join(self.work, "home")],
                  os.path.join(self.work, f"worker{i}.log"), {"AUTODEPLOY_HEALTH_TIMEOUT": "60"})
        self.workers.append(w)
        return w

    def submit(self, n, tag):
        ids = []
        for i in range(n):
            st, v = http("POST", self.base + "/v1/deployments", self.token,
                         {"repo": FIXTURE, "request": "run it on this machine",
                          "options": {"target": "local", "name": f"{tag}-{i}"}})
            check(st == 202, f"submit {tag}-{i}: {st} {v}")
            ids.append(v.get("id"))
        return ids

    def deployment(self, i):
        return http("GET", f"{self.base}/v1/deployments/{i}", self.token)[1]

    def wait_final(self, ids, timeout=900):
        def done():
            ds = [self.deployment(i) for i in ids]
            return ds if all(d.get("status") in FINAL for d in ds) else None
        return wait_for(done, timeout, "every deployment final") or [self.deployment(i) for i in ids]

    def explain(self, d):
        """A failed deployment's error and the last lines of its log, for the record."""
        print(f"  {d['id']} failed: {json.dumps(d.get('error'))} (phase {d.get('phase')})", flush=True)
        # The log stream ends by itself once the deployment is final.
        req = urllib.request.Request(f"{self.base}/v1/deployments/{d['id']}/logs")
        req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body = r.read().decode(errors="replace")
        except OSError as e:
            print(f"   (no log: {e})", flush=True)
            return
        lines = [l[5:].strip() for l in body.splitlines() if l.startswith("data:")]
        for l in lines[-30:]:
            print("   |", l[:300], flush=True)

    def destroy_all(self, ids):
        for i in ids:
            http("POST", f"{self.base}/v1/deployments/{i}/destroy", self.token)
        return self.wait_final(ids, 600)


def jobs_of(admin_url, ids):
    out = subprocess.run(["psql", "-qtA", admin_url, "-c",
                          "SELECT deployment_id, attempt, status FROM jobs WHERE kind='deploy'"],
                         check=True, capture_output=True, text=True).stdout
    rows = [l.split("|") for l in out.splitlines() if l.strip()]
    return [r for r in rows if r[0] in ids]


def scenario_service(name, svc, url, n, fault):
    t0 = time.time()
    ids = svc.submit(n, name)
    # Fault once some jobs run.
    wait_for(lambda: sum(1 for i in ids if svc.deployment(i).get("status") == "running") >= 2,
             120, f"{name}: jobs in flight")
    faults = fault()
    deps = svc.wait_final(ids)
    outcomes = check_apps(deps, name, svc.explain)
    rows = jobs_of(url, set(ids))
    retried = sum(1 for r in rows if int(r[1]) > 1)
    check(len(rows) == len(ids), f"{name}: one deploy job per deployment ({len(rows)})")
    check(outcomes.get("healthy", 0) == n, f"{name}: all {n} healthy, got {outcomes}")
    gone = svc.destroy_all(ids)
    check(all(d["status"] == "destroyed" for d in gone), f"{name}: destroy of all")
    check_apps(gone, name + " (destroyed)")
    store_errors = 0
    for f in os.listdir(svc.work):
        if f.startswith(("worker", "api")) and f.endswith(".log"):
            text = open(os.path.join(svc.work, f), errors="replace").read()
            store_errors += len(re.findall(r"failed; retrying|could not store log lines|heartbeat failed", text))
    print(f"{name}: {n} jobs, {faults}, outcomes {outcomes}, {retried} job(s) run again, "
          f"{store_errors} store errors retried (cumulative), {time.time() - t0:.0f} s", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--only", default="pg-restart,kill-worker,kill-api,kill-cli,full-disk")
    a = ap.parse_args()
    only = set(a.only.split(","))
    binp = binary()
    tmp_before = set(os.listdir(tempfile.gettempdir()))
    work = tempfile.mkdtemp(prefix="autodeploy-faults-")
    # Deployments run as accounts of their own (as root): they must be able
    # to pass through the work folder to reach their own.
    os.chmod(work, 0o711)
    cluster = None
    try:
        if only & {"pg-restart", "kill-worker", "kill-api"}:
            cluster = Cluster()
            url = cluster.url
            svc = Service(work, url, binp)
            svc.start_api()
            svc.start_worker()
            svc.start_worker()
            if "pg-restart" in only:
                def restart():
                    cluster.restart()
                    return "1 PostgreSQL restart"
                scenario_service("pg-restart", svc, url, a.jobs, restart)
            if "kill-worker" in only:
                def kill_worker():
                    victim = svc.workers[0]
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    svc.workers.pop(0)
                    svc.start_worker()
                    return "1 worker SIGKILLed"
                scenario_service("kill-worker", svc, url, a.jobs, kill_worker)
            if "kill-api" in only:
                def kill_api():
                    svc.api.send_signal(signal.SIGKILL)
                    svc.api.wait()
                    svc.start_api()
                    return "the API SIGKILLed and restarted"
                scenario_service("kill-api", svc, url, a.jobs, kill_api)
        if "kill-cli" in only:
            home = os.path.join(work, "cli-home")
            t0 = time.time()
            log = os.path.join(work, "cli.log")
            p = spawn([binp, "deploy", FIXTURE, "run it locally", "--yes", "--home", home], log)
            wait_for(lambda: "app start" in open(log).read(), 120, "kill-cli: app start")
            p.send_signal(signal.SIGKILL)
            p.wait()
            out = subprocess.run([binp, "list", "--json", "--home", home], capture_output=True, text=True)
            deps = json.loads(out.stdout or "[]")
            check(len(deps) == 1 and deps[0]["status"] == "interrupted",
                  f"kill-cli: status after SIGKILL {[d['status'] for d in deps]}")
            dep_id = deps[0]["id"] if deps else ""
            r = subprocess.run([binp, "destroy", dep_id, "--yes", "--home", home], capture_output=True, text=True)
            check(r.returncode == 0, f"kill-cli: destroy exited {r.returncode}: {r.stderr[-500:]}")
            out = subprocess.run([binp, "status", dep_id, "--json", "--home", home], capture_output=True, text=True)
            st = json.loads(out.stdout or "{}").get("status")
            check(st == "destroyed", f"kill-cli: after destroy {st}")
            check(dep_id not in supervisors(), "kill-cli: processes left after destroy")
            print(f"kill-cli: 1 deploy SIGKILLed in app start → interrupted → destroy → {st}, "
                  f"{time.time() - t0:.0f} s", flush=True)
        if "full-disk" in only:
            t0 = time.time()
            mnt = os.path.join(work, "small")
            os.makedirs(mnt)
            if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64M", "tmpfs", mnt]).returncode != 0:
                check(False, "full-disk: could not mount a tmpfs (needs root)")
            else:
                try:
                    home = os.path.join(mnt, "home")
                    # A 64 MB disk: the deploy's own free-space floor lowered for it.
                    r = subprocess.run([binp, "deploy", FIXTURE, "run it locally", "--yes", "--home", home, "--json"],
                                       capture_output=True, text=True,
                                       env=dict(os.environ, AUTODEPLOY_MIN_FREE_MB="16"))
                    dep = json.loads(r.stdout or "{}")
                    check(dep.get("status") == "healthy", f"full-disk: deploy {dep.get('status')} {r.stderr[-300:]}")
                    try:
                        with open(os.path.join(mnt, "fill"), "wb") as f:
                            while True:
                                f.write(b"\0" * 65536)
                    except OSError:
                        pass
                    ok = {}
                    for cmd in (["status", dep.get("id", "")], ["list"], ["logs", dep.get("id", "")]):
                        r = subprocess.run([binp, *cmd, "--home", home], capture_output=True, text=True)
                        ok[cmd[0]] = r.returncode == 0
                        check(r.returncode == 0, f"full-disk: {cmd[0]} failed on a full disk: {r.stderr[-300:]}")
                    r = subprocess.run([binp, "destroy", dep.get("id", ""), "--yes", "--home", home],
                                       capture_output=True, text=True)
                    check(r.returncode == 0, f"full-disk: destroy failed: {r.stderr[-300:]}")
                    os.remove(os.path.join(mnt, "fill"))
                    r = subprocess.run([binp, "status", dep.get("id", ""), "--json", "--home", home],
                                       capture_output=True, text=True)
                    st = json.loads(r.stdout or "{}").get("status")
                    check(st == "destroyed", f"full-disk: the store says {st} after destroy")
                    print(f"full-disk: read-only commands {ok}, destroy → {st}, {time.time() - t0:.0f} s", flush=True)
                finally:
                    subprocess.run(["umount", "-l", mnt])
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        left = processes_under(work)
        check(not left, f"processes left: {left}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        if cluster:
            cluster.drop()
        if failures:
            print(f"logs kept in {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    left = sorted(n for n in set(os.listdir(tempfile.gettempdir())) - tmp_before
                  if n.startswith("autodeploy") and n != os.path.basename(work))
    check(not left, f"left in the temp folder: {left}")
    print(f"{len(failures)} failed checks" if failures else "all checks passed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
