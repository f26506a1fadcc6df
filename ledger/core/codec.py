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
import weakref
from collections.abc import Callable, Iterator
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
_events_decoder = msgspec.msgpack.Decoder(list[AnyEvent], ext_hook=_ext_hook,
                                          dec_hook=_dec_hook)
_any_decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(blob: bytes | memoryview) -> Event:
    return _event_decoder.decode(blob)


def decode_events(blobs: list[bytes]) -> list[Event]:
    """Many encoded events in one decoder call: a msgpack array is its header
    followed by its items, so the bodies are joined behind an array header (replay
    reads thousands of small records; one call each would cost more than applying
    them)."""
    header = b"\xdd" + len(blobs).to_bytes(4, "big")
    return _events_decoder.decode(header + b"".join(blobs))


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
    (as given: possibly a view or a broadcast; `flat_blocks` reads its bytes)."""

    body: bytes
    arrays: dict[str, np.ndarray]


def _little(obj: np.ndarray) -> np.ndarray:
    """The array in little-endian byte order (a copy only for big-endian input)."""
    if obj.dtype.byteorder == ">":
        return obj.astype(obj.dtype.newbyteorder("<"))
    return obj


def _little_contiguous(obj: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(_little(obj))


_DIGEST_BLOCK = 16 * 1024 * 1024
# Digests of read-only arrays: an import's columns are digested when the history is
# hashed and again when it is written; the second time is free. Keyed by id, checked
# against a weak reference, so an entry never outlives its array or names another.
# Read-only is the contract of committed events (`freeze_arrays`): the projection
# borrows their columns read-only and copies before writing, so no write reaches
# a committed event's bytes, even through the array a view was cut from.
_digests: dict[int, tuple[weakref.ref, str]] = {}


def freeze_arrays(obj: Any) -> None:
    """Mark every numpy array inside ``obj`` (Structs, tuples, lists, dicts) read-only:
    a committed event is a fact, and a write into one fails loudly."""
    if isinstance(obj, np.ndarray):
        obj.flags.writeable = False
    elif isinstance(obj, msgspec.Struct):
        for name in obj.__struct_fields__:
            freeze_arrays(getattr(obj, name))
    elif isinstance(obj, list | tuple):
        for item in obj:
            freeze_arrays(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            freeze_arrays(item)


def flat_blocks(arr: np.ndarray, block: int = _DIGEST_BLOCK) -> Iterator[np.ndarray]:
    """An array's raw little-endian bytes as uint8 blocks of at most ``block`` bytes,
    in C order, without materialising a non-contiguous (or broadcast) array whole."""
    arr = _little(arr)
    if arr.flags.c_contiguous:
        flat = arr.reshape(-1).view(np.uint8)
        for at in range(0, flat.shape[0], block):
            yield flat[at:at + block]
        return
    if arr.ndim != 1:
        arr = np.ascontiguousarray(arr).reshape(-1)
    step = max(block // max(arr.dtype.itemsize, 1), 1)
    for at in range(0, arr.shape[0], step):
        yield np.ascontiguousarray(arr[at:at + step]).view(np.uint8)


def array_digest(arr: np.ndarray) -> str:
    """sha256 (hex) of an array's raw little-endian bytes, read in place."""
    key = id(arr)
    known = _digests.get(key)
    if known is not None and known[0]() is arr:
        return known[1]
    h = hashlib.sha256()
    for block in flat_blocks(arr):
        h.update(memoryview(block))
    digest = h.hexdigest()
    if not arr.flags.writeable:
        if len(_digests) > 4096:
            _digests.clear()
        _digests[key] = (weakref.ref(arr), digest)
    return digest


def _ref_ext(arr: np.ndarray, digest: str) -> msgspec.msgpack.Ext:
    dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
    return msgspec.msgpack.Ext(_ARRAY_REF_EXT, _ref_encoder.encode(
        ArrayRef(dtype.str, tuple(arr.shape), digest)))


def _canonical_hook(obj: Any) -> Any:
    """Like `_enc_hook`, but big arrays become references (see above)."""
    if isinstance(obj, np.ndarray) and obj.nbytes > INLINE_LIMIT:
        return _ref_ext(obj, array_digest(obj))
    return _enc_hook(obj)


class _Collector:
    """An encoder hook that also keeps each referenced array (one per call)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray) and obj.nbytes > INLINE_LIMIT:
            digest = array_digest(obj)
            self.arrays.setdefault(digest, obj)
            return _ref_ext(obj, digest)
        return _enc_hook(obj)


def encode_canonical(obj: Any) -> bytes:
    """The canonical bytes of ``obj``: what the hash chain vouches for."""
    return _canonical_encoder.encode(obj)


def encode_payload(obj: Any) -> Payload:
    """``obj`` as canonical bytes plus the arrays those bytes refer to."""
    collect = _Collector()
    body = msgspec.msgpack.Encoder(enc_hook=collect).encode(obj)
    return Payload(body, collect.arrays)


def local_arrays(arrays: dict[str, np.ndarray]) -> Callable[[ArrayRef], np.ndarray]:
    """A ``fetch`` for `decode_payload` over a payload's own arrays. One digest may
    stand for arrays of different dtypes or shapes (the same bytes: zeros as int64
    and as float64), so each reference gets the bytes viewed as it declares."""

    def fetch(ref: ArrayRef) -> np.ndarray:
        arr = arrays[ref.digest]
        if arr.dtype.str == np.dtype(ref.dtype).str and tuple(arr.shape) == tuple(ref.shape):
            return arr
        raw = np.ascontiguousarray(_little(arr)).reshape(-1).view(np.uint8)
        return raw.view(np.dtype(ref.dtype)).reshape(ref.shape)

    return fetch


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
