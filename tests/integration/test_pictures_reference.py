"""Character reference images end to end, offline: a tiny IP-Adapter built from config to fit the tiny
Stable Diffusion, both served by the fake hub and pulled by the model manager, loaded by the real
diffusers loader through the composition root, steering the stills of a real small render."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")

from PIL import Image

from fakehub import FakeHub
from filmstudio.app.compose import build_engines
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import (
    EngineInfo,
    Engines,
    PicturesIdentity,
    Progress,
    PromptTokens,
    StillRequest,
)
from filmstudio.pipeline.models.catalogue import load_catalogue
from filmstudio.pipeline.models.download import pull
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.providers.pictures import DiffusersPictures
from filmstudio.pipeline.providers.reference_adapter import ADAPTER_ID
from filmstudio.pipeline.request import images_in
from integration.conftest_server import FakeRenderer, live_server, server_settings
from motion_checks import catalogue_entry
from studio_engines import render_film
from tiny_ip_adapter import WEIGHT_NAME, build_tiny_ip_adapter
from tiny_sd import build_tiny_sd, folder_files

SCRIPT = """Title: Two Rooms

EXT. HARBOUR - NIGHT

MIRA (40s) waits on the pier, wearing a yellow raincoat.

MIRA
The boat is late again tonight, and the water is rising fast.

A gull lands on a wooden post by the water.

INT. KITCHEN - DAY

Steam over a pot. Mira sits at the table.

