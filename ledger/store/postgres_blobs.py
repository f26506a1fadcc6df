"""Arrays and snapshots of a project on a PostgreSQL server.

The same layout and codec as the SQLite store (`ledger.store.sqlite_blobs`,
`ledger.store.snapshots`): each distinct array of a project is kept once, by
digest, in compressed parts of at most `ledger.store.blob_codec.PART_BYTES`
(``bytea`` values stored uncompressed by the server, ``STORAGE EXTERNAL``: they
are zstd already); a snapshot is a small body plus the arrays it names, checked
against the chain hash and a CRC-32 before it is trusted. Blobs are scoped to a
project, so a role granted one project reads nothing of another through them.

Writers call these inside their transaction, after locking the project row, so an
array found present cannot be collected before the record that uses it commits.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import psycopg

from ledger.core.codec import ArrayRef, Payload, decode_payload
from ledger.store.base import Snapshot
from ledger.store.blob_codec import as_array, decode_parts
from ledger.store.sqlite_blobs import Packed


def missing_digests(conn: psycopg.Connection, project: int, digests: list[str]) -> list[str]:
    """The digests this project does not hold yet (so only those get compressed)."""
    if not digests:
        return []
    have = {d for (d,) in conn.execute(
        "SELECT digest FROM blobs WHERE project = %s AND digest = ANY(%s)",
        (project, digests)).fetchall()}
    return [d for d in digests if d not in have]


def insert_blobs(conn: psycopg.Connection, project: int, packed: Packed) -> None:
    """Insert the arrays another writer has not inserted meanwhile."""
    for digest, (nbytes, itemsize, lazy_parts) in packed.items():
        parts = list(lazy_parts)  # compressed now, one array at a time
        added = conn.execute(
            "INSERT INTO blobs VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING "
            "RETURNING digest", (project, digest, nbytes, itemsize, len(parts))).fetchall()
        if added:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO blob_parts VALUES (%s, %s, %s, %s, %s)",
                                [(project, digest, k, codec, data)
                                 for k, (codec, data) in enumerate(parts)])


def _parts(conn: psycopg.Connection, project: int, digest: str) -> Iterator[tuple[int, bytes]]:
    """Parts one at a time, so a big array needs one part of scratch memory."""
    count = conn.execute("SELECT count(*) FROM blob_parts WHERE project = %s AND digest = %s",
                         (project, digest)).fetchone()
    for part in range(int(count[0]) if count else 0):
        row = conn.execute("SELECT codec, data FROM blob_parts WHERE project = %s AND "
                           "digest = %s AND part = %s", (project, digest, part),
                           binary=True).fetchone()
        if row is None:
            raise ValueError(f"array {digest[:12]} lost part {part}")
        yield int(row[0]), row[1]


def read_raw(conn: psycopg.Connection, project: int, digest: str) -> np.ndarray:
    """A blob's bytes (uint8, read-only). `ValueError` when absent or damaged."""
    row = conn.execute("SELECT nbytes, itemsize FROM blobs WHERE project = %s AND digest = %s",
                       (project, digest)).fetchone()
    if row is None:
        raise ValueError(f"array {digest[:12]} is not stored")
    return decode_parts(_parts(conn, project, digest), int(row[0]), int(row[1]))


def read_blob(conn: psycopg.Connection, project: int, ref: ArrayRef) -> np.ndarray:
    """The array a reference names (read-only). `ValueError` when absent or damaged."""
    return as_array(read_raw(conn, project, ref.digest), ref.dtype, ref.shape)


def used_digests(conn: psycopg.Connection, project: int) -> list[tuple[int, str]]:
    """(first seq using it, digest) of every array the records use, by seq."""
    return [(int(s), str(d)) for s, d in conn.execute(
        "SELECT min(seq), digest FROM event_blobs WHERE project = %s GROUP BY digest "
        "ORDER BY min(seq)", (project,)).fetchall()]


# ------------------------------------------------------------- snapshots

def write_snapshot(conn: psycopg.Connection, project: int, seq: int, head_hash: str,
                   payload: Payload, packed: Packed) -> None:
    """Insert or replace the snapshot at ``seq`` inside the caller's transaction."""
    insert_blobs(conn, project, packed)
    conn.execute("DELETE FROM snapshot_blobs WHERE project = %s AND seq = %s", (project, seq))
    conn.execute(
        "INSERT INTO snapshots (project, seq, head_hash, size, crc32, body) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (project, seq) DO UPDATE SET "
        "head_hash = EXCLUDED.head_hash, created = now(), size = EXCLUDED.size, "
        "crc32 = EXCLUDED.crc32, body = EXCLUDED.body",
        (project, seq, head_hash, len(payload.body), zlib.crc32(payload.body), payload.body))
    if payload.arrays:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO snapshot_blobs VALUES (%s, %s, %s) "
                            "ON CONFLICT DO NOTHING", [(project, seq, d) for d in payload.arrays])


def delete_snapshots(conn: psycopg.Connection, project: int, keep: int) -> int:
    """Delete all but the newest ``keep`` snapshots and the arrays only they used."""
    doomed = [int(s) for (s,) in conn.execute(
        "SELECT seq FROM snapshots WHERE project = %s ORDER BY seq DESC OFFSET %s",
        (project, keep)).fetchall()]
    if doomed:
        conn.execute("DELETE FROM snapshots WHERE project = %s AND seq = ANY(%s)",
                     (project, doomed))
        conn.execute("DELETE FROM snapshot_blobs WHERE project = %s AND seq = ANY(%s)",
                     (project, doomed))
        conn.execute("SELECT ledger_collect_garbage(%s)", (project,))
    return len(doomed)


def read_latest_snapshot(conn: psycopg.Connection, project: int,
                         hash_at: Callable[[int], str | None], max_seq: int | None,
                         on_skip: Callable[[int, str], None]) -> Snapshot | None:
    """The newest snapshot at or before ``max_seq`` whose chain hash, checksum and
    arrays all hold, decoded; else None (each one passed over is reported)."""
    limit = (1 << 62) if max_seq is None else max_seq
    found = conn.execute("SELECT seq, head_hash FROM snapshots WHERE project = %s AND seq <= %s"
                         " ORDER BY seq DESC", (project, limit)).fetchall()
    for seq, head_hash in found:
        if hash_at(seq) != head_hash:
            on_skip(seq, "it was built from a different history")
            continue
        row: Any = conn.execute("SELECT size, crc32, body FROM snapshots WHERE project = %s "
                                "AND seq = %s", (project, seq), binary=True).fetchone()
        if row is None:  # pruned by another writer meanwhile
            continue
        size, crc, body = int(row[0]), int(row[1]), bytes(row[2])
        if len(body) != size or zlib.crc32(body) != crc:
            on_skip(seq, "it is damaged")
            continue
        try:
            data = decode_payload(body, lambda ref: read_blob(conn, project, ref))
        except Exception as exc:  # noqa: BLE001 - a damaged cache is skipped, never trusted
            on_skip(seq, f"it does not decode ({exc})")
            continue
        return int(seq), str(head_hash), data
    return None
