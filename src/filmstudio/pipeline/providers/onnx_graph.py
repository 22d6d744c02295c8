"""A Piper (VITS) ONNX graph made deterministic and made to report phoneme durations.

Edited at the protobuf wire level, so neither the `onnx` package nor its protobuf schema is
needed: a model is a `ModelProto` whose field 7 is the `GraphProto`; in the graph, field 1 holds
the nodes, 5 the initializers and 12 the outputs. Two edits:

- Each `RandomNormalLike(x)` becomes `Slice(NOISE, 0, Shape(x))`: the same fixed Gaussian noise
  for every call (onnxruntime's random kernels keep their generator between runs, so the same
  line came out different on the second call; the cache and the farm need identical samples).
- The output of the graph's one `Ceil` (the duration predictor's frames per phoneme id, piper's
  `w_ceil`) becomes a graph output: word timings without speech recognition.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

NOISE_NAME = "filmstudio_noise"
_STARTS_NAME = "filmstudio_noise_starts"
NOISE_CHANNELS = 192  # VITS' latent channels; the duration predictor's noise uses the first 2
NOISE_FRAMES = 8192  # the longest sequence one call may need (ids or frames)
NOISE_SEED = 20261202

_FLOAT, _INT64 = 1, 7  # TensorProto.DataType


@dataclass(frozen=True)
class PatchedModel:
    """A model's bytes after the edits, and the tensor names that were exposed."""

    data: bytes
    durations_output: str | None  # frames per phoneme id, or None when the graph has no Ceil
    seeded: int  # random nodes replaced by the fixed noise


