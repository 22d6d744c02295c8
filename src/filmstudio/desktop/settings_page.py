"""The settings page and the app's preferences (QSettings): data folder, port, workers, defaults, theme."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from filmstudio.domain.settings import MOTION_BUDGETS, STYLES, VOICE_QUALITIES

THEMES = ("light", "dark")
MOTION_LABELS = {"none": "No motion", "key": "Key shots", "all": "All shots"}


@dataclass(frozen=True)
class Preferences:
    """What the user set on the settings page; read at launch, written on change."""

    data_dir: str = ""
    port: int = 8765
    workers: int = 1
    default_style: str = "cinematic"
    default_voice: str = "default"
    default_motion: str = "key"  # a new project's motion budget (RenderSettings.motion)
    theme: str = "light"

    @classmethod
    def load(cls, store: QSettings) -> Preferences:
        d = cls()
        return cls(
            data_dir=str(store.value("data_dir", d.data_dir)),
            port=int(store.value("port", d.port)),  # type: ignore[call-overload]
            workers=int(store.value("workers", d.workers)),  # type: ignore[call-overload]
            default_style=str(store.value("default_style", d.default_style)),
            default_voice=str(store.value("default_voice", d.default_voice)),
            default_motion=str(store.value("default_motion", d.default_motion)),
            theme=str(store.value("theme", d.theme)),
        )

    def save(self, store: QSettings) -> None:
        for key, value in self.__dict__.items():
            store.setValue(key, value)
        store.sync()


def apply_theme(app: QApplication, theme: str) -> None:
    """Fusion with a light or dark palette (the platform style ignores custom palettes on some desktops)."""
    app.setStyle("Fusion")
    if theme != "dark":
        app.setPalette(app.style().standardPalette())
        return
    p = QPalette()
    base, window, text, accent = QColor(37, 37, 40), QColor(48, 48, 52), QColor(230, 230, 230), QColor(66, 133, 244)
    for role, color in (
        (QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.ToolTipBase, window), (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.Highlight, accent),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)), (QPalette.ColorRole.Link, accent),
        (QPalette.ColorRole.PlaceholderText, QColor(150, 150, 150)),
    ):
        p.setColor(role, color)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 120, 120))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 120, 120))
    app.setPalette(p)


class SettingsPage(QWidget):
    """Edits Preferences; theme applies at once, folder/port/workers at the next launch."""

    changed = Signal(object)  # Preferences

    def __init__(self, prefs: Preferences, current_home: Path, parent: QWidget | None = None,
                 connect_youtube: Callable[[Path], None] | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.connect_youtube = connect_youtube  # runs the sign-in off the GUI thread and reports back
        self.youtube_button = QPushButton("Connect YouTube…")
        self.youtube_button.setObjectName("connectYouTube")
        self.youtube_button.setToolTip("Choose the client_secrets.json of your Google Cloud OAuth client "
                                       "(README: Publish to YouTube), then sign in in your browser")
        self.youtube_button.setEnabled(connect_youtube is not None)
        self.youtube_button.clicked.connect(self._connect_youtube)
        self.youtube_status = QLabel("")
        self.youtube_status.setWordWrap(True)
        self.data_dir = QLineEdit(prefs.data_dir or str(current_home))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder = QHBoxLayout()
        folder.addWidget(self.data_dir, 1)
        folder.addWidget(browse)
        self.port = QSpinBox(minimum=1024, maximum=65535, value=prefs.port)
        self.workers = QSpinBox(minimum=0, maximum=8, value=prefs.workers)
        self.style_box = QComboBox()
        self.style_box.addItems(list(STYLES))
        self.style_box.setCurrentText(prefs.default_style)
        self.voice = QComboBox()
        self.voice.addItems(list(VOICE_QUALITIES))
        self.voice.setCurrentText(prefs.default_voice)
        self.motion = QComboBox()
        self.motion.setObjectName("defaultMotion")
        for budget in MOTION_BUDGETS:
            self.motion.addItem(MOTION_LABELS[budget], budget)
        self.motion.setCurrentIndex(max(0, self.motion.findData(prefs.default_motion)))
        self.motion.setToolTip("Which shots of a new project a video model animates (each project's Storyboard "
                               "page changes its own; without a video model every shot is a still)")
        self.theme = QComboBox()
        self.theme.setObjectName("themeBox")
        self.theme.addItems(list(THEMES))
        self.theme.setCurrentText(prefs.theme)
        form = QFormLayout()
        form.addRow("Data folder", folder)
        form.addRow("API port", self.port)
        form.addRow("Render workers", self.workers)
        form.addRow("Default style", self.style_box)
        form.addRow("Default voice", self.voice)
        form.addRow("Default motion", self.motion)
        form.addRow("Theme", self.theme)
        form.addRow("YouTube", self.youtube_button)
        form.addRow("", self.youtube_status)
        note = QLabel("The data folder, port and workers take effect the next time FilmStudio starts.")
        note.setWordWrap(True)
        shortcuts = QLabel("Shortcuts: Ctrl+N new project · Ctrl+S save · Ctrl+Enter generate · "
                           "Space play/pause (preview)")
        shortcuts.setWordWrap(True)
        form_box = QWidget()
        form_box.setLayout(form)
        form_box.setMaximumWidth(720)
        layout = QVBoxLayout(self)
        layout.addWidget(form_box)
        layout.addWidget(note)
        layout.addWidget(shortcuts)
        layout.addStretch(1)
        self.data_dir.editingFinished.connect(self._emit)
        for box in (self.port, self.workers):
            box.valueChanged.connect(self._emit)
        for combo in (self.style_box, self.voice, self.motion, self.theme):
            combo.currentTextChanged.connect(self._emit)

    def _connect_youtube(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "OAuth client secrets", "", "JSON (*.json)")
        if chosen and self.connect_youtube is not None:
            self.youtube_status.setText("Sign in to Google in your browser…")
            self.connect_youtube(Path(chosen))

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir.text())
        if chosen:
            self.data_dir.setText(chosen)
            self._emit()

    def _emit(self, *_: object) -> None:
        self.prefs = replace(self.prefs, data_dir=self.data_dir.text().strip(), port=self.port.value(),
                             workers=self.workers.value(), default_style=self.style_box.currentText(),
                             default_voice=self.voice.currentText(), default_motion=str(self.motion.currentData()),
                             theme=self.theme.currentText())
        self.changed.emit(self.prefs)
