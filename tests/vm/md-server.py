#!/usr/bin/env python3
"""EC2-style instance metadata service for the VM suite, on 127.0.0.1 inside the scenario's own
network namespace (the guest reaches it as 169.254.169.254 through md-relay.py).

    md-server.py PORT DIR LOG [--imds v1|v2|v2-only]

Serves the files under DIR by URL path. A directory answers with its file _index if it has one
(EC2's public-keys/ lists "0=name"), else with its entries, one per line, subdirectories with a
trailing '/', as EC2 does. IMDSv2: `PUT /latest/api/token` with
X-aws-ec2-metadata-token-ttl-seconds returns a token; with --imds v2-only every GET without
that token is answered 401. --imds v1 answers the PUT with 403 (IMDSv1 only). Each request is
logged to LOG as one JSON line: method, path, status, and whether it carried the token.
"""
import http.server
import json
import os
import secrets
import sys

port, root, log_path = int(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
mode = "v2"
if "--imds" in sys.argv:
    mode = sys.argv[sys.argv.index("--imds") + 1]
TOKEN = "e2e-" + secrets.token_hex(16)
log = open(log_path, "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2e-imds"

    def log_message(self, *args):  # the JSON log below replaces the default stderr lines
        pass

    def reply(self, status, body=b"", ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        token = self.headers.get("X-aws-ec2-metadata-token")
        log.write(json.dumps({
            "method": self.command, "path": self.path, "status": status,
            "token": "valid" if token == TOKEN else ("invalid" if token else "none"),
            "ttl": self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"),
        }) + "\n")

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path != "/latest/api/token":
            return self.reply(405)
        if mode == "v1":
            return self.reply(403)
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400, b"missing X-aws-ec2-metadata-token-ttl-seconds")
        self.reply(200, TOKEN.encode())

    def do_GET(self):
        if mode == "v2-only" and self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.reply(401)
        rel = os.path.normpath(self.path.split("?", 1)[0].lstrip("/"))
        path = os.path.join(root, rel) if rel != "." else root
        if not path.startswith(root):
            return self.reply(404)
        if os.path.isdir(path) and os.path.isfile(os.path.join(path, "_index")):
            path = os.path.join(path, "_index")
        elif os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if n != "_index")
            listing = "\n".join(n + "/" if os.path.isdir(os.path.join(path, n)) else n
                                for n in names)
            return self.reply(200, listing.encode())
        if os.path.isfile(path):
            with open(path, "rb") as f:
                return self.reply(200, f.read())
        self.reply(404)

    do_HEAD = do_GET


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
