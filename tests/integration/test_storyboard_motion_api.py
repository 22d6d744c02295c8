"""Which shots move, over the API: each shot's `motion`, `motion_reason` and `clip_url`, the toggle
(PATCH .../storyboard/shots/{n}), the estimate of what motion adds, and a moving shot's clip served
with Range requests (GET .../storyboard/shots/{n}/clip)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from filmstudio.pipeline.media.ffmpeg import run_ffmpeg
from filmstudio.pipeline.request import RenderRequest
from integration.conftest_server import SMALL, FakeRenderer, live_server, server_settings, wait_job

SAMPLE = (Path(__file__).parents[1] / "data" / "samples" / "night-market.fountain").read_text(encoding="utf-8")
CLIP = "clip-" + "ab" * 16 + ".mp4"


class ClipRenderer(FakeRenderer):
    """The fake film, plus what a render with a video model leaves: shot 2's clip in the cache's clips
    folder, named in the film's manifest under `shot_clips` (as `shot_stills` names the stills)."""

    def __call__(self, request: RenderRequest, **kw: Any) -> dict[str, Any]:
        done = super().__call__(request, **kw)
        clips = request.cache_dir / "clips"
        clips.mkdir(parents=True, exist_ok=True)
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x36:rate=12:duration=1", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mp4", str(clips / CLIP)])
        request.output.with_suffix(".manifest.json").write_text(json.dumps({"shot_clips": {"2": CLIP, "3": "../x.mp4"}}))
        return done


def test_shots_say_whether_they_move_and_the_user_toggles_them(tmp_path: Path) -> None:
    with live_server(server_settings(tmp_path / "studio"), renderer=FakeRenderer()) as live:
        key = live.new_key("mover")
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "Night", "script": SAMPLE,
                                            "settings": {**SMALL, "duration": 60}}).json()["project_id"]
            board = c.get(f"/projects/{pid}/storyboard").json()
            shots = board["shots"]
            assert [s["number"] for s in shots if s["motion"]] == [1, 2, 3, 9, 11]
            assert shots[0]["motion_reason"] == "establishing shot" and shots[3]["motion_reason"] == "not a key shot"
            assert all(s["clip_url"] is None for s in shots)
            motion = board["motion"]
            assert motion["budget"] == "key" and (motion["moving"], motion["still"]) == (5, len(shots) - 5)
            assert motion["model"] is None and motion["seconds"] == 0
            assert motion["summary"].startswith("no video model: shots stay stills with camera moves")

            on = c.patch(f"/projects/{pid}/storyboard/shots/4", json={"motion": True})
            assert on.status_code == 200, on.text
            assert on.json()["shot"]["motion"] is True and on.json()["shot"]["motion_reason"] == "your choice: moving"
            off = c.patch(f"/projects/{pid}/storyboard/shots/1", json={"motion": False}).json()["shot"]
            assert off["motion"] is False and off["motion_reason"] == "your choice: still"
            again = c.get(f"/projects/{pid}/storyboard").json()
            assert [s["number"] for s in again["shots"] if s["motion"]] == [2, 3, 4, 9, 11]
            assert again["motion"]["moving"] == 5
            saved = json.loads((tmp_path / "studio" / "media" / pid / "storyboard.json").read_text())
            assert saved["shots"]["4"]["motion"] is True and saved["shots"]["1"]["motion"] is False

            # {} changes nothing; null gives the shot back to the budget.
            assert c.patch(f"/projects/{pid}/storyboard/shots/4", json={}).json()["shot"]["motion"] is True
            back = c.patch(f"/projects/{pid}/storyboard/shots/4", json={"motion": None}).json()["shot"]
            assert back["motion"] is False and back["motion_reason"] == "not a key shot"

            # The budget: none leaves only the user's own choices moving; all moves the rest.
            assert c.patch(f"/projects/{pid}", json={"settings": {"motion": "none"}}).status_code == 200
            none = c.get(f"/projects/{pid}/storyboard").json()
            assert not any(s["motion"] for s in none["shots"]) and none["motion"]["budget"] == "none"
            assert {s["motion_reason"] for s in none["shots"]} == {"motion is off", "your choice: still"}
            assert c.patch(f"/projects/{pid}", json={"settings": {"motion": "all"}}).status_code == 200
            every = c.get(f"/projects/{pid}/storyboard").json()["shots"]
            assert [s["number"] for s in every if not s["motion"]] == [1]

            for bad in ({"motion": "yes"}, {"motion": 1}, {"seed": 3}):
                answer = c.patch(f"/projects/{pid}/storyboard/shots/2", json=bad)
                assert answer.status_code in (400, 422) and "error" in answer.json(), (bad, answer.text)
            missing = c.patch(f"/projects/{pid}/storyboard/shots/999", json={"motion": True})
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "SHOT_NOT_FOUND"
            unknown = c.patch(f"/projects/{pid}", json={"settings": {"motion": "some"}})
            assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "UNKNOWN_MOTION"

            clip = c.get(f"/projects/{pid}/storyboard/shots/2/clip")
            assert clip.status_code == 404 and clip.json()["error"]["code"] == "CLIP_NOT_FOUND"
        with live.client(live.new_key("other")) as other:
            assert other.patch(f"/projects/{pid}/storyboard/shots/2", json={"motion": True}).status_code == 404


