"""The server writer, driven by the real `openai` client against a fake OpenAI-compatible server."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from fakewriter import Reply, fake_writer_server, refused_url
from filmstudio.domain.errors import FilmStudioError
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import ChatMessage, Completion
from filmstudio.pipeline.providers.writer_server import ServerWriter, is_loopback
from filmstudio.pipeline.script.fountain import parse
from filmstudio.pipeline.writer import Brief, write_screenplay

DATA = Path(__file__).resolve().parents[1] / "data" / "writer"
GOOD = (DATA / "good-30.fountain").read_text(encoding="utf-8")
LONG = (DATA / "too-long-30.fountain").read_text(encoding="utf-8")
IDEA = "An old lighthouse keeper hands her lamp to a young engineer on her last night."
BRIEF = Brief(IDEA, duration=30)


def _write(url: str, **kwargs: object) -> tuple[object, list[str]]:
    seen: list[str] = []
    writer = ServerWriter(url, stall_seconds=float(kwargs.pop("stall", 20.0)))  # type: ignore[arg-type]
    play = write_screenplay(writer, BRIEF, cancel=kwargs.pop("cancel", CancelToken()),  # type: ignore[arg-type]
                            on_text=lambda n, d: seen.append(d))
    return play, seen


def test_a_good_answer_streams_into_a_fitting_screenplay() -> None:
    with fake_writer_server([Reply(GOOD)]) as fake:
        play, seen = _write(fake.url)
        asked = fake.requests[0]
    assert play.rounds == 1 and play.text.strip() == GOOD.strip()  # type: ignore[attr-defined]
    assert len(seen) > 10 and "".join(seen) == GOOD  # tokens streamed as they came
    assert asked["model"] == "tiny-writer:latest"  # found by asking the server's /models
    assert asked["stream"] is True and asked["seed"] == 0 and asked["messages"][0]["role"] == "system"


def test_fences_and_bold_headings_are_repaired_without_asking_again() -> None:
    fenced = "Here is the screenplay you asked for:\n\n```\n" + GOOD.replace(
        "INT. LIGHTHOUSE LAMP ROOM - NIGHT", "**INT. LIGHTHOUSE LAMP ROOM - NIGHT**").replace(
        "EXT. LIGHTHOUSE - NIGHT", "## ext lighthouse night") + "```\n"
    with fake_writer_server([Reply(fenced)]) as fake:
        play, _ = _write(fake.url)
        assert len(fake.requests) == 1
    headings = [e.text for e in parse(play.text).elements if e.type == "scene_heading"]  # type: ignore[attr-defined]
    assert headings == ["EXT. LIGHTHOUSE - NIGHT", "INT. LIGHTHOUSE LAMP ROOM - NIGHT"]
    assert "```" not in play.text and "**" not in play.text  # type: ignore[attr-defined]


def test_too_long_then_fixed_is_asked_again_with_the_problem() -> None:
    with fake_writer_server([Reply(LONG), Reply(GOOD)]) as fake:
        play, _ = _write(fake.url)
        second = fake.requests[1]["messages"]
    assert play.rounds == 2  # type: ignore[attr-defined]
    assert second[-2] == {"role": "assistant", "content": LONG} and "too long" in second[-1]["content"]


def test_no_scenes_three_times_is_writer_failed() -> None:
    prose = "It was a dark night. The end."
    with fake_writer_server([Reply(prose)] * 3) as fake, pytest.raises(FilmStudioError) as err:
        _write(fake.url)
    assert err.value.code == "WRITER_FAILED" and len(fake.requests) == 3
    assert any("no scene headings" in p for p in err.value.details["problems"])


def test_a_dropped_stream_is_interrupted_not_a_short_screenplay() -> None:
    with fake_writer_server([Reply(GOOD, drop_after=5)]) as fake, pytest.raises(FilmStudioError) as err:
        _write(fake.url)
    assert err.value.code == "WRITER_INTERRUPTED" and err.value.details["received_characters"] > 0


def test_a_stream_ended_without_finishing_is_interrupted() -> None:
    with fake_writer_server([Reply(GOOD, finish=False)]) as fake, pytest.raises(FilmStudioError) as err:
        _write(fake.url)
    assert err.value.code == "WRITER_INTERRUPTED"


def test_a_stall_is_a_timeout() -> None:
    with fake_writer_server([Reply(GOOD, stall_after=3, stall_seconds=4.0)]) as fake, \
            pytest.raises(FilmStudioError) as err:
        _write(fake.url, stall=1.0)
    assert err.value.code == "WRITER_TIMEOUT" and err.value.http_status == 504


def test_nothing_listening_is_unavailable_with_how_to_start_one() -> None:
    with pytest.raises(FilmStudioError) as err:
        _write(refused_url())
    assert err.value.code == "WRITER_UNAVAILABLE" and "ollama serve" in err.value.message


def test_a_server_error_and_an_unknown_model_are_clear() -> None:
    with fake_writer_server([Reply(status=500, error="GPU on fire")]) as fake, pytest.raises(FilmStudioError) as err:
        _write(fake.url)
    assert err.value.code == "WRITER_FAILED" and "GPU on fire" in err.value.message
    with fake_writer_server([Reply(GOOD)]) as fake, pytest.raises(FilmStudioError) as err:
        ServerWriter(fake.url, model="missing:7b").complete([ChatMessage("user", "hi")], Completion(),
                                                             cancel=CancelToken())
    assert err.value.code == "WRITER_UNAVAILABLE" and "missing:7b" in err.value.message


def test_an_empty_model_list_says_to_pull_one() -> None:
    with fake_writer_server([], models=[]) as fake, pytest.raises(FilmStudioError) as err:
        _write(fake.url)
    assert err.value.code == "WRITER_UNAVAILABLE" and "pull" in err.value.message


def test_cancel_mid_stream_stops_it() -> None:
    cancel = CancelToken()
    with fake_writer_server([Reply(GOOD * 3, piece=4, stall_after=30, stall_seconds=0.5)]) as fake:
        timer = threading.Timer(0.2, cancel.cancel)
        timer.start()
        started = time.monotonic()
        with pytest.raises(FilmStudioError) as err:
            _write(fake.url, cancel=cancel)
        timer.cancel()
    assert err.value.code == "JOB_CANCELLED" and time.monotonic() - started < 15


def test_only_loopback_unless_set_explicitly() -> None:
    assert is_loopback("http://127.0.0.1:11434/v1") and is_loopback("http://localhost:1/v1")
    assert is_loopback("http://[::1]:8080/v1") and not is_loopback("http://10.1.2.3:11434/v1")
    with pytest.raises(FilmStudioError) as err:
        ServerWriter("http://10.1.2.3:11434/v1")
    assert err.value.code == "WRITER_UNAVAILABLE"
    assert ServerWriter("http://10.1.2.3:11434/v1", explicit=True).base_url == "http://10.1.2.3:11434/v1"
