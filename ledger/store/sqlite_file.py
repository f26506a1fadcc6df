"""Ledger files on disk: recognising one safely, and creating one atomically.

Opening must never write to a file before it is known to be a ledger of a version
this code reads, so the checks read the SQLite header bytes and then open the file
read-only. A new file is built under a temporary name, fsynced, and linked into
place, so a crash while creating never leaves a half-made ledger.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

from ledger.errors import StoreError
from ledger.store.snapshots import create_snapshot_tables
from ledger.store.sqlite_blobs import BLOB_SCHEMA

FORMAT_NAME = "ledger-events"
FORMAT_VERSION = 2  # 2: arrays kept by digest, compressed (1: inline; not read)
APPLICATION_ID = 0x4C454447  # "LEDG" in the SQLite header: lets `file(1)` tell us apart
_MAGIC = b"SQLite format 3\x00"

_SCHEMA = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value NOT NULL)",
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, tx INTEGER NOT NULL, author TEXT NOT NULL,"
    " time TEXT NOT NULL, message TEXT NOT NULL, tool_version TEXT NOT NULL,"
    " tx_kind TEXT NOT NULL, ref INTEGER NOT NULL, tx_meta BLOB, kind TEXT NOT NULL,"
    " hash TEXT NOT NULL, body BLOB NOT NULL, n_blobs INTEGER NOT NULL)",
    # tx_meta NULL: {}; n_blobs: arrays the body refers to (kept in the blob tables)
    "CREATE TABLE tags(name TEXT PRIMARY KEY, seq INTEGER NOT NULL, created TEXT NOT NULL)",
    "CREATE INDEX events_tx ON events(tx)",  # undo of an old transaction: no scan
    *BLOB_SCHEMA,
)


def _fetch(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """All rows of a query, with its statement finished at once. A statement left
    half-read would pin this connection to an old WAL snapshot: later reads would
    miss other writers' commits."""
    cur = conn.execute(sql, params)
    try:
        return cur.fetchall()
    finally:
        cur.close()


def _fail(path: Path, problem: str) -> StoreError:
    return StoreError(f"{path}: {problem}")


def _uri(path: Path, mode: str, immutable: bool = False) -> str:
    return path.absolute().as_uri() + f"?mode={mode}" + ("&immutable=1" if immutable else "")


def _has_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def leftover_files(path: Path) -> list[Path]:
    """SQLite's side files (``-wal``, ``-shm``, ``-journal``) beside ``path``."""
    return [side for side in (path.with_name(path.name + suffix)
                              for suffix in ("-wal", "-shm", "-journal"))
            if side.exists() or side.is_symlink()]


def refuse_leftovers(path: Path) -> None:
    """Refuse to make a new ledger where an old one's side files remain.

    Why: when a writer was killed and the user then deleted only ``p.ledger``,
    its ``-wal`` still holds the old project's pages; SQLite would replay them
    into the "new" file, which would then silently hold (and verify) someone
    else's history. The user must decide: restore the ledger or delete them."""
    found = leftover_files(path)
    if found and not path.exists():  # another process may just have created it
        names = ", ".join(str(f) for f in found)
        raise _fail(path, f"does not exist but leftover SQLite files of an earlier ledger "
                          f"do ({names}); restore the ledger file or delete them before "
                          "creating a new ledger here")


