"""Public keys and transaction signatures in a ledger file (the audit trail).

Two tables beside the events, created on first use so that files written before
signing existed open unchanged::

    keys(author PRIMARY KEY, public, since_seq, added)   one Ed25519 key per author
    signatures(tx PRIMARY KEY, seq, author, signature)   seq: the transaction's last record

They sit outside the hash chain, like tags: a signature cannot be inside the
record it signs, and a key inside the chain would vouch for nothing more (whoever
can rewrite the file can rewrite the chain). What makes them trustworthy is that a
signature can only be made with a private key the file never holds, and that a
receipt kept elsewhere pins the keys (docs/audit.md).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from ledger.errors import IntegrityError

KEY_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS keys(author TEXT PRIMARY KEY, public TEXT NOT NULL,"
    " since_seq INTEGER NOT NULL, added TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS signatures(tx INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
    " author TEXT NOT NULL, signature TEXT NOT NULL)",
)


def _has_tables(conn: sqlite3.Connection) -> bool:
    cur = conn.execute("SELECT count(*) FROM sqlite_master WHERE name IN ('keys', 'signatures')")
    try:
        return cur.fetchone()[0] == 2
    finally:
        cur.close()


def store_signature(conn: sqlite3.Connection, first_seq: int, tx: int, last_seq: int,
                    signed: tuple[str, str, str]) -> None:
    """Record ``(author, public key, signature)`` of transaction ``tx`` inside the
    caller's write transaction; the author's key is added on first use and must
    match the one the file holds (`IntegrityError`: the append is rolled back)."""
    author, public, signature = signed
    for statement in KEY_SCHEMA:
        conn.execute(statement)
    cur = conn.execute("SELECT public FROM keys WHERE author = ?", (author,))
    try:
        row = cur.fetchone()
    finally:
        cur.close()
    if row is None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        conn.execute("INSERT INTO keys VALUES (?, ?, ?, ?)", (author, public, first_seq, now))
    elif row[0] != public:
        raise IntegrityError(f"the ledger holds another public key for {author!r} than the "
                             "private key in the key directory; nothing was committed")
    conn.execute("INSERT OR REPLACE INTO signatures VALUES (?, ?, ?, ?)",
                 (tx, last_seq, author, signature))


def read_keys(conn: sqlite3.Connection) -> dict[str, tuple[str, int]]:
    if not _has_tables(conn):
        return {}
    cur = conn.execute("SELECT author, public, since_seq FROM keys ORDER BY author")
    try:
        return {str(a): (str(p), int(s)) for a, p, s in cur.fetchall()}
    finally:
        cur.close()


def read_signatures(conn: sqlite3.Connection) -> dict[int, tuple[int, str, str]]:
    if not _has_tables(conn):
        return {}
    cur = conn.execute("SELECT tx, seq, author, signature FROM signatures ORDER BY tx")
    try:
        return {int(t): (int(s), str(a), str(g)) for t, s, a, g in cur.fetchall()}
    finally:
        cur.close()


def copy_signatures(conn: sqlite3.Connection, keys: dict[str, tuple[str, int]],
                    signatures: dict[int, tuple[int, str, str]]) -> None:
    """Write another store's keys and signatures into a new file (a fork)."""
    for statement in KEY_SCHEMA:
        conn.execute(statement)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.executemany("INSERT INTO keys VALUES (?, ?, ?, ?)",
                     [(a, p, s, now) for a, (p, s) in keys.items()])
    conn.executemany("INSERT INTO signatures VALUES (?, ?, ?, ?)",
                     [(t, s, a, g) for t, (s, a, g) in signatures.items()])
