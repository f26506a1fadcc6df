"""Writing a whole new ledger file at once: from records (`SqliteStore.create_from`)
or as a copy of another ledger file (`SqliteStore.copy_to`, what a fork does).

An import or a fork of an in-memory project has all its records at hand, so the
file is built without a journal under a temporary name (``synchronous=OFF``: a
crash can only ever lose the temporary file), fsynced, switched to WAL, and then
hard-linked into place: every byte is written once, and the target is either
absent or whole.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from ledger.core.codec import encode
from ledger.core.record import Record
from ledger.errors import StoreError
from ledger.store.sqlite_file import _fail, _fsync, _initialise, refuse_leftovers
from ledger.store.sqlite_keys import copy_signatures


def create_ledger_from(cls: Any, path: str | os.PathLike[str],
                       batches: Iterator[Sequence[Record]],
                       summary: dict[str, Any] | None = None,
                       progress: Callable[[int], None] | None = None, *,
                       keys: dict[str, tuple[str, int]] | None = None,
                       signatures: dict[int, tuple[int, str, str]] | None = None) -> None:
    """Write a new ledger file holding ``batches`` of records (seqs from 1),
    atomically and writing each byte once (see the module docstring).
    ``progress(n)`` hears of every ``n`` bytes of array data written; the
    source's public ``keys`` and transaction ``signatures`` are copied as they
    are (`verify` checks them against the copied chain)."""
    target = Path(path)
    if target.exists():
        raise StoreError(f"{target}: already exists")
    refuse_leftovers(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.new")
    try:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            _initialise(conn, journal="OFF")
        finally:
            conn.close()
        store = cls(tmp, create=False, synchronous="OFF", _journal="OFF")
        store.progress = progress
        try:
            head = 0
            for batch in batches:
                store.append(batch, head)
                head += len(batch)
            if summary is not None:
                store._guard("writing the summary", store.conn.execute,
                                 "UPDATE meta SET value = ? WHERE key = 'summary'",
                                 (encode(summary),))
            if keys or signatures:
                store._guard("copying signatures", copy_signatures, store.conn,
                                 keys or {}, signatures or {})
        finally:
            store.close()
        conn = sqlite3.connect(tmp, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, target)
        with suppress(OSError):
            dfd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except FileExistsError:
        raise StoreError(f"{target}: already exists") from None
    except (OSError, sqlite3.Error) as exc:
        raise _fail(target, f"cannot write the ledger ({exc})") from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"),
                             Path(f"{tmp}-shm")):
            with suppress(FileNotFoundError):
                os.unlink(leftover)


def copy_ledger(conn: sqlite3.Connection, source: Path, target: Path, *, writable: bool,
                begin: Callable[[sqlite3.Connection], None]) -> None:
    """Copy the ledger behind ``conn`` to ``target`` (new), fsynced, atomically.

    The fast way copies the file's bytes: after a full checkpoint, and holding the
    write lock so that no writer adds a frame meanwhile, the main file alone is the
    whole ledger. When that cannot be had (a read-only handle, a reader pinning the
    log), SQLite's online backup copies it page by page instead.
    """
    if target.exists():
        raise StoreError(f"{target}: already exists")
    refuse_leftovers(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.fork")
    wal = Path(f"{source}-wal")
    try:
        copied = False
        if writable:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                begin(conn)
                try:
                    if not wal.exists() or wal.stat().st_size == 0:
                        shutil.copyfile(source, tmp)
                        copied = True
                finally:
                    conn.execute("ROLLBACK")
        if not copied:
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.backup(dst)
                dst.execute("PRAGMA journal_mode=WAL")
            finally:
                dst.close()
        _fsync(tmp)
        os.link(tmp, target)
        with suppress(OSError):
            _fsync(target.parent)
    except FileExistsError:
        raise StoreError(f"{target}: already exists") from None
    except (OSError, sqlite3.Error) as exc:
        raise _fail(target, f"cannot write the copy ({exc})") from None
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
