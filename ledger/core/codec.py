"""One encoding of events, used for hashing and for storage.

msgpack via msgspec, with numpy arrays as an extension type holding the dtype,
the shape and the raw little-endian bytes. Encoders and decoders are made once
and reused (making them per call costs more than encoding a small event).

Example::

    blob = encode_event(event)
    assert decode_event(blob) == event   # numpy fields compare with np.array_equal
"""

from __future__ import annotations

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
