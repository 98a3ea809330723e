"""Reports what the app can see of the machine: its uid, its cgroups, and
whether it can read the paths named in PROBE_PATHS (':'-separated)."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "8000"))


def readable(path):
    try:
        with open(path, "rb") as f:
            f.read(1)
        return True
    except OSError:
        return False


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        paths = [p for p in os.environ.get("PROBE_PATHS", "").split(":") if p]
        with open("/proc/self/cgroup") as f:
            cgroups = f.read()
        body = json.dumps(
            {
                "uid": os.getuid(),
                "readable": {p: readable(p) for p in paths},
                "cgroups": cgroups,
                "home": os.environ.get("HOME"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), PORT), Handler).serve_forever()
