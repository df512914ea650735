"""A small Nominatim-compatible HTTP server on loopback, for geocoding tests.

``answers`` maps a street (or a postal code, for postal-code queries) to one of:
("ok", lat, lon) · ("empty",) · ("slow", seconds) · ("error", status).
Unknown queries answer an empty list. Every request is recorded with its headers.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class NominatimStub:
    def __init__(self):
        self.answers: dict[str, tuple] = {}
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                stub.requests.append(
                    {"path": url.path, "params": params, "headers": dict(self.headers), "at": time.monotonic()}
                )
                key = params.get("street") or params.get("postalcode", "")
                answer = stub.answers.get(key, ("empty",))
                if answer[0] == "slow":
                    time.sleep(answer[1])
                    body = []
                elif answer[0] == "error":
                    self.send_response(answer[1])
                    self.end_headers()
                    return
                elif answer[0] == "ok":
                    body = [{"lat": str(answer[1]), "lon": str(answer[2]), "display_name": key, "place_id": 1}]
                else:
                    body = []
                data = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        try:
            self.server.shutdown()
            self.thread.join(timeout=10)
        finally:
            self.server.server_close()
