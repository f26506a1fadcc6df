"""Snapshots of the projection, kept beside the events in a ledger file.

A snapshot is a cache, never the truth (design §2.7): it stores an opaque blob
(the caller serialises its `State`) together with the sequence number and the
chain hash it was built from. Opening a big ledger can then load the newest
snapshot and replay only the tail instead of every event since the beginning.

What makes a snapshot usable, checked by `latest_snapshot`:

* its ``head_hash`` equals the hash the event chain has at its ``seq`` -- a
  snapshot built from a different history (a file whose events were replaced or
  rewritten) is skipped;
* its bytes are the ones written -- a CRC-32 catches accidental damage (a flipped
  bit, a lost chunk). It does not defend against someone editing the file on
  purpose: anyone who can rewrite a blob can rewrite its checksum, so a caller
  that needs certainty replays from the events and runs ``verify()``.

A bad snapshot is skipped, so damage costs time and never correctness.

The snapshot's body is small: its columns are arrays kept by digest in the
file's blob tables (`ledger.store.sqlite_blobs`), so a snapshot whose columns are
the arrays an import brought in stores no second copy of them, and pruning a
snapshot frees only the arrays no record or other snapshot uses.

Example::

    store.save_snapshot(store.head(), store.head_hash(), encode_payload(data))
    found = store.latest_snapshot()
    if found is not None:
        seq, head_hash, data = found
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ledger.core.codec import Payload, decode_payload
from ledger.store.sqlite_blobs import Packed, collect_garbage, insert_blobs, read_blob

SNAPSHOT_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS snapshots(
        seq INTEGER PRIMARY KEY,
        head_hash TEXT NOT NULL,
        created TEXT NOT NULL,
        size INTEGER NOT NULL,
        crc32 INTEGER NOT NULL,
        body BLOB NOT NULL)""",
)

Snapshot = tuple[int, str, Any]  # (seq, head_hash, decoded payload)


def create_snapshot_tables(conn: sqlite3.Connection) -> None:
    """Create the snapshot tables (inside the caller's transaction)."""
    for statement in SNAPSHOT_SCHEMA:
        conn.execute(statement)


def write_snapshot(conn: sqlite3.Connection, seq: int, head_hash: str, payload: Payload,
                   packed: Packed) -> None:
    """Insert or replace the snapshot at ``seq`` (inside the caller's transaction).

    ``packed`` holds the compressed arrays the file does not have yet. The caller
    has checked ``head_hash`` against the chain and owns the transaction, so a
    crash leaves either the old snapshot or the new one, never half of one.
    """
    created = datetime.now(UTC).isoformat(timespec="seconds")
    insert_blobs(conn, packed)
    conn.execute("DELETE FROM snapshot_blobs WHERE seq = ?", (seq,))
    conn.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?, ?)",
                 (seq, head_hash, created, len(payload.body), zlib.crc32(payload.body),
                  payload.body))
    conn.executemany("INSERT OR IGNORE INTO snapshot_blobs VALUES (?, ?)",
                     ((seq, d) for d in payload.arrays))


def read_latest_snapshot(conn: sqlite3.Connection, hash_at: Callable[[int], str | None],
                         max_seq: int | None = None,
                         on_skip: Callable[[int, str], None] | None = None) -> Snapshot | None:
    """The newest snapshot at or before ``max_seq`` whose chain hash, checksum and
    arrays all hold, decoded; else None.

    ``hash_at(seq)`` returns the event chain's stored hash at ``seq``;
    ``on_skip(seq, why)`` hears about each snapshot passed over, so the caller can
    say that opening will be slower than usual.
    """
    limit = (1 << 62) if max_seq is None else max_seq
    seqs = conn.execute("SELECT seq, head_hash FROM snapshots WHERE seq <= ? ORDER BY seq DESC",
                        (limit,)).fetchall()
    for seq, head_hash in seqs:
        if hash_at(seq) != head_hash:
            if on_skip is not None:
                on_skip(seq, "it was built from a different history")
            continue
        size, crc, body = conn.execute("SELECT size, crc32, body FROM snapshots WHERE seq = ?",
                                       (seq,)).fetchone()
        body = bytes(body)
        if len(body) != size or zlib.crc32(body) != crc:
            if on_skip is not None:
                on_skip(seq, "it is damaged")
            continue
        try:
            data = decode_payload(body, lambda ref: read_blob(conn, ref))
        except Exception as exc:  # noqa: BLE001 - a damaged cache is skipped, never trusted
            if on_skip is not None:
                on_skip(seq, f"it does not decode ({exc})")
            continue
        return seq, head_hash, data
    return None


def delete_snapshots(conn: sqlite3.Connection, keep: int) -> int:
    """Delete all but the newest ``keep`` snapshots and the arrays only they used;
    return how many snapshots went."""
    doomed = [seq for (seq,) in conn.execute(
        "SELECT seq FROM snapshots ORDER BY seq DESC LIMIT -1 OFFSET ?", (keep,)).fetchall()]
    for seq in doomed:
        conn.execute("DELETE FROM snapshots WHERE seq = ?", (seq,))
        conn.execute("DELETE FROM snapshot_blobs WHERE seq = ?", (seq,))
    if doomed:
        collect_garbage(conn)
    return len(doomed)
