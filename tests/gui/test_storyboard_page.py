"""The storyboard page with the real studio: cards show the stills a real render drew with the tiny
Stable Diffusion model, Regenerate redraws only its shot, a dropped picture replaces a shot (in the
film too), bad drops say why, characters' looks are edited, and without a model a banner says so."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from filmstudio.desktop.shot_card import NO_MODEL_TEXT, NOT_DRAWN_TEXT, ShotCard, scaled
from filmstudio.desktop.storyboard_page import StoryboardPage
from filmstudio.domain.models import JobPublic
from gui.conftest import SCRIPT, SMALL, Desktop
from media_checks import decode_frame

# Documentary: no letterbox bars or grain over the still, so a frame shows the picture plainly.
BOARD_SETTINGS = {**SMALL, "style": "documentary", "music_genre": "none"}
BOARD_SCRIPT = """Title: The Key

INT. WORKSHOP - NIGHT

MAYA (30s) polishes a brass key at the bench.

MAYA
It opens every door in town.

OLD TOM
(quietly)
Then keep it hidden.
"""


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Stable Diffusion model, pulled from the fake hub into a model library (once per module)."""
    pytest.importorskip("diffusers")
    from fakehub import FakeHub, model_toml
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.download import pull
    from filmstudio.pipeline.models.library import ModelLibrary
    from tiny_sd import build_tiny_sd, folder_files

    root = tmp_path_factory.mktemp("tiny-sd")
    files = folder_files(build_tiny_sd(root / "built"))
    catalogue = root / "catalogue.toml"
    catalogue.write_text(model_toml("tiny-sd", "test/tiny-sd", files).replace('kind = "voice"', 'kind = "picture"')
                         .replace('engine = "piper"', 'engine = "diffusers"'), encoding="utf-8")
    with FakeHub(repos={"test/tiny-sd": files}) as hub:
        pull(load_catalogue(catalogue).get("tiny-sd"), ModelLibrary(root / "models"), endpoint=hub.endpoint)
    return root / "models"


@pytest.fixture
def drawing_desktop(qtbot, tmp_path: Path, tiny_models: Path) -> Iterator[Desktop]:  # type: ignore[no-untyped-def]
    """The real app with the tiny picture model installed in its models folder (renders in-process)."""
    from filmstudio.app.compose import build_engines
    from filmstudio.app.embedded import EmbeddedApi, next_free_port
    from filmstudio.config import Settings
    from filmstudio.desktop.app import app_settings, build_window
    from filmstudio.desktop.backend import Backend
    from filmstudio.pipeline.providers.pictures import DiffusersPictures
    from filmstudio.services.secrets import MemorySecrets

    home = tmp_path / "studio"
    shutil.copytree(tiny_models, home / "models")
    settings = Settings.model_validate({
        "home": home, "port": next_free_port("127.0.0.1", 21000 + os.getpid() % 20000), "workers": 1,
        "reconcile_seconds": 1.0, "secrets_backend": "file",
    })
    engines = build_engines(jobs=2, models_dir=settings.models_dir, cache_dir=settings.cache_dir)
    assert isinstance(engines.pictures, DiffusersPictures)
    engines.pictures.steps = 2  # the tiny model's two steps (a real model's default is 20)
    api = EmbeddedApi(settings, secrets=MemorySecrets(), worker="thread", engines=engines)
    api.start()
    backend = Backend(api.studio, api, api.engines)
    window = build_window(backend, app_settings(tmp_path / "app.ini"))
    qtbot.addWidget(window)
    from PySide6.QtWidgets import QMessageBox
    window.ask_unsaved = lambda _text: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    window.show()
    try:
        yield Desktop(window, backend, api, home)
    finally:
        window.close()
        window.tasks.shutdown()
        api.stop(finish_jobs=False, timeout=5)
        backend.close()


def _open(desktop: Desktop, qtbot, script: str = SCRIPT) -> tuple[str, StoryboardPage]:  # type: ignore[no-untyped-def]
    made = desktop.backend.create_project("The Key", script, BOARD_SETTINGS)
    window = desktop.window
    window.open_project(made.project_id)
    page = window.storyboard
    qtbot.waitUntil(lambda: page.project_id == made.project_id and page.loads >= 1 and bool(page.cards), timeout=15_000)
    window.show_page("Storyboard")
    assert window.stack.currentWidget() is page
    qtbot.waitUntil(lambda: page.tasks.pending == 0, timeout=15_000)  # the page's own reload is in
    return made.project_id, page


def _reloaded(page: StoryboardPage, qtbot, action) -> None:  # type: ignore[no-untyped-def]
    """Do `action` and wait for the page to show the storyboard again."""
    before = page.loads
    action()
    qtbot.waitUntil(lambda: page.loads > before and page.tasks.pending == 0, timeout=15_000)


