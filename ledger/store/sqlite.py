"""A durable ledger: every committed record in one SQLite file.

Why SQLite: one file the user can copy, crash-safe transactions, a B-tree keyed by
sequence number (appending and reading from a seq never scan), and it ships with
Python. The layout::

    meta(key, value)            format = "ledger-events", version = 1,
                                head_seq / head_hash (the chain's end, see verify)
    events(seq INTEGER PRIMARY KEY, tx, author, time, message, tool_version,
           tx_kind, ref, tx_meta, kind, hash, body)
    chunks(seq, part, data)     bodies over ``chunk_size`` (SQLite caps a value at 1 GB)
    tags(name, seq, created)    named positions; outside the hash chain
    snapshots, snapshot_chunks  cached projections (`ledger.store.snapshots`)

``body`` is `ledger.core.codec.encode_event`, ``tx_meta`` the msgpack of the record's
transaction metadata (NULL when empty). The hash of a record is
``sha256(parent || content)`` where ``content`` is `Record.content()`: the msgpack
array of the envelope fields followed by the event. msgpack concatenates array
items, so the store builds ``content`` from the envelope and the stored body
bytes without encoding the event twice, and `verify` re-hashes straight from the
stored bytes without decoding them first.

Durability: WAL journal with ``synchronous=FULL``, so `append` returns only after
the WAL is fsynced; a crash or SIGKILL at any instant leaves every acknowledged
transaction whole and no partial one. (``NORMAL`` would survive a killed process
too, but not a power cut.) Appends are optimistic: inside one ``BEGIN IMMEDIATE``
transaction the head is re-read, and a writer whose ``expected_head`` is stale
gets `ConcurrencyError` and writes nothing.

Opening never writes before the file is known to be a ledger of a version this
code reads: the checks read the header bytes and then open the file read-only.

Example::

    store = SqliteStore("project.ledger")
    led = EventLedger(store=store)
    with led.transaction("add track"):
        led.emit(TrackAdded(TrackDef(3, "t", 0), 0))
    store.verify()
    store.close()
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import threading
import warnings
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic, sleep
from types import TracebackType
from typing import Any, Literal

import msgspec

from ledger.core.codec import decode_any, decode_event, encode, encode_event
from ledger.core.events import TrackAdded, TrackDef, kind_of
from ledger.core.record import GENESIS, Record
from ledger.errors import (
    ConcurrencyError,
    IntegrityError,
    NotFoundError,
    ReadOnlyError,
    ValidationError,
)
from ledger.store.snapshots import (
    Snapshot,
    delete_snapshots,
    read_latest_snapshot,
    write_snapshot,
)
from ledger.store.sqlite_file import (
    _fail,
    _fetch,
    _initialise,
    _uri,
    check_ledger_file,
    create_ledger_file,
)

DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024
DEFAULT_BUSY_TIMEOUT = 30.0

_READ_BATCH_ROWS = 512
_READ_BATCH_BYTES = 64 * 1024 * 1024
_MIN_SEQ = -(2 ** 63)
_COLUMNS = ("seq, tx, author, time, message, tool_version, tx_kind, ref, tx_meta, kind, hash, "
            "body")


Synchronous = Literal["FULL", "NORMAL", "EXTRA"]


def content_prefix(rec: Record) -> bytes:
    """The bytes of ``rec.content()`` that come before the encoded event.

    ``Record.content()`` is a msgpack array whose last item is the event, and
    msgpack writes array items one after another; so the content of the same
    envelope with ``event=None`` ends in the single byte of ``nil``, and dropping
    it leaves the prefix: ``content_prefix(rec) + encode_event(rec.event) ==
    rec.content()``. The store hashes and verifies from stored body bytes this
    way, never encoding an event twice or decoding one just to hash it.
    """
    content = msgspec.structs.replace(rec, event=None).content()
    if content[-1:] != b"\xc0":
        raise AssertionError("Record.content() no longer ends with the event")
    return content[:-1]


def _check_content_layout() -> None:
    """Fail at import, not in a file, if `Record.content()` changes shape (a wrong
    prefix would write hashes that `verify` later reports as tampering)."""
    rec = Record(seq=1, tx=1, author="a", time="t", message="m", tool_version="v",
                 tx_kind="do", ref=0, event=TrackAdded(TrackDef(1, "t", 0), 0),
                 meta={"k": [1]})
    if content_prefix(rec) + encode_event(rec.event) != rec.content():
        raise ImportError("ledger.store.sqlite: Record.content() is not envelope + event")


_check_content_layout()


def _meta_blob(meta: dict[str, Any]) -> bytes | None:
    return encode(meta) if meta else None


def _meta_of(blob: bytes | None) -> dict[str, Any]:
    return decode_any(blob) if blob is not None else {}


def _link(parent: bytes, prefix: bytes, body: bytes | memoryview) -> bytes:
    """`ledger.core.record.link_hash` without concatenating a possibly huge body."""
    h = hashlib.sha256(parent)
    h.update(prefix)
    h.update(body)
    return h.digest()


def _head_of(conn: sqlite3.Connection) -> tuple[int, str]:
    """(seq, hash) of the last record: one step down the primary key, no scan."""
    rows = _fetch(conn, "SELECT seq, hash FROM events WHERE seq = (SELECT max(seq) FROM events)")
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, "")


# ----------------------------------------------------------------- opening checks


class SqliteStore:
    """The `Store` of a durable ledger; see the module docstring.

    ``create``: make an empty ledger when ``path`` does not exist (otherwise
    `StoreError`). ``read_only``: never write; `append` raises `ReadOnlyError`.
    ``synchronous`` is ``FULL`` for durable commits; ``NORMAL`` exists for
    measuring what durability costs. A connection is used by one thread at a time
    (an internal lock), so one store may be shared by a GUI and a worker thread.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True,
                 read_only: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 synchronous: Synchronous = "FULL",
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if chunk_size < 1:
            raise ValidationError("chunk_size must be positive")
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValidationError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous}")
        self.chunk_size = chunk_size
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        if not self.path.exists():
            if not create or read_only:
                raise _fail(self.path, "no such ledger file")
            create_ledger_file(self.path)
        elif self.path.is_file() and self.path.stat().st_size == 0 and create and not read_only:
            self._conn = self._connect(busy_timeout, synchronous)
            self._guard("create", _initialise, self._conn)
            return
        check_ledger_file(self.path, writing=not read_only)
        self._conn = self._connect(busy_timeout, synchronous)

    def _connect(self, busy_timeout: float, synchronous: str) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(_uri(self.path, "ro" if self.read_only else "rw"),
                                   uri=True, isolation_level=None, timeout=busy_timeout,
                                   check_same_thread=False)
            if not self.read_only:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={synchronous}")
        except sqlite3.Error as exc:
            raise _fail(self.path, f"cannot open ({exc})") from None
        return conn

    def _guard(self, doing: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except sqlite3.Error as exc:
            raise _fail(self.path, f"{doing} failed ({exc})") from None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise _fail(self.path, "the store is closed")
        return self._conn

    # ------------------------------------------------------------- reading

    def head(self) -> int:
        """Seq of the last stored record (0 when empty); one PK lookup."""
        return self._head_row()[0]

    def head_hash(self) -> str:
        """Hash (hex) of the last stored record, "" when empty."""
        return self._head_row()[1]

    def _head_row(self) -> tuple[int, str]:
        with self._lock:
            return self._guard("reading the head", _head_of, self.conn)

    def hash_at(self, seq: int) -> str | None:
        """The stored hash of record ``seq``, or None when there is none."""
        with self._lock:
            rows = self._guard("reading a hash", _fetch, self.conn,
                               "SELECT hash FROM events WHERE seq = ?", (seq,))
        return str(rows[0][0]) if rows else None

    def tx_range(self, tx: int) -> tuple[int, int] | None:
        """First and last seq of a transaction (an index lookup), or None."""
        with self._lock:
            rows = self._guard("reading a transaction", _fetch, self.conn,
                               "SELECT min(seq), max(seq) FROM events WHERE tx = ?", (tx,))
        if not rows or rows[0][0] is None:
            return None
        return int(rows[0][0]), int(rows[0][1])

    def _batch(self, lo: int, hi: int) -> list[tuple[Any, ...]]:
        """Rows ``lo..hi`` up to a row and byte budget, fetched in full so that no
        statement stays open while the caller holds a yielded record."""
        rows: list[tuple[Any, ...]] = []
        size = 0
        with self._lock:
            cur = self.conn.execute(
                f"SELECT {_COLUMNS} FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq",
                (lo, hi))
            try:
                while len(rows) < _READ_BATCH_ROWS and size < _READ_BATCH_BYTES:
                    row = cur.fetchone()
                    if row is None:
                        break
                    rows.append(row)
                    size += len(row[-1] or b"")
            finally:
                cur.close()
        return rows

    def _body(self, seq: int, body: bytes | None) -> bytes:
        if body is not None:
            return body
        with self._lock:
            parts = _fetch(self.conn, "SELECT data FROM chunks WHERE seq = ? ORDER BY part",
                           (seq,))
        return b"".join(data for (data,) in parts)

    def _rows(self, start: int, stop: int) -> Iterator[tuple[Any, ...]]:
        lo = start
        while lo <= stop:
            rows = self._guard("reading", self._batch, lo, stop)
            if not rows:
                return
            for row in rows:
                yield row[:-1] + (self._guard("reading", self._body, row[0], row[-1]),)
            lo = rows[-1][0] + 1

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[Record]:
        """Records ``start <= seq <= stop`` in seq order, each decoded as it is
        yielded. With ``stop=None``, up to the head when reading begins (records
        appended meanwhile by another process are left for the next read)."""
        if stop is None:
            stop = self.head()
        for seq, tx, author, time, message, tool, tx_kind, ref, meta, _kind, hsh, body in \
                self._rows(max(start, 1), stop):
            try:
                event = decode_event(body)
                tx_meta = _meta_of(meta)
            except Exception as exc:  # noqa: BLE001 - any decode failure is damage
                raise IntegrityError(f"{self.path}: record {seq} does not decode ({exc})",
                                     seq=seq) from None
            yield Record(seq=seq, tx=tx, author=author, time=time, message=message,
                         tool_version=tool, tx_kind=tx_kind, ref=ref, event=event, hash=hsh,
                         meta=tx_meta)

    # ------------------------------------------------------------- writing

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"{self.path}: the store was opened read-only")

    def append(self, records: list[Record], expected_head: int) -> None:
        """Store ``records`` as seqs ``expected_head + 1 ..`` in one transaction.

        Raises `ConcurrencyError` (writing nothing) when another writer moved the
        head. On success every record's ``hash`` is set: the chain continues from
        the stored head's hash. Waits up to ``busy_timeout`` for the write lock.
        """
        self._check_writable()
        prepared: list[tuple[bytes, bytes]] = []
        for i, rec in enumerate(records):
            if rec.seq != expected_head + i + 1:
                raise ValidationError(f"record {i} has seq {rec.seq}, "
                                      f"expected {expected_head + i + 1}")
            body = encode_event(rec.event)
            rec.size = len(body)
            prepared.append((content_prefix(rec), body))
        with self._lock:
            hashes = self._guard("appending", self._append, records, prepared, expected_head)
        for rec, digest in zip(records, hashes, strict=True):
            rec.hash = digest

    def _begin_immediate(self, conn: sqlite3.Connection) -> None:
        """Take the write lock, polling every fraction of a millisecond.

        SQLite's own busy handler backs off to 100 ms sleeps, so a writer that
        commits in a tight loop starves the others; short randomised polls share
        the lock fairly and keep waits near one commit's length.
        """
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            deadline = monotonic() + self.busy_timeout
            attempt = 0
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if getattr(exc, "sqlite_errorcode", 5) & 0xFF != 5:  # SQLITE_BUSY
                        raise
                    if monotonic() > deadline:
                        raise _fail(self.path, "another process has held the write lock for "
                                               f"more than {self.busy_timeout:g} s") from None
                attempt += 1
                sleep(random.uniform(0.0, 0.0002 * min(attempt, 10)))
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def _append(self, records: list[Record], prepared: list[tuple[bytes, bytes]],
                expected_head: int) -> list[str]:
        conn = self.conn
        self._begin_immediate(conn)
        try:
            head_seq, head_hash = _head_of(conn)
            if head_seq != expected_head:
                raise ConcurrencyError(f"{self.path}: expected head {expected_head}, "
                                       f"the store is at {head_seq}")
            parent = bytes.fromhex(head_hash) if head_seq else GENESIS
            hashes: list[str] = []
            rows = []
            chunks = []
            for rec, (prefix, body) in zip(records, prepared, strict=True):
                digest = _link(parent, prefix, body)
                hex_digest = digest.hex()
                if rec.hash and rec.hash != hex_digest:
                    raise IntegrityError(f"record {rec.seq} carries a hash that does not "
                                         "continue this chain", seq=rec.seq)
                small = len(body) <= self.chunk_size
                rows.append((rec.seq, rec.tx, rec.author, rec.time, rec.message,
                             rec.tool_version, rec.tx_kind, rec.ref, _meta_blob(rec.meta),
                             kind_of(rec.event), hex_digest, body if small else None))
                if not small:
                    view = memoryview(body)
                    chunks.extend((rec.seq, part, view[at:at + self.chunk_size])
                                  for part, at in enumerate(range(0, len(body),
                                                                  self.chunk_size)))
                hashes.append(hex_digest)
                parent = digest
            conn.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if chunks:
                conn.executemany("INSERT INTO chunks VALUES (?, ?, ?)", chunks)
            if records:
                conn.executemany("UPDATE meta SET value = ? WHERE key = ?", [
                    (records[-1].seq, "head_seq"), (hashes[-1], "head_hash")])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        return hashes

    # ------------------------------------------------------------- verifying

    def verify(self) -> int:
        """Re-hash the whole chain from the stored bytes; return the record count.

        Raises `IntegrityError` with ``seq`` set to the first record that was
        changed, removed, reordered or inserted: a gap in seq, a stored hash that
        differs from the recomputed one, a body that does not decode or whose kind
        column lies, or a chain end that differs from the head recorded in meta
        (which is how a removed last record or an appended foreign one shows).
        Everything is read in one read transaction, so concurrent appends do not
        confuse it.
        """
        with self._lock:
            conn = self.conn
            self._guard("verifying", conn.execute, "BEGIN")
            try:
                return self._guard("verifying", self._verify, conn)
            finally:
                with suppress(sqlite3.Error):
                    conn.execute("COMMIT")

    def _verify(self, conn: sqlite3.Connection) -> int:
        cur = conn.execute(f"SELECT {_COLUMNS} FROM events WHERE seq >= ? ORDER BY seq",
                           (_MIN_SEQ,))
        try:
            return self._verify_rows(conn, cur)
        finally:
            cur.close()

    def _verify_rows(self, conn: sqlite3.Connection, cur: sqlite3.Cursor) -> int:
        parent = GENESIS
        expected = 1
        last_hash = ""
        for seq, tx, author, time, message, tool, tx_kind, ref, meta, kind, hsh, body in cur:
            if seq != expected:
                problem = "is missing" if seq > expected else f"has an invalid seq {seq}"
                raise IntegrityError(f"{self.path}: record {expected} {problem}", seq=expected)
            body = self._body(seq, body)
            try:
                envelope = Record(seq=seq, tx=tx, author=author, time=time, message=message,
                                  tool_version=tool, tx_kind=tx_kind, ref=ref, event=None,
                                  meta=_meta_of(meta))
                digest = _link(parent, content_prefix(envelope), body)
            except Exception:  # noqa: BLE001 - an envelope column of a foreign type
                raise IntegrityError(f"{self.path}: record {seq} has a damaged envelope",
                                     seq=seq) from None
            if hsh != digest.hex():
                raise IntegrityError(f"{self.path}: record {seq} does not match its hash",
                                     seq=seq)
            try:
                event = decode_event(body)
            except Exception as exc:  # noqa: BLE001 - any decode failure is damage
                raise IntegrityError(f"{self.path}: record {seq} does not decode ({exc})",
                                     seq=seq) from None
            if kind != kind_of(event):
                raise IntegrityError(f"{self.path}: record {seq} is labelled {kind!r} but "
                                     f"holds {kind_of(event)}", seq=seq)
            parent, last_hash = digest, hsh
            expected += 1
        count = expected - 1
        meta = dict(_fetch(
            conn, "SELECT key, value FROM meta WHERE key IN ('head_seq', 'head_hash')"))
        head_seq, head_hash = meta.get("head_seq"), meta.get("head_hash")
        if head_seq != count:
            if isinstance(head_seq, int) and head_seq > count:
                raise IntegrityError(f"{self.path}: records {count + 1}..{head_seq} are "
                                     "missing", seq=count + 1)
            bad = head_seq + 1 if isinstance(head_seq, int) and head_seq >= 0 else 1
            raise IntegrityError(f"{self.path}: record {bad} was not written by the ledger "
                                 f"(recorded head {head_seq!r}, found {count})", seq=bad)
        if head_hash != last_hash:
            raise IntegrityError(f"{self.path}: record {count} differs from the recorded "
                                 "head hash", seq=count)
        return count

    # ------------------------------------------------------------- tags

    def set_tag(self, name: str, seq: int) -> None:
        """Name position ``seq`` (0 = empty ledger); an existing tag is moved.

        Tags are bookmarks, not history: they sit outside the hash chain."""
        self._check_writable()
        if not name:
            raise ValidationError("a tag needs a name")
        with self._lock:
            head = self.head()
            if not 0 <= seq <= head:
                raise ValidationError(f"seq {seq} is outside the ledger (0..{head})")
            now = datetime.now(UTC).isoformat(timespec="seconds")
            self._guard("tagging", self.conn.execute,
                        "INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", (name, seq, now))

    def delete_tag(self, name: str) -> None:
        self._check_writable()
        with self._lock:
            cur = self._guard("untagging", self.conn.execute,
                              "DELETE FROM tags WHERE name = ?", (name,))
        if cur.rowcount == 0:
            raise NotFoundError(f"no tag {name!r}")

    def tags(self) -> dict[str, int]:
        with self._lock:
            rows = self._guard("reading tags", _fetch, self.conn,
                               "SELECT name, seq FROM tags ORDER BY seq, name")
        return {str(name): int(seq) for name, seq in rows}

    def tag_seq(self, name: str) -> int:
        with self._lock:
            rows = self._guard("reading tags", _fetch, self.conn,
                               "SELECT seq FROM tags WHERE name = ?", (name,))
        if not rows:
            raise NotFoundError(f"no tag {name!r}")
        return int(rows[0][0])

    # ------------------------------------------------------------- snapshots

    def save_snapshot(self, seq: int, head_hash: str, blob: bytes, keep: int = 2) -> None:
        """Store a snapshot of the projection after ``seq``; keep the newest ``keep``.

        ``head_hash`` must be the chain's hash at ``seq`` (`ValidationError`
        otherwise), which is what lets `latest_snapshot` tell a stale cache apart.
        """
        self._check_writable()
        with self._lock:
            if self.hash_at(seq) != head_hash:
                raise ValidationError(f"{head_hash!r} is not the chain's hash at seq {seq}")

            def write() -> None:
                conn = self.conn
                self._begin_immediate(conn)
                try:
                    write_snapshot(conn, seq, head_hash, blob, self.chunk_size)
                    delete_snapshots(conn, max(keep, 1))
                    conn.execute("COMMIT")
                except BaseException:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise

            self._guard("saving a snapshot", write)

    def latest_snapshot(self) -> Snapshot | None:
        """``(seq, head_hash, blob)`` of the newest usable snapshot, or None.

        A snapshot whose hash is not the chain's at its seq, or whose bytes are
        damaged, is skipped with a `UserWarning` (only time is lost)."""
        def skipped(seq: int, why: str) -> None:
            warnings.warn(f"{self.path}: ignoring the snapshot at seq {seq}: {why}",
                          UserWarning, stacklevel=4)

        with self._lock:
            return self._guard("reading snapshots", read_latest_snapshot, self.conn,
                               self.hash_at, skipped)

    # ------------------------------------------------------------- lifetime

    def close(self) -> None:
        """Close the connection (the last one out checkpoints the WAL). Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"SqliteStore({str(self.path)!r}, {mode})"


