"""Notes in PostgreSQL: GET /notes lists them, POST /notes adds one."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

DATABASE_URL = os.environ["DATABASE_URL"]
PORT = int(os.environ.get("PORT", "8000"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with psycopg.connect(DATABASE_URL) as conn:
            if self.path == "/health":
                conn.execute("SELECT 1")
                return self._send(200, {"status": "ok"})
            rows = conn.execute("SELECT body FROM notes ORDER BY id").fetchall()
        self._send(200, {"notes": [r[0] for r in rows]})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        with psycopg.connect(DATABASE_URL) as conn:
            conn.execute("INSERT INTO notes (body) VALUES (%s)", (body,))
        self._send(201, {"added": body})

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    print(f"listening on :{PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