def _check_header(path: Path, size: int) -> None:
    """Reject files that are not SQLite or are visibly cut short, from bytes alone."""
    with open(path, "rb") as fh:
        header = fh.read(100)
    if not header:
        raise _fail(path, "is empty, not a ledger file")
    if not header.startswith(_MAGIC[:len(header)]):
        raise _fail(path, "not a ledger file (not an SQLite database)")
    if len(header) < 100:
        raise _fail(path, f"truncated ({size} bytes, shorter than an SQLite header)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise _fail(path, "damaged (invalid SQLite page size)")
    # With a non-empty WAL beside it, the main file may legitimately lag its
    # header (a checkpoint cut short); SQLite repairs that from the WAL.
    if _has_wal(path):
        return
    pages = int.from_bytes(header[28:32], "big")
    size_valid = pages > 0 and header[24:28] == header[92:96]
    if size % page_size or (size_valid and size < pages * page_size):
        raise _fail(path, f"truncated ({size} bytes; the database needs "
                          f"{pages * page_size if size_valid else 'whole pages'})")


def _read_meta(path: Path, immutable: bool) -> dict[str, Any]:
    conn = sqlite3.connect(_uri(path, "ro", immutable), uri=True, timeout=5.0)
    try:
        tables = {name for (name,) in _fetch(
            conn, "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"meta", "events"} <= tables:
            raise _fail(path, "not a ledger file (an SQLite database without ledger tables)")
        return {str(k): v for k, v in _fetch(conn, "SELECT key, value FROM meta")}
    finally:
        conn.close()


def check_ledger_file(path: Path, writing: bool) -> None:
    """Raise `StoreError` unless ``path`` is a ledger this code can open.

    Reads only: the header bytes, then the meta table through a read-only
    connection (``immutable`` when no WAL exists, so not even ``-shm`` is made).
    """
    if path.is_dir():
        raise _fail(path, "is a directory, not a ledger file")
    size = path.stat().st_size
    _check_header(path, size)
    try:
        try:
            meta = _read_meta(path, immutable=not _has_wal(path))
        except sqlite3.DatabaseError:
            meta = _read_meta(path, immutable=False)  # raced with a checkpoint: retry
    except sqlite3.DatabaseError as exc:
        raise _fail(path, f"damaged or not a ledger file ({exc})") from None
    if meta.get("format") != FORMAT_NAME:
        raise _fail(path, f"not a ledger file (format {meta.get('format')!r})")
    version = meta.get("version")
    if not isinstance(version, int):
        raise _fail(path, f"damaged (format version {version!r})")
    if version < FORMAT_VERSION:
        raise _fail(path, f"written in ledger format {version}; this version reads format "
                          f"{FORMAT_VERSION} (re-import the project from its .slp, or run "
                          "`ledger upgrade OLD NEW`)")
    if version > FORMAT_VERSION:
        raise _fail(path, f"written by a newer ledger (format version {version}; "
                          f"this version reads up to {FORMAT_VERSION})")
    if writing:
        mode = path.stat().st_mode
        if not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP
                                                        | stat.S_IWOTH):
            raise _fail(path, "is read-only (open it with read_only=True)")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise _fail(path, "its directory is not writable (SQLite needs the -wal file)")


def _initialise(conn: sqlite3.Connection, journal: str = "WAL") -> None:
    """Write the schema and the format marks in one transaction."""
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        # another process may have initialised the same empty file first
        if not _fetch(conn, "SELECT 1 FROM sqlite_master WHERE name = 'meta'"):
            for statement in _SCHEMA:
                conn.execute(statement)
            create_snapshot_tables(conn)
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("format", FORMAT_NAME), ("version", FORMAT_VERSION),
                ("head_seq", 0), ("head_hash", ""), ("summary", b"")])
        conn.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_ledger_file(path: Path) -> None:
    """Create an empty ledger at ``path`` atomically; keep an existing one.

    The schema is written to a temporary file beside the target, fsynced, then
    hard-linked into place: a crash leaves either no ledger or a complete empty
    one, and of two processes creating the same file at once the loser simply
    opens the winner's (``os.link`` refuses to replace, unlike ``os.replace``).
    """
    refuse_leftovers(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            _initialise(conn)
        finally:
            conn.close()  # checkpoints and removes the temporary WAL
        _fsync(tmp)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return
        except OSError:  # no hard links on this file system
            if path.exists():
                return
            os.replace(tmp, path)
        with suppress(OSError):  # not every platform lets a directory be opened
            _fsync(path.parent)
    except (OSError, sqlite3.Error) as exc:
        raise _fail(path, f"cannot create the ledger file ({exc})") from None
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)


# ----------------------------------------------------------------- the store


# ----------------------------------------------------------------- replicas
#
# A replica (`ledger.project.replica`) remembers its origin in a ``remote`` table.
# It sits outside the hash chain, like tags, and is created on first use, so files
# written before replicas existed open unchanged and simply have no origin.

