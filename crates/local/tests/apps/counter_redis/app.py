"""A hit counter in Redis: every GET /count adds one."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis

PORT = int(os.environ.get("PORT", "8000"))
store = redis.Redis.from_url(os.environ["REDIS_URL"])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        n = store.incr("hits") if self.path == "/count" else int(store.get("hits") or 0)
        data = json.dumps({"hits": n}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    store.ping()
    print(f"listening on :{PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
