"""Verifying a ledger file from its stored bytes (`SqliteStore.verify`).

The chain is re-hashed record by record (`ledger.store.chain.check_row`, shared
with the server store), every array a record uses is re-digested, and the chain's
end is compared with the head recorded in ``meta`` -- which is how a removed last
record, or a foreign one appended, shows.
"""

from __future__ import annotations

import sqlite3

from ledger.core.record import GENESIS
from ledger.errors import IntegrityError
from ledger.store.chain import check_arrays, check_row
from ledger.store.sqlite_blobs import read_raw
from ledger.store.sqlite_file import _fetch

_MIN_SEQ = -(2 ** 63)
_COLUMNS = ("seq, tx, author, time, message, tool_version, tx_kind, ref, tx_meta, kind, hash, "
            "body, n_blobs")


def verify_file(conn: sqlite3.Connection, where: str) -> int:
    """Re-hash every record from the stored bytes and re-digest every array, inside
    the caller's read transaction; return the record count (`SqliteStore.verify`
    says what each failure means)."""
    cur = conn.execute(f"SELECT {_COLUMNS} FROM events WHERE seq >= ? ORDER BY seq",
                       (_MIN_SEQ,))
    try:
        count, last_hash = _verify_rows(cur, where)
    finally:
        cur.close()
    _verify_arrays(conn, where)
    meta = dict(_fetch(
        conn, "SELECT key, value FROM meta WHERE key IN ('head_seq', 'head_hash')"))
    head_seq, head_hash = meta.get("head_seq"), meta.get("head_hash")
    if head_seq != count:
        if isinstance(head_seq, int) and head_seq > count:
            raise IntegrityError(f"{where}: records {count + 1}..{head_seq} are "
                                 "missing", seq=count + 1)
        bad = head_seq + 1 if isinstance(head_seq, int) and head_seq >= 0 else 1
        raise IntegrityError(f"{where}: record {bad} was not written by the ledger "
                             f"(recorded head {head_seq!r}, found {count})", seq=bad)
    if head_hash != last_hash:
        raise IntegrityError(f"{where}: record {count} differs from the recorded "
                             "head hash", seq=count)
    return count

def _verify_rows(cur: sqlite3.Cursor, where: str) -> tuple[int, str]:
    parent, expected, last_hash = GENESIS, 1, ""
    for row in cur:
        parent = check_row(where, parent, expected, row)
        last_hash = row[10]
        expected += 1
    return expected - 1, last_hash

def _verify_arrays(conn: sqlite3.Connection, where: str) -> None:
    """Every array a record uses is present and still has its digest."""
    rows = conn.execute("SELECT min(e.seq), e.digest FROM event_blobs AS e "
                        "GROUP BY e.digest ORDER BY min(e.seq)").fetchall()
    check_arrays(where, rows, lambda digest: read_raw(conn, digest))
