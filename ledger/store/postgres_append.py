"""Writing records to a project: hashing onto the server's head, in one round trip.

`ledger.store.chain.prepare` encodes each record (its body with arrays by digest,
and the envelope prefix the hash covers) before any lock is taken; `write_records` runs inside the
append transaction, after the project row is locked and the head checked, hashes
the records onto the head hash and inserts them with COPY (one round trip for a
10,000-record push, where row-by-row inserts would pay a round trip each).

COPY fires the server's row triggers like INSERT does, so the author check and
the gap check (`ledger.store.postgres_schema`) apply to every record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from ledger.core.codec import Payload
from ledger.core.events import kind_of
from ledger.core.record import GENESIS, Record
from ledger.errors import IntegrityError
from ledger.store.chain import link, meta_blob

_INSERT_COLUMNS = ("project, seq, tx, author, time, message, tool_version, tx_kind, ref, "
                   "tx_meta, kind, hash, body, n_blobs")
_TYPES = ("int4", "int8", "int8", "text", "text", "text", "text", "text", "int8", "bytea",
          "text", "text", "bytea", "int4")


def write_records(conn: psycopg.Connection, project: int, records: Sequence[Record],
                  prepared: list[tuple[bytes, Payload]], head_hash: str) -> str:
    """Insert the records chained onto ``head_hash``; return the last hash.
    `IntegrityError` when a record carries a hash the chain does not give it."""
    parent = bytes.fromhex(head_hash) if head_hash else GENESIS
    last = head_hash
    rows: list[tuple[Any, ...]] = []
    links: list[tuple[int, int, str]] = []
    for rec, (prefix, payload) in zip(records, prepared, strict=True):
        digest = link(parent, prefix, payload.body)
        if rec.hash and rec.hash != digest.hex():
            raise IntegrityError(f"record {rec.seq} carries a hash that does not continue "
                                 "this chain", seq=rec.seq)
        last = digest.hex()
        rows.append((project, rec.seq, rec.tx, rec.author, rec.time, rec.message,
                     rec.tool_version, rec.tx_kind, rec.ref, meta_blob(rec.meta),
                     kind_of(rec.event), last, payload.body, len(payload.arrays)))
        links.extend((project, rec.seq, d) for d in payload.arrays)
        parent = digest
    if not rows:
        return last
    columns = [list(col) for col in zip(*rows, strict=True)]
    conn.execute(f"INSERT INTO events ({_INSERT_COLUMNS}) SELECT * FROM unnest("
                 f"{', '.join(f'%s::{t}[]' for t in _TYPES)})", columns)
    if links:
        conn.execute("INSERT INTO event_blobs SELECT * FROM unnest(%s::int4[], %s::int8[], "
                     "%s::text[])", [list(col) for col in zip(*links, strict=True)])
    return last
