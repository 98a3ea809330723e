"""Says which Python runs it and which version of its one dependency it
imports: proof of the interpreter and the venv the deployment chose."""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

import six


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(
            {
                "python": "%d.%d.%d" % sys.version_info[:3],
                "prefix": sys.prefix,
                "six": six.__version__,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
