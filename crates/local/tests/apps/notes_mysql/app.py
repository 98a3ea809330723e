"""Notes in MySQL, reached through separate host/port/user/password/name settings."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pymysql

PORT = int(os.environ.get("PORT", "8000"))


def connect():
    return pymysql.connect(
        host=os.environ["MYSQL_HOST"],
        port=int(os.environ.get("MYSQL_PORT", "3306")),
        user=os.environ["MYSQL_USER"],
        password=os.environ["MYSQL_PASSWORD"],
        database=os.environ["MYSQL_DATABASE"],
        autocommit=True,
    )


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT body FROM notes ORDER BY id")
            rows = cur.fetchall()
        self._send(200, {"notes": [r[0] for r in rows]})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        with connect() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO notes (body) VALUES (%s)", (body,))
        self._send(201, {"added": body})

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL)"
        )
    print(f"listening on :{PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
