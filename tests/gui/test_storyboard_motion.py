"""Which shots move, in the app: each card says moving / still (why, as its tooltip), Animate / Still
saves the shot's choice in the storyboard's edits, the budget picker changes the project's motion, and a
card with a clip from the last render plays its frames on hover and stops on leave."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QEnterEvent, QImage
from PySide6.QtWidgets import QApplication

from filmstudio.desktop.shot_card import MOVING_TEXT, NO_MODEL_TEXT, STILL_TEXT, ShotCard
from filmstudio.desktop.storyboard_page import StoryboardPage
from filmstudio.pipeline.media.ffmpeg import run_ffmpeg
from gui.conftest import SMALL, Desktop

SCRIPT = """Title: The Key

INT. WORKSHOP - NIGHT

MAYA (30s) polishes a brass key at the bench.

MAYA
It opens every door in town.

OLD TOM
(quietly)
Then keep it hidden.
"""
SETTINGS = {**SMALL, "style": "documentary", "music_genre": "none"}
COLOURS = ("red", "lime", "blue")  # the test clip: 0.5 s of each


def _open(desktop: Desktop, qtbot) -> tuple[str, StoryboardPage]:  # type: ignore[no-untyped-def]
    made = desktop.backend.create_project("The Key", SCRIPT, SETTINGS)
    desktop.window.open_project(made.project_id)
    page = desktop.window.storyboard
    qtbot.waitUntil(lambda: page.project_id == made.project_id and page.loads >= 1 and bool(page.cards), timeout=15_000)
    desktop.window.show_page("Storyboard")
    qtbot.waitUntil(lambda: page.tasks.pending == 0, timeout=15_000)
    return made.project_id, page


def _reloaded(page: StoryboardPage, qtbot, action) -> None:  # type: ignore[no-untyped-def]
    before = page.loads
    action()
    qtbot.waitUntil(lambda: page.loads > before and page.tasks.pending == 0, timeout=15_000)


def _edits(desktop: Desktop, pid: str) -> dict[str, dict[str, object]]:
    data = json.loads((desktop.home / "media" / pid / "storyboard.json").read_text(encoding="utf-8"))
    shots: dict[str, dict[str, object]] = data["shots"]
    return shots


def test_a_card_says_whether_it_moves_and_toggles_animate_still(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    pid, page = _open(desktop, qtbot)
    opening, talk = page.cards[1], page.cards[2]
    assert (opening.motion.text(), opening.motion.toolTip()) == (MOVING_TEXT, "establishing shot")
    assert (talk.motion.text(), talk.motion.toolTip()) == (STILL_TEXT, "not a key shot")
    assert talk.motion_button.text() == "Animate" and opening.motion_button.text() == "Still"
    assert page.motion_box.currentData() == "key" and page.motion_box.isEnabled()
    assert page.motion_summary.text().startswith("no video model: shots stay stills with camera moves")

    _reloaded(page, qtbot, lambda: qtbot.mouseClick(talk.motion_button, Qt.MouseButton.LeftButton))
    assert (talk.motion.text(), talk.motion.toolTip()) == (MOVING_TEXT, "your choice: moving")
    assert talk.motion_button.text() == "Still"
    assert _edits(desktop, pid)["2"]["motion"] is True
    _reloaded(page, qtbot, lambda: qtbot.mouseClick(talk.motion_button, Qt.MouseButton.LeftButton))
    assert (talk.motion.text(), talk.motion.toolTip()) == (STILL_TEXT, "your choice: still")
    assert _edits(desktop, pid)["2"]["motion"] is False
    assert opening.motion.text() == MOVING_TEXT  # the other card is as it was

    # The budget: no motion leaves every card still, in the project's settings (and the editor's copy).
    _reloaded(page, qtbot, lambda: page.motion_box.setCurrentIndex(page.motion_box.findData("none")))
    assert (opening.motion.text(), opening.motion.toolTip()) == (STILL_TEXT, "motion is off")
    assert talk.motion.toolTip() == "your choice: still"
    assert desktop.backend.get_project(pid).settings["motion"] == "none"
    assert desktop.window.editor.project is not None and desktop.window.editor.project.settings["motion"] == "none"
    assert page.motion_summary.text() == "motion is off: all 2 shots are stills with camera moves"


def _clip(path: Path) -> None:
    """Half a second each of red, green and blue at 12 fps: frames that tell the clip's time apart."""
    inputs: list[str] = []
    for colour in COLOURS:
        inputs += ["-f", "lavfi", "-i", f"color=c={colour}:s=96x54:r=12:d=0.5"]
    run_ffmpeg([*inputs, "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1[v]", "-map", "[v]", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mp4", str(path)])


def _colour(card: ShotCard) -> str | None:
    """Which of the clip's colours the card's picture box shows (None: no picture)."""
    pixmap = card.still.pixmap()
    if pixmap.isNull():
        return None
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
    c = image.pixelColor(image.width() // 2, image.height() // 2)
    rgb = (c.red(), c.green(), c.blue())
    return COLOURS[rgb.index(max(rgb))] if max(rgb) - min(rgb) > 100 else "grey"


def test_a_card_plays_its_clip_on_hover_and_stops_on_leave(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    pid, page = _open(desktop, qtbot)
    before = page.loads
    qtbot.mouseClick(page.render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.job is not None and page.loads > before and page.job.status in
                    ("completed", "failed", "cancelled"), timeout=240_000)
    assert page.job is not None and page.job.status == "completed", page.job
    # What a render with a video model leaves for the moving shot 1: its clip in the clips cache,
    # named in the film's manifest (`shot_clips`, beside `shot_stills`).
    clips = desktop.api.studio.cache_dir / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    name = "clip-" + "c1" * 16 + ".mp4"
    _clip(clips / name)
    video = desktop.backend.film_files(pid, chapters=False).video
    assert video is not None
    manifest = video.with_suffix(".manifest.json")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "shot_clips": {"1": name}}), encoding="utf-8")
    _reloaded(page, qtbot, page.reload)
    card, other = page.cards[1], page.cards[2]
    assert card.clip == clips / name and other.clip is None
    assert not card.playing and card.still.text() == NO_MODEL_TEXT

    QApplication.sendEvent(card, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    qtbot.waitUntil(lambda: card.playing, timeout=30_000)
    assert len(card.frames) == 18  # 1.5 s at the preview's 12 fps
    seen: list[str | None] = []
    qtbot.waitUntil(lambda: seen.append(_colour(card)) or {"red", "lime", "blue"} <= set(seen), timeout=30_000)
    # In the clip's order: red, then green, then blue (and round again).
    firsts = [c for i, c in enumerate(seen) if i == 0 or seen[i - 1] != c]
    assert firsts[:3] == ["red", "lime", "blue"], firsts

    QApplication.sendEvent(card, QEvent(QEvent.Type.Leave))
    assert not card.playing and card.still.pixmap().isNull() and card.still.text() == NO_MODEL_TEXT
    shown = card.frame
    qtbot.wait(300)
    assert card.frame == shown  # stopped: no frame advances
    QApplication.sendEvent(other, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    assert not other.playing  # a card without a clip shows its still
