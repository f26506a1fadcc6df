"""Upgrading a format-1 ledger file (arrays inline in each record) to format 2.

Format 1 hashed each record over its arrays' bytes; format 2 hashes over their
digests (`ledger.core.codec.encode_canonical`). The history is carried over record
by record — same seqs, transactions, authors, times, messages and events — but the
hashes change, so the upgrade first checks the old chain completely (a tampered
file is refused, not laundered into a fresh chain) and reports both heads, which
anyone holding the old head hash can use to tie the two files together. Tags come
along; snapshots are caches and are rebuilt when needed.

Example::

    old_head, new_head, n = upgrade_v1("project.ledger", "project-v2.ledger")
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ledger.core.codec import decode_any, decode_event, encode
from ledger.core.record import GENESIS, Record
from ledger.errors import IntegrityError, StoreError
from ledger.store.sqlite import SqliteStore

_BATCH = 4096


def _rows(conn: sqlite3.Connection, path: Path) -> Iterator[Record]:
    """The old file's records, each checked against the old chain as it is read."""
    parent, expected = GENESIS, 1
    cur = conn.execute("SELECT seq, tx, author, time, message, tool_version, tx_kind, ref, "
                       "tx_meta, hash, body FROM events ORDER BY seq")
    for seq, tx, author, time, message, tool, tx_kind, ref, meta, hsh, body in cur:
        if seq != expected:
            raise IntegrityError(f"{path}: record {expected} is missing", seq=expected)
        if body is None:
            body = b"".join(bytes(d) for (d,) in conn.execute(
                "SELECT data FROM chunks WHERE seq = ? ORDER BY part", (seq,)).fetchall())
        try:
            event = decode_event(body)
            tx_meta = decode_any(meta) if meta is not None else {}
        except Exception as exc:  # noqa: BLE001 - damage
            raise IntegrityError(f"{path}: record {seq} does not decode ({exc})",
                                 seq=seq) from None
        content = encode((seq, tx, author, time, message, tool, tx_kind, ref, tx_meta, event))
        digest = hashlib.sha256(parent + content).digest()
        if digest.hex() != hsh:
            raise IntegrityError(f"{path}: record {seq} does not match its hash", seq=seq)
        parent, expected = digest, expected + 1
        yield Record(seq, tx, author, time, message, tool, tx_kind, ref, event, meta=tx_meta)


def upgrade_v1(old: str | os.PathLike[str], new: str | os.PathLike[str]) -> tuple[str, str, int]:
    """Write ``new`` (format 2) from the format-1 file ``old``; return (old head
    hash, new head hash, records). ``old`` is only read."""
    src, dst = Path(old), Path(new)
    if not src.is_file():
        raise StoreError(f"{src}: no such ledger file")
    try:
        conn = sqlite3.connect(src.absolute().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{src}: cannot open ({exc})") from None
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != "ledger-events" or meta.get("version") != 1:
            raise StoreError(f"{src}: not a format-1 ledger file "
                             f"(format {meta.get('format')!r}, version {meta.get('version')!r})")
        old_head = str(meta.get("head_hash", ""))
        last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchall()
        if (tuple(last[0]) if last else (0, "")) != (meta.get("head_seq"), old_head):
            raise IntegrityError(f"{src}: the recorded head ({meta.get('head_seq')}) is not "
                                 "the last record", seq=int(last[0][0]) if last else 1)
        records = _rows(conn, src)
        count = [0]

        def batches() -> Iterator[list[Record]]:
            batch: list[Record] = []
            for rec in records:
                batch.append(rec)
                count[0] += 1
                if len(batch) >= _BATCH:
                    yield batch
                    batch = []
            if batch:
                yield batch

        SqliteStore.create_from(dst, batches())
        tags: list[Any] = conn.execute("SELECT name, seq FROM tags").fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"{src}: damaged ({exc})") from None
    finally:
        conn.close()
    with SqliteStore(dst, create=False) as store:
        for name, seq in tags:
            store.set_tag(str(name), int(seq))
        return old_head, store.head_hash(), count[0]
