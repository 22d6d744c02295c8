"""A stand-in for an OpenAI-compatible local server (Ollama, LM Studio, llama-server) on loopback.

Speaks the wire protocol the real `openai` client uses: `GET /v1/models`, `POST /v1/chat/completions`
with `stream: true` as server-sent events over chunked transfer, errors as `{"error": {...}}`.
Each request takes the next scripted `Reply`: an answer (sent in pieces), an HTTP error, a stall
(no bytes for a while mid-stream), or a drop (the connection cut mid-chunk).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    error: str = ""
    stall_after: int | None = None  # pieces sent before the stall
    stall_seconds: float = 0.0
    drop_after: int | None = None  # pieces sent before the connection is cut
    piece: int = 12  # characters per streamed piece
    finish: bool = True  # send finish_reason "stop" at the end


@dataclass
class FakeWriterServer:
    replies: list[Reply] = field(default_factory=list)
    models: list[str] = field(default_factory=lambda: ["tiny-writer:latest"])
    requests: list[dict[str, Any]] = field(default_factory=list)
    models_status: int = 200
    url: str = ""

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if self.replies else Reply(text="")


def _handler(fake: FakeWriterServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                if fake.models_status != 200:
                    self._json(fake.models_status, {"error": {"message": "models unavailable", "type": "server_error"}})
                    return
                self._json(200, {"object": "list", "data": [
                    {"id": m, "object": "model", "created": 0, "owned_by": "local"} for m in fake.models]})
                return
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            fake.requests.append(body)
            reply = fake.next_reply()
            if reply.status != 200:
                self._json(reply.status, {"error": {"message": reply.error or "refused", "type": "invalid_request_error"}})
                return
            if body.get("model") not in fake.models:
                self._json(404, {"error": {"message": f"model '{body.get('model')}' not found", "type": "not_found"}})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pieces = [reply.text[i:i + reply.piece] for i in range(0, len(reply.text), reply.piece)]
            for n, piece in enumerate(pieces):
                if reply.drop_after is not None and n == reply.drop_after:
                    self.wfile.write(b"40\r\ndata: {\"cut")  # a chunk promised and never finished
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.stall_after is not None and n == reply.stall_after:
                    time.sleep(reply.stall_seconds)
                self._event({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]},
                            body.get("model"))
            if reply.finish:
                self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, body.get("model"))
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")

        def _event(self, payload: dict[str, Any], model: Any) -> None:
            event = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model, **payload}
            self._chunk(b"data: " + json.dumps(event).encode() + b"\n\n")

        def _chunk(self, data: bytes) -> None:
            try:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@contextmanager
def fake_writer_server(replies: list[Reply] | None = None, **kwargs: Any) -> Iterator[FakeWriterServer]:
    fake = FakeWriterServer(replies=list(replies or []), **kwargs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def refused_url() -> str:
    """A loopback address where nothing listens."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1"