def _varint(data: bytes | memoryview, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def _fields(data: memoryview, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, start of the whole field, start of its value, end) per field."""
    i, stop = start, len(data) if end is None else end
    while i < stop:
        begin = i
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(data, i)
        elif wire == 1:
            i += 8
        elif wire == 2:
            size, i = _varint(data, i)
            i += size
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, begin, i


def _payload(data: memoryview, begin: int, end: int) -> memoryview:
    """The value bytes of a length-delimited field spanning data[begin:end]."""
    _, i = _varint(data, begin)
    _, i = _varint(data, i)
    return data[i:end]


def _enc_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _enc_varint(number << 3 | 2) + _enc_varint(len(value)) + value


def _varint_field(number: int, value: int) -> bytes:
    return _enc_varint(number << 3) + _enc_varint(value)


def _node(op: str, inputs: list[str], outputs: list[str], name: str) -> bytes:
    body = b"".join(_bytes_field(1, s.encode()) for s in inputs)
    body += b"".join(_bytes_field(2, s.encode()) for s in outputs)
    return _bytes_field(1, body + _bytes_field(3, name.encode()) + _bytes_field(4, op.encode()))


def _tensor(name: str, array: np.ndarray, data_type: int) -> bytes:
    body = b"".join(_varint_field(1, d) for d in array.shape) + _varint_field(2, data_type)
    body += _bytes_field(8, name.encode()) + _bytes_field(9, array.astype(array.dtype.newbyteorder("<")).tobytes())
    return _bytes_field(5, body)


def _strings(node: memoryview, number: int) -> list[str]:
    return [bytes(_payload(node, b, e)).decode() for n, w, b, e in _fields(node) if n == number and w == 2]


def fixed_noise() -> np.ndarray:
    """The noise every call uses: standard normal, from numpy's legacy generator (stable across versions)."""
    rng = np.random.RandomState(NOISE_SEED)
    return rng.standard_normal((1, NOISE_CHANNELS, NOISE_FRAMES)).astype(np.float32)


def patch_model(data: bytes) -> PatchedModel:
    """The edited model (see the module's docstring); an unrecognised graph comes back unchanged."""
    view = memoryview(data)
    graph_span = next(((b, e) for n, w, b, e in _fields(view) if n == 7 and w == 2), None)
    if graph_span is None:
        return PatchedModel(data, None, 0)
    graph = _payload(view, *graph_span)
    parts: list[bytes] = []
    ceil_outputs: list[str] = []
    outputs: set[str] = set()
    seeded = 0
    for number, wire, begin, end in _fields(graph):
        if number == 1 and wire == 2:
            node = _payload(graph, begin, end)
            op = next((bytes(_payload(node, b, e)).decode() for n, w, b, e in _fields(node) if n == 4), "")
            if op == "RandomNormalLike":
                (source,), (target,) = _strings(node, 1), _strings(node, 2)
                shape = f"{target}/filmstudio_shape"
                parts.append(_node("Shape", [source], [shape], f"{target}/filmstudio_shape_node"))
                parts.append(_node("Slice", [NOISE_NAME, _STARTS_NAME, shape], [target],
                                   f"{target}/filmstudio_noise_node"))
                seeded += 1
                continue
            if op == "Ceil":
                ceil_outputs += _strings(node, 2)
        elif number == 12 and wire == 2:
            outputs.update(_strings(_payload(graph, begin, end), 1))
        parts.append(bytes(graph[begin:end]))
    if seeded:
        parts.append(_tensor(NOISE_NAME, fixed_noise(), _FLOAT))
        parts.append(_tensor(_STARTS_NAME, np.zeros(3, np.int64), _INT64))
    durations = ceil_outputs[0] if len(ceil_outputs) == 1 else None
    if durations is not None and durations not in outputs:
        parts.append(_bytes_field(12, _bytes_field(1, durations.encode())))
    new_graph = b"".join(parts)
    start, stop = graph_span
    patched = bytes(view[:start]) + _bytes_field(7, new_graph) + bytes(view[stop:])
    return PatchedModel(patched, durations, seeded)


# -- the graph cut in two at the phoneme durations ----------------------------------------------
# The front half (text encoder + duration predictor) is a twentieth of the work; the back half
# (length regulation, flow, decoder) is the rest. Run apart, the front tells a line's exact length
# at any length scale (frames = ceil(w * scale)) before the back speaks it: the rate asked is the
# rate spoken, in one pass. Fed the front's tensors, the back gives the very samples of the whole.

_ELEM_TYPES = {"tensor(float)": 1, "tensor(uint8)": 2, "tensor(int8)": 3, "tensor(int32)": 6, "tensor(int64)": 7,
               "tensor(bool)": 9, "tensor(float16)": 10, "tensor(double)": 11}


@dataclass(frozen=True)
class SplitModel:
    """A patched model cut at the input of its `Ceil` (the frames per phoneme id before rounding up)."""

    front: bytes  # graph inputs -> `crossing` tensors
    crossing: tuple[str, ...]  # what the back needs from the front (`durations` among them)
    durations: str  # the Ceil's input: frames per id at the length scale the front was given
    _graph: tuple[tuple[int, bytes], ...]
    _back_nodes: frozenset[int]
    _head: bytes
    _tail: bytes

    def back(self, types: dict[str, str]) -> bytes:
        """The back half, its extra inputs typed as onnxruntime names them (`tensor(float)`...)."""
        inputs = []
        for name in self.crossing:
            tensor = _varint_field(1, _ELEM_TYPES[types[name]])
            inputs.append(_bytes_field(11, _bytes_field(1, name.encode()) + _bytes_field(2, _bytes_field(1, tensor))))
        parts = [raw for k, (number, raw) in enumerate(self._graph) if number != 1 or k in self._back_nodes]
        return self._head + _bytes_field(7, b"".join(parts + inputs)) + self._tail


def split_at_durations(patched: PatchedModel) -> SplitModel | None:
    """The model in two halves (see above); None when its graph is not the shape we know."""
    if patched.durations_output is None:
        return None
    view = memoryview(patched.data)
    graph_span = next(((b, e) for n, w, b, e in _fields(view) if n == 7 and w == 2), None)
    if graph_span is None:
        return None
    graph = _payload(view, *graph_span)
    fields: list[tuple[int, bytes]] = []
    nodes: dict[int, tuple[list[str], list[str], str]] = {}
    for number, wire, begin, end in _fields(graph):
        if number == 1 and wire == 2:
            node = _payload(graph, begin, end)
            op = next((bytes(_payload(node, b, e)).decode() for n, w, b, e in _fields(node) if n == 4), "")
            nodes[len(fields)] = (_strings(node, 1), _strings(node, 2), op)
        fields.append((number, bytes(graph[begin:end])))
    ceil = [k for k, (_, outs, op) in nodes.items() if op == "Ceil" and patched.durations_output in outs]
    if len(ceil) != 1 or not nodes[ceil[0]][0]:
        return None
    durations = nodes[ceil[0]][0][0]
    needed, front = {durations}, set()
    for k in sorted(nodes, reverse=True):  # nodes are in topological order: walk back from the durations
        if k != ceil[0] and set(nodes[k][1]) & needed:
            front.add(k)
            needed |= {name for name in nodes[k][0] if name}
    produced = {name for k in front for name in nodes[k][1]}
    consumed = {name for k in nodes if k not in front for name in nodes[k][0]}
    crossing = tuple(sorted(produced & consumed))
    if durations not in crossing:
        return None
    outputs = [_bytes_field(12, _bytes_field(1, name.encode())) for name in crossing]
    front_graph = [raw for k, (number, raw) in enumerate(fields) if (number != 1 or k in front) and number != 12]
    head, tail = bytes(view[: graph_span[0]]), bytes(view[graph_span[1]:])
    return SplitModel(front=head + _bytes_field(7, b"".join(front_graph + outputs)) + tail, crossing=crossing,
                      durations=durations, _graph=tuple(fields), _back_nodes=frozenset(set(nodes) - front),
                      _head=head, _tail=tail)
