"""A durable ledger: every committed record in one SQLite file.

Why SQLite: one file the user can copy, crash-safe transactions, a B-tree keyed by
sequence number (appending and reading from a seq never scan), and it ships with
Python. The layout (format 2)::

    meta(key, value)            format = "ledger-events", version = 2,
                                head_seq / head_hash (the chain's end, see verify),
                                summary (the application's counters, msgpack)
    events(seq INTEGER PRIMARY KEY, tx, author, time, message, tool_version,
           tx_kind, ref, tx_meta, kind, hash, body, n_blobs)
    blobs, blob_parts           arrays by digest, compressed (`ledger.store.sqlite_blobs`)
    event_blobs, snapshot_blobs who uses which array
    tags(name, seq, created)    named positions; outside the hash chain
    snapshots                   cached projections (`ledger.store.snapshots`)
    keys, signatures            authors' public keys and transaction signatures, outside
                                the chain, made on first use (`ledger.store.sqlite_keys`)

``body`` is the event's canonical encoding with big arrays by digest
(`ledger.core.codec.encode_payload`); the arrays themselves are stored once each,
byte-shuffled and zstd-compressed, so a 300,000-frame import is written once and
smaller than the ``.slp`` it came from. The hash of a record is
``sha256(parent || content)`` where ``content`` is `Record.content()`: the msgpack
array of the envelope fields followed by the event. msgpack concatenates array
items, so the store builds ``content`` from the envelope and the stored body
without encoding the event twice, and `verify` re-hashes straight from stored
bytes (and re-digests every array).

Durability: WAL journal with ``synchronous=FULL``, so `append` returns only after
the WAL is fsynced; a crash or SIGKILL at any instant leaves every acknowledged
transaction whole and no partial one. Appends are optimistic: inside one
``BEGIN IMMEDIATE`` transaction the head is re-read, and a writer whose
``expected_head`` is stale gets `ConcurrencyError` and writes nothing. Arrays are
compressed part by part as they are written (on a few threads), so a big append
never holds a second, compressed copy of its arrays in memory.

A new ledger made from existing records (`SqliteStore.create_from`: an import, a
fork of an in-memory project) is written under a temporary name without a
journal, fsynced and then linked into place: every byte is written once, and a
crash leaves either no ledger or a whole one.

Opening never writes before the file is known to be a ledger of a version this
code reads: the checks read the header bytes and then open the file read-only.

Example::

    store = SqliteStore("project.ledger")
    store.append([record], expected_head=0)
    store.verify()
    store.close()
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic, sleep
from typing import Any, Literal

from ledger.core.codec import (
    Payload,
    decode_any,
    decode_event,
    decode_events,
    decode_payload,
    encode,
)
from ledger.core.events import AnyEvent, kind_of
from ledger.core.record import GENESIS, Envelope, Record, TxInfo
from ledger.errors import (
    ConcurrencyError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    ReadOnlyError,
    ValidationError,
)
from ledger.store.base import Snapshot, Store
from ledger.store.chain import link, meta_blob, meta_of, prepare
from ledger.store.snapshots import delete_snapshots, read_latest_snapshot, write_snapshot
from ledger.store.sqlite_blobs import compress, insert_blobs, missing_digests, read_blob
from ledger.store.sqlite_file import (
    _fail,
    _fetch,
    _initialise,
    _uri,
    check_ledger_file,
    create_ledger_file,
)
from ledger.store.sqlite_keys import (
    read_keys,
    read_signatures,
    store_signature,
)
from ledger.store.sqlite_verify import verify_file

DEFAULT_BUSY_TIMEOUT = 30.0
MMAP_BYTES = 4 << 30

_READ_BATCH_ROWS = 512
_READ_BATCH_BYTES = 64 * 1024 * 1024
_MIN_SEQ = -(2 ** 63)
_ENVELOPE = "seq, tx, author, time, message, tool_version, tx_kind, ref, tx_meta, kind, hash"
_COLUMNS = _ENVELOPE + ", body, n_blobs"


Synchronous = Literal["FULL", "NORMAL", "EXTRA", "OFF"]


def _head_of(conn: sqlite3.Connection) -> tuple[int, str]:
    """(seq, hash) of the last record: one step down the primary key, no scan."""
    rows = _fetch(conn, "SELECT seq, hash FROM events WHERE seq = (SELECT max(seq) FROM events)")
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, "")


class SqliteStore(Store):
    """The `Store` of a durable ledger file; see the module docstring.

    ``create``: make an empty ledger when ``path`` does not exist (otherwise
    `StoreError`). ``read_only``: never write; writes raise `ReadOnlyError`.
    ``synchronous`` is ``FULL`` for durable commits; ``NORMAL`` exists for
    measuring what durability costs. A connection is used by one thread at a time
    (an internal lock), so one store may be shared by a GUI and a worker thread.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True,
                 read_only: bool = False, synchronous: Synchronous = "FULL",
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT, _journal: str = "WAL") -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._journal = _journal
        self._known_head: tuple[int, str] | None = None  # (seq, hash) last seen here
        self._last_written = ""
        # hears of array bytes as they are written (`create_from` feeds a progress bar)
        self.progress: Callable[[int], None] | None = None
        if synchronous not in ("FULL", "NORMAL", "EXTRA", "OFF"):
            raise ValidationError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous}")
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._signs: bool | None = None  # `signs_commits`, read once
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
                conn.execute(f"PRAGMA journal_mode={self._journal}")
                conn.execute("PRAGMA busy_timeout = 0")  # writers poll: `_begin_immediate`
            conn.execute(f"PRAGMA synchronous={synchronous}")
            # big array parts are long overflow-page chains: reading them through a
            # memory map is 2-4x faster than page by page through read(). Not while a
            # new file is written whole (no journal): mapped pages it writes would
            # count as the writer's memory.
            mmap = 0 if self._journal == "OFF" else MMAP_BYTES
            conn.execute(f"PRAGMA mmap_size={mmap}")
        except sqlite3.Error as exc:
            raise _fail(self.path, f"cannot open ({exc})") from None
        return conn

    def _guard(self, doing: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except sqlite3.Error as exc:
            raise _fail(self.path, f"{doing} failed ({exc})") from None

    def _query(self, doing: str, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._guard(doing, _fetch, self.conn, sql, params)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise _fail(self.path, "the store is closed")
        return self._conn

    def describe(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------- positions

    def head(self) -> int:
        """Seq of the last stored record (0 when empty); one PK lookup."""
        return self._head_row()[0]

    def head_hash(self) -> str:
        return self._head_row()[1]

    def _head_row(self) -> tuple[int, str]:
        with self._lock:
            self._known_head = self._guard("reading the head", _head_of, self.conn)
            return self._known_head

    def hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return ""
        rows = self._query("reading a hash", "SELECT hash FROM events WHERE seq = ?", (seq,))
        return str(rows[0][0]) if rows else None

    # ------------------------------------------------------------- reading

    def _batch(self, columns: str, lo: int, hi: int) -> list[tuple[Any, ...]]:
        """Rows ``lo..hi`` up to a row and byte budget, fetched in full so that no
        statement stays open while the caller holds a yielded record."""
        rows: list[tuple[Any, ...]] = []
        size = 0
        with self._lock:
            cur = self.conn.execute(
                f"SELECT {columns} FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq",
                (lo, hi))
            try:
                while len(rows) < _READ_BATCH_ROWS and size < _READ_BATCH_BYTES:
                    more = cur.fetchmany(64)
                    if not more:
                        break
                    rows.extend(more)
                    size += sum(len(r[-1]) for r in more if isinstance(r[-1], bytes))
            finally:
                cur.close()
        return rows

    def _rows(self, columns: str, start: int, stop: int | None) -> Iterator[tuple[Any, ...]]:
        lo, hi = max(start, 1), self.head() if stop is None else stop
        while lo <= hi:
            rows = self._guard("reading", self._batch, columns, lo, hi)
            if not rows:
                return
            yield from rows
            lo = rows[-1][0] + 1

    def _fetch_array(self, ref: Any) -> Any:
        with self._lock:
            return read_blob(self.conn, ref)

    def decode_body(self, seq: int, body: bytes, n_blobs: int) -> AnyEvent:
        try:
            if n_blobs:
                return decode_payload(body, self._fetch_array, AnyEvent)
            return decode_event(body)
        except Exception as exc:  # noqa: BLE001 - any decode failure is damage
            raise IntegrityError(f"{self.path}: record {seq} does not decode ({exc})",
                                 seq=seq) from None

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[Record]:
        """Records ``start <= seq <= stop`` in seq order, each decoded as it is
        yielded (to the head when reading begins when ``stop`` is None)."""
        for row in self._rows(_COLUMNS, start, stop):
            seq, tx, author, time, message, tool, tx_kind, ref, meta, _kind, hsh, body, nb = row
            event = self.decode_body(seq, body, nb)
            yield Record(seq=seq, tx=tx, author=author, time=time, message=message,
                         tool_version=tool, tx_kind=tx_kind, ref=ref, event=event, hash=hsh,
                         meta=self._meta(seq, meta))

    def read_events(self, start: int = 1, stop: int | None = None) -> Iterator[AnyEvent]:
        """The events of records ``start..stop``, small ones decoded a batch at a time
        (one decoder call per batch); a batch that fails is decoded one by one, so
        damage is reported with its seq."""
        rows = self._rows("seq, n_blobs, body", start, stop)
        batch: list[tuple[int, bytes]] = []
        for seq, n_blobs, body in rows:
            if not n_blobs:
                batch.append((seq, body))
                if len(batch) < _READ_BATCH_ROWS:
                    continue
            yield from self._decode_batch(batch)
            batch = []
            if n_blobs:
                yield self.decode_body(seq, body, n_blobs)
        yield from self._decode_batch(batch)

    def _decode_batch(self, batch: list[tuple[int, bytes]]) -> list[AnyEvent]:
        if not batch:
            return []
        try:
            return decode_events([body for _, body in batch])
        except Exception:  # noqa: BLE001 - find the damaged record and name it
            return [self.decode_body(seq, body, 0) for seq, body in batch]

    def _meta(self, seq: int, blob: bytes | None) -> dict[str, Any]:
        try:
            return meta_of(blob)
        except Exception as exc:  # noqa: BLE001 - damage
            raise IntegrityError(f"{self.path}: record {seq} has damaged metadata ({exc})",
                                 seq=seq) from None

    def read_envelopes(self, start: int = 1, stop: int | None = None) -> Iterator[Envelope]:
        for seq, tx, author, time, message, tool, tx_kind, ref, meta, kind, hsh in \
                self._rows(_ENVELOPE, start, stop):
            yield Envelope(seq, tx, author, time, message, tool, tx_kind, ref, kind, hsh,
                           self._meta(seq, meta))

    def last_tx(self) -> int:
        rows = self._query("reading the head", "SELECT tx FROM events WHERE seq = "
                           "(SELECT max(seq) FROM events)")
        return int(rows[0][0]) if rows else 0

    def transactions(self, first: int, last: int) -> list[TxInfo]:
        rows = self._query(
            "reading transactions",
            "SELECT e.tx, r.lo, r.hi, e.author, e.time, e.message, e.tx_kind, e.ref FROM "
            "(SELECT tx, min(seq) AS lo, max(seq) AS hi FROM events WHERE tx >= ? AND tx <= ?"
            " GROUP BY tx) AS r JOIN events AS e ON e.seq = r.lo ORDER BY e.tx",
            (first, last))
        return [TxInfo(*row) for row in rows]

    def summary(self) -> dict[str, Any]:
        rows = self._query("reading the summary", "SELECT value FROM meta WHERE key = 'summary'")
        if not rows or not rows[0][0]:
            return {}
        try:
            return dict(decode_any(rows[0][0]))
        except Exception:  # noqa: BLE001 - counters are a cache: damaged means absent
            return {}

    # ------------------------------------------------------------- writing

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"{self.path}: the store was opened read-only")

    def append(self, records: Sequence[Record], expected_head: int, *,
               summary: dict[str, Any] | None = None,
               sign: Callable[[str], tuple[str, str, str]] | None = None) -> None:
        """Store ``records`` as seqs ``expected_head + 1 ..`` in one transaction
        (with the transaction's signature when ``sign`` is given, see `append_signed`).

        Raises `ConcurrencyError` (writing nothing) when another writer moved the
        head. Arrays are digested first, then compressed as they are written;
        waits up to ``busy_timeout`` for the lock.
        """
        self._check_writable()
        prepared, arrays = prepare(records, expected_head)
        with self._lock:
            new = self._guard("appending", missing_digests, self.conn, list(arrays))
        packed = compress({d: arrays[d] for d in new})
        extra = [("summary", encode(summary))] if summary is not None else []
        with self._lock:
            self._guard("appending", self._append, records, prepared, packed, expected_head,
                        extra, sign)

    def _begin_immediate(self, conn: sqlite3.Connection) -> None:
        """Take the write lock, polling every fraction of a millisecond.

        The connection's own busy timeout is 0 (set when it opens): SQLite's busy
        handler backs off to 100 ms sleeps, so a writer that commits in a tight
        loop would starve the others; short randomised polls share the lock fairly
        and keep waits near one commit's length. An uncontended commit pays no
        extra statement for this.
        """
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

    def _write(self, work: Any) -> Any:
        """Run ``work(conn)`` in one immediate transaction; roll back on any failure."""
        conn = self.conn
        self._begin_immediate(conn)
        try:
            out = work(conn)
            conn.execute("COMMIT")
            return out
        except BaseException:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise

    def _append(self, records: Sequence[Record], prepared: list[tuple[bytes, Payload]],
                packed: Any, expected_head: int, extra: list[tuple[str, Any]],
                sign: Callable[[str], tuple[str, str, str]] | None = None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            known = self._known_head
            if known is not None and known[0] == expected_head:
                # the head this handle last wrote or read: no need to read it again; a
                # writer that got in between makes the insert below collide instead
                head_seq, head_hash = known
            else:
                head_seq, head_hash = _head_of(conn)
            if head_seq != expected_head:
                raise ConcurrencyError(f"{self.path}: expected head {expected_head}, "
                                       f"the store is at {head_seq}")
            parent = bytes.fromhex(head_hash) if head_seq else GENESIS
            rows, links = [], []
            for rec, (prefix, payload) in zip(records, prepared, strict=True):
                digest = link(parent, prefix, payload.body)
                if rec.hash and rec.hash != digest.hex():
                    raise IntegrityError(f"record {rec.seq} carries a hash that does not "
                                         "continue this chain", seq=rec.seq)
                rows.append((rec.seq, rec.tx, rec.author, rec.time, rec.message,
                             rec.tool_version, rec.tx_kind, rec.ref, meta_blob(rec.meta),
                             kind_of(rec.event), digest.hex(), payload.body,
                             len(payload.arrays)))
                links.extend((rec.seq, d) for d in payload.arrays)
                parent = digest
            insert_blobs(conn, packed, self.progress)
            try:
                conn.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES "
                                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            except sqlite3.IntegrityError:
                raise ConcurrencyError(f"{self.path}: another writer appended after seq "
                                       f"{expected_head}") from None
            if links:
                conn.executemany("INSERT INTO event_blobs VALUES (?, ?)", links)
            if rows:
                self._last_written = rows[-1][10]
            if rows:  # one statement: the head (and summary) move with the records
                marks = {"head_seq": rows[-1][0], "head_hash": rows[-1][10], **dict(extra)}
                conn.execute("UPDATE meta SET value = CASE key "
                             + " ".join("WHEN ? THEN ?" for _ in marks)
                             + " END WHERE key IN (" + ", ".join("?" * len(marks)) + ")",
                             [*(x for kv in marks.items() for x in kv), *marks])
            if rows and sign is not None:
                store_signature(conn, records[0].seq, rows[-1][1], rows[-1][0],
                                sign(rows[-1][10]))

        self._known_head = None
        self._write(work)
        if records:
            self._known_head = (records[-1].seq, self._last_written)

    # ------------------------------------------------------------- signatures

    supports_signatures = True

    def append_signed(self, records: Sequence[Record], expected_head: int, *,
                      summary: dict[str, Any] | None = None,
                      sign: Callable[[str], tuple[str, str, str]]) -> None:
        """`append` with the signature stored in the same SQLite transaction, so a
        crash leaves either a signed transaction or none (`ledger.store.sqlite_keys`)."""
        self.append(records, expected_head, summary=summary, sign=sign)

    def signs_commits(self) -> bool:
        """Not in a replica (a file with a ``remote`` origin, `ledger.project.replica`)."""
        if self._signs is None:
            rows = self._query("reading the origin", "SELECT 1 FROM sqlite_master "
                               "WHERE name = 'remote'")
            self._signs = not rows
        return self._signs

    def public_keys(self) -> dict[str, tuple[str, int]]:
        with self._lock:
            return self._guard("reading keys", read_keys, self.conn)

    def signatures(self) -> dict[int, tuple[int, str, str]]:
        with self._lock:
            return self._guard("reading signatures", read_signatures, self.conn)

    # ------------------------------------------------------------- verifying

    def verify(self) -> int:
        """Re-hash the whole chain from the stored bytes and re-digest every array;
        return the record count.

        Raises `IntegrityError` with ``seq`` set to the first record that was
        changed, removed, reordered or inserted: a gap in seq, a stored hash that
        differs from the recomputed one, a body that does not decode or whose kind
        column lies, an array whose bytes no longer match its digest, or a chain
        end that differs from the head recorded in meta (which is how a removed
        last record or an appended foreign one shows). Everything is read in one
        read transaction, so concurrent appends do not confuse it.
        """
        with self._lock:
            conn = self.conn
            self._guard("verifying", conn.execute, "BEGIN")
            try:
                return self._guard("verifying", verify_file, conn, str(self.path))
            finally:
                with suppress(sqlite3.Error):
                    conn.execute("COMMIT")

    # ------------------------------------------------------------- tags

    def set_tag(self, name: str, seq: int, *, move: bool = False) -> None:
        """Name position ``seq`` (0 = empty ledger). Tags are bookmarks, not
        history: they sit outside the hash chain."""
        self._check_writable()
        if not name or not isinstance(name, str):
            raise ValidationError("a tag needs a name")

        def work(conn: sqlite3.Connection) -> None:
            head = _head_of(conn)[0]
            if not 0 <= seq <= head:
                raise ValidationError(f"seq {seq} is outside the ledger (0..{head})")
            old = _fetch(conn, "SELECT seq FROM tags WHERE name = ?", (name,))
            if old and not move and int(old[0][0]) != seq:
                raise ConflictError(f"tag {name!r} already names seq {old[0][0]} "
                                    "(move it explicitly)")
            now = datetime.now(UTC).isoformat(timespec="seconds")
            conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", (name, seq, now))

        with self._lock:
            self._guard("tagging", self._write, work)

    def delete_tag(self, name: str) -> None:
        self._check_writable()
        with self._lock:
            cur = self._guard("untagging", self._write,
                              lambda conn: conn.execute("DELETE FROM tags WHERE name = ?",
                                                        (name,)))
        if cur.rowcount == 0:
            raise NotFoundError(f"no tag {name!r}")

    def tags(self) -> dict[str, int]:
        rows = self._query("reading tags", "SELECT name, seq FROM tags ORDER BY seq, name")
        return {str(name): int(seq) for name, seq in rows}

    def tag_seq(self, name: str) -> int:
        rows = self._query("reading tags", "SELECT seq FROM tags WHERE name = ?", (name,))
        if not rows:
            raise NotFoundError(f"no tag {name!r}")
        return int(rows[0][0])

    # ------------------------------------------------------------- snapshots

    def save_snapshot(self, seq: int, head_hash: str, payload: Payload, *,
                      keep: int = 1) -> None:
        """Store a projection's payload built after ``seq``; keep the newest ``keep``
        snapshots. Arrays the file already holds (an import's columns) are not
        written again."""
        self._check_writable()
        if self.hash_at(seq) != head_hash:
            raise ValidationError(f"{head_hash!r} is not the chain's hash at seq {seq}")
        with self._lock:
            new = self._guard("saving a snapshot", missing_digests, self.conn,
                              list(payload.arrays))
        packed = compress({d: payload.arrays[d] for d in new})

        def work(conn: sqlite3.Connection) -> None:
            write_snapshot(conn, seq, head_hash, payload, packed)
            delete_snapshots(conn, max(keep, 1))

        with self._lock:
            self._guard("saving a snapshot", self._write, work)

    def latest_snapshot(self, max_seq: int | None = None) -> Snapshot | None:
        """The newest usable snapshot at or before ``max_seq``, decoded, or None.
        One that is stale or damaged is skipped with a `UserWarning`."""
        def skipped(seq: int, why: str) -> None:
            warnings.warn(f"{self.path}: ignoring the snapshot at seq {seq}: {why}",
                          UserWarning, stacklevel=4)

        with self._lock:
            return self._guard("reading snapshots", read_latest_snapshot, self.conn,
                               self.hash_at, max_seq, skipped)

    def snapshot_seqs(self) -> list[int]:
        return [int(s) for (s,) in self._query("reading snapshots",
                                               "SELECT seq FROM snapshots ORDER BY seq")]

    # ------------------------------------------------------------- copying

    @classmethod
    def create_from(cls, path: str | os.PathLike[str],
                    batches: Iterator[Sequence[Record]],
                    summary: dict[str, Any] | None = None,
                    progress: Callable[[int], None] | None = None, *,
                    keys: dict[str, tuple[str, int]] | None = None,
                    signatures: dict[int, tuple[int, str, str]] | None = None) -> None:
        """Write a new ledger file holding ``batches`` of records (seqs from 1),
        atomically and writing each byte once (`ledger.store.sqlite_copy`)."""
        from ledger.store.sqlite_copy import create_ledger_from

        create_ledger_from(cls, path, batches, summary, progress, keys=keys,
                           signatures=signatures)

    def copy_to(self, path: str | os.PathLike[str]) -> None:
        """Write a consistent copy of the whole file to a new ``path``, fsynced;
        nothing is replayed or re-hashed (`ledger.store.sqlite_copy.copy_ledger`)."""
        from ledger.store.sqlite_copy import copy_ledger

        with self._lock:
            copy_ledger(self.conn, self.path, Path(path), writable=not self.read_only,
                        begin=self._begin_immediate)

    # ------------------------------------------------------------- lifetime

    def close(self) -> None:
        """Close the connection (the last one out checkpoints the WAL). Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"SqliteStore({str(self.path)!r}, {mode})"
