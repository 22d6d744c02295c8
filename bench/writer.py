"""Writer benchmark (not a test): the built-in engine's overhead, a server round trip, the repair rounds.

    .venv/bin/python bench/writer.py                  # CPU, a small Qwen2 built from config (no download)
    .venv/bin/python bench/writer.py --full-size      # on a GPU: Qwen2.5-1.5B's architecture, random weights
    .venv/bin/python bench/writer.py --json writer.json

1. Tokens/s of `BuiltinWriter.complete` (chat template, streamer thread, cancel check per token,
   text callbacks) against `model.generate` called directly on the same loaded model with the same
   prompt ids and token count (EOS switched off so both make exactly N tokens); best of `--repeat`.
   Target: overhead <= 10 %.
2. The fake OpenAI-compatible server's round trip through the real `openai` client (a 60 s film's
   screenplay streamed in 12-character pieces), per call.
3. The repair rounds over a set of flawed answers (the flaws models make): how many answers the
   loop needed per case, and whether the clean-up alone fixed it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fakewriter import Reply, fake_writer_server  # noqa: E402
from filmstudio.pipeline.cancel import CancelToken  # noqa: E402
from filmstudio.pipeline.engines import ChatMessage, Completion, EngineInfo, TextStream  # noqa: E402
from filmstudio.pipeline.providers.writer_builtin import BuiltinWriter  # noqa: E402
from filmstudio.pipeline.providers.writer_server import ServerWriter  # noqa: E402
from filmstudio.pipeline.writer import Brief, instructions, write_screenplay  # noqa: E402
from tiny_writer import build_tiny_writer  # noqa: E402

DATA = REPO / "tests" / "data" / "writer"
GOOD = (DATA / "good-30.fountain").read_text(encoding="utf-8")
LONG = (DATA / "too-long-30.fountain").read_text(encoding="utf-8")
IDEA = "An old lighthouse keeper hands her lamp to a young engineer on her last night."


def builtin_overhead(folder: Path, tokens: int, repeat: int, device: str) -> dict[str, Any]:
    import torch

    writer = BuiltinWriter(folder, model_id="bench", device=device, idle_seconds=0)
    tokenizer, model = writer.model()
    model.generation_config.eos_token_id = None  # exactly `tokens` new tokens on both paths
    turns = instructions(Brief(IDEA, duration=60))
    ids = writer.prompt_ids(tokenizer, turns).to(model.device)
    options = Completion(max_tokens=tokens, temperature=0.0)

    def direct() -> float:
        started = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=tokens,
                                 do_sample=False, pad_token_id=tokenizer.pad_token_id, eos_token_id=None)
        assert out.shape[1] - ids.shape[1] == tokens
        return time.perf_counter() - started

    def ours() -> float:
        started = time.perf_counter()
        writer.complete(turns, options, cancel=CancelToken(), stream=lambda d: None)
        return time.perf_counter() - started

    direct(), ours()  # warm both (kernels, allocator)
    a, b = [], []
    for _ in range(repeat):  # interleaved, so a busy moment hits both
        a.append(direct())
        b.append(ours())
    best_direct, best_ours = min(a), min(b)
    return {"device": device, "tokens": tokens, "prompt_tokens": int(ids.shape[1]),
            "direct_tokens_per_s": round(tokens / best_direct, 1), "ours_tokens_per_s": round(tokens / best_ours, 1),
            "overhead_pct": round((best_ours / best_direct - 1) * 100, 1),
            "median_overhead_pct": round((statistics.median(b) / statistics.median(a) - 1) * 100, 1)}


def server_round_trip(repeat: int) -> dict[str, Any]:
    times = []
    with fake_writer_server([Reply(GOOD) for _ in range(repeat + 1)]) as fake:
        writer = ServerWriter(fake.url, model="tiny-writer:latest")
        turns = [ChatMessage("user", "write")]
        writer.complete(turns, Completion(), cancel=CancelToken())
        for _ in range(repeat):
            started = time.perf_counter()
            writer.complete(turns, Completion(), cancel=CancelToken(), stream=lambda d: None)
            times.append(time.perf_counter() - started)
    return {"characters": len(GOOD), "pieces": -(-len(GOOD) // 12), "best_ms": round(min(times) * 1000, 1),
            "median_ms": round(statistics.median(times) * 1000, 1)}


class Scripted:
    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)

    def info(self) -> EngineInfo:
        return EngineInfo(kind="writer", name="scripted")

    def complete(self, messages: Sequence[ChatMessage], options: Completion, *, cancel: CancelToken,
                 stream: TextStream | None = None) -> str:
        return self.answers.pop(0)


FLAWED: dict[str, list[str]] = {
    "clean answer": [GOOD],
    "markdown fence + chatter": ["Sure! Here is your screenplay:\n\n```fountain\n" + GOOD + "```\n\nI hope you like it!"],
    "bold and # headings": [GOOD.replace("EXT. LIGHTHOUSE - NIGHT", "## **EXT. LIGHTHOUSE - NIGHT**")],
    "lower-case heading, no dash": [GOOD.replace("EXT. LIGHTHOUSE - NIGHT", "ext lighthouse night")],
    "chat-style NAME: lines": [GOOD.replace("MARA\n(quietly)\nForty years I kept you burning.",
                                            "MARA (quietly): Forty years I kept you burning.")],
    "no title page": [GOOD.split("\n", 2)[2]],
    "too long, then fixed": [LONG, GOOD],
    "no scenes, then fixed": ["She waited by the sea for a long time, and then the light went out.", GOOD],
    "never fits": [LONG, LONG, LONG],
}


def repair_rounds() -> dict[str, Any]:
    out = {}
    for name, answers in FLAWED.items():
        writer = Scripted(answers)
        try:
            play = write_screenplay(writer, Brief(IDEA, duration=30), cancel=CancelToken())
            out[name] = {"answers": play.rounds, "repaired_by_cleanup": list(play.repaired), "result": "fits"}
        except Exception as exc:  # the bench reports, it does not stop
            out[name] = {"answers": 3, "result": getattr(exc, "code", type(exc).__name__)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--full-size", action="store_true", help="Qwen2.5-1.5B's architecture (random weights)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: cuda when there is one)")
    parser.add_argument("--json")
    args = parser.parse_args()
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    with tempfile.TemporaryDirectory(prefix="filmstudio-bench-writer-") as tmp:
        # --full-size: Qwen2.5-1.5B's widths (28 layers, 1536 wide, 12 heads, 2 KV heads, 8960 MLP) with a
        # small vocabulary (the real 151,936 only adds the output projection's cost).
        size: dict[str, Any] = (dict(layers=28, hidden=1536, vocab=2048, heads=12, kv_heads=2, intermediate=8960)
                                if args.full_size else dict(layers=4, hidden=256, vocab=512))
        folder = build_tiny_writer(Path(tmp) / "model", **size)
        result = {
            "load_average": list(os.getloadavg()),
            "builtin": builtin_overhead(folder, args.tokens, args.repeat, device),
            "server_round_trip": server_round_trip(args.repeat),
            "repair_rounds": repair_rounds(),
        }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