REMOTE_SCHEMA = ("CREATE TABLE IF NOT EXISTS remote(name TEXT PRIMARY KEY, url TEXT NOT NULL,"
                 " project TEXT NOT NULL, author TEXT, synced_seq INTEGER NOT NULL,"
                 " synced_hash TEXT NOT NULL)")
_REMOTE_COLUMNS = ("url", "project", "author", "synced_seq", "synced_hash")


def read_remote(path: Path, name: str = "origin") -> dict[str, Any] | None:
    """The replica's origin (url without password, project, author, last synced
    seq and hash), or None for a plain ledger file."""
    try:
        conn = sqlite3.connect(_uri(path, "ro"), uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        raise _fail(path, f"cannot open ({exc})") from None
    try:
        if not _fetch(conn, "SELECT 1 FROM sqlite_master WHERE name = 'remote'"):
            return None
        rows = _fetch(conn, f"SELECT {', '.join(_REMOTE_COLUMNS)} FROM remote WHERE name = ?",
                      (name,))
        return dict(zip(_REMOTE_COLUMNS, rows[0], strict=True)) if rows else None
    except sqlite3.Error as exc:
        raise _fail(path, f"cannot read its origin ({exc})") from None
    finally:
        conn.close()


def write_remote(path: Path, remote: dict[str, Any], name: str = "origin") -> None:
    """Create or update the replica's origin row (one small durable transaction)."""
    try:
        conn = sqlite3.connect(_uri(path, "rw"), uri=True, isolation_level=None,
                               timeout=30.0)
    except sqlite3.Error as exc:
        raise _fail(path, f"cannot open ({exc})") from None
    try:
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(REMOTE_SCHEMA)
        conn.execute(f"INSERT OR REPLACE INTO remote (name, {', '.join(_REMOTE_COLUMNS)}) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (name, *(remote[k] for k in _REMOTE_COLUMNS)))
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise _fail(path, f"cannot record its origin ({exc})") from None
    finally:
        conn.close()


def truncate_copy(path: Path, seq: int) -> list[tuple[str, int]]:
    """Cut a private copy of a ledger file back to ``seq`` (a replica's synced
    prefix), before a rebase appends the new history to it.

    Only for a file nobody else has open (the rebase's temporary copy): the
    store contract is append-only, and this is how a rebase rewrites its local
    tail without ever touching the replica itself. Returns the tags it removed
    (name, seq) so the caller can place them again.
    """
    conn = sqlite3.connect(_uri(path, "rw"), uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        head = _fetch(conn, "SELECT hash FROM events WHERE seq = ?", (seq,))
        removed = [(str(n), int(s)) for n, s in _fetch(
            conn, "SELECT name, seq FROM tags WHERE seq > ?", (seq,))]
        for sql in ("DELETE FROM events WHERE seq > ?", "DELETE FROM event_blobs WHERE seq > ?",
                    "DELETE FROM snapshots WHERE seq > ?",
                    "DELETE FROM snapshot_blobs WHERE seq > ?", "DELETE FROM tags WHERE seq > ?"):
            conn.execute(sql, (seq,))
        if _fetch(conn, "SELECT 1 FROM sqlite_master WHERE name = 'signatures'"):
            conn.execute("DELETE FROM signatures WHERE seq > ?", (seq,))
            conn.execute("DELETE FROM keys WHERE since_seq > ?", (seq,))
        conn.execute("DELETE FROM blob_parts WHERE digest NOT IN (SELECT digest FROM "
                     "event_blobs UNION SELECT digest FROM snapshot_blobs)")
        conn.execute("DELETE FROM blobs WHERE digest NOT IN (SELECT digest FROM "
                     "event_blobs UNION SELECT digest FROM snapshot_blobs)")
        conn.executemany("UPDATE meta SET value = ? WHERE key = ?", [
            (seq, "head_seq"), (str(head[0][0]) if head else "", "head_hash"),
            (b"", "summary")])
        conn.execute("COMMIT")
        return removed
    except sqlite3.Error as exc:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise _fail(path, f"cannot cut the copy back to seq {seq} ({exc})") from None
    finally:
        conn.close()
