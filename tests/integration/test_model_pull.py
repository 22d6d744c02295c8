"""Pulls through the real huggingface_hub client against a fake hub on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakehub import COMMIT, FakeHub, model_toml
from filmstudio.domain.errors import (
    Cancelled,
    DiskFull,
    ModelCorrupt,
    ModelDownloadFailed,
    ModelPullInProgress,
)
from filmstudio.pipeline.models.catalogue import Catalogue, ModelEntry, load_catalogue
from filmstudio.pipeline.models.download import CHUNK_BYTES, pull
from filmstudio.pipeline.models.library import MANIFEST, ModelLibrary

REPO_ROOT = Path(__file__).resolve().parents[2]
BIG = "voice/test-medium.onnx"
SMALL = "voice/test-medium.onnx.json"
FILES = {BIG: os.urandom(5 * CHUNK_BYTES + 1234), SMALL: b'{"audio": {"sample_rate": 22050}}'}


def _catalogue(tmp_path: Path, files: dict[str, bytes] = FILES, **kw: object) -> Catalogue:
    path = tmp_path / "catalogue.toml"
    path.write_text(model_toml("test-voice", "test/voice", files, **kw), encoding="utf-8")  # type: ignore[arg-type]
    return load_catalogue(path)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(repos={"test/voice": dict(FILES)}) as fake:
        yield fake


@pytest.fixture
def entry(tmp_path: Path) -> ModelEntry:
    return _catalogue(tmp_path).get("test-voice")


def test_pull_installs_and_verifies(hub: FakeHub, entry: ModelEntry, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    seen: list[tuple[int, int, float]] = []
    path = pull(entry, library, endpoint=hub.endpoint, progress=lambda d, t, r: seen.append((d, t, r)))
    assert path == tmp_path / "models" / "test-voice"
    assert (path / BIG).read_bytes() == FILES[BIG] and (path / SMALL).read_bytes() == FILES[SMALL]
    assert [m.id for m in library.installed()] == ["test-voice"]
    assert [r.code for r in library.verify()] == ["OK"]
    total = sum(map(len, FILES.values()))
    assert seen[-1][:2] == (total, total) and all(t == total for _, t, _ in seen)
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen) and seen[-1][2] > 0
    # The revision is pinned in every URL; each file asked once, whole.
    assert {r.method for r in hub.requests} == {"HEAD", "GET"}
    assert [r.range for r in hub.gets(BIG)] == [None]
    assert not list((tmp_path / "models" / ".staging").glob("test-voice/**/*.part"))
    # Already installed: nothing more is fetched.
    before = len(hub.requests)
    assert pull(entry, library, endpoint=hub.endpoint) == path and len(hub.requests) == before


def test_lfs_files_come_from_the_cdn_without_the_token(hub: FakeHub, entry: ModelEntry, tmp_path: Path) -> None:
    hub.lfs_via_cdn = True
    path = pull(entry, ModelLibrary(tmp_path / "models"), endpoint=hub.endpoint, token="hf_not_a_real_token")
    assert (path / BIG).read_bytes() == FILES[BIG]
    heads = [r for r in hub.requests if r.method == "HEAD"]
    gets = [r for r in hub.requests if r.method == "GET"]
    assert heads and all(r.authorized and r.status == 302 for r in heads)
    assert gets and all(r.revision == "" and not r.authorized for r in gets)  # CDN: no Authorization


def test_hf_endpoint_variable_is_honoured(hub: FakeHub, entry: ModelEntry, tmp_path: Path) -> None:
    """HF_ENDPOINT is read once, into the settings (an entry point's), and handed to the pull."""
    from filmstudio.config import load_settings

    settings = load_settings({"FILMSTUDIO_HOME": str(tmp_path), "HF_ENDPOINT": hub.endpoint})
    pull(entry, ModelLibrary(settings.models_dir), endpoint=settings.pull_endpoint)
    assert hub.gets(BIG)


def test_resume_after_the_connection_is_cut(hub: FakeHub, entry: ModelEntry, tmp_path: Path) -> None:
    cut = 2 * CHUNK_BYTES + 5000
    hub.cut_after[BIG] = cut
    path = pull(entry, ModelLibrary(tmp_path / "models"), endpoint=hub.endpoint)
    assert (path / BIG).read_bytes() == FILES[BIG]
    first, second = hub.gets(BIG)
    assert first.range is None and first.bytes_sent == cut
    # The client kept what it had written and asked only for the rest.
    assert second.range is not None and second.status == 206
    kept = int(second.range.removeprefix("bytes=").rstrip("-"))
    assert 0 < kept <= cut and second.bytes_sent == len(FILES[BIG]) - kept


def test_checksum_mismatch_installs_nothing(tmp_path: Path) -> None:
    served = dict(FILES)
    served[BIG] = FILES[BIG][:-1] + bytes([FILES[BIG][-1] ^ 0xFF])  # same size, one byte differs
    library = ModelLibrary(tmp_path / "models")
    with FakeHub(repos={"test/voice": served}) as fake, pytest.raises(ModelCorrupt) as err:
        pull(_catalogue(tmp_path).get("test-voice"), library, endpoint=fake.endpoint)
    assert err.value.code == "MODEL_CORRUPT" and err.value.details["file"] == BIG
    assert library.installed() == [] and not (tmp_path / "models" / "test-voice").exists()
    staged = library.staging_dir("test-voice")
    assert not (staged / BIG).exists() and not (staged / (BIG + ".part")).exists()


def test_first_download_hash_is_checked_on_the_next_download(tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    entry = _catalogue(tmp_path, checksums=False).get("test-voice")  # no published sha256
    with FakeHub(repos={"test/voice": dict(FILES)}) as fake:
        pull(entry, library, endpoint=fake.endpoint)
    assert library.remove("test-voice")
    changed = {**FILES, SMALL: b'{"audio": {"sample_rate": 16000}}'}
    with FakeHub(repos={"test/voice": changed}) as fake, pytest.raises(ModelCorrupt):
        pull(entry, library, endpoint=fake.endpoint)
    assert library.installed() == []


def test_catalogue_size_bigger_than_free_space_is_refused_up_front(hub: FakeHub, tmp_path: Path) -> None:
    free = __import__("shutil").disk_usage(tmp_path).free
    entry = _catalogue(tmp_path, size_override={BIG: free + 10**9}).get("test-voice")
    with pytest.raises(DiskFull) as err:
        pull(entry, ModelLibrary(tmp_path / "models"), endpoint=hub.endpoint)
    assert err.value.details["needed_bytes"] > err.value.details["available_bytes"]
    assert hub.requests == []


def test_cancel_keeps_nothing_installed_and_the_next_pull_resumes(hub: FakeHub, entry: ModelEntry,
                                                                  tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")

    class Flag:  # the job system's cancel token shape: asked between files and after every chunk
        asked = 0

        @property
        def cancelled(self) -> bool:
            self.asked += 1
            return self.asked > 5  # 2 HEADs, the first file, then its second chunk

    with pytest.raises(Cancelled):
        pull(entry, library, endpoint=hub.endpoint, cancel=Flag())
    assert library.installed() == [] and library.path("test-voice") is None
    part = library.staging_dir("test-voice") / (BIG + ".part")
    have = part.stat().st_size
    assert 0 < have < len(FILES[BIG])
    pull(entry, library, endpoint=hub.endpoint, cancel=lambda: False)
    assert library.verify()[0].ok
    assert hub.gets(BIG)[-1].range == f"bytes={have}-"
    assert hub.gets(BIG)[-1].bytes_sent == len(FILES[BIG]) - have


def test_a_branch_revision_is_pinned_to_the_commit_it_resolves_to(hub: FakeHub, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    entry = _catalogue(tmp_path, revision="main").get("test-voice")
    path = pull(entry, library, endpoint=hub.endpoint)
    # The first answer names the commit; every later request asks for that commit.
    assert [r.revision for r in hub.requests] == ["main"] + [COMMIT] * (len(hub.requests) - 1)
    assert json.loads((path / MANIFEST).read_text())["commit"] == COMMIT
    assert library.recorded_commit(entry) == COMMIT
    library.remove("test-voice")
    hub.requests.clear()
    pull(entry, library, endpoint=hub.endpoint)
    assert {r.revision for r in hub.requests} == {COMMIT}


def test_staged_bytes_of_another_revision_are_not_reused(hub: FakeHub, entry: ModelEntry, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    staging = library.staging_dir("test-voice")
    (staging / "voice").mkdir(parents=True)
    (staging / SMALL).write_bytes(b"from an older revision")
    (staging / ".pull.json").write_text(json.dumps({"revision": "f" * 40}))
    path = pull(entry, library, endpoint=hub.endpoint)
    assert (path / SMALL).read_bytes() == FILES[SMALL] and not (path / ".pull.json").exists()


def test_a_second_pull_of_the_same_model_is_refused_while_one_runs(hub: FakeHub, entry: ModelEntry,
                                                                     tmp_path: Path) -> None:
    hub.stall_after[BIG] = CHUNK_BYTES
    library = ModelLibrary(tmp_path / "models")
    first = threading.Thread(target=lambda: pull(entry, library, endpoint=hub.endpoint), daemon=True)
    first.start()
    deadline = time.monotonic() + 20
    while not hub.gets(BIG) and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(ModelPullInProgress):
        pull(entry, library, endpoint=hub.endpoint)
    hub._released.set()  # let the first one finish (its stalled GET ends, it resumes, installs)
    first.join(30)
    assert library.verify()[0].ok


def test_an_optional_file_the_hub_lacks_is_skipped(hub: FakeHub, tmp_path: Path) -> None:
    listed = tmp_path / "catalogue.toml"
    text = model_toml("test-voice", "test/voice", {**FILES, "voice/extra.txt": b"not on the hub"}, checksums=False)
    listed.write_text(text.replace('path = "voice/extra.txt", size = 14', 'path = "voice/extra.txt", size = 14, optional = true'))
    library = ModelLibrary(tmp_path / "models")
    path = pull(load_catalogue(listed).get("test-voice"), library, endpoint=hub.endpoint)
    assert not (path / "voice" / "extra.txt").exists() and (path / BIG).exists()
    assert set(library.get("test-voice").files) == set(FILES)  # type: ignore[union-attr]
    assert library.verify(catalogue=load_catalogue(listed))[0].ok


def test_missing_file_on_the_hub_is_a_download_error(tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    with FakeHub(repos={"test/voice": {BIG: FILES[BIG]}}) as fake, pytest.raises(ModelDownloadFailed) as err:
        pull(_catalogue(tmp_path).get("test-voice"), library, endpoint=fake.endpoint)
    assert err.value.code == "MODEL_DOWNLOAD_FAILED" and err.value.details["file"] == SMALL
    assert library.installed() == []


_CHILD = """
import sys
from pathlib import Path
from filmstudio.pipeline.models.catalogue import load_catalogue
from filmstudio.pipeline.models.download import pull
from filmstudio.pipeline.models.library import MANIFEST, ModelLibrary
catalogue, root, endpoint = sys.argv[1:4]
pull(load_catalogue(Path(catalogue)).get("test-voice"), ModelLibrary(Path(root)), endpoint=endpoint)
"""


@pytest.mark.timeout(120)
def test_kill_9_mid_pull_then_a_new_pull_resumes(hub: FakeHub, tmp_path: Path) -> None:
    entry = _catalogue(tmp_path).get("test-voice")
    root = tmp_path / "models"
    hub.stall_after[BIG] = 3 * CHUNK_BYTES + 100  # then hang, so the kill lands mid-file
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT / "tests")])}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path / "catalogue.toml"), str(root),
                              hub.endpoint], env=env)
    part = ModelLibrary(root).staging_dir("test-voice") / (BIG + ".part")
    deadline = time.monotonic() + 60
    while (not part.exists() or part.stat().st_size < 3 * CHUNK_BYTES) and time.monotonic() < deadline:
        assert child.poll() is None, "the pull ended before it could be killed"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(10) == -signal.SIGKILL
    have = part.stat().st_size
    assert have == 3 * CHUNK_BYTES
    library = ModelLibrary(root)
    assert library.installed() == []

    path = pull(entry, library, endpoint=hub.endpoint)  # the lock died with the child
    assert (path / BIG).read_bytes() == FILES[BIG] and library.verify()[0].ok
    first, second = hub.gets(BIG)
    assert first.range is None and second.range == f"bytes={have}-"
    assert second.bytes_sent == len(FILES[BIG]) - have  # no byte on disk was sent again
