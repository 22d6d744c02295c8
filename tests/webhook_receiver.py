"""A loopback webhook endpoint for tests and bench/chaos.py: answers from a script, records everything."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """POSTs to `url` answer from `answers` (then `default`), and are recorded in `got` (path, headers, body)."""

    def __init__(self, answers: list[int] | None = None, *, default: int = 200, hang_first: float = 0.0) -> None:
        self.answers = list(answers or [])
        self.default = default
        self.hang_first = hang_first
        self.got: list[dict[str, Any]] = []
        self.first_seen = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                with outer.lock:
                    first = not outer.got
                    outer.got.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body})
                    code = outer.answers.pop(0) if outer.answers else outer.default
                outer.first_seen.set()
                if first and outer.hang_first:
                    time.sleep(outer.hang_first)
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def ids(self) -> list[str]:
        """The `webhook-id` of every request, in arrival order."""
        with self.lock:
            return [r["headers"].get("webhook-id", "") for r in self.got]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
