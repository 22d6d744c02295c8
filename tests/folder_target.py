"""A test-only publish target: copies the film, its thumbnail and subtitles into a folder.

It shows that a publish target is one module and one registration (`build_server(targets=...)` here;
a shipped target's line goes in `app/compose.py` `publish_targets`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from filmstudio.pipeline.context import CancelToken
from filmstudio.services.targets import (
    Accepted,
    Destination,
    FilmFiles,
    PublishProgress,
    PublishResult,
    parse_options,
)


class FolderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="published", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    folder: str | None = None  # pinned by `destination`: <root>/<account>/<name>


@dataclass(frozen=True)
class FolderTarget:
    root: Path

    def parse(self, options: Mapping[str, Any]) -> BaseModel:
        return parse_options(FolderOptions, options, "folder")

    def destination(self, account_id: str, options: BaseModel) -> Accepted:
        assert isinstance(options, FolderOptions)
        folder = self.root / account_id / options.name
        return Accepted(options.model_copy(update={"folder": str(folder)}), Destination(str(folder), options.name))

    def check(self, film: FilmFiles, options: BaseModel) -> None:
        return None  # a folder takes any film

    def run(self, film: FilmFiles, options: BaseModel, state: dict[str, Any], save: Callable[[], None],
            cancel: CancelToken, progress: PublishProgress) -> PublishResult:
        assert isinstance(options, FolderOptions) and options.folder
        folder = Path(options.folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = [film.video, *([film.thumbnail] if film.thumbnail else []), *film.subtitles.values()]
        done: list[str] = state.setdefault("copied", [])
        for i, path in enumerate(files):
            cancel.raise_if_cancelled()
            if path.name not in done:
                shutil.copyfile(path, folder / path.name)
                done.append(path.name)
                save()
            progress.report("copy", (i + 1) / len(files))
        return PublishResult(url=(folder / film.video.name).as_uri(), ref=str(folder), details={"files": sorted(done)})
