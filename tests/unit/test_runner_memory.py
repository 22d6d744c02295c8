"""The runner pins glibc's mmap threshold, so frame-sized buffers are given back to the OS when freed."""

from __future__ import annotations

import subprocess
import sys

PROBE = r"""
import sys
import numpy as np
from filmstudio.pipeline.runner import MMAP_THRESHOLD, fix_mmap_threshold

def anon_maps():
    out = set()
    for line in open("/proc/self/maps"):
        parts = line.split()
        if len(parts) == 5:  # anonymous: no path (and not [heap])
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            out.add((lo, hi))
    return out

if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
big = np.ones(24 << 20, np.uint8)
del big  # freeing a 24 MB mapping raises glibc's dynamic threshold to 24 MB (unless it is pinned)
before = anon_maps()
frame = np.ones(2 * MMAP_THRESHOLD, np.uint8)  # a 1080p RGBA frame is about this size
new = [hi - lo for lo, hi in anon_maps() - before if hi - lo >= 2 * MMAP_THRESHOLD]
print("mapped" if new else "heap")
"""


def _where(mode: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_frame_sized_buffers_get_their_own_mapping_once_pinned() -> None:
    assert _where("default") == "heap"  # glibc's own behaviour: why the runner pins the threshold
    assert _where("fixed") == "mapped"
