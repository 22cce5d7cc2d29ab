"""A tiny HTTP API for the quickstart: /health, and / which counts visits in SQLite."""
import http.server
import json
import os
import sqlite3
import sys

PORT = int(os.environ.get("PORT", "18080"))
DB = os.environ.get("DB_PATH", "../run/app.db")
VERSION = open(os.path.join(os.path.dirname(__file__), "VERSION")).read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body = b"ok\n"
        else:
            with sqlite3.connect(DB) as db:
                db.execute("insert into visits(version) values (?)", (VERSION,))
                count = db.execute("select count(*) from visits").fetchone()[0]
            body = (json.dumps({"version": VERSION, "visits": count}) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("api: " + fmt % args + "\n")


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
