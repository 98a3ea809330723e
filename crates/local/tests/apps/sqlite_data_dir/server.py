"""Keeps its visits in data/visits.sqlite3, a folder git does not keep (the
project's Dockerfile would `mkdir data`): it must exist before the app opens
its database at import."""
import os
import sqlite3
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
PORT = int(os.environ.get("PORT", "8000"))
DB = sqlite3.connect(os.path.join(BASE_DIR, "data", "visits.sqlite3"), check_same_thread=False)
DB.execute("CREATE TABLE IF NOT EXISTS visits (n INTEGER)")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        DB.execute("INSERT INTO visits VALUES (1)")
        DB.commit()
        (count,) = DB.execute("SELECT COUNT(*) FROM visits").fetchone()
        body = f"visits: {count}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