def test_a_moving_shots_clip_is_served_with_ranges(tmp_path: Path) -> None:
    with live_server(server_settings(tmp_path / "studio"), renderer=ClipRenderer()) as live, \
            live.client(live.new_key("mover")) as c:
        pid = c.post("/projects", json={"title": "Night", "script": SAMPLE,
                                        "settings": {**SMALL, "duration": 60}}).json()["project_id"]
        job = c.post(f"/projects/{pid}/generate", json={}).json()
        assert wait_job(c, job["job_id"])["status"] == "completed"
        shots = c.get(f"/projects/{pid}/storyboard").json()["shots"]
        assert shots[1]["clip_url"] == f"/api/v1/projects/{pid}/storyboard/shots/2/clip"
        # The manifest's other name leaves the clips folder: never served.
        assert [s["number"] for s in shots if s["clip_url"]] == [2]

        whole = c.get(f"/projects/{pid}/storyboard/shots/2/clip")
        assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
        made = tmp_path / "studio" / "cache" / "clips" / CLIP
        assert whole.content == made.read_bytes()
        got = tmp_path / "got.mp4"
        got.write_bytes(whole.content)
        probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(got)],
                                          capture_output=True, check=True, text=True).stdout)
        assert probe["streams"][0]["codec_name"] == "h264" and probe["streams"][0]["width"] == 64

        part = c.get(f"/projects/{pid}/storyboard/shots/2/clip", headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == made.read_bytes()[:100]
        assert part.headers["content-range"] == f"bytes 0-99/{made.stat().st_size}"
        beyond = c.get(f"/projects/{pid}/storyboard/shots/2/clip", headers={"Range": "bytes=99999999-"})
        assert beyond.status_code == 416 and beyond.json()["error"]["code"] == "RANGE_NOT_SATISFIABLE"
        for n in (3, 4):
            none = c.get(f"/projects/{pid}/storyboard/shots/{n}/clip")
            assert none.status_code == 404 and none.json()["error"]["code"] == "CLIP_NOT_FOUND"


def _install_video_model(models: Path, model_id: str = "tiny-video") -> None:
    """A model folder the library counts as installed, recorded as a diffusers video model (never loaded here)."""
    from filmstudio.pipeline.models.library import MANIFEST

    folder = models / model_id
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({"id": model_id, "revision": "r1", "files": {},
                                               "kind": "video", "engine": "diffusers"}))
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "WanPipeline"}))


def test_the_estimate_counts_the_clips_before_the_render_starts(tmp_path: Path) -> None:
    from filmstudio.domain.jobs import RenderParams
    from filmstudio.pipeline.motion_estimate import clip_kind_for
    from filmstudio.services import estimates
    from filmstudio.store import jobs as job_rows

    home = tmp_path / "studio"
    _install_video_model(home / "models")
    with live_server(server_settings(home), renderer=FakeRenderer()) as live:
        store = live.parts.studio.store
        with live.client(live.new_key("mover")) as c:
            pid = c.post("/projects", json={"title": "Night", "script": SAMPLE,
                                            "settings": {**SMALL, "duration": 60}}).json()["project_id"]
            motion = c.get(f"/projects/{pid}/storyboard").json()["motion"]
            motion_engine = live.parts.studio.motion
            assert motion_engine is not None  # the composition root built the video engine (never loaded here)
            per_clip = clip_kind_for(motion_engine, 16 / 9).first_guess()  # no GPU here, nothing measured yet
            assert (motion["model"], motion["device"], motion["measured"]) == ("tiny-video", "cpu", False)
            assert motion["seconds"] == round(5 * per_clip, 1) and motion["seconds_per_clip"] == round(per_clip, 3)
            assert motion["summary"] == f"5 of 12 shots move: about {round(5 * per_clip / 60)} min on the CPU (tiny-video)"

            before = estimates.humanize_range(estimates.expected_total(store, 60, 5 * per_clip))
            accepted = c.post(f"/projects/{pid}/generate", json={}).json()
            assert accepted["estimated_time"] == before
            row = job_rows.get_job(store, accepted["job_id"])
            assert row is not None and isinstance(row.params, RenderParams) and row.params.clips is not None
            assert row.params.clips.model_dump() == {"moving": 5, "seconds_per_clip": per_clip,
                                                     "model": "tiny-video", "measured": False}
            assert estimates.stills_seconds(row) == 5 * per_clip
            assert wait_job(c, accepted["job_id"])["status"] == "completed"

            # Motion off: nothing to animate, so the estimate is the film's alone.
            assert c.patch(f"/projects/{pid}", json={"settings": {"motion": "none"}}).status_code == 200
            off = c.post(f"/projects/{pid}/generate", json={}).json()
            off_row = job_rows.get_job(store, off["job_id"])
            assert off_row is not None and isinstance(off_row.params, RenderParams)
            assert off_row.params.clips is not None and off_row.params.clips.moving == 0
            assert estimates.stills_seconds(off_row) == 0


