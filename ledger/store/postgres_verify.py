"""Re-hashing a project's chain from the bytes the server stores.

Everything is read in one REPEATABLE READ, read-only transaction (one consistent
view while appends go on), streamed through a server-side cursor so a long
history never sits in memory at once. What is checked, first failure wins:

* seqs run 1, 2, 3 ... with no gap;
* every stored hash equals ``sha256(parent || prefix || body)`` recomputed from
  the envelope columns and the stored body (`ledger.store.chain`) -- a changed
  author, message, time or event shows at its seq;
* the ``kind`` column matches the event in the body;
* every array a record uses is stored and still has its digest;
* the project row's head (seq and hash) is the chain's end, which is how a
  removed last record or an appended foreign one shows;
* the ``witness`` (a seq and hash this client saw earlier) still holds, which is
  how a consistent rewrite of the whole chain by the owner shows.
"""

from __future__ import annotations

import psycopg

from ledger.core.record import GENESIS
from ledger.errors import IntegrityError
from ledger.store import postgres_blobs as blobs
from ledger.store.chain import check_arrays, check_row

_COLUMNS = ("seq, tx, author, time, message, tool_version, tx_kind, ref, tx_meta, kind, hash, "
            "body, n_blobs")


def verify_project(conn: psycopg.Connection, project: int, name: str,
                   witness: tuple[int, str] | None) -> tuple[int, str]:
    """(record count, last hash) of a chain that verifies; `IntegrityError` if not."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        count, last_hash, hashes = _verify_rows(conn, project, name, witness)
        check_arrays(name, blobs.used_digests(conn, project),
                     lambda digest: blobs.read_raw(conn, project, digest))
        row = conn.execute("SELECT head_seq, head_hash FROM projects WHERE id = %s",
                           (project,)).fetchone()
    head_seq, head_hash = (int(row[0]), str(row[1])) if row else (0, "")
    if head_seq > count:
        raise IntegrityError(f"{name}: records {count + 1}..{head_seq} are missing",
                             seq=count + 1)
    if head_seq < count:
        raise IntegrityError(f"{name}: record {head_seq + 1} was not written by the ledger "
                             f"(recorded head {head_seq}, found {count})", seq=head_seq + 1)
    if head_hash != last_hash:
        raise IntegrityError(f"{name}: record {count} differs from the recorded head hash",
                             seq=count)
    if witness is not None and hashes.get(witness[0]) != witness[1]:
        raise IntegrityError(f"{name}: record {witness[0]} is not the one this client saw "
                             "(the history was rewritten)", seq=witness[0])
    return count, last_hash


def _verify_rows(conn: psycopg.Connection, project: int, name: str,
                 witness: tuple[int, str] | None) -> tuple[int, str, dict[int, str]]:
    parent, expected, last_hash = GENESIS, 1, ""
    seen: dict[int, str] = {}
    with conn.cursor(name="ledger_verify", binary=True) as cur:
        cur.itersize = 1000
        cur.execute(f"SELECT {_COLUMNS} FROM events WHERE project = %s ORDER BY seq",
                    (project,))
        for seq, tx, author, time, message, tool, tx_kind, ref, meta, kind, hsh, body, nb \
                in cur:
            digest = check_row(name, parent, expected, (seq, tx, author, time, message, tool,
                                                          tx_kind, ref, meta, kind, hsh, body, nb))
            if witness is not None and seq == witness[0]:
                seen[seq] = hsh
            parent, last_hash = digest, hsh
            expected += 1
    return expected - 1, last_hash, seen
