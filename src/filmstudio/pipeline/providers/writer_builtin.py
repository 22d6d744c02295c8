"""The built-in `Writer`: a catalogue instruct model run by transformers (the `ai` extra).

The model is one the user pulled through the model manager (`filmstudio models pull
qwen2.5-1.5b-instruct`): loaded on first use from its folder (`local_files_only`: nothing is ever
downloaded here), kept loaded between calls and freed after `idle_seconds` without one, like the
pictures engine. Device and dtype from hardware detection: CUDA in bfloat16/float16, Apple MPS in
float16, else the CPU in float32. Tokens stream through transformers' `TextIteratorStreamer` from a
generation thread; a cancel stops the generation at the next token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import Cancelled, EngineMissing, WriterFailed
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import ChatMessage, Completion, EngineInfo, TextStream
from filmstudio.pipeline.providers.resident import Resident

AI_EXTRA = "the built-in writer needs the `ai` extra: pip install 'filmstudio[ai]' (install torch for your device first)"


class BuiltinWriter:
    """A causal language model in the model manager's folder, answering chat turns."""

    def __init__(self, folder: Path, *, model_id: str, revision: str = "", idle_seconds: float = 300.0,
                 device: str | None = None, loader: Callable[[Path], tuple[Any, Any]] | None = None) -> None:
        self.folder = folder
        self.model_id = model_id
        self.revision = revision
        self._device = device
        self._loader = loader
        self._model: Resident[tuple[Any, Any]] = Resident(self._load, idle_seconds)

    def info(self) -> EngineInfo:
        missing: tuple[str, ...] = ()
        version = ""
        try:
            import transformers

            version = transformers.__version__
        except ImportError:
            missing = (AI_EXTRA,)
        return EngineInfo(kind="writer", name=f"transformers {self.model_id}", version=version,
                          device=self.device(), ok=not missing and self.folder.is_dir(), missing=missing,
                          details={"model": self.model_id, "revision": self.revision, "loaded": self.loaded})

    @property
    def idle_seconds(self) -> float:
        return self._model.idle_seconds

    @property
    def loaded(self) -> bool:
        return self._model.loaded

    def device(self) -> str:
        if self._device is None:
            from filmstudio.pipeline.providers.pictures import _pick_device

            self._device = _pick_device()[0]
        return self._device

    # -- loading and freeing -------------------------------------------------------------------------

    def model(self) -> tuple[Any, Any]:
        """(tokenizer, model), loaded on first use and kept until idle."""
        return self._model.get()

    def _load(self) -> tuple[Any, Any]:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise EngineMissing(AI_EXTRA, code="AI_EXTRA_MISSING") from exc
        if self._loader is not None:
            return self._loader(self.folder)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress is the streamed text
        device = self.device()
        dtype = {"cuda": torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported()
                 else torch.float16, "mps": torch.float16}.get(device, torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(self.folder), local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(str(self.folder), local_files_only=True, dtype=dtype)
        model.to(device)  # type: ignore[arg-type]  # transformers' stubs want a model here, not a device name
        model.eval()
        return tokenizer, model

    def free(self) -> None:
        self._model.free()

    # -- writing -------------------------------------------------------------------------------------

    def prompt_ids(self, tokenizer: Any, messages: Sequence[ChatMessage]) -> Any:
        """The conversation as input ids: the model's own chat template, else plain role-tagged turns."""
        turns = [{"role": m.role, "content": m.content} for m in messages]
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(turns, add_generation_prompt=True, return_tensors="pt",
                                                 return_dict=True)["input_ids"]
        text = "".join(f"<|{t['role']}|>\n{t['content']}\n" for t in turns) + "<|assistant|>\n"
        return tokenizer(text, return_tensors="pt")["input_ids"]

    def complete(self, messages: Sequence[ChatMessage], options: Completion, *, cancel: CancelToken,
                 stream: TextStream | None = None) -> str:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        tokenizer, model = self.model()
        cancel.raise_if_cancelled()

        class _Cancelled(StoppingCriteria):  # checked after every token
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return cancel.cancelled

        ids = self.prompt_ids(tokenizer, messages).to(model.device)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=None)
        sampling: dict[str, Any] = ({"do_sample": True, "temperature": options.temperature, "top_p": 0.95}
                                    if options.temperature > 0 else {"do_sample": False})
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                with torch.inference_mode():
                    torch.manual_seed(options.seed)
                    model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=options.max_tokens,
                                   streamer=streamer, stopping_criteria=StoppingCriteriaList([_Cancelled()]),
                                   pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None
                                   else tokenizer.eos_token_id, **sampling)
            except BaseException as exc:  # reported on the caller's thread
                failure.append(exc)
                streamer.end()

        with self._model.lock:  # one generation at a time per loaded model
            worker = threading.Thread(target=generate, name="filmstudio-writer", daemon=True)
            worker.start()
            parts: list[str] = []
            for piece in streamer:
                if piece:
                    parts.append(piece)
                    if stream is not None:
                        stream(piece)
            worker.join()
            self._model.touch()
        self._model.idle()
        if failure:
            raise WriterFailed(f"the built-in writer {self.model_id} failed: {failure[0]}",
                               details={"model": self.model_id}) from failure[0]
        if cancel.cancelled:
            raise Cancelled("the writing was cancelled", code="JOB_CANCELLED")
        return "".join(parts)