def test_a_real_render_with_a_video_model_gives_moving_shots_their_clips(tmp_path: Path,
                                                                        monkeypatch: Any) -> None:
    """The tiny Stable Diffusion and the tiny Wan image-to-video model, pulled from the fake hub, in a real
    render through the API: the moving shots get clip URLs, each serves the clip the render made, and
    the video model was asked each shot's `motion_prompt` as the storyboard shows it."""
    import pytest

    pytest.importorskip("diffusers")
    from fakehub import FakeHub
    from filmstudio.app.compose import build_engines
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.download import pull
    from filmstudio.pipeline.models.library import ModelLibrary
    from filmstudio.pipeline.providers.motion import DiffusersMotion
    from filmstudio.pipeline.providers.pictures import DiffusersPictures
    from filmstudio.services.render import PipelineRenderer
    from integration.test_motion import SCRIPT as TWO_ROOMS
    from integration.test_motion import TINY_SHAPE
    from motion_checks import catalogue_entry
    from tiny_sd import build_tiny_sd, folder_files
    from tiny_video import build_tiny_wan

    home = tmp_path / "studio"
    sd, wan = folder_files(build_tiny_sd(tmp_path / "sd")), folder_files(build_tiny_wan(tmp_path / "wan"))
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(catalogue_entry("tiny-sd", "test/tiny-sd", sd, kind="picture") + "\n"
                         + catalogue_entry("tiny-wan", "test/tiny-wan", wan, kind="video"), encoding="utf-8")
    with FakeHub(repos={"test/tiny-sd": sd, "test/tiny-wan": wan}) as hub:
        for mid in ("tiny-sd", "tiny-wan"):
            pull(load_catalogue(catalogue).get(mid), ModelLibrary(home / "models"), endpoint=hub.endpoint)
    engines = build_engines(jobs=2, models_dir=home / "models", cache_dir=home / "cache")
    assert isinstance(engines.pictures, DiffusersPictures) and isinstance(engines.motion, DiffusersMotion)
    engines.pictures.steps = 2
    engines.motion.shape, engines.motion.steps = TINY_SHAPE, 2
    asked: dict[str, str] = {}  # what the video model was asked: prompt -> negative prompt
    animate = engines.motion.animate

    def recording(request: Any, **kw: Any) -> Any:
        asked[request.prompt] = request.negative_prompt
        return animate(request, **kw)

    monkeypatch.setattr(engines.motion, "animate", recording)
    settings = {"duration": 24, "resolution": "320x180", "style": "documentary", "music_genre": "none",
                "include_subtitles": False}
    with live_server(server_settings(home), renderer=PipelineRenderer(engines), engines=engines) as live, \
            live.client(live.new_key("mover")) as c:
        pid = c.post("/projects", json={"title": "Two Rooms", "script": TWO_ROOMS,
                                        "settings": settings}).json()["project_id"]
        before = c.get(f"/projects/{pid}/storyboard").json()
        moving = [s["number"] for s in before["shots"] if s["motion"]]
        assert moving and len(moving) < len(before["shots"])
        estimate = before["motion"]
        assert (estimate["model"], estimate["moving"], estimate["measured"]) == ("tiny-wan", len(moving), False)
        job = c.post(f"/projects/{pid}/generate", json={}).json()
        done = wait_job(c, job["job_id"], timeout=900)
        assert done["status"] == "completed", done
        after = c.get(f"/projects/{pid}/storyboard").json()
        with_clips = [s["number"] for s in after["shots"] if s["clip_url"]]
        assert with_clips == moving
        shown = {after["shots"][n - 1]["motion_prompt"]: after["shots"][n - 1]["motion_negative_prompt"]
                 for n in moving}
        assert asked == shown and all(p.endswith("steady camera, smooth natural motion") for p in asked)
        assert all(after["shots"][n - 1]["motion_prompt"].startswith(after["shots"][n - 1]["prompt"]) for n in moving)
        # A measured speed replaces the first guess for the next estimate.
        assert after["motion"]["measured"] is True and after["motion"]["seconds_per_clip"] > 0
        for n in moving:
            clip = c.get(after["shots"][n - 1]["clip_url"].removeprefix("/api/v1"))
            assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
            got = tmp_path / f"clip-{n}.mp4"
            got.write_bytes(clip.content)
            frames = json.loads(subprocess.run(
                ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                 "stream=nb_read_frames", "-of", "json", str(got)], capture_output=True, check=True,
                text=True).stdout)["streams"][0]["nb_read_frames"]
            assert 1 < int(frames) <= TINY_SHAPE.max_frames
        still = next(s["number"] for s in after["shots"] if not s["motion"])
        assert c.get(f"/projects/{pid}/storyboard/shots/{still}/clip").json()["error"]["code"] == "CLIP_NOT_FOUND"
