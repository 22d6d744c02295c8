"""The Motion seam with a fake engine: what it declares, the clip's cache key, and the stage's clip loop
(cache hits, progress, the remembered speed, out of memory leaving the shot a still)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from filmstudio.pipeline.clip_timings import ClipKind, clip_kind, clip_timings, make_clips
from filmstudio.pipeline.context import Cache, CancelToken, StageContext
from filmstudio.pipeline.engines import (
    STILL_MOTION,
    ClipRequest,
    EngineInfo,
    MadeClip,
    Motion,
    MotionCapabilities,
    MotionIdentity,
    MotionOutOfMemory,
    Progress,
    clip_path,
)
from studio_engines import real_engines

WAN = MotionCapabilities(max_frames=81, fps=16, native_side=632, frames_step=4)


@dataclass
class FakeMotion:
    """Writes a few bytes per clip; runs out of memory for the seeds in `oom`."""

    oom: set[int] = field(default_factory=set)
    made: list[int] = field(default_factory=list)

    def info(self) -> EngineInfo:
        return EngineInfo(kind="motion", name="fake motion", model="fake", revision="1", steps=4)

    def identity(self) -> MotionIdentity:
        return MotionIdentity(model="fake", revision="1", steps=4)

    def capabilities(self) -> MotionCapabilities:
        return MotionCapabilities(max_frames=9, fps=8, native_side=64, frames_step=4)

    def animate(self, request: ClipRequest, *, cancel: CancelToken, progress: Progress | None = None) -> MadeClip:
        if request.out.exists():
            return MadeClip(request.out, request.frames, request.width, request.height, request.fps)
        if request.seed in self.oom:
            raise MotionOutOfMemory("the fake ran out of GPU memory")
        self.made.append(request.seed)
        for step in (0.5, 1.0):
            if progress is not None:
                progress(step)
        request.out.parent.mkdir(parents=True, exist_ok=True)
        request.out.write_bytes(f"clip {request.seed}".encode())
        return MadeClip(request.out, request.frames, request.width, request.height, request.fps)


class Progress_:
    def __init__(self) -> None:
        self.expected: list[tuple[str, float]] = []
        self.notes: list[dict[str, Any]] = []

    def __call__(self, step: str, fraction: float) -> None:
        pass

    def expect(self, step: str, seconds: float) -> None:
        self.expected.append((step, seconds))

    def note(self, **detail: Any) -> None:
        self.notes.append(detail)


def test_the_fake_follows_the_protocol_and_engines_list_motion() -> None:
    assert isinstance(FakeMotion(), Motion)
    base = real_engines()
    assert [i.kind for i in base.infos()].count("motion") == 1
    assert STILL_MOTION in base.infos() and STILL_MOTION.missing  # says how to get a video model
    moving = replace(base, motion=FakeMotion())
    assert [i.name for i in moving.infos() if i.kind == "motion"] == ["fake motion"]


@pytest.mark.parametrize(("seconds", "frames"), [(0.01, 1), (1.0, 17), (2.5, 41), (5.0, 81), (12.0, 81)])
def test_frames_cover_the_shot_in_the_models_steps_up_to_its_longest_clip(seconds: float, frames: int) -> None:
    assert WAN.frames_for(seconds) == frames
    assert (frames - 1) % WAN.frames_step == 0 and frames <= WAN.max_frames


def test_clips_are_made_at_the_native_pixel_count_at_the_films_aspect() -> None:
    w, h = WAN.size_for(16 / 9)
    assert (w % 16, h % 16) == (0, 0) and w > h and abs(w * h - 632 * 632) / (632 * 632) < 0.05
    assert WAN.size_for(9 / 16) == (h, w)


def test_a_clips_key_names_every_part_it_depends_on(tmp_path: Path) -> None:
    identity = MotionIdentity("wan", "abc", 30)
    parts: dict[str, Any] = {"identity": identity, "still_key": "s" * 64, "prompt": "a pier", "negative": "blur",
                             "seed": 1, "frames": 17, "size": (832, 480), "fps": 16, "steps": 30}
    base = clip_path(tmp_path, **parts)
    assert base == clip_path(tmp_path, **parts) and base.name.startswith("clip-") and base.suffix == ".mp4"
    changed = {"identity": MotionIdentity("wan", "abd", 30), "still_key": "t" * 64, "prompt": "a dock",
               "negative": "", "seed": 2, "frames": 21, "size": (480, 832), "fps": 24, "steps": 20}
    names = {clip_path(tmp_path, **{**parts, k: v}).name for k, v in changed.items()}
    assert len(names) == len(changed) and base.name not in names


def test_a_motion_model_over_a_picture_model_keys_its_clips_by_both_and_the_ip_adapter(tmp_path: Path) -> None:
    from filmstudio.pipeline.cache import content_key
    from filmstudio.pipeline.engines import CLIP_KEY_VERSION, AdapterIdentity

    args = ("s" * 64, "a pier", "", 1, 16, (512, 512), 8, 25)
    wan = MotionIdentity("wan", "abc", 25)
    # A video model of its own keeps the key it had before these fields (its cached clips stay hits).
    old = content_key(CLIP_KEY_VERSION, "wan", "abc", "s" * 64, "a pier", "", 1, 16, [512, 512], 8, 25)
    assert clip_path(tmp_path, wan, *args).name == f"clip-{old[:32]}.mp4"
    ip = AdapterIdentity("ip-adapter-sd15", "r1", "ip-adapter_sd15.safetensors", 0.6)
    over = MotionIdentity("animatediff", "abc", 25, base="sd15", base_revision="b1", references=ip)
    variants = [over, replace(over, base_revision="b2"), replace(over, base="other"), replace(over, references=None),
                replace(over, references=replace(ip, revision="r2")), replace(over, references=replace(ip, scale=0.8)),
                replace(over, revision="abd")]
    names = {clip_path(tmp_path, v, *args).name for v in variants}
    assert len(names) == len(variants)


def _ctx(tmp_path: Path, motion: FakeMotion) -> tuple[StageContext, Progress_]:
    progress = Progress_()
    ctx = StageContext(cache=Cache(tmp_path / "cache"), progress=progress, cancel=CancelToken(),
                       engines=replace(real_engines(), motion=motion))
    return ctx, progress


def _requests(tmp_path: Path, seeds: list[int]) -> list[ClipRequest]:
    still = tmp_path / "still.png"
    still.write_bytes(b"png")
    return [ClipRequest(still=still, prompt=f"shot {s}", negative_prompt="", seed=s, frames=9, fps=8, width=64,
                        height=32, out=tmp_path / "cache" / "clips" / f"clip-{s}.mp4", steps=4) for s in seeds]


def test_the_clip_loop_counts_misses_moves_the_bar_and_remembers_the_speed(tmp_path: Path) -> None:
    motion = FakeMotion()
    ctx, progress = _ctx(tmp_path, motion)
    requests = _requests(tmp_path, [1, 2, 3])
    requests[1].out.parent.mkdir(parents=True)
    requests[1].out.write_bytes(b"cached")
    seen: list[float] = []
    outcomes = make_clips(ctx, "visual_generation", requests, seen.append)
    assert motion.made == [1, 3] and [o.clip.path for o in outcomes if o.clip] == [r.out for r in requests]
    kind = clip_kind(motion, requests[0])
    assert progress.expected == [("visual_generation", pytest.approx(2 * kind.first_guess()))]
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and len(seen) >= 4  # within and per clip
    assert ctx.clips.made == 2
    speeds = json.loads((tmp_path / "cache" / "clips" / "speeds.json").read_text())
    assert list(speeds) == [kind.key] and speeds[kind.key]["renders"] == 2
    assert clip_timings(tmp_path / "cache").measured(kind) is not None


def test_out_of_memory_leaves_that_shot_a_still_with_a_warning(tmp_path: Path) -> None:
    motion = FakeMotion(oom={2})
    ctx, _ = _ctx(tmp_path, motion)
    outcomes = make_clips(ctx, "visual_generation", _requests(tmp_path, [1, 2, 3]), lambda f: None)
    assert [o.clip is not None for o in outcomes] == [True, False, True]
    assert "GPU memory" in outcomes[1].warning and "still with the camera move" in outcomes[1].warning
    assert ctx.clips.made == 2


def test_a_first_guess_scales_with_frames_pixels_and_steps() -> None:
    small = ClipKind("wan", "1", "cuda", 832, 480, 81, 30)
    assert replace(small, frames=41).first_guess() < small.first_guess() < replace(small, steps=60).first_guess()
    assert replace(small, device="cpu").first_guess() > 10 * small.first_guess()


def test_a_projects_clips_are_found_by_checked_names_in_its_films_manifest(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from filmstudio.services.clips import made_clips

    studio = SimpleNamespace(media_dir=tmp_path / "media", cache_dir=tmp_path / "cache")
    film = studio.media_dir / "p1" / "j1" / "film.mp4"
    film.parent.mkdir(parents=True)
    good, gone = "clip-" + "a" * 32 + ".mp4", "clip-" + "b" * 32 + ".mp4"
    (studio.cache_dir / "clips").mkdir(parents=True)
    (studio.cache_dir / "clips" / good).write_bytes(b"x")
    (tmp_path / "secret.mp4").write_bytes(b"no")
    film.with_suffix(".manifest.json").write_text(json.dumps({"shot_clips": {
        "2": good, "3": gone, "4": "../../secret.mp4", "x": good}}))
    project = {"assets": json.dumps({"video": "p1/j1/film.mp4"})}
    assert made_clips(studio, project) == {2: studio.cache_dir / "clips" / good}  # type: ignore[arg-type]
    assert made_clips(studio, {"assets": "{}"}) == {}  # type: ignore[arg-type]


def test_two_shots_that_ask_for_the_same_clip_make_it_once(tmp_path: Path) -> None:
    motion = FakeMotion()
    ctx, _ = _ctx(tmp_path, motion)
    one = _requests(tmp_path, [4])[0]
    outcomes = make_clips(ctx, "visual_generation", [one, one], lambda f: None)
    assert motion.made == [4] and ctx.clips.made == 1
    assert [o.clip.path for o in outcomes if o.clip] == [one.out, one.out]
