"""Content-addressed array blobs inside a ledger file.

Events and snapshots refer to their big arrays by sha256 digest
(`ledger.core.codec.Payload`); this module keeps each distinct array once, in
compressed parts (`ledger.store.blob_codec`), and knows which records and
snapshots use which blob so that pruning a snapshot frees what only it used.

Tables (created by `ledger.store.sqlite_file`)::

    blobs(digest PRIMARY KEY, nbytes, n_parts)
    blob_parts(digest, part, codec, data)       PRIMARY KEY (digest, part)
    event_blobs(seq, digest)                     which record uses which blob
    snapshot_blobs(seq, digest)                  which snapshot uses which blob

Every function runs inside the caller's transaction and lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from ledger.core.codec import ArrayRef
from ledger.store.blob_codec import PART_BYTES, as_array, decode_parts, encode_parts

BLOB_SCHEMA = (
    "CREATE TABLE blobs(digest TEXT PRIMARY KEY, nbytes INTEGER NOT NULL,"
    " itemsize INTEGER NOT NULL, n_parts INTEGER NOT NULL)",
    "CREATE TABLE blob_parts(digest TEXT NOT NULL, part INTEGER NOT NULL,"
    " codec INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (digest, part))",
    "CREATE TABLE event_blobs(seq INTEGER NOT NULL, digest TEXT NOT NULL,"
    " PRIMARY KEY (seq, digest))",
    "CREATE TABLE snapshot_blobs(seq INTEGER NOT NULL, digest TEXT NOT NULL,"
    " PRIMARY KEY (seq, digest))",
    "CREATE INDEX event_blobs_digest ON event_blobs(digest)",
    "CREATE INDEX snapshot_blobs_digest ON snapshot_blobs(digest)",
)


def missing_digests(conn: sqlite3.Connection, digests: list[str]) -> list[str]:
    """The digests this file does not hold yet (so only those get compressed)."""
    have = set()
    for at in range(0, len(digests), 500):
        batch = digests[at:at + 500]
        marks = ",".join("?" * len(batch))
        have.update(d for (d,) in conn.execute(
            f"SELECT digest FROM blobs WHERE digest IN ({marks})", batch).fetchall())
    return [d for d in digests if d not in have]


# digest -> (nbytes, itemsize, parts); parts are produced lazily, as they are written
Packed = dict[str, tuple[int, int, Iterable[tuple[int, bytes]]]]


def compress(arrays: dict[str, np.ndarray]) -> Packed:
    """Each array's compressed parts, made while they are inserted: only a few
    parts are ever in memory beside the array itself (an import of 800 MB of
    arrays does not hold a second, compressed copy)."""
    return {digest: (arr.nbytes, arr.dtype.itemsize, encode_parts(arr))
            for digest, arr in arrays.items()}


def insert_blobs(conn: sqlite3.Connection, packed: Packed,
                 progress: Callable[[int], None] | None = None) -> None:
    """Write the arrays this file lacks; ``progress(n)`` hears of every ``n`` bytes
    of array data written (a progress bar's feed)."""
    for digest, (nbytes, itemsize, parts) in packed.items():
        cur = conn.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?, ?, 0)",
                           (digest, nbytes, itemsize))
        if cur.rowcount:
            count, step = 0, max(PART_BYTES // max(itemsize, 1), 1) * max(itemsize, 1)
            for k, (codec, data) in enumerate(parts):
                conn.execute("INSERT INTO blob_parts VALUES (?, ?, ?, ?)", (digest, k, codec, data))
                count += 1
                if progress is not None:
                    progress(min(step, nbytes - k * step))
            conn.execute("UPDATE blobs SET n_parts = ? WHERE digest = ?", (count, digest))
        elif progress is not None:
            progress(nbytes)


def _parts(conn: sqlite3.Connection, digest: str) -> Iterator[tuple[int, bytes]]:
    cur = conn.execute("SELECT codec, data FROM blob_parts WHERE digest = ? ORDER BY part",
                       (digest,))
    try:
        for codec, data in cur:
            yield int(codec), data
    finally:
        cur.close()


def read_raw(conn: sqlite3.Connection, digest: str) -> np.ndarray:
    """A blob's bytes (uint8, read-only). `ValueError` when absent or damaged."""
    rows = conn.execute("SELECT nbytes, itemsize FROM blobs WHERE digest = ?",
                        (digest,)).fetchall()
    if not rows:
        raise ValueError(f"array {digest[:12]} is not in the file")
    parts = _parts(conn, digest)
    try:
        return decode_parts(parts, int(rows[0][0]), int(rows[0][1]))
    finally:
        parts.close()  # finish the statement even when decoding failed


def read_blob(conn: sqlite3.Connection, ref: ArrayRef) -> np.ndarray:
    """The array a reference names (read-only). `ValueError` when absent or damaged."""
    return as_array(read_raw(conn, ref.digest), ref.dtype, ref.shape)


def collect_garbage(conn: sqlite3.Connection) -> int:
    """Delete blobs no record and no snapshot uses; return how many went."""
    doomed = [d for (d,) in conn.execute(
        "SELECT digest FROM blobs WHERE digest NOT IN (SELECT digest FROM event_blobs)"
        " AND digest NOT IN (SELECT digest FROM snapshot_blobs)").fetchall()]
    for digest in doomed:
        conn.execute("DELETE FROM blob_parts WHERE digest = ?", (digest,))
        conn.execute("DELETE FROM blobs WHERE digest = ?", (digest,))
    return len(doomed)
