"""The `Writer` engine on any OpenAI-compatible local server: Ollama, LM Studio, llama.cpp's
`llama-server`, vLLM.

Uses the official `openai` client with `base_url`. The URL is the studio's setting (default
Ollama's `http://127.0.0.1:11434/v1`): a loopback address, or one the user set explicitly — the
studio never looks for servers elsewhere. With no model named, the server's `/models` is asked and
its first model used. A stream that stalls longer than `stall_seconds` between two pieces is a
timeout; nothing is retried on its own (a retried stream would write the text twice).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from filmstudio.domain.errors import Cancelled, FilmStudioError, WriterFailed, WriterUnavailable
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import ChatMessage, Completion, EngineInfo, TextStream

DEFAULT_URL = "http://127.0.0.1:11434/v1"
HOW_TO_START = ("start a local language model server — Ollama: `ollama serve` then `ollama pull qwen2.5:1.5b` "
                "(or LM Studio's server, or llama.cpp's `llama-server -m MODEL.gguf`) — and set its address with "
                "FILMSTUDIO_WRITER_URL; or pull the built-in writer: `filmstudio models pull qwen2.5-1.5b-instruct`")


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServerWriter:
    """Chat completions, streamed, from an OpenAI-compatible server at `base_url`."""

    def __init__(self, base_url: str = DEFAULT_URL, *, model: str | None = None, api_key: str | None = None,
                 explicit: bool = False, stall_seconds: float = 60.0) -> None:
        if not explicit and not is_loopback(base_url):
            raise WriterUnavailable(f"the writer's address {base_url} is not on this machine; set it explicitly "
                                    "(FILMSTUDIO_WRITER_URL or the studio's settings) to use it",
                                    code="WRITER_UNAVAILABLE")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.stall_seconds = stall_seconds
        self._client: Any = None

    def info(self) -> EngineInfo:
        missing: tuple[str, ...] = ()
        version = ""
        try:
            import openai

            version = openai.__version__
        except ImportError:
            missing = ("the writer's server client is missing: pip install openai",)
        return EngineInfo(kind="writer", name=f"OpenAI-compatible server at {self.base_url}", version=version,
                          device="server", ok=not missing, missing=missing,
                          details={"url": self.base_url, "model": self.model or "(the server's first)"})

    def client(self) -> Any:
        if self._client is None:
            import openai

            # The timeout bounds every wait for bytes, so a stall mid-stream is a timeout too.
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "not-needed",
                                         max_retries=0, timeout=self.stall_seconds)
        return self._client

    def models(self) -> list[str]:
        """The models the server offers (`GET /models`)."""
        import openai

        try:
            return [m.id for m in self.client().models.list()]
        except openai.APIConnectionError as exc:
            raise WriterUnavailable(f"no language model server answers at {self.base_url}: {HOW_TO_START}",
                                    details={"url": self.base_url}) from exc
        except openai.APIStatusError as exc:
            raise WriterUnavailable(f"the server at {self.base_url} refused to list its models "
                                    f"({exc.status_code}): {HOW_TO_START}",
                                    details={"url": self.base_url, "status": exc.status_code}) from exc

    def _model(self) -> str:
        if self.model:
            return self.model
        found = self.models()
        if not found:
            raise WriterUnavailable(f"the server at {self.base_url} has no model loaded: pull one "
                                    "(Ollama: `ollama pull qwen2.5:1.5b`)", details={"url": self.base_url})
        return found[0]

    def complete(self, messages: Sequence[ChatMessage], options: Completion, *, cancel: CancelToken,
                 stream: TextStream | None = None) -> str:
        import openai

        model = self._model()
        cancel.raise_if_cancelled()
        parts: list[str] = []
        finished = False
        where = {"url": self.base_url, "model": model}
        try:
            answer = self.client().chat.completions.create(
                model=model, messages=[{"role": m.role, "content": m.content} for m in messages], stream=True,
                temperature=options.temperature, seed=options.seed, max_tokens=options.max_tokens)
            try:
                for chunk in answer:
                    if cancel.cancelled:
                        raise Cancelled("the writing was cancelled", code="JOB_CANCELLED")
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    if choice.delta is not None and choice.delta.content:
                        parts.append(choice.delta.content)
                        if stream is not None:
                            stream(choice.delta.content)
                    finished = finished or choice.finish_reason is not None
            finally:
                answer.close()
        except openai.APITimeoutError as exc:
            raise WriterFailed(f"the server at {self.base_url} stopped answering (nothing for "
                               f"{self.stall_seconds:g} s)", code="WRITER_TIMEOUT", http_status=504,
                               details={**where, "received_characters": len("".join(parts))}) from exc
        except openai.APIConnectionError as exc:
            if not parts:
                raise WriterUnavailable(f"no language model server answers at {self.base_url}: {HOW_TO_START}",
                                        details=where) from exc
            raise WriterFailed(f"the server at {self.base_url} broke off while writing", code="WRITER_INTERRUPTED",
                               details={**where, "received_characters": len("".join(parts))}) from exc
        except openai.APIStatusError as exc:
            if exc.status_code == 404:
                raise WriterUnavailable(f"the server at {self.base_url} has no model {model!r} "
                                        f"({_message(exc)}): {HOW_TO_START}", details=where) from exc
            raise WriterFailed(f"the server at {self.base_url} refused the request ({exc.status_code}): "
                               f"{_message(exc)}", details={**where, "status": exc.status_code}) from exc
        except openai.APIError as exc:  # a malformed stream
            raise WriterFailed(f"the server at {self.base_url} sent a broken answer: {exc}",
                               code="WRITER_INTERRUPTED", details=where) from exc
        except FilmStudioError:
            raise
        except Exception as exc:  # the HTTP layer's own errors, raised while the stream is read
            if "timeout" in type(exc).__name__.lower():
                raise WriterFailed(f"the server at {self.base_url} stopped answering (nothing for "
                                   f"{self.stall_seconds:g} s)", code="WRITER_TIMEOUT", http_status=504,
                                   details={**where, "received_characters": len("".join(parts))}) from exc
            raise WriterFailed(f"the server at {self.base_url} broke off while writing ({type(exc).__name__})",
                               code="WRITER_INTERRUPTED",
                               details={**where, "received_characters": len("".join(parts))}) from exc
        if not finished:
            raise WriterFailed(f"the server at {self.base_url} ended its answer without finishing it",
                               code="WRITER_INTERRUPTED", details={**where, "received_characters": len("".join(parts))})
        return "".join(parts)


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(exc, "message", exc))
