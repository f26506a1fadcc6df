"""A project on a PostgreSQL server: the `Store` of an online, shared ledger.

Why PostgreSQL: a lab's annotators work on several machines at once, and a real
server gives them transactions, roles and an audit trail that a shared folder
cannot. Many projects live in one database (`ledger.store.postgres_schema`); the
database is prepared once with `ledger.store.postgres_admin.admin_init`.

How the contract maps onto the server:

* **Optimistic, gap-free appends.** One transaction locks the project row
  (``SELECT ... FOR UPDATE``), compares its head with ``expected_head``
  (`ConcurrencyError` if it moved), hashes the records onto the head hash and
  inserts them. Concurrent writers queue on the row lock, so the loser sees the
  new head and fails cleanly; and a server trigger refuses any seq that is not
  ``head + 1``, so even another client cannot leave a hole.
* **The author is the role.** The server refuses a record whose author is not
  ``current_user`` (the owner excepted, to import history). Because the hash
  covers the author, the store does not rewrite names: records must be made with
  `PostgresStore.author`, which is ``current_user`` read once at connect.
* **Arrays aside, compressed.** Big arrays go to content-addressed blobs in parts,
  compressed (before the lock is taken) as in the SQLite store
  (`ledger.store.postgres_blobs`).
* **Announcements.** Every append NOTIFYs ``ledger_<project id>`` (from the
  server trigger); `wait_for_append` LISTENs on a second connection.
* **verify** re-hashes from the stored bytes, re-digests every array and checks
  the head recorded on the project row, so tampering by the owner (the one role
  that can disable the triggers) is detected. A handle also remembers the last
  ``(seq, hash)`` it appended or verified, so even a consistent re-hash of the
  whole chain is caught by any client that saw the old one.

The connection string may hold a password; `describe`, ``repr`` and every error
message show the server without it (`ledger.store.postgres_conn`).

Example::

    store = PostgresStore("postgresql://alice@db.lab/ledger", "mice", create=True)
    store.append([record], expected_head=store.head())
    store.wait_for_append(timeout=30)
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from typing import Any

import numpy as np
import psycopg

from ledger.core.codec import Payload, decode_any, decode_event, decode_payload
from ledger.core.codec import encode as encode_value
from ledger.core.events import AnyEvent
from ledger.core.record import Envelope, Record, TxInfo
from ledger.errors import (
    ConcurrencyError,
    ConflictError,
    IntegrityError,
    LedgerError,
    NotFoundError,
    PermissionDeniedError,
    ReadOnlyError,
    StoreError,
    ValidationError,
)
from ledger.store import postgres_blobs as blobs
from ledger.store.base import Snapshot, Store
from ledger.store.chain import meta_of, prepare
from ledger.store.postgres_append import write_records
from ledger.store.postgres_conn import ServerAddress, connect, ledger_error
from ledger.store.postgres_verify import verify_project
from ledger.store.sqlite_blobs import compress

_READ_BATCH_ROWS = 512
_ENVELOPE = "seq, tx, author, time, message, tool_version, tx_kind, ref, tx_meta, kind, hash"
_COLUMNS = _ENVELOPE + ", body, n_blobs"


class PostgresStore(Store):
    """The `Store` of project ``project`` on the server at ``url``.

    ``create``: make the project when it does not exist (the connecting role
    becomes its owner; annotators cannot create projects). ``read_only``: never
    write; the session is also read-only on the server. One store is used by one
    thread at a time (an internal lock), like `SqliteStore`.
    """

    def __init__(self, url: str, project: str, *, create: bool = False,
                 read_only: bool = False) -> None:
        if not isinstance(project, str) or not project:
            raise ValidationError("a PostgreSQL ledger needs a project name")
        self.address = ServerAddress.parse(url)
        self.project = project
        self.read_only = read_only
        self._lock = threading.RLock()
        self._listener: psycopg.Connection | None = None
        self._conn: psycopg.Connection | None = connect(self.address)
        try:
            self._open(create)
        except BaseException:
            self.close()
            raise
        head, head_hash, _ = self._head_row()
        self._seen_head = head
        self._witness: tuple[int, str] | None = None
        # (seq, hash) of a record this handle knows to be stored: the parent of a
        # pipelined append (`append`); a wrong guess is refused by the server.
        self._known: tuple[int, str] | None = (head, head_hash)

    def _open(self, create: bool) -> None:
        if self.read_only:
            self._run("opening", lambda c: c.execute(
                "SET default_transaction_read_only = on"))
        user, ready, exists = self._run("opening", lambda c: c.execute(
            "SELECT current_user, to_regclass('ledger_meta') IS NOT NULL, EXISTS (SELECT 1 "
            "FROM pg_class WHERE relname = 'ledger_meta' AND "
            "NOT has_schema_privilege(relnamespace, 'USAGE'))").fetchone())
        self.author: str = str(user)
        if not ready and exists:  # tables in a schema this role has no USAGE of
            raise PermissionDeniedError(f"{self.address.describe()}: role {self.author!r} "
                                        "cannot reach the ledger tables (not granted)")
        if not ready:
            raise StoreError(f"{self.address.describe()}: the database holds no ledger "
                             "tables (run `ledger admin init URL` first)")
        found = self._run("opening", lambda c: c.execute(
            "SELECT id FROM projects WHERE name = %s", (self.project,)).fetchone())
        if found is None and create and not self.read_only:
            found = self._create_project()
        if found is None:
            raise StoreError(f"{self.describe()}: no such project (or role {self.author!r} "
                             "is not granted it)")
        self.project_id = int(found[0])

    def _create_project(self) -> tuple[Any, ...] | None:
        def work(conn: psycopg.Connection) -> tuple[Any, ...] | None:
            conn.execute("INSERT INTO projects (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
                         (self.project,))
            return conn.execute("SELECT id FROM projects WHERE name = %s",
                                (self.project,)).fetchone()

        return self._run("creating the project", work)

    # ------------------------------------------------------------- plumbing

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None:
            raise StoreError(f"{self.describe()}: the store is closed")
        return self._conn

    def _run(self, doing: str, work: Callable[[psycopg.Connection], Any]) -> Any:
        """``work(conn)`` under the lock, psycopg errors turned into ledger errors."""
        with self._lock:
            try:
                return work(self.conn)
            except psycopg.Error as exc:
                raise ledger_error(exc, f"{self.describe()}: {doing}", self.address) from None

    def _in_transaction(self, doing: str, work: Callable[[psycopg.Connection], Any]) -> Any:
        def wrapped(conn: psycopg.Connection) -> Any:
            with conn.transaction():
                return work(conn)

        return self._run(doing, wrapped)

    def _query(self, doing: str, sql: str, params: tuple[Any, ...] = (), *,
               binary: bool = False) -> list[Any]:
        return self._run(doing, lambda c: c.execute(sql, params, binary=binary).fetchall())

    def describe(self) -> str:
        return f"{self.address.describe()} project {self.project!r}"

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"{self.describe()}: the store was opened read-only")

    def _lock_project(self, conn: psycopg.Connection) -> tuple[int, str]:
        """Take the project's write lock; its (head seq, head hash). A role that
        may not write the project sees no row (row-level security)."""
        row = conn.execute("SELECT head_seq, head_hash FROM projects WHERE id = %s FOR UPDATE",
                           (self.project_id,)).fetchone()
        if row is None:
            raise PermissionDeniedError(f"{self.describe()}: role {self.author!r} may not "
                                        "write this project")
        return int(row[0]), str(row[1])

    # ------------------------------------------------------------- positions

    def _head_row(self) -> tuple[int, str, int]:
        rows = self._query("reading the head", "SELECT head_seq, head_hash, last_tx FROM "
                           "projects WHERE id = %s", (self.project_id,))
        if not rows:
            raise PermissionDeniedError(f"{self.describe()}: the project is no longer visible")
        return int(rows[0][0]), str(rows[0][1]), int(rows[0][2])

    def head(self) -> int:
        return self._head_row()[0]

    def head_hash(self) -> str:
        return self._head_row()[1]

    def last_tx(self) -> int:
        return self._head_row()[2]

    def hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return ""
        rows = self._query("reading a hash", "SELECT hash FROM events WHERE project = %s AND "
                           "seq = %s", (self.project_id, seq))
        return str(rows[0][0]) if rows else None

    # ------------------------------------------------------------- writing

    def append(self, records: Sequence[Record], expected_head: int, *,
               summary: dict[str, Any] | None = None) -> None:
        """Store ``records`` as seqs ``expected_head + 1 ..`` in one server
        transaction; `ConcurrencyError` (nothing written) when the head moved,
        `PermissionDeniedError` when the server refuses the role or an author.

        A small append (no arrays) whose parent hash this handle already knows
        is sent in one pipelined round trip (BEGIN, INSERT, summary, COMMIT):
        the server's gap trigger, not a prior SELECT ... FOR UPDATE, is then what
        refuses a stale writer (SQLSTATE LD002, `ConcurrencyError`)."""
        self._check_writable()
        prepared, arrays = prepare(records, expected_head)
        extra = encode_value(summary) if summary is not None else None
        known = self._known
        if not arrays and records and known is not None and known[0] == expected_head:
            last_hash = self._append_pipelined(records, prepared, known[1], extra)
        else:
            last_hash = self._append_locked(records, prepared, arrays, expected_head, extra)
        if records:
            self._witness = (records[-1].seq, last_hash)
            self._known = (records[-1].seq, last_hash)
            self._seen_head = max(self._seen_head, records[-1].seq)

    def _append_pipelined(self, records: Sequence[Record], prepared: Any, parent: str,
                          extra: bytes | None) -> str:
        def work(conn: psycopg.Connection) -> str:
            with conn.pipeline(), conn.transaction():
                last = write_records(conn, self.project_id, records, prepared, parent)
                if extra is not None:
                    conn.execute("UPDATE projects SET summary = %s WHERE id = %s",
                                 (extra, self.project_id))
            return last

        try:
            return self._run("appending", work)
        except ConcurrencyError:
            self._known = None
            raise

    def _append_locked(self, records: Sequence[Record], prepared: Any,
                       arrays: dict[str, Any], expected_head: int,
                       extra: bytes | None) -> str:
        missing = self._run("appending", lambda c: blobs.missing_digests(
            c, self.project_id, list(arrays)))
        packed = compress({d: arrays[d] for d in missing})

        def work(conn: psycopg.Connection) -> str:
            head_seq, head_hash = self._lock_project(conn)
            if head_seq != expected_head:
                raise ConcurrencyError(f"{self.describe()}: expected head {expected_head}, "
                                       f"the project is at {head_seq}")
            late = blobs.missing_digests(conn, self.project_id,
                                         [d for d in arrays if d not in packed])
            packed.update(compress({d: arrays[d] for d in late}))  # collected meanwhile
            blobs.insert_blobs(conn, self.project_id, packed)
            last = write_records(conn, self.project_id, records, prepared, head_hash)
            if extra is not None:
                conn.execute("UPDATE projects SET summary = %s WHERE id = %s",
                             (extra, self.project_id))
            return last

        return self._in_transaction("appending", work)

    # ------------------------------------------------------------- reading

    def _rows(self, columns: str, start: int, stop: int | None) -> Iterator[tuple[Any, ...]]:
        lo, hi = max(start, 1), self.head() if stop is None else stop
        while lo <= hi:
            rows = self._query("reading", f"SELECT {columns} FROM events WHERE project = %s "
                               "AND seq >= %s AND seq <= %s ORDER BY seq LIMIT %s",
                               (self.project_id, lo, hi, _READ_BATCH_ROWS), binary=True)
            if not rows:
                return
            yield from rows
            lo = rows[-1][0] + 1

    def _fetch_array(self, ref: Any) -> np.ndarray:
        return self._run("reading an array", lambda c: blobs.read_blob(c, self.project_id, ref))

    def _decode(self, seq: int, body: bytes, n_blobs: int) -> AnyEvent:
        try:
            if n_blobs:
                return decode_payload(body, self._fetch_array, AnyEvent)
            return decode_event(body)
        except LedgerError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decode failure is damage
            raise IntegrityError(f"{self.describe()}: record {seq} does not decode ({exc})",
                                 seq=seq) from None

    def _meta(self, seq: int, blob: bytes | None) -> dict[str, Any]:
        try:
            return meta_of(blob)
        except Exception as exc:  # noqa: BLE001 - damage
            raise IntegrityError(f"{self.describe()}: record {seq} has damaged metadata "
                                 f"({exc})", seq=seq) from None

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[Record]:
        for row in self._rows(_COLUMNS, start, stop):
            seq, tx, author, time, message, tool, tx_kind, ref, meta, _kind, hsh, body, nb = row
            if self._known is None or seq > self._known[0]:
                self._known = (seq, hsh)
            yield Record(seq=seq, tx=tx, author=author, time=time, message=message,
                         tool_version=tool, tx_kind=tx_kind, ref=ref,
                         event=self._decode(seq, body, nb), hash=hsh,
                         meta=self._meta(seq, meta))

    def read_envelopes(self, start: int = 1, stop: int | None = None) -> Iterator[Envelope]:
        for seq, tx, author, time, message, tool, tx_kind, ref, meta, kind, hsh in \
                self._rows(_ENVELOPE, start, stop):
            yield Envelope(seq, tx, author, time, message, tool, tx_kind, ref, kind, hsh,
                           self._meta(seq, meta))

    def transactions(self, first: int, last: int) -> list[TxInfo]:
        rows = self._query(
            "reading transactions",
            "SELECT e.tx, r.lo, r.hi, e.author, e.time, e.message, e.tx_kind, e.ref FROM "
            "(SELECT tx, min(seq) AS lo, max(seq) AS hi FROM events WHERE project = %s AND "
            "tx >= %s AND tx <= %s GROUP BY tx) AS r JOIN events AS e ON e.project = %s AND "
            "e.seq = r.lo ORDER BY e.tx", (self.project_id, first, last, self.project_id))
        return [TxInfo(*row) for row in rows]

    def summary(self) -> dict[str, Any]:
        rows = self._query("reading the summary", "SELECT summary FROM projects WHERE id = %s",
                           (self.project_id,))
        if not rows or rows[0][0] is None:
            return {}
        try:
            return dict(decode_any(rows[0][0]))
        except Exception:  # noqa: BLE001 - counters are a cache: damaged means absent
            return {}

    # ------------------------------------------------------------- tags

    def set_tag(self, name: str, seq: int, *, move: bool = False) -> None:
        """Name position ``seq`` (0 = empty). Tags sit outside the hash chain."""
        self._check_writable()
        if not name or not isinstance(name, str):
            raise ValidationError("a tag needs a name")

        def work(conn: psycopg.Connection) -> None:
            head = self._lock_project(conn)[0]
            if not 0 <= seq <= head:
                raise ValidationError(f"seq {seq} is outside the ledger (0..{head})")
            old = conn.execute("SELECT seq FROM tags WHERE project = %s AND name = %s",
                               (self.project_id, name)).fetchone()
            if old is not None and not move and int(old[0]) != seq:
                raise ConflictError(f"tag {name!r} already names seq {old[0]} "
                                    "(move it explicitly)")
            conn.execute("INSERT INTO tags (project, name, seq) VALUES (%s, %s, %s) "
                         "ON CONFLICT (project, name) DO UPDATE SET seq = EXCLUDED.seq, "
                         "created = now()", (self.project_id, name, seq))

        self._in_transaction("tagging", work)

    def delete_tag(self, name: str) -> None:
        self._check_writable()
        gone = self._run("untagging", lambda c: c.execute(
            "DELETE FROM tags WHERE project = %s AND name = %s",
            (self.project_id, name)).rowcount)
        if not gone:
            raise NotFoundError(f"no tag {name!r}")

    def tags(self) -> dict[str, int]:
        rows = self._query("reading tags", "SELECT name, seq FROM tags WHERE project = %s "
                           "ORDER BY seq, name", (self.project_id,))
        return {str(name): int(seq) for name, seq in rows}

    def tag_seq(self, name: str) -> int:
        rows = self._query("reading tags", "SELECT seq FROM tags WHERE project = %s AND "
                           "name = %s", (self.project_id, name))
        if not rows:
            raise NotFoundError(f"no tag {name!r}")
        return int(rows[0][0])

    # ------------------------------------------------------------- snapshots

    def save_snapshot(self, seq: int, head_hash: str, payload: Payload, *,
                      keep: int = 1) -> None:
        self._check_writable()
        if self.hash_at(seq) != head_hash:
            raise ValidationError(f"{head_hash!r} is not the chain's hash at seq {seq}")
        missing = self._run("saving a snapshot", lambda c: blobs.missing_digests(
            c, self.project_id, list(payload.arrays)))
        packed = compress({d: payload.arrays[d] for d in missing})

        def work(conn: psycopg.Connection) -> None:
            self._lock_project(conn)
            late = blobs.missing_digests(conn, self.project_id,
                                         [d for d in payload.arrays if d not in packed])
            packed.update(compress({d: payload.arrays[d] for d in late}))
            blobs.write_snapshot(conn, self.project_id, seq, head_hash, payload, packed)
            blobs.delete_snapshots(conn, self.project_id, max(keep, 1))

        self._in_transaction("saving a snapshot", work)

    def latest_snapshot(self, max_seq: int | None = None) -> Snapshot | None:
        """The newest usable snapshot at or before ``max_seq``, decoded, or None;
        one that is stale or damaged is skipped with a `UserWarning`."""
        def skipped(seq: int, why: str) -> None:
            warnings.warn(f"{self.describe()}: ignoring the snapshot at seq {seq}: {why}",
                          UserWarning, stacklevel=4)

        return self._run("reading snapshots", lambda c: blobs.read_latest_snapshot(
            c, self.project_id, self.hash_at, max_seq, skipped))

    def snapshot_seqs(self) -> list[int]:
        return [int(s) for (s,) in self._query(
            "reading snapshots", "SELECT seq FROM snapshots WHERE project = %s ORDER BY seq",
            (self.project_id,))]

    # ------------------------------------------------------------- checking

    def verify(self) -> int:
        """Re-hash the project's chain from stored bytes, re-digest its arrays and
        check the recorded head; return the record count. `IntegrityError` names
        the first record changed, removed, reordered or inserted."""
        count, last_hash = self._run("verifying", lambda c: verify_project(
            c, self.project_id, self.describe(), self._witness))
        if count:
            self._witness = (count, last_hash)
        return count

    # ------------------------------------------------------------- announcements

    def wait_for_append(self, timeout: float) -> bool:
        """Block until the project's head moves past what this handle last saw
        (another writer's append, announced by NOTIFY) or ``timeout`` seconds pass.
        Returns whether it moved; appends made through this handle do not count."""
        from time import monotonic

        deadline = monotonic() + max(timeout, 0.0)
        listener = self._listen()
        while True:
            head = self.head()
            if head > self._seen_head:
                self._seen_head = head
                return True
            left = deadline - monotonic()
            if left <= 0:
                return False
            try:
                for _ in listener.notifies(timeout=left, stop_after=1):
                    pass
            except psycopg.Error as exc:
                raise ledger_error(exc, f"{self.describe()}: waiting", self.address) from None

    def _listen(self) -> psycopg.Connection:
        """A second connection LISTENing on the project's channel (made once)."""
        if self._listener is None:
            conn = connect(self.address)
            try:
                conn.execute(f'LISTEN "ledger_{self.project_id}"')
            except psycopg.Error as exc:
                conn.close()
                raise ledger_error(exc, f"{self.describe()}: listening", self.address) from None
            self._listener = conn
        return self._listener

    # ------------------------------------------------------------- lifetime

    def close(self) -> None:
        with self._lock:
            for conn in (self._conn, self._listener):
                if conn is not None:
                    with suppress(psycopg.Error):
                        conn.close()
            self._conn = self._listener = None

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"PostgresStore({self.describe()!r}, {mode})"