def _render(page: StoryboardPage, qtbot) -> JobPublic:  # type: ignore[no-untyped-def]
    before = page.loads
    qtbot.mouseClick(page.render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.message.text()) or (page.job is not None and page.loads > before
                    and page.job.status in ("completed", "failed", "cancelled")), timeout=240_000)
    assert not page.message.text()
    assert page.job is not None and page.job.status == "completed", page.job
    return page.job


def _card_pixels(card: ShotCard) -> np.ndarray:
    image = card.still.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.bytesPerLine() * h)
    return data.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3).astype(float)


def _file_pixels(path: Path, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=float)


def _drop(card: ShotCard, path: Path) -> None:
    """Drag a file from the file manager onto the card and let go (Qt delivers a drop only after an accepted enter)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(card, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(card, event)


def _first_shot(video: Path) -> tuple[float, float]:
    """The first shot's [start, end) in the film, from its manifest: the scene is cut at the first spoken
    line long enough to hold a shot that starts a second or more after the scene (`shot_cuts`)."""
    from filmstudio.pipeline.storyboard import MIN_SHOT, MIN_SHOT_LINE

    manifest = json.loads(video.with_suffix(".manifest.json").read_text(encoding="utf-8"))
    scene = next(s for s in manifest["scenes"] if s["kind"] == "scene")
    cuts = [ln["start"] for ln in scene["lines"] if ln["spoken"] and ln["end"] - ln["start"] >= MIN_SHOT_LINE
            and ln["start"] - scene["start"] >= MIN_SHOT]
    return scene["start"], cuts[0] if cuts else scene["end"]


@pytest.mark.slow
def test_cards_show_drawn_stills_redo_one_shot_lock_and_replace_by_drop(drawing_desktop: Desktop, qtbot,
                                                                        tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desktop = drawing_desktop
    pid, page = _open(desktop, qtbot, BOARD_SCRIPT)
    shots = page.view.board["shots"] if page.view else []
    assert len(shots) >= 2 and not page.banner.isVisible()
    assert all(c.source == "none" and c.still.text() == NOT_DRAWN_TEXT for c in page.cards.values())
    card1 = page.cards[1]
    assert card1.heading.text() == "INT. WORKSHOP - NIGHT" and card1.prompt.toPlainText() == shots[0]["prompt"]
    assert "polishes a brass key" in card1.line.text() and "MAYA" in card1.title.text()
    assert card1.seed.text() == f"Seed {shots[0]['seed']}"

    # Render from the storyboard: every card then shows the still the render drew for its shot.
    _render(page, qtbot)
    view = page.view
    assert view is not None and sorted(view.stills) == [s["number"] for s in shots]
    for n, card in page.cards.items():
        assert card.source == "still"
        shown = _card_pixels(card)
        assert card.still.pixmap().toImage() == scaled(QImage(str(view.stills[n]))).toImage()
        h, w = shown.shape[:2]
        assert np.abs(shown - _file_pixels(view.stills[n], (w, h))).mean() < 6
    # The API serves the same still.
    key = desktop.backend.create_key("storyboard test").secret
    got = httpx.get(f"{desktop.api.url}/api/v1/projects/{pid}/storyboard/shots/2/still",
                    headers={"Authorization": f"Bearer {key}"})
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.content == view.stills[2].read_bytes()

    # The cards' per-shot drawing states, as a running job's result carries them.
    running = page.job.model_copy(update={"status": "processing", "current_step": "visual_generation",
                                          "result": {"stills": {"total": len(shots), "done": [1],
                                                                "todo": [n for n in page.cards if n != 1]}}})
    page.job_id = running.job_id
    page._job_update(running)
    assert page.cards[1].state.text() == "✓ drawn" and page.cards[2].state.text() == "Drawing…"
    assert page.status.text().startswith("Drawing shot 2 — 1 of")
    page.job_id = None
    page._show_drawing(None)

    # Regenerate shot 2: a new seed; the next render redraws only that still.
    old_seed, drawn = page.cards[2].shot["seed"], dict(view.stills)
    kept = {n: p.read_bytes() for n, p in drawn.items() if n != 2}
    _reloaded(page, qtbot, lambda: qtbot.mouseClick(page.cards[2].regenerate_button, Qt.MouseButton.LeftButton))
    assert page.cards[2].shot["seed"] != old_seed and page.cards[2].seed.text() == f"Seed {page.cards[2].shot['seed']}"
    _render(page, qtbot)
    assert page.view is not None
    again = page.view.stills
    assert again[2] != drawn[2] and all(again[n] == drawn[n] for n in kept)
    assert all(again[n].read_bytes() == kept[n] for n in kept)  # the others' still files unchanged
    assert page.cards[2].still.pixmap().toImage() == scaled(QImage(str(again[2]))).toImage()

    # Lock shot 2: it keeps its prompt and seed; its Regenerate and prompt are off.
    _reloaded(page, qtbot, lambda: page.cards[2].lock.click())
    assert desktop.backend.storyboard(pid).board["shots"][1]["locked"] is True
    assert not page.cards[2].regenerate_button.isEnabled() and page.cards[2].prompt.isReadOnly()

    # Replace shot 1 by dropping a picture on its card: the card, then the film, show it.
    drawn_film = desktop.backend.film_files(pid).video
    assert drawn_film is not None
    start, end = _first_shot(drawn_film)
    frame_before = decode_frame(drawn_film, (start + end) / 2, (320, 180)).astype(float)
    mine = tmp_path / "my picture.jpg"
    colour = (230, 30, 190)
    Image.new("RGB", (640, 360), colour).save(mine, format="JPEG", quality=95)
    _reloaded(page, qtbot, lambda: _drop(page.cards[1], mine))
    card1 = page.cards[1]
    assert card1.source == "replacement" and card1.generated_button.isVisible()
    assert np.abs(_card_pixels(card1).mean((0, 1)) - colour).max() < 6
    assert [i.name for i in desktop.backend.storyboard(pid).replacements.values()] == ["shot-1.jpg"]
    _render(page, qtbot)
    video = desktop.backend.film_files(pid).video
    assert video is not None
    start, end = _first_shot(video)
    assert end - start >= 1.0
    t = (start + end) / 2
    frame = decode_frame(video, t, (320, 180)).astype(float)
    # The sky of the frame (the scene title sits low in the middle): the dropped picture's colour.
    patch = frame[10:60, 10:120].reshape(-1, 3)
    assert np.abs(np.median(patch, axis=0) - colour).max() < 40, np.median(patch, axis=0)
    assert np.abs(frame_before[10:60, 10:120].reshape(-1, 3).mean(0) - colour).max() > 60  # it was not before

    desktop.window.resize(1100, 760)
    qtbot.wait(200)
    assert page.cards[1].y() == page.cards[2].y()  # the grid reflows into two columns when there is room
    desktop.window.grab().save("/tmp/storyboard-drawn.png")

    # "Use generated" removes the picture; the last render drew no still for that shot, so the card
    # says the next render draws it.
    _reloaded(page, qtbot, lambda: qtbot.mouseClick(page.cards[1].generated_button, Qt.MouseButton.LeftButton))
    assert not desktop.backend.storyboard(pid).replacements and not page.cards[1].generated_button.isVisible()
    assert page.cards[1].source == "none" and page.cards[1].still.text() == NOT_DRAWN_TEXT


def test_without_a_model_a_banner_says_what_draws_and_bad_drops_change_nothing(desktop: Desktop, qtbot,
                                                                               tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pid, page = _open(desktop, qtbot)
    assert page.banner.isVisible()
    text = page.banner_text.text()
    assert "procedural backdrop" in text and "Models page" in text and "models pull" in text
    assert all(c.still.text() == NO_MODEL_TEXT for c in page.cards.values())
    desktop.window.resize(1024, 640)
    qtbot.wait(200)
    desktop.window.grab().save("/tmp/storyboard-no-model.png")
    assert desktop.window.width() <= 1024 and desktop.window.height() <= 640

    # A text file, a file too large, a folder: each says why, and no picture is stored.
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture", encoding="utf-8")
    card = page.cards[1]
    _drop(card, notes)
    qtbot.waitUntil(lambda: "not a PNG, JPEG, WebP or BMP" in card.message.text(), timeout=15_000)
    huge = tmp_path / "huge.png"
    with huge.open("wb") as fh:
        fh.truncate(17_000_000)
    _drop(card, huge)
    qtbot.waitUntil(lambda: "too large" in card.message.text(), timeout=15_000)
    _drop(card, tmp_path)
    assert "Drop one picture file" in card.message.text()
    assert desktop.backend.storyboard(pid).replacements == {}
    assert card.source == "none"

    qtbot.mouseClick(page.models_button, Qt.MouseButton.LeftButton)
    assert desktop.window.stack.currentWidget() is desktop.window.models


def test_characters_description_and_seed_are_edited(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    pid, page = _open(desktop, qtbot)
    description, seed, save = page.characters.rows["MAYA"]
    assert description.toPlainText() and not save.isEnabled()
    description.setPlainText("a woman in her sixties with silver hair and a leather apron")
    seed.setText("4242")
    seed.textEdited.emit("4242")
    assert save.isEnabled()
    _reloaded(page, qtbot, lambda: qtbot.mouseClick(save, Qt.MouseButton.LeftButton))
    board = desktop.backend.storyboard(pid).board
    maya = next(c for c in board["characters"] if c["name"] == "MAYA")
    assert {k: v for k, v in maya.items() if k != "reference"} == {
        "name": "MAYA", "description": "a woman in her sixties with silver hair and a leather apron",
        "seed": 4242, "source": "edited"}
    assert maya["reference"]["source"] == "portrait"  # no picture of her uploaded
    with_maya = [s for s in board["shots"] if s["characters"] and s["characters"][0] == "MAYA"]
    assert with_maya and all(maya["description"] in s["prompt"] and s["seed"] == 4242 for s in with_maya)
    assert any(maya["description"] in c.prompt.toPlainText() for c in page.cards.values())
    assert page.characters.rows["MAYA"][1].text() == "4242"
