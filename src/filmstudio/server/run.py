"""Serving the app with uvicorn; background workers (if any) start and stop around it."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Protocol

import uvicorn
from fastapi import FastAPI


class Background(Protocol):
    """Something that runs beside the API (the in-process render worker pool)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def serve(
    app: FastAPI,
    host: str,
    port: int,
    *,
    background: Background | None = None,
    sock: socket.socket | None = None,
    on_started: Callable[[uvicorn.Server], None] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (uvicorn owns them on the main thread) or `server.should_exit`."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            server_header=False, proxy_headers=False)
    server = uvicorn.Server(config)
    # Long answers (a job's event stream) end when the server is asked to stop, so shutdown never waits on them.
    app.state.stopping = lambda: server.should_exit
    if background is not None:
        background.start()
    try:
        if on_started is not None:
            on_started(server)
        server.run(sockets=[sock] if sock is not None else None)
    finally:
        if background is not None:
            background.stop()
