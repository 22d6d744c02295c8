"""Settings: preferences persist, the dark theme applies at once, geometry is remembered."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from filmstudio.desktop.app import app_settings, build_window
from filmstudio.desktop.settings_page import Preferences, apply_theme
from gui.conftest import Desktop


def test_theme_prefs_and_geometry_persist(desktop: Desktop, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = desktop.window
    window.show_page("Settings")
    page = window.settings_page
    app = QApplication.instance()
    light_window = app.palette().color(QPalette.ColorRole.Window).lightness()
    page.theme.setCurrentText("dark")
    dark_window = app.palette().color(QPalette.ColorRole.Window).lightness()
    assert dark_window < 80 < light_window
    assert window.editor.script.highlighter.formats["heading"].foreground().color().name() == "#e0a040"
    page.port.setValue(9123)
    page.workers.setValue(2)

    window.resize(790, 770)
    assert (window.width(), window.height()) == (790, 770)
    window.close()
    stored = app_settings(tmp_path / "app.ini")
    prefs = Preferences.load(stored)
    assert (prefs.theme, prefs.port, prefs.workers) == ("dark", 9123, 2)

    again = build_window(desktop.backend, stored)
    qtbot.addWidget(again)
    assert again.settings_page.theme.currentText() == "dark"
    assert again.settings_page.port.value() == 9123
    assert (again.width(), again.height()) == (790, 770)
    again.close()
    apply_theme(app, "light")
