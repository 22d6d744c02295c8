"""Local drafts: the editor's text on this computer until the studio has acknowledged saving it.

One JSON file per (studio, project) under `<app data>/drafts/<studio folder>/<project id>.json`,
written atomically each time the editor sends a save and removed when the studio answers it. A
draft still there when the project is opened again (the save failed, the app or the Wi-Fi died,
a conflict was left unresolved) is offered back by the editor.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from filmstudio.desktop.studios import studio_folder


@dataclass(frozen=True)
class Draft:
    """The form's values as typed, and which stored version of the project they were typed over."""

    project_id: str
    title: str
    script: str
    settings: dict[str, Any] = field(default_factory=dict)
    base_updated_at: str = ""  # the project's updated_at when the user started typing over it
    saved_at: float = 0.0  # time.time() when the draft was written

    def differs_from(self, title: str, script: str) -> bool:
        return self.title != title or self.script != script

    @property
    def age_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))


class DraftStore:
    """Drafts of one studio's projects (`folder` is that studio's own drafts folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def for_studio(cls, data_dir: Path, url: str) -> DraftStore:
        return cls(data_dir / "drafts" / studio_folder(url))

    def _path(self, project_id: str) -> Path:
        safe = "".join(c for c in project_id if c.isalnum() or c in "-_")
        return self.folder / f"{safe or 'project'}.json"

    def write(self, draft: Draft) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(draft.project_id)
        tmp = path.with_suffix(".tmp")
        data = asdict(draft) | {"saved_at": draft.saved_at or time.time()}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def read(self, project_id: str) -> Draft | None:
        path = self._path(project_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Draft(**{k: data[k] for k in Draft.__dataclass_fields__ if k in data})
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def clear(self, project_id: str) -> None:
        self._path(project_id).unlink(missing_ok=True)

    def projects(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.exists() else []


class DraftBar(QWidget):
    """"A draft the studio never received is kept": Restore it, or Discard it."""

    restore = Signal()
    discard = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("draftBar")
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.restore_button = QPushButton("Restore draft")
        self.restore_button.setObjectName("restoreDraft")
        self.discard_button = QPushButton("Discard draft")
        self.discard_button.setObjectName("discardDraft")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(self.restore_button)
        row.addWidget(self.discard_button)
        self.restore_button.clicked.connect(self.restore)
        self.discard_button.clicked.connect(self.discard)
        self.hide()

    def offer(self, draft: Draft) -> None:
        self.text.setText(f"Your edits from {draft.age_text} never reached the studio; they are kept on this "
                          "computer. Restore them into the editor, or discard them?")
        self.show()


class ConflictBar(QWidget):
    """The project changed on the studio since it was opened: Reload theirs, or Overwrite with yours."""

    reload = Signal()
    overwrite = Signal()

    MESSAGE = ("This project was changed on the studio by someone else since you opened it: your text is "
               "kept; Reload to see theirs or Overwrite to keep yours.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictBar")
        self.text = QLabel(self.MESSAGE)
        self.text.setObjectName("conflictMessage")
        self.text.setWordWrap(True)
        self.text.setStyleSheet("color: #c07000;")
        self.reload_button = QPushButton("Reload")
        self.reload_button.setObjectName("conflictReload")
        self.overwrite_button = QPushButton("Overwrite")
        self.overwrite_button.setObjectName("conflictOverwrite")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(self.reload_button)
        row.addWidget(self.overwrite_button)
        self.reload_button.clicked.connect(self.reload)
        self.overwrite_button.clicked.connect(self.overwrite)
        self.hide()


def conflict_project(exc: BaseException) -> Any:
    """The studio's current project when `exc` is a stale save (412 PRECONDITION_FAILED), else None.

    Only the remote backend raises it (`ProjectConflict`, carrying the server's project); a bare
    envelope error with that code still counts, with no project to show.
    """
    if getattr(exc, "code", None) != "PRECONDITION_FAILED":
        return None
    for name in ("current", "project", "server_project"):
        found = getattr(exc, name, None)
        if found is not None:
            return found
    return False  # a conflict, but the server's version is not known: Reload fetches it