MIRA
I told you it would be late, and you never listen to me.
"""


def _pull_all(root: Path, models: Path) -> None:
    """Build the tiny model and its tiny IP-Adapter, serve both by the fake hub, pull both into `models`."""
    sd = build_tiny_sd(root / "built-sd")
    ip = build_tiny_ip_adapter(root / "built-ip", sd / "unet")
    sd_files, ip_files = folder_files(sd), folder_files(ip)
    catalogue = root / "catalogue.toml"
    catalogue.write_text(catalogue_entry("tiny-sd", "test/tiny-sd", sd_files, kind="picture") + "\n"
                         + catalogue_entry(ADAPTER_ID, "test/ip-adapter", ip_files, kind="picture", engine="ip-adapter"),
                         encoding="utf-8")
    with FakeHub(repos={"test/tiny-sd": sd_files, "test/ip-adapter": ip_files}) as hub:
        for mid in ("tiny-sd", ADAPTER_ID):
            pull(load_catalogue(catalogue).get(mid), ModelLibrary(models), endpoint=hub.endpoint)
        assert {r.path for r in hub.requests if r.method == "GET"} >= {f"models/{WEIGHT_NAME}",
                                                                        "models/image_encoder/model.safetensors"}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("reference")
    _pull_all(root, root / "models")
    yield root / "models"


@pytest.fixture(scope="module")
def engines(models_dir: Path) -> Engines:
    made = build_engines(jobs=2, models_dir=models_dir)
    assert isinstance(made.pictures, DiffusersPictures)
    made.pictures.steps = 2
    return made


class Recording:
    """The real engine, with every batch of requests it was given kept for inspection."""

    def __init__(self, inner: DiffusersPictures) -> None:
        self.inner, self.calls = inner, []  # type: ignore[var-annotated]

    def info(self) -> EngineInfo:
        return self.inner.info()

    def native_side(self) -> int:
        return self.inner.native_side()

    def identity(self) -> PicturesIdentity:
        return self.inner.identity()

    def prompt_tokens(self) -> PromptTokens:
        return self.inner.prompt_tokens()

    def stills(self, requests: Sequence[StillRequest], *, cancel: CancelToken,
               progress: Progress | None = None) -> list[Path]:
        self.calls.append(list(requests))
        return self.inner.stills(requests, cancel=cancel, progress=progress)

    def requests(self) -> list[StillRequest]:
        return [r for call in self.calls for r in call]


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def _picture(path: Path, colour: tuple[int, int, int], noise: int = 0) -> Path:
    rng = np.random.default_rng(noise)
    img = np.clip(np.full((48, 40, 3), colour) + rng.integers(-40, 40, (48, 40, 3)) * bool(noise), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img.astype(np.uint8)).save(path, format="PNG")
    return path


def test_the_adapter_is_pulled_found_and_loaded_by_the_real_loader(engines: Engines, tmp_path: Path) -> None:
    pics = engines.pictures
    assert isinstance(pics, DiffusersPictures) and pics.adapter is not None
    assert pics.adapter.model_id == ADAPTER_ID and pics.adapter.weight_name == WEIGHT_NAME
    assert pics.adapter.cross_attention_dim() == 32  # the tiny UNet's width: it fits
    references = pics.info().references
    assert references is not None and references == pics.identity().references
    assert references.as_dict() == {"adapter": ADAPTER_ID, "revision": pics.adapter.revision, "weights": WEIGHT_NAME,
                          "scale": pics.adapter.scale}
    ref = _picture(tmp_path / "face.png", (200, 40, 40))
    pics.stills([StillRequest("a woman", "", 64, 40, 3, tmp_path / "s.png", 2, reference=ref)], cancel=CancelToken())
    pipe = pics.pipeline()
    assert type(pipe.image_encoder).__name__ == "CLIPVisionModelWithProjection"
    assert pipe.unet.encoder_hid_proj is not None  # the adapter's image projection is in the UNet


def test_a_reference_changes_the_still_and_the_same_reference_gives_the_same_pixels(
        engines: Engines, models_dir: Path, tmp_path: Path) -> None:
    pics = engines.pictures
    assert isinstance(pics, DiffusersPictures)
    red = _picture(tmp_path / "red.png", (210, 30, 30))
    noisy = _picture(tmp_path / "noisy.png", (40, 160, 220), noise=7)

    def still(name: str, reference: Path | None, engine: DiffusersPictures = pics) -> np.ndarray:
        req = StillRequest("a woman on the pier at night", "blurry", 64, 40, 11, tmp_path / f"still-{name}.png", 2,
                           reference=reference)
        return _pixels(engine.stills([req], cancel=CancelToken())[0])

    plain, with_red, again, with_noisy = still("plain", None), still("red", red), still("red2", red), still("n", noisy)
    assert np.abs(with_red - plain).mean() > 1.0  # the reference steers the still
    assert np.array_equal(with_red, again)  # the same reference, the same pixels
    assert np.abs(with_red - with_noisy).mean() > 0.5  # another reference, another still
    # A still without a reference is the same with the adapter loaded as without one (scale 0).
    bare = DiffusersPictures(pics.folder, model_id=pics.model_id, revision=pics.revision, steps=2)
    assert np.array_equal(still("bare", None, bare), plain)
    # One batch holds one reference: two characters' stills drawn together are each as drawn alone.
    reqs = [StillRequest("a woman on the pier at night", "blurry", 64, 40, 11, tmp_path / f"b{n}.png", 2,
                         reference=r) for n, r in enumerate([red, noisy])]
    both = pics.stills(reqs, cancel=CancelToken())
    assert np.array_equal(_pixels(both[0]), with_red) and np.array_equal(_pixels(both[1]), with_noisy)


def _settings() -> RenderSettings:
    return RenderSettings.model_validate({"duration": 20, "resolution": "320x180", "style": "documentary",
                                          "music_genre": "none", "include_subtitles": False})


def test_a_render_draws_each_shot_with_its_characters_reference(engines: Engines, tmp_path: Path) -> None:
    cache, settings = tmp_path / "cache", _settings()
    assert isinstance(engines.pictures, DiffusersPictures)

    def film(name: str, **kw: object) -> tuple[Recording, dict[str, object]]:
        rec = Recording(engines.pictures)  # type: ignore[arg-type]
        render_film(SCRIPT, settings, tmp_path / f"{name}.mp4", work_dir=tmp_path / name, cache_dir=cache,
                    engines=replace(engines, pictures=rec), **kw)
        return rec, json.loads((tmp_path / name / "storyboard.json").read_text())

    rec, board = film("one")
    mira = [s for s in board["shots"] if s["characters"][:1] == ["MIRA"]]
    others = [s for s in board["shots"] if not s["characters"]]
    assert len(mira) >= 2 and others  # two shots share Mira; one (the gull) shows no one
    ref = next(c for c in board["characters"] if c["name"] == "MIRA")["reference"]
    assert ref == {"source": "portrait", "image": None, "used": True}
    portrait = cache / "stills" / board["references"]["MIRA"]
    assert portrait.name.startswith("portrait-") and portrait.is_file()
    # The portrait is drawn first, once, from Mira's description and seed, then steers her shots.
    first = rec.calls[0]
    assert len(first) == 1 and first[0].out == portrait and "yellow raincoat" in first[0].prompt
    by_out = {r.out.name: r for r in rec.calls[1]}
    assert all(by_out[board["stills"][str(s["number"])]].reference == portrait for s in mira)
    assert all(by_out[board["stills"][str(s["number"])]].reference is None for s in others)

    # A re-render hits the cache: the portrait and every still exist, nothing is drawn again.
    made = {p.name: p.stat().st_mtime_ns for p in (cache / "stills").iterdir()}
    _, again = film("two")
    assert {p.name: p.stat().st_mtime_ns for p in (cache / "stills").iterdir()} == made
    assert again["stills"] == board["stills"]

    # The user's own picture of Mira (a project picture named character-mira) replaces the portrait;
    # her stills get new keys (the reference is in the key); the shot without her keeps its still.
    images = tmp_path / "images"
    own = _picture(images / "character-mira.png", (230, 200, 20), noise=3)
    rec, mine = film("three", images=images_in(images))
    assert next(c for c in mine["characters"] if c["name"] == "MIRA")["reference"] == {
        "source": "picture", "image": "character-mira.png", "used": True}
    assert mine["references"] == {"MIRA": "character-mira.png"}
    by_out = {r.out.name: r for r in rec.requests()}
    assert all(by_out[mine["stills"][str(s["number"])]].reference == own for s in mira)
    for s in mira:
        assert mine["stills"][str(s["number"])] != board["stills"][str(s["number"])]
    for s in others:
        assert mine["stills"][str(s["number"])] == board["stills"][str(s["number"])]
    assert not any(r.out.name.startswith("portrait-") for r in rec.requests())  # no portrait for her now
    frame_source = _pixels(cache / "stills" / mine["stills"][str(mira[0]["number"])])
    assert not np.array_equal(frame_source, _pixels(cache / "stills" / board["stills"][str(mira[0]["number"])]))

    # Another picture of her: the key changes again, only her stills are redrawn.
    before = set((cache / "stills").iterdir())
    _picture(own, (20, 60, 230), noise=5)
    _, changed = film("four", images=images_in(images))
    new = set((cache / "stills").iterdir()) - before
    assert {p.name for p in new} == {changed["stills"][str(s["number"])] for s in mira}


def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 48), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_the_storyboard_api_shows_each_characters_reference(tmp_path: Path) -> None:
    home = tmp_path / "studio"
    settings = {"duration": 20, "resolution": "320x180", "music_genre": "none"}
    with live_server(server_settings(home), renderer=FakeRenderer()) as live:
        key = live.new_key("boarder")
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "Rooms", "script": SCRIPT, "settings": settings}).json()["project_id"]
            board = c.get(f"/projects/{pid}/storyboard").json()
            refs = board["pictures"]["references"]
            assert refs["used"] is False and f"models pull {ADAPTER_ID}" in refs["advice"]
            mira = next(ch for ch in board["characters"] if ch["name"] == "MIRA")
            assert mira["reference"] == {"source": "portrait", "image": None, "used": False}

            assert c.put(f"/projects/{pid}/images/character-mira.png", content=_png((200, 30, 30)),
                         headers={"Content-Type": "image/png"}).status_code == 201
            _pull_all(tmp_path / "build", home / "models")  # the model and its adapter, as `models pull` does
            board = c.get(f"/projects/{pid}/storyboard").json()
            assert board["pictures"]["model"] == "tiny-sd"
            assert board["pictures"]["references"]["used"] is True
            assert board["pictures"]["references"]["adapter"] == ADAPTER_ID
            mira = next(ch for ch in board["characters"] if ch["name"] == "MIRA")
            assert mira["reference"] == {"source": "picture", "image": "character-mira.png", "used": True}
            assert all(s["image"] is None for s in board["shots"])  # a reference, not a shot's replacement


def test_a_render_refuses_an_unreadable_reference_picture(engines: Engines, tmp_path: Path) -> None:
    from filmstudio.domain.errors import FilmStudioError

    images = tmp_path / "images"
    images.mkdir()
    (images / "character-mira.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(FilmStudioError) as err:
        render_film(SCRIPT, _settings(), tmp_path / "f.mp4", work_dir=tmp_path / "w", cache_dir=tmp_path / "c",
                    engines=engines, images=images_in(images))
    assert err.value.code == "INVALID_REFERENCE_IMAGE"
