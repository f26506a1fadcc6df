"""Array blobs as stored bytes: byte-shuffled, zstd-compressed, in bounded parts.

Why these choices (measured in ``tools/bench/store.py``):

* **Byte shuffle.** Coordinates, scores and ids are numbers whose high bytes repeat
  and whose low bytes are noise; grouping byte 0 of every item, then byte 1, ...
  gives the compressor long runs (float64 pose columns shrink ~2× with shuffle,
  barely at all without).
* **zstd level 1** (the `zstandard` package) compresses at several hundred MB/s per
  core and decompresses faster than the disk reads; higher levels cost far more
  time than they save bytes on this kind of data.
* **Parts of at most ``PART_BYTES``**, each compressed on its own, so writing and
  reading a 300,000-frame import needs one part of scratch memory, not a second
  copy of the whole array, and no single value nears SQLite's 1 GB limit.
* A part that does not shrink by at least 1/16 is kept raw (codec ``raw``):
  already-compressed or random data costs nothing to read back.

Decoding writes every part straight into one preallocated array, which is handed
out read-only: stored events are immutable, and the projection borrows the array
(copying on first write) rather than copying it up front.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np

from ledger.core.codec import flat_blocks

PART_BYTES = 8 * 1024 * 1024
LEVEL = 1
WORKERS = max(1, min(4, os.cpu_count() or 1))
RAW, ZSTD_SHUFFLE = 0, 1


def _zstd():  # noqa: ANN202 - imported lazily: `import ledger` stays light
    import zstandard

    return zstandard


def _shuffle(flat: np.ndarray, itemsize: int) -> np.ndarray:
    """Byte ``j`` of every item, for j = 0, 1, ...: one contiguous write per byte
    position (about twice as fast as numpy's transposed copy)."""
    if itemsize == 1:
        return flat
    items = flat.reshape(-1, itemsize)
    out = np.empty((itemsize, items.shape[0]), np.uint8)
    for j in range(itemsize):
        out[j] = items[:, j]
    return out.reshape(-1)


def _unshuffle_into(out: np.ndarray, raw: np.ndarray, itemsize: int) -> None:
    """The inverse of `_shuffle`, written into ``out`` (contiguous reads)."""
    items = out.reshape(-1, itemsize)
    planes = raw.reshape(itemsize, -1)
    for j in range(itemsize):
        items[:, j] = planes[j]


def _pack(chunk: np.ndarray, itemsize: int) -> tuple[int, bytes]:
    # one compressor per call: zstd contexts are not shared between threads
    packed = _zstd().ZstdCompressor(level=LEVEL, write_checksum=True).compress(
        _shuffle(chunk, itemsize).data)
    if len(packed) <= len(chunk) - len(chunk) // 16:
        return ZSTD_SHUFFLE, packed
    return RAW, chunk.tobytes()


def encode_parts(arr: np.ndarray, part_bytes: int = PART_BYTES,
                 workers: int = WORKERS) -> Iterator[tuple[int, bytes]]:
    """``(codec, bytes)`` for each part of an array's little-endian bytes, in
    order. Parts are compressed on ``workers`` threads (zstd and the shuffle copy
    release the GIL), at most ``2 * workers`` parts ahead of the consumer, and a
    view or broadcast is read part by part, so the extra memory stays a few parts
    whatever the array's size."""
    itemsize = max(arr.dtype.itemsize, 1)
    step = max(part_bytes // itemsize, 1) * itemsize
    chunks = flat_blocks(arr, step)
    if workers <= 1 or arr.nbytes <= step:
        produced = False
        for chunk in chunks:
            produced = True
            yield _pack(chunk, itemsize)
        if not produced:
            yield RAW, b""
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        window: deque = deque()
        for chunk in chunks:
            window.append(pool.submit(_pack, chunk, itemsize))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _unpack(out: np.ndarray, codec: int, data: bytes | memoryview, itemsize: int) -> None:
    """One part into its slice ``out`` (exactly the part's size), or `ValueError`."""
    size = out.shape[0]
    if codec == RAW:
        raw = np.frombuffer(data, dtype=np.uint8)
        if raw.shape[0] != size:
            raise ValueError("a raw part has the wrong size")
        out[:] = raw
    elif codec == ZSTD_SHUFFLE:
        raw = np.frombuffer(_zstd().ZstdDecompressor().decompress(data, max_output_size=size),
                            dtype=np.uint8)
        if raw.shape[0] != size:
            raise ValueError("a compressed part has the wrong size")
        if itemsize == 1:
            out[:] = raw
        else:
            _unshuffle_into(out, raw, itemsize)
    else:
        raise ValueError(f"unknown part codec {codec}")


def decode_parts(parts: Iterable[tuple[int, bytes | memoryview]], nbytes: int, itemsize: int,
                 part_bytes: int = PART_BYTES, workers: int = WORKERS) -> np.ndarray:
    """The raw bytes ``encode_parts`` was given (uint8, read-only), for an array of
    ``itemsize``-byte items. `ValueError` when the parts do not add up (damage).

    Parts are read in order by the caller's iterator (a database cursor is used by
    one thread) and decompressed and unshuffled on ``workers`` threads straight
    into their slices of the result, at most ``2 * workers`` parts in flight."""
    itemsize = max(itemsize, 1)
    total = nbytes
    out = np.empty(total, dtype=np.uint8)
    step = max(part_bytes // itemsize, 1) * itemsize
    at = 0
    pool = None
    if workers > 1 and total > step:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=workers)
    pending: list = []
    try:
        for codec, data in parts:
            size = min(step, total - at)
            if size < 0:
                raise ValueError("more parts than the array holds")
            if pool is None:
                _unpack(out[at:at + size], codec, data, itemsize)
            else:
                pending.append(pool.submit(_unpack, out[at:at + size], codec, data, itemsize))
                if len(pending) >= 2 * workers:
                    pending.pop(0).result()
            at += size
        for job in pending:
            job.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if at != total:
        raise ValueError(f"parts hold {at} bytes, the array needs {total}")
    out.flags.writeable = False
    return out


def as_array(raw: np.ndarray, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """View raw bytes as the array a reference declares (read-only)."""
    dt = np.dtype(dtype)
    if raw.shape[0] != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
        raise ValueError("the stored array does not have the declared size")
    return raw.view(dt).reshape(shape)
