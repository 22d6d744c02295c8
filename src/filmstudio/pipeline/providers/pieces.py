"""A segment in two pieces: its opening GOPs, keyed without the segment's length, and the rest.

A one-line edit changes the length of its shot and of the title and end cards (they take the
film's spare seconds), but most of a card's frames do not depend on its length: the camera's
travel, the light's orbit (by whole GOPs), the fade-in and the text are the same until the
closing fade and the text's fade-out. So a segment whose first whole GOPs are independent of its
length is encoded as a head (cached by `head_key`, which names every field but the length) and a
tail; the two join by stream copy into the segment's own file, which the film's mux reads as
before. A re-render with the head cached encodes only the tail.

Both pieces come out of one ffmpeg run (the graph split after the last filter), so a cold render
composes every frame once; the head ends on a GOP boundary, where the whole segment would have
had its keyframe anyway.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from filmstudio.pipeline.context import CancelToken, atomic_output, content_key
from filmstudio.pipeline.media.ffmpeg import GOP_SECONDS, h264_args, run_ffmpeg
from filmstudio.pipeline.media.mux import concat_list
from filmstudio.pipeline.providers.styles import get_style
from filmstudio.pipeline.providers.visuals import (
    CROSSING_SECONDS,
    SPEC_KEY_VERSION,
    TEXT_FADE,
    TIMESCALE,
    VISUALS_VERSION,
    FadeBlack,
    SegmentSpec,
    _crossing,
    _dissolve_seconds,
    _filter_graph,
    _key_fields,
    _layout,
    _write_layers,
    light_period,
)

PIECES_VERSION = 1


def head_frames(spec: SegmentSpec) -> int:
    """How many opening frames (whole GOPs) of `spec` look the same at any length it may take; 0: none.

    What a segment's length changes: the camera's crossing below CROSSING_SECONDS, the closing fade,
    and the fade-out of a text that lasts to the end (the cards' titles, a caption cut by the cut).
    The head stops one frame before the first of those, on a GOP boundary, and leaves a tail.
    """
    gop = spec.fps * GOP_SECONDS
    if spec.duration < CROSSING_SECONDS:
        return 0
    edge = min(get_style(spec.style).fade, spec.duration / 4)
    limit = spec.duration - (edge if isinstance(spec.closing, FadeBlack) else 0.0)
    for start, open_ended in _texts(spec):
        if open_ended:
            # Fades over its last TEXT_FADE; one that starts near the end fades faster: not in a head.
            limit = min(limit, spec.duration - TEXT_FADE if spec.duration - start >= 3 * TEXT_FADE else start)
    n = (math.floor(limit * spec.fps) - 1) // gop * gop
    return n if gop <= n < spec.frames else 0


def _texts(spec: SegmentSpec) -> list[tuple[float, bool]]:
    """(start, lasts to the segment's end) of each text the segment shows."""
    out = [(0.0, True)] if spec.kind in ("title", "end") else []
    out += [(o.start, o.end >= spec.duration) for o in spec.overlays]
    return out


def head_key(spec: SegmentSpec, frames: int) -> str:
    """The head's content key: every field of `spec_key` but the length, the texts that last to the
    end without their end, and what the length decides inside the head, as values."""
    fields = _key_fields(spec)
    del fields["duration"]
    fields["overlays"] = [[o.text, o.start, o.end if o.end < spec.duration else "end", o.role, o.lit]
                          for o in spec.overlays]
    fields.update(head=frames, crossing=_crossing(spec.duration), light_period=light_period(spec.duration) if spec.kind != "end" else None,  # the end card's light holds still
                  fade=min(get_style(spec.style).fade, spec.duration / 4),
                  dissolve=_dissolve_seconds(spec) if spec.dissolve_from is not None else None)
    return content_key("visuals-head", VISUALS_VERSION, SPEC_KEY_VERSION, PIECES_VERSION, fields)


def render_pieces(
    spec: SegmentSpec,
    out: Path,
    head: Path,
    *,
    encoder: str,
    cancel: CancelToken,
    on_frame: Callable[[int], None] | None = None,
    plates: Path | None = None,
) -> Path:
    """The segment `spec` at `out` (as `render_segment` writes it), encoded as its head (kept at
    `head`: made here unless it exists) and its tail, joined by stream copy; its sets read from, or
    kept in, the `plates` folder."""
    cancel.raise_if_cancelled()
    n = head_frames(spec)
    if n == 0:
        raise ValueError("this segment has no head: render it whole")
    out.parent.mkdir(parents=True, exist_ok=True)
    head.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.stem}.pieces-", dir=out.parent))
    try:
        lay = _layout(spec, plates)
        cancel.raise_if_cancelled()
        inputs, graph = _filter_graph(lay, _write_layers(lay, folder), folder)
        tail = folder / "tail.mp4"
        encode = [*h264_args(encoder, spec.fps), "-r", str(spec.fps), "-video_track_timescale", str(TIMESCALE),
                  "-f", "mp4"]
        if head.exists():
            graph += f";[v]trim=start_frame={n},setpts=PTS-STARTPTS[tail]"
            run_ffmpeg([*inputs, "-filter_complex", graph, "-map", "[tail]", "-an", *encode,
                        "-frames:v", str(spec.frames - n), str(tail)], cancel=cancel, on_frame=on_frame)
        else:
            graph += (f";[v]split[vh][vt];[vh]trim=end_frame={n}[head]"
                      f";[vt]trim=start_frame={n},setpts=PTS-STARTPTS[tail]")
            with atomic_output(head) as tmp:
                run_ffmpeg([*inputs, "-filter_complex", graph,
                            "-map", "[head]", "-an", *encode, "-frames:v", str(n), str(tmp),
                            "-map", "[tail]", "-an", *encode, "-frames:v", str(spec.frames - n), str(tail)],
                           cancel=cancel, on_frame=on_frame)
        with atomic_output(out) as tmp:
            run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(concat_list(folder / "pieces.txt", [head, tail])),
                        "-map", "0:v:0", "-c", "copy", "-video_track_timescale", str(TIMESCALE), "-f", "mp4",
                        str(tmp)], cancel=cancel)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out
