"""context.Background: work a stage leaves running beside the next stages."""

from __future__ import annotations

import threading

import pytest

from filmstudio.domain.errors import Cancelled, RenderFailed
from filmstudio.pipeline.context import Background, CancelToken


def test_wait_returns_the_result_and_a_name_never_started_is_a_no_op() -> None:
    bg = Background(CancelToken())
    bg.start("mix", lambda cancel: 42)
    assert bg.wait("mix") == 42
    assert bg.wait("never") is None
    bg.close()
    assert "mix" in bg.seconds


def test_an_error_surfaces_where_it_is_awaited() -> None:
    bg = Background(CancelToken())

    def fail(cancel: CancelToken) -> None:
        raise RenderFailed("no mix", code="AUDIO_INVALID")

    bg.start("mix", fail)
    with pytest.raises(RenderFailed):
        bg.wait("mix")
    bg.close()


def test_close_waits_for_unawaited_work_and_stop_cancels_it() -> None:
    bg = Background(CancelToken())
    done = threading.Event()
    bg.start("mix", lambda cancel: done.set())
    bg.close()  # success: the work finishes (its file is wanted), nothing is cancelled
    assert done.is_set()

    bg = Background(CancelToken())
    started, saw_cancel = threading.Event(), threading.Event()

    def loop(cancel: CancelToken) -> None:
        started.set()
        while True:
            try:
                cancel.raise_if_cancelled()
            except Cancelled:
                saw_cancel.set()
                raise
            threading.Event().wait(0.01)

    bg.start("mix", loop)
    assert started.wait(30)
    bg.close(stop=True)  # a failed render: the background work is asked to stop, and is waited for
    assert saw_cancel.is_set()


def test_the_renders_cancel_reaches_background_work() -> None:
    outer = CancelToken()
    bg = Background(outer)
    outer.cancel()
    bg.start("mix", lambda cancel: cancel.raise_if_cancelled())
    with pytest.raises(Cancelled):
        bg.wait("mix")
    bg.close()
