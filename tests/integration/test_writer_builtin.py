"""The built-in writer end to end, offline: a tiny Qwen2 built from config, served by the fake hub,
pulled by the model manager, chosen by kind by the composition root, run by transformers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from fakehub import FakeHub, model_toml
from filmstudio.app.compose import writer_engine
from filmstudio.config import load_settings
from filmstudio.domain.errors import FilmStudioError
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import ChatMessage, Completion
from filmstudio.pipeline.models.catalogue import load_catalogue
from filmstudio.pipeline.models.download import pull
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.providers.writer_builtin import BuiltinWriter
from filmstudio.pipeline.providers.writer_server import ServerWriter
from filmstudio.pipeline.writer import Brief, write_screenplay
from tiny_sd import folder_files
from tiny_writer import build_tiny_writer


@pytest.fixture(scope="module")
def studio_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A studio home whose models folder holds the tiny writer, pulled from the fake hub."""
    root = tmp_path_factory.mktemp("writer-home")
    files = folder_files(build_tiny_writer(root / "built"))
    catalogue = root / "catalogue.toml"
    catalogue.write_text(model_toml("tiny-writer", "test/tiny-writer", files)
                         .replace('kind = "voice"', 'kind = "writer"').replace('engine = "piper"', 'engine = "transformers"'),
                         encoding="utf-8")
    # The same files pulled as a model of another kind, into a second home.
    (root / "other.toml").write_text(model_toml("tiny-lookalike", "test/tiny-writer", files)
                                     .replace('kind = "voice"', 'kind = "video"')
                                     .replace('engine = "piper"', 'engine = "transformers"'), encoding="utf-8")
    with FakeHub(repos={"test/tiny-writer": files}) as hub:
        pull(load_catalogue(catalogue).get("tiny-writer"), ModelLibrary(root / "home" / "models"),
             endpoint=hub.endpoint)
        pull(load_catalogue(root / "other.toml").get("tiny-lookalike"), ModelLibrary(root / "other" / "models"),
             endpoint=hub.endpoint)
    return root


def _settings(root: Path, **overrides: object) -> object:
    return load_settings({}, home=root / "home", model_catalogue=root / "catalogue.toml", **overrides)


def test_the_composition_root_picks_the_pulled_writer_by_kind(studio_home: Path) -> None:
    engine = writer_engine(_settings(studio_home))  # type: ignore[arg-type]
    assert isinstance(engine, BuiltinWriter) and engine.model_id == "tiny-writer"
    assert engine.info().kind == "writer" and engine.info().ok
    # A server address set explicitly wins over the built-in model; "server" forces it.
    assert isinstance(writer_engine(_settings(studio_home, writer_url="http://127.0.0.1:9/v1")), ServerWriter)  # type: ignore[arg-type]
    assert isinstance(writer_engine(_settings(studio_home, writer="server")), ServerWriter)  # type: ignore[arg-type]
    # A model of another kind is never loaded as the writer.
    other = load_settings({}, home=studio_home / "other", model_catalogue=studio_home / "other.toml")
    assert (studio_home / "other" / "models" / "tiny-lookalike" / "config.json").is_file()
    assert isinstance(writer_engine(other), ServerWriter)


def test_its_noise_streams_and_fails_the_repair_loop_cleanly(studio_home: Path) -> None:
    engine = writer_engine(_settings(studio_home))  # type: ignore[arg-type]
    seen: list[tuple[int, str]] = []
    with pytest.raises(FilmStudioError) as err:
        write_screenplay(engine, Brief("A keeper and her lamp on the last night.", duration=20),  # type: ignore[arg-type]
                         cancel=CancelToken(), options=Completion(max_tokens=40, temperature=0.8, seed=3),
                         on_text=lambda n, d: seen.append((n, d)))
    assert err.value.code == "WRITER_FAILED" and err.value.details["rounds"] == 3
    assert {n for n, _ in seen} == {1, 2, 3} and sum(len(d) for _, d in seen) > 0  # every round streamed


def test_the_same_seed_writes_the_same_text(studio_home: Path) -> None:
    engine = writer_engine(_settings(studio_home))
    turns = [ChatMessage("system", "Write."), ChatMessage("user", "A lighthouse.")]
    a = engine.complete(turns, Completion(max_tokens=30, temperature=0.9, seed=7), cancel=CancelToken())
    b = engine.complete(turns, Completion(max_tokens=30, temperature=0.9, seed=7), cancel=CancelToken())
    assert a == b and a


def test_cancel_stops_the_generation(studio_home: Path) -> None:
    engine = writer_engine(_settings(studio_home))
    cancel = CancelToken()
    pieces: list[str] = []

    def stream(delta: str) -> None:
        pieces.append(delta)
        if len(pieces) == 2:
            threading.Thread(target=cancel.cancel).start()

    with pytest.raises(FilmStudioError) as err:
        engine.complete([ChatMessage("user", "Write a long film.")], Completion(max_tokens=3000, temperature=0.9),
                        cancel=cancel, stream=stream)
    assert err.value.code == "JOB_CANCELLED"
    assert len("".join(pieces)) < 3000 * 4  # stopped long before the token limit's worth of text
