"""Is the requested espeak-ng rate applied every time on a loaded machine? (issue 11)

Speaks one line at 120 and at 260 wpm, `rounds` times each, through EspeakTts as a render does,
while `hogs` busy-loop processes load the cores, and counts the clips whose length is not the
usual one for their rate (clips are deterministic, so a correct clip always has the same sample
count; the most common count is taken as the correct one).

    PYTHONPATH=src python bench/tts_rate_under_load.py [--rounds 200] [--hogs 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from collections import Counter
from pathlib import Path

from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import SpeechRequest
from filmstudio.pipeline.media.audio import read_wav
from filmstudio.pipeline.plan import Voice
from filmstudio.pipeline.providers.tts import EspeakTts

VOICE = Voice("ANNA", "gmw/en-US", "m3", pitch=25, rate_factor=1.0)
TEXT = "The night market opens when the rain stops."
RATES = (120, 260)


def _hog(stop: multiprocessing.synchronize.Event) -> None:
    while not stop.is_set():
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--hogs", type=int, default=2)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    started, got = time.monotonic(), []
    try:
        for i in range(args.rounds):
            reqs = [SpeechRequest(TEXT, VOICE, wpm, folder / f"{i}-{wpm}.wav") for wpm in RATES]
            EspeakTts(jobs=2).synthesize_many(reqs, cancel=CancelToken())
            got.append(tuple(len(read_wav(r.out)[0]) for r in reqs))
    finally:
        stop.set()
        for hog in hogs:
            hog.join(5)
    print(f"{args.rounds} rounds x {len(RATES)} rates under {args.hogs} CPU hogs in {time.monotonic() - started:.0f} s")
    for k, wpm in enumerate(RATES):
        lengths = Counter(g[k] for g in got)
        usual = lengths.most_common(1)[0][0]
        print(f"  {wpm} wpm: {args.rounds - lengths[usual]}/{args.rounds} wrong; samples {dict(lengths)}")
    print(f"  rounds where slow <= 1.5 x fast: {sum(1 for s, f in got if not s > 1.5 * f)}/{args.rounds}")


if __name__ == "__main__":
    main()
