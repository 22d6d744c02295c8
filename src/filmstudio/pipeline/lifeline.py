"""Helper processes end with the process that started them, however it ends.

The voice helpers run in `concurrent.futures` process pools on multiprocessing's forkserver. A
pool worker blocks on its task queue, whose write end it holds itself, so it never sees its
parent go; the forkserver stays up while any worker holds its "alive" pipe, and the resource
tracker while any of them holds its pipe. A server stopped by SIGTERM or killed, or an app that
quits without closing its engines, so left all three running, re-parented to init.

`worker_options()` gives every pool worker an initializer that watches the process that made the
pool (a pidfd on Linux, else a poll) and ends the worker the moment it is gone. With the workers
gone, the forkserver and the resource tracker see end-of-file on their pipes and exit too.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from typing import Any

POLL_SECONDS = 0.5  # without pidfd (not Linux): how often a worker looks for its owner


def worker_options() -> dict[str, Any]:
    """`ProcessPoolExecutor` keyword arguments tying its workers' lives to this process."""
    return {"initializer": watch, "initargs": (os.getpid(),)}


def watch(owner: int) -> None:
    """Pool initializer: end this process as soon as process `owner` has ended."""
    if os.name != "posix":  # Windows: os.kill(pid, 0) would send CTRL_C_EVENT; spawn children die with the job
        return
    fd: int | None = None
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            fd = pidfd_open(owner)
        except ProcessLookupError:
            os._exit(0)  # the owner is gone already
        except OSError:  # kernel before 5.3, or not permitted: poll instead
            fd = None
    elif not _alive(owner):
        os._exit(0)
    threading.Thread(target=_wait_then_exit, args=(owner, fd), name="lifeline", daemon=True).start()


def _wait_then_exit(owner: int, fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            select.select([fd], [], [])  # a pidfd reads ready once its process has exited
    else:
        while _alive(owner) and os.getppid() != 1:
            time.sleep(POLL_SECONDS)
    # Abrupt on purpose: the pool's queues are dead with their owner; files are written atomically.
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
