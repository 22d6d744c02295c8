"""WAV files read and written a chunk at a time, so a film's audio never has to fit in memory at once."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from filmstudio.domain.errors import RenderFailed
from filmstudio.pipeline.context import atomic_output

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def _decode(body: bytes, tag: int, bits: int, channels: int, path: Path) -> np.ndarray:
    """Raw little-endian frames -> float32, shape (n,) mono or (n, ch)."""
    if tag == _FLOAT and bits == 32:
        x = np.frombuffer(body, "<f4").astype(np.float32)
    elif tag == _FLOAT and bits == 64:
        x = np.frombuffer(body, "<f8").astype(np.float32)
    elif tag == _PCM and bits == 8:
        x = (np.frombuffer(body, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == _PCM and bits == 16:
        x = np.frombuffer(body, "<i2").astype(np.float32) / 32768.0
    elif tag == _PCM and bits == 24:
        raw = np.frombuffer(body, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        x = ints.astype(np.float32) / float(1 << 23)
    elif tag == _PCM and bits == 32:
        x = (np.frombuffer(body, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    else:
        raise RenderFailed(f"{path}: unsupported WAV format {tag}/{bits}-bit", code="AUDIO_INVALID")
    if channels > 1:
        x = x.reshape(-1, channels)
    return x


class WavReader:
    """Random access to the frames of a PCM (8/16/24/32-bit) or float WAV, as float32."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fh: BinaryIO = self.path.open("rb")
        try:
            self._parse()
        except BaseException:
            self._fh.close()
            raise

    def _parse(self) -> None:
        fh, size = self._fh, self.path.stat().st_size
        head = fh.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise RenderFailed(f"{self.path} is not a WAV file", code="AUDIO_INVALID")
        pos, fmt = 12, None
        while pos + 8 <= size:
            fh.seek(pos)
            cid, length = fh.read(4), struct.unpack("<I", fh.read(4))[0]
            if cid == b"fmt ":
                fmt = fh.read(length)
            elif cid == b"data":
                if fmt is None:
                    break
                # Streamed writers leave 0 or 0xFFFFFFFF as the size: the data runs to the end.
                end = size if length in (0, 0xFFFFFFFF) else min(size, pos + 8 + length)
                tag, channels, rate = struct.unpack("<HHI", fmt[:8])
                bits = struct.unpack("<H", fmt[14:16])[0]
                if tag == _EXTENSIBLE and len(fmt) >= 26:
                    tag = struct.unpack("<H", fmt[24:26])[0]
                self.tag, self.bits, self.channels, self.rate = tag, bits, channels, int(rate)
                self._block = channels * bits // 8
                self._data = pos + 8
                self.frames = (end - self._data) // max(1, self._block)
                _decode(b"", tag, bits, channels, self.path)  # refuse unsupported formats up front
                return
            pos += 8 + length + (length & 1)
        raise RenderFailed(f"{self.path} has no fmt/data chunk", code="AUDIO_INVALID")

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Frames [lo, hi) as float32, (k,) mono or (k, ch); zeros where the range runs past either end."""
        k = max(0, hi - lo)
        shape = (k,) if self.channels == 1 else (k, self.channels)
        a, b = max(0, lo), min(self.frames, hi)
        if a >= b:
            return np.zeros(shape, np.float32)
        self._fh.seek(self._data + a * self._block)
        x = _decode(self._fh.read((b - a) * self._block), self.tag, self.bits, self.channels, self.path)
        if a == lo and b == hi:
            return x
        out = np.zeros(shape, np.float32)
        out[a - lo : b - lo] = x
        return out

    def chunks(self, step: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first frame, frames) for consecutive chunks of `step` frames (the last one shorter)."""
        for lo in range(0, self.frames, step):
            yield lo, self.read(lo, min(self.frames, lo + step))

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> WavReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WavWriter:
    """Appends frames to an open file as 16-bit PCM or 32-bit float; sizes are patched in at `finish`."""

    def __init__(self, fh: BinaryIO, sr: int, channels: int, *, float32: bool = False, frames: int = 0) -> None:
        self._fh, self.channels, self.float32 = fh, channels, float32
        tag, bits = (_FLOAT, 32) if float32 else (_PCM, 16)
        self._block = channels * bits // 8
        fmt = struct.pack("<HHIIHH", tag, channels, sr, sr * self._block, self._block, bits)
        if float32:
            fmt += struct.pack("<H", 0)  # float WAVs carry a cbSize field
        header = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        self._fact = -1
        if float32:
            self._fact = 8 + len(header)  # file offset of the fact chunk
            header += b"fact" + struct.pack("<II", 4, frames)
        self._head = len(header)
        header += b"data" + struct.pack("<I", frames * self._block)
        fh.write(b"RIFF" + struct.pack("<I", len(header) + frames * self._block) + header)
        self._declared = frames
        self.frames = 0

    def write(self, samples: np.ndarray) -> None:
        """Append (k,) mono or (k, ch) frames (floats in [-1, 1] for 16-bit: rounded and clipped)."""
        x = np.asarray(samples)
        if (1 if x.ndim == 1 else x.shape[1]) != self.channels:
            raise ValueError(f"expected {self.channels} channel(s), got shape {x.shape}")
        step = 1 << 18
        for lo in range(0, len(x), step):
            part = np.asarray(x[lo : lo + step], np.float32)
            if self.float32:
                self._fh.write(np.ascontiguousarray(part, dtype="<f4").tobytes())
            else:
                scaled = part * np.float32(32768.0)
                np.round(scaled, out=scaled)
                np.clip(scaled, -32768, 32767, out=scaled)
                self._fh.write(scaled.astype("<i2").tobytes())
        self.frames += len(x)

    def finish(self) -> None:
        """Write the real sizes into the header (a no-op when they were declared up front)."""
        if self.frames == self._declared:
            return
        data = self.frames * self._block
        end = self._fh.tell()
        self._fh.seek(4)
        self._fh.write(struct.pack("<I", self._head + 8 + data))
        if self._fact >= 0:
            self._fh.seek(self._fact + 8)
            self._fh.write(struct.pack("<I", self.frames))
        self._fh.seek(12 + self._head)  # the data chunk's size field
        self._fh.write(struct.pack("<I", data))
        self._fh.seek(end)


@contextmanager
def wav_writer(
    path: Path, sr: int, channels: int, *, float32: bool = False, atomic: bool = True, frames: int = 0
) -> Iterator[WavWriter]:
    """A WavWriter on `path`; with `atomic` the file appears (complete) only when the block succeeds."""
    if not atomic:
        with Path(path).open("wb") as fh:
            writer = WavWriter(fh, sr, channels, float32=float32, frames=frames)
            yield writer
            writer.finish()
        return
    with atomic_output(Path(path)) as tmp, tmp.open("wb") as fh:
        writer = WavWriter(fh, sr, channels, float32=float32, frames=frames)
        yield writer
        writer.finish()


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a PCM (8/16/24/32-bit) or float WAV: float32 samples, shape (n,) mono or (n, ch), and the rate."""
    with WavReader(path) as wav:
        return wav.read(0, wav.frames), wav.rate


def write_wav(path: Path, samples: np.ndarray, sr: int, *, float32: bool = False) -> None:
    """Write mono (n,) or multichannel (n, ch) samples as 16-bit PCM (or 32-bit float), atomically.

    Converted and written in blocks, so a long film's audio needs no film-long temporaries.
    """
    x = np.asarray(samples)
    with wav_writer(Path(path), sr, 1 if x.ndim == 1 else int(x.shape[1]), float32=float32, frames=len(x)) as w:
        w.write(x)
