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

Blobs larger than the chunk size are split over ``snapshot_chunks`` rows, because
SQLite caps a single value at 1 GB.

Example::

    store.save_snapshot(store.head(), store.head_hash(), serialise(state))
    found = store.latest_snapshot()
    if found is not None:
        seq, head_hash, blob = found
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable
from datetime import UTC, datetime

SNAPSHOT_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS snapshots(
        seq INTEGER PRIMARY KEY,
        head_hash TEXT NOT NULL,
        created TEXT NOT NULL,
        size INTEGER NOT NULL,
        crc32 INTEGER NOT NULL,
        body BLOB)""",
    """CREATE TABLE IF NOT EXISTS snapshot_chunks(
        seq INTEGER NOT NULL,
        part INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (seq, part))""",
)

Snapshot = tuple[int, str, bytes]  # (seq, head_hash, blob)


def create_snapshot_tables(conn: sqlite3.Connection) -> None:
    """Create the snapshot tables (inside the caller's transaction)."""
    for statement in SNAPSHOT_SCHEMA:
        conn.execute(statement)


def write_snapshot(conn: sqlite3.Connection, seq: int, head_hash: str, blob: bytes,
                   chunk_size: int) -> None:
    """Insert or replace the snapshot at ``seq`` (inside the caller's transaction).

    Only the row is written here; the caller has checked ``head_hash`` against the
    chain and owns the transaction, so a crash leaves either the old snapshot or
    the new one, never half of one.
    """
    view = memoryview(blob)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    crc = zlib.crc32(view)
    conn.execute("DELETE FROM snapshot_chunks WHERE seq = ?", (seq,))
    if len(view) <= chunk_size:
        conn.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?, ?)",
                     (seq, head_hash, created, len(view), crc, view))
        return
    conn.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?, NULL)",
                 (seq, head_hash, created, len(view), crc))
    conn.executemany(
        "INSERT INTO snapshot_chunks VALUES (?, ?, ?)",
        ((seq, part, view[at:at + chunk_size])
         for part, at in enumerate(range(0, len(view), chunk_size))))


def read_latest_snapshot(conn: sqlite3.Connection, hash_at: Callable[[int], str | None],
                         on_skip: Callable[[int, str], None] | None = None) -> Snapshot | None:
    """The newest snapshot whose chain hash and checksum both hold, else None.

    ``hash_at(seq)`` returns the event chain's stored hash at ``seq`` (None when
    there is no such event); ``on_skip(seq, why)`` hears about each snapshot passed
    over, so the caller can say that opening will be slower than usual.
    """
    rows = conn.execute(
        "SELECT seq, head_hash, size, crc32, body FROM snapshots ORDER BY seq DESC"
    ).fetchall()  # fetchall: no statement stays open
    for seq, head_hash, size, crc, body in rows:
        if hash_at(seq) != head_hash:
            if on_skip is not None:
                on_skip(seq, "it was built from a different history")
            continue
        if body is None:
            parts = conn.execute(
                "SELECT data FROM snapshot_chunks WHERE seq = ? ORDER BY part", (seq,)).fetchall()
            body = b"".join(bytes(data) for (data,) in parts)
        blob = bytes(body)
        if len(blob) == size and zlib.crc32(blob) == crc:
            return seq, head_hash, blob
        if on_skip is not None:
            on_skip(seq, "it is damaged")
    return None


def delete_snapshots(conn: sqlite3.Connection, keep: int) -> int:
    """Delete all but the newest ``keep`` snapshots; return how many went."""
    doomed = [seq for (seq,) in conn.execute(
        "SELECT seq FROM snapshots ORDER BY seq DESC LIMIT -1 OFFSET ?", (keep,)).fetchall()]
    for seq in doomed:
        conn.execute("DELETE FROM snapshots WHERE seq = ?", (seq,))
        conn.execute("DELETE FROM snapshot_chunks WHERE seq = ?", (seq,))
    return len(doomed)
