"""Engines that follow the model library: a model pulled or removed while the studio runs is used next time.

A pull installs a model by renaming its folder into `<home>/models/` and a removal renames it away,
in whichever process ran the job (the desktop's worker child, a `filmstudio worker`, the server's
own pool). Every process that holds engines holds a `LiveEngines` instead: before each use it
compares the library's state (`ModelLibrary.state()`, a stat per model) with the one its engines
were built from, and rebuilds them through the composition root when it differs. A render already
running keeps the engines it started with.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filmstudio.pipeline.context import CancelToken, ProgressFn
from filmstudio.pipeline.engines import ChatMessage, Completion, EngineInfo, Engines, TextStream, VoiceInfo
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.request import RenderRequest
from filmstudio.services.render import Renderer


class LiveEngines:
    """The studio's engines, rebuilt by `build` whenever the model library under `models_dir` changed."""

    def __init__(self, build: Callable[[], Engines], models_dir: Path) -> None:
        self._build = build
        self._library = ModelLibrary(models_dir)
        self._lock = threading.Lock()
        self._state = self._library.state()
        self._engines = build()
        self._voices: tuple[VoiceInfo, ...] | None = None
        self.rebuilds = 0  # how many times the library changed under us (tests and `doctor` read it)

    def current(self) -> Engines:
        """The engines for the library as it is now (rebuilt first if a model came or went)."""
        state = self._library.state()
        if state == self._state:
            return self._engines
        with self._lock:
            if state != self._state:
                self._engines = self._build()
                self._voices = None
                self._state = state
                self.rebuilds += 1
            return self._engines

    def voices(self) -> tuple[VoiceInfo, ...]:
        engines = self.current()
        with self._lock:
            if self._voices is None or engines is not self._engines:
                self._voices = tuple(engines.voices.voices())
            return self._voices


@dataclass(frozen=True)
class LiveRenderer:
    """A Renderer over the live engines: each render gets the renderer `make` builds on the engines of now."""

    engines: LiveEngines
    make: Callable[[Engines], Renderer]

    def __call__(self, request: RenderRequest, *, progress: ProgressFn | None = None,
                 cancel: CancelToken | None = None) -> dict[str, Any]:
        return self.make(self.engines.current())(request, progress=progress, cancel=cancel)


@dataclass(frozen=True)
class LiveWriter:
    """The screenplay writer of the live engines (a built-in writer model pulled a moment ago included)."""

    engines: LiveEngines

    def _writer(self) -> Any:
        from filmstudio.domain.errors import WriterUnavailable

        writer = self.engines.current().writer
        if writer is None:
            raise WriterUnavailable("no screenplay writer is set up in this studio")
        return writer

    def info(self) -> EngineInfo:
        info: EngineInfo = self._writer().info()
        return info

    def complete(self, messages: Sequence[ChatMessage], options: Completion, *, cancel: CancelToken,
                 stream: TextStream | None = None) -> str:
        text: str = self._writer().complete(messages, options, cancel=cancel, stream=stream)
        return text
