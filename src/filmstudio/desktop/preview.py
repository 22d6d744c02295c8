"""The preview page: the finished film with play/pause, seek, volume, subtitles, chapters, export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLocale, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtMultimedia import QAudioOutput, QMediaMetaData, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import FilmFiles, StudioBackend, error_text
from filmstudio.desktop.publish_dialog import PublishDialog
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.widgets import show_error
from filmstudio.domain.settings import LANGUAGES


def language_code(value: object) -> str:
    """ISO 639-1 code for the QLocale.Language the player reports for a track ("" if unknown)."""
    if value is None:
        return ""
    try:
        lang = value if isinstance(value, QLocale.Language) else QLocale.Language(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(value)
    code = QLocale(lang).name().split("_")[0]
    return "" if code in ("C", "") else code


def clock(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"{s // 60}:{s % 60:02d}"


class PreviewPage(QWidget):
    """Plays a project's latest film."""

    loaded = Signal(str)  # project id, once the media is ready
    export_progress = Signal(int, int)  # bytes done, total (0: unknown); emitted from the export's thread

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.tasks = tasks
        self.project_id: str | None = None
        self.subtitle_choice: str | None = None  # the language last chosen; kept from film to film
        self.files: FilmFiles | None = None
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.player.setAudioOutput(self.audio)
        self.video = QVideoWidget()
        self.video.setMinimumSize(320, 180)
        self.player.setVideoOutput(self.video)

        self.heading = QLabel("Nothing to preview yet: generate a film from the editor.")
        self.heading.setObjectName("previewHeading")
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("playButton")
        self.seek = QSlider(Qt.Orientation.Horizontal)
        self.seek.setObjectName("seekSlider")
        self.time = QLabel("0:00 / 0:00")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMaximumWidth(100)
        self.audio.setVolume(0.8)
        self.subtitle_box = QComboBox()
        self.subtitle_box.setObjectName("subtitleTracks")
        self.subtitle_box.setMinimumContentsLength(10)
        self.chapter_box = QComboBox()
        self.chapter_box.setObjectName("chapters")
        self.chapter_box.setMinimumContentsLength(16)
        self.open_button = QPushButton("Open folder")
        self.export_button = QPushButton("Export…")
        self.publish_button = QPushButton("Publish…")
        self.publish_button.setObjectName("publishButton")
        self.publish_button.setToolTip("Publish the film (to YouTube: with its captions, chapters and thumbnail): "
                                       "title, description, tags, privacy and schedule first")
        self.publish_dialog: PublishDialog | None = None
        self.message = QLabel("")
        self.message.setWordWrap(True)

        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.seek, 1)
        controls.addWidget(self.time)
        controls.addWidget(QLabel("Volume"))
        controls.addWidget(self.volume)
        extras = QHBoxLayout()
        extras.addWidget(QLabel("Subtitles"))
        extras.addWidget(self.subtitle_box)
        extras.addWidget(QLabel("Chapter"))
        extras.addWidget(self.chapter_box, 1)
        extras.addWidget(self.open_button)
        extras.addWidget(self.export_button)
        bottom = QHBoxLayout()  # its own row: the extras row already sets the window's minimum width
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.publish_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.video, 1)
        layout.addLayout(controls)
        layout.addLayout(extras)
        layout.addLayout(bottom)

        self.play_button.clicked.connect(self.toggle)
        self.seek.sliderMoved.connect(self.player.setPosition)
        self.volume.valueChanged.connect(lambda v: self.audio.setVolume(v / 100))
        self.player.durationChanged.connect(self._duration)
        self.player.positionChanged.connect(self._position)
        self.player.playbackStateChanged.connect(self._state)
        self.player.tracksChanged.connect(self._tracks)
        self.player.mediaStatusChanged.connect(self._status)
        self.player.errorOccurred.connect(lambda _e, text: self.message.setText(f"The film cannot be played: {text}"))
        self.subtitle_box.activated.connect(self._choose_subtitles)
        self.chapter_box.activated.connect(self._choose_chapter)
        self.open_button.clicked.connect(self.open_folder)
        self.export_button.clicked.connect(self.export)
        self.publish_button.clicked.connect(self.publish)
        self.export_progress.connect(self._export_progress)
        self._set_enabled(False)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.play_button, self.seek, self.subtitle_box, self.chapter_box, self.open_button,
                  self.export_button, self.publish_button):
            w.setEnabled(on)

    def show_project(self, project_id: str, title: str = "") -> None:
        self.project_id = project_id
        self.player.stop()
        self.message.setText("")

        def found(files: FilmFiles) -> None:
            if project_id != self.project_id:
                return
            self.files = files
            if not files.has_film:
                self.heading.setText(f"“{title}” has no film yet: press Generate in the editor.")
                self.player.setSource(QUrl())
                self._set_enabled(False)
                return
            local = files.video is not None and files.video.exists()
            self.heading.setText(title or (files.video.name if local and files.video else "Film"))
            self.chapter_box.clear()
            for start, name in files.chapters:
                self.chapter_box.addItem(f"{clock(int(start * 1000))}  {name}", start)
            # A remote studio's film streams from its signed link (Range requests, no key needed).
            self.player.setSource(QUrl.fromLocalFile(str(files.video)) if local else QUrl(files.video_url or ""))
            self._set_enabled(True)
            self.open_button.setEnabled(local)

        self.tasks.run(lambda: self.backend.film_files(project_id), found,
                       lambda e: show_error(self.message, e))

    def toggle(self) -> None:
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        elif not self.player.source().isEmpty():
            self.player.play()

    def subtitle_languages(self) -> list[str]:
        """Languages of the subtitle tracks the player found in the file."""
        out = []
        for meta in self.player.subtitleTracks():
            out.append(language_code(meta.value(QMediaMetaData.Key.Language)))
        return out

    def _tracks(self) -> None:
        self.subtitle_box.clear()
        self.subtitle_box.addItem("Off", -1)
        for i, code in enumerate(self.subtitle_languages()):
            name = LANGUAGES[code].name if code in LANGUAGES else code
            self.subtitle_box.addItem(f"{name} ({code})" if code else f"Track {i + 1}", i)
        self.subtitle_box.setCurrentIndex(0)
        if self.subtitle_choice:
            found = [i for i, code in enumerate(self.subtitle_languages()) if code == self.subtitle_choice]
            if found:
                self.subtitle_box.setCurrentIndex(found[0] + 1)
                self.player.setActiveSubtitleTrack(found[0])

    def _status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.LoadedMedia and self.project_id:
            self.loaded.emit(self.project_id)

    def _choose_subtitles(self, index: int) -> None:
        track = int(self.subtitle_box.itemData(index))
        self.player.setActiveSubtitleTrack(track)
        langs = self.subtitle_languages()
        self.subtitle_choice = langs[track] if 0 <= track < len(langs) else None

    def _choose_chapter(self, index: int) -> None:
        start = self.chapter_box.itemData(index)
        if start is not None:
            self.player.setPosition(int(float(start) * 1000))

    def _duration(self, ms: int) -> None:
        self.seek.setRange(0, ms)
        self._position(self.player.position())

    def _position(self, ms: int) -> None:
        if not self.seek.isSliderDown():
            self.seek.setValue(ms)
        self.time.setText(f"{clock(ms)} / {clock(self.player.duration())}")
        # The chapter box follows playback (the last chapter that started at or before `ms`).
        current = -1
        for i in range(self.chapter_box.count()):
            if float(self.chapter_box.itemData(i)) * 1000 <= ms + 1:
                current = i
        if current >= 0 and current != self.chapter_box.currentIndex():
            self.chapter_box.setCurrentIndex(current)

    def _state(self, state: QMediaPlayer.PlaybackState) -> None:
        self.play_button.setText("Pause" if state == QMediaPlayer.PlaybackState.PlayingState else "Play")

    def open_folder(self) -> None:
        if self.files and self.files.video:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.files.video.parent)))

    def export(self) -> None:
        if not (self.files and self.files.has_film):
            return
        target, _ = QFileDialog.getSaveFileName(self, "Export film", str(Path.home() / "film.mp4"), "MP4 (*.mp4)")
        if target:
            self.export_to(Path(target))

    def export_to(self, target: Path) -> None:
        """The film, its SRT and VTT subtitles and its thumbnail beside `target`, off the GUI thread.

        A remote film is downloaded (resumably); the message line shows how far it has got.
        """
        project_id = self.project_id
        if not (project_id and self.files and self.files.has_film):
            return

        def progress(done: int, total: int | None) -> None:
            self.export_progress.emit(done, total or 0)

        self.tasks.run(lambda: self.backend.export_film(project_id, target, progress),
                       lambda p: self.message.setText(f"Exported to {p}"),
                       lambda e: self.message.setText(f"The export failed: {error_text(e)}"))

    def _export_progress(self, done: int, total: int) -> None:
        if total:
            self.message.setText(f"Exporting… {done * 100 // total} % of {total / 1e6:.1f} MB")

    def publish(self) -> None:
        """The Publish dialog for this film: target, title, description, tags, privacy, schedule; then its progress."""
        project_id = self.project_id
        if not project_id:
            return
        self.message.setText("")
        self.publish_dialog = PublishDialog(self.backend, self.tasks, project_id, self)
        self.publish_dialog.show()
