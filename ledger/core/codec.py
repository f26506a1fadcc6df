"""One encoding of events, used for hashing and for storage.

msgpack via msgspec, with numpy arrays as an extension type holding the dtype,
the shape and the raw little-endian bytes. Encoders and decoders are made once
and reused (making them per call costs more than encoding a small event).

Example::

    blob = encode_event(event)
    assert decode_event(blob) == event   # numpy fields compare with np.array_equal
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from ledger.core.events import AnyEvent, Event

_NDARRAY_EXT = 1


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        header = msgspec.msgpack.encode((arr.dtype.str, list(arr.shape)))
        return msgspec.msgpack.Ext(_NDARRAY_EXT, len(header).to_bytes(4, "little")
                                   + header + arr.tobytes())
    if isinstance(obj, np.generic):
        return obj.item()
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def _ext_hook(code: int, data: memoryview) -> Any:
    if code != _NDARRAY_EXT:
        raise msgspec.ValidationError(f"unknown extension type {code}")
    size = int.from_bytes(data[:4], "little")
    dtype, shape = msgspec.msgpack.decode(data[4:4 + size])
    return np.frombuffer(data[4 + size:], dtype=np.dtype(dtype)).reshape(shape).copy()


def _dec_hook(typ: type, obj: Any) -> Any:
    if typ is np.ndarray and isinstance(obj, np.ndarray):
        return obj
    raise NotImplementedError(f"cannot decode {typ}")


_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
_event_decoder = msgspec.msgpack.Decoder(AnyEvent, ext_hook=_ext_hook, dec_hook=_dec_hook)
_any_decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(blob: bytes | memoryview) -> Event:
    return _event_decoder.decode(blob)


def decode_any(blob: bytes | memoryview) -> Any:
    return _any_decoder.decode(blob)


# --------------------------------------------------------------------- stored form
#
# Big arrays do not travel inside an encoding: they are replaced by a reference
# (dtype, shape, sha256 of the raw little-endian bytes) and kept beside it, keyed
# by that digest. Why:
#   * hashing a record then costs one sha256 pass over each array's own buffer --
#     no second copy of an 800 MB import is ever built just to hash it;
#   * a store keeps arrays once, compressed, and a snapshot whose columns are the
#     very arrays an import brought in references them instead of copying them;
#   * the canonical bytes (what the chain hashes) stay small and identical in every
#     store, memory, SQLite or a server, whatever compression each one uses.
# Arrays up to ``INLINE_LIMIT`` bytes stay inline: a point edit stays one small blob.

INLINE_LIMIT = 4096
_ARRAY_REF_EXT = 2


class ArrayRef(msgspec.Struct, frozen=True, array_like=True):
    """Where an array would be: its dtype, shape and content digest."""

    dtype: str
    shape: tuple[int, ...]
    digest: str


class Payload(msgspec.Struct, frozen=True):
    """An encoding with its big arrays kept aside: ``arrays`` maps digest → array
    (C-contiguous, little-endian, read-only)."""

    body: bytes
    arrays: dict[str, np.ndarray]


def _little_contiguous(obj: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(obj)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return arr


def array_digest(arr: np.ndarray) -> str:
    """sha256 (hex) of an array's raw bytes, read in place (no copy)."""
    arr = _little_contiguous(arr)
    return hashlib.sha256(memoryview(arr.reshape(-1).view(np.uint8))).hexdigest()


def _ref_ext(arr: np.ndarray, digest: str) -> msgspec.msgpack.Ext:
    return msgspec.msgpack.Ext(_ARRAY_REF_EXT, _ref_encoder.encode(
        ArrayRef(arr.dtype.str, tuple(arr.shape), digest)))


def _canonical_hook(obj: Any) -> Any:
    """Like `_enc_hook`, but big arrays become references (see above)."""
    if isinstance(obj, np.ndarray) and obj.nbytes > INLINE_LIMIT:
        arr = _little_contiguous(obj)
        return _ref_ext(arr, array_digest(arr))
    return _enc_hook(obj)


class _Collector:
    """An encoder hook that also keeps each referenced array (one per call)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray) and obj.nbytes > INLINE_LIMIT:
            arr = _little_contiguous(obj)
            digest = array_digest(arr)
            self.arrays.setdefault(digest, arr)
            return _ref_ext(arr, digest)
        return _enc_hook(obj)


def encode_canonical(obj: Any) -> bytes:
    """The canonical bytes of ``obj``: what the hash chain vouches for."""
    return _canonical_encoder.encode(obj)


def encode_payload(obj: Any) -> Payload:
    """``obj`` as canonical bytes plus the arrays those bytes refer to."""
    collect = _Collector()
    body = msgspec.msgpack.Encoder(enc_hook=collect).encode(obj)
    return Payload(body, collect.arrays)


def decode_payload(body: bytes | memoryview, fetch: Callable[[ArrayRef], np.ndarray],
                   type: Any = None) -> Any:
    """Decode canonical bytes, asking ``fetch`` for each referenced array.

    ``type=None`` decodes untyped; pass ``AnyEvent`` (or a Struct) for typed
    decoding. Arrays from ``fetch`` are used as they are (stores hand out read-only
    buffers: events are immutable)."""

    def ext_hook(code: int, data: memoryview) -> Any:
        if code == _ARRAY_REF_EXT:
            ref = _ref_decoder.decode(data)
            arr = fetch(ref)
            if arr.dtype.str != np.dtype(ref.dtype).str or tuple(arr.shape) != ref.shape:
                raise msgspec.ValidationError(f"array {ref.digest[:12]} has the wrong layout")
            return arr
        return _ext_hook(code, data)

    if type is None:
        return msgspec.msgpack.Decoder(ext_hook=ext_hook).decode(body)
    return msgspec.msgpack.Decoder(type, ext_hook=ext_hook, dec_hook=_dec_hook).decode(body)


_ref_encoder = msgspec.msgpack.Encoder()
_ref_decoder = msgspec.msgpack.Decoder(ArrayRef)
_canonical_encoder = msgspec.msgpack.Encoder(enc_hook=_canonical_hook)
