"""The write path: transactions, undo/redo, time travel and the hash chain.

`EventLedger` owns a `State` and a `Store`. Every change goes through `emit`, which
applies the event at once (so code inside a transaction reads its own writes) and
buffers it; `commit` hands the transaction's records to the store. An exception
inside a transaction applies the inverses of what was buffered, newest first, and
nothing reaches the store.

Undo appends the inverse events as a new transaction: history is never rewritten.
The undo and redo stacks are derived from the transaction kinds in the history
(`do`, `undo`, `redo`), so a ledger reopened from a store has the same stacks.
Undo touches only the transaction it undoes, so its cost does not grow with the
length of the history.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from ledger.core.apply import apply_event
from ledger.core.events import Event, invert
from ledger.core.record import DO, GENESIS, REDO, UNDO, Record, chain_hashes, link_hash
from ledger.core.state import State
from ledger.errors import EventMismatch, IntegrityError, ReadOnlyError, TransactionError
from ledger.project.snapshot import LedgerBookkeeping
from ledger.store import MemoryStore, Store

TOOL_VERSION = "ledger 0.1.0"


def default_author() -> str:
    env = os.environ.get("LEDGER_AUTHOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "unknown"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class EventLedger:
    """State + store + transactions. The `Labels` facade sits on top of one."""

    def __init__(self, store: Store | None = None, author: str | None = None,
                 clock: Callable[[], str] = utc_now, read_only: bool = False,
                 snapshot: tuple[State, LedgerBookkeeping] | None = None) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.state = State()
        self.author = author or default_author()
        self.clock = clock
        self.read_only = read_only
        self._pending: list[Event] = []
        self._depth = 0
        self._message = ""
        self._tx_ranges: dict[int, tuple[int, int]] = {}
        self._tx_author: dict[int, str] = {}
        self._undo: list[int] = []
        self._redo: list[int] = []
        self._last_tx = 0
        self._head = 0
        self._listeners: list[Callable[[Event], None]] = []
        self._commit_listeners: list[Callable[[list[Record]], None]] = []
        self._hashed_upto = 0
        self._last_hash = ""
        self._refused: set[int] = set()  # transactions whose undo was refused
        self._load_existing(snapshot)

    # ----------------------------------------------------------------- loading

    def _load_existing(self, snapshot: tuple[State, LedgerBookkeeping] | None) -> None:
        """Start from a snapshot (if given) and replay what the store holds after it."""
        start = 1
        if snapshot is not None:
            self.state, book = snapshot
            self._head = book.head
            self._last_tx = book.last_tx
            self._undo = list(book.undo)
            self._redo = list(book.redo)
            start = book.head + 1
        for rec in self.store.read(start):
            apply_event(self.state, rec.event)
            self._track(rec)

    def bookkeeping(self) -> LedgerBookkeeping:
        """What a snapshot must keep besides the state."""
        return LedgerBookkeeping(self._head, self._last_tx, list(self._undo), list(self._redo))

    def _track(self, rec: Record) -> None:
        if rec.hash and rec.seq == self._hashed_upto + 1:
            # durable stores hash at write time: no need to re-read them later
            self._hashed_upto, self._last_hash = rec.seq, rec.hash
        first, _ = self._tx_ranges.get(rec.tx, (rec.seq, rec.seq))
        new_tx = rec.tx not in self._tx_ranges
        self._tx_ranges[rec.tx] = (first, rec.seq)
        self._head = rec.seq
        self._last_tx = max(self._last_tx, rec.tx)
        if new_tx:
            self._tx_author[rec.tx] = rec.author
            self._update_stacks(rec.tx, rec.tx_kind, rec.ref)

    def _update_stacks(self, tx: int, tx_kind: str, ref: int) -> None:
        if tx_kind == UNDO:
            _drop(self._undo, ref)
            self._redo.append(ref)
        elif tx_kind == REDO:
            _drop(self._redo, ref)
            self._undo.append(tx)
        else:
            self._undo.append(tx)
            self._redo.clear()

    def add_commit_listener(self, listener: Callable[[list[Record]], None]) -> None:
        """Called with a transaction's records once the store has them."""
        self._commit_listeners.append(listener)

    def refresh(self) -> int:
        """Apply records other writers stored after our head; return how many.

        After a `ConcurrencyError`, refresh and retry."""
        if self._depth:
            raise TransactionError("cannot refresh inside a transaction")
        count = 0
        for rec in self.store.read(self._head + 1):
            self._apply(rec.event)
            self._track(rec)
            count += 1
        return count

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Called after every event applied (the facade keeps its objects in step)."""
        self._listeners.append(listener)

    # ----------------------------------------------------------------- writing

    @property
    def head(self) -> int:
        return self._head

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _apply(self, event: Event) -> None:
        apply_event(self.state, event)
        for listener in self._listeners:
            listener(event)

    def emit(self, event: Event) -> None:
        """Apply an event now; it is committed with the enclosing transaction, or
        as a transaction of its own when there is none."""
        if self.read_only:
            raise ReadOnlyError("this labels object is read-only (a historical view)")
        if self._depth == 0:
            with self.transaction(""):
                self.emit(event)
            return
        self._apply(event)
        self._pending.append(event)

    @contextmanager
    def transaction(self, message: str = "") -> Iterator[None]:
        """All-or-nothing group of changes; one undo step. Nested transactions
        join the outermost one."""
        if self.read_only:
            raise ReadOnlyError("this labels object is read-only (a historical view)")
        self._depth += 1
        if self._depth == 1:
            self._message = message
        mark = len(self._pending)  # a nested transaction is a savepoint
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._rollback()
            else:  # a failed call inside a user's transaction leaves no trace
                self._rollback(mark)
            raise
        self._depth -= 1
        if self._depth == 0:
            self._commit(DO, 0)

    def _rollback(self, mark: int = 0) -> None:
        pending, self._pending = self._pending[mark:], self._pending[:mark]
        for event in reversed(pending):
            self._apply(invert(event))

    def _commit(self, tx_kind: str, ref: int, author: str | None = None,
                meta: dict | None = None) -> int:
        pending, self._pending = self._pending, []
        if not pending:
            return 0
        tx = self._last_tx + 1
        time = self.clock()
        who = author or self.author
        records = [
            Record(seq=self._head + i + 1, tx=tx, author=who, time=time,
                   message=self._message, tool_version=TOOL_VERSION, tx_kind=tx_kind,
                   ref=ref, event=event, meta=dict(meta or {}))
            for i, event in enumerate(pending)
        ]
        try:
            self.store.append(records, self._head)
        except BaseException:
            for event in reversed(pending):
                self._apply(invert(event))
            raise
        for rec in records:
            self._track(rec)
        for listener in self._commit_listeners:
            listener(records)
        return tx

    def commit_events(self, events: list[Event], message: str, tx_kind: str = DO,
                      meta: dict | None = None, author: str | None = None) -> int:
        """Apply ``events`` and commit them as one transaction of kind ``tx_kind``
        (``merge`` for merges) with transaction metadata; all or nothing."""
        if self._depth:
            raise TransactionError("commit_events inside a transaction is not allowed")
        if self.read_only:
            raise ReadOnlyError("this labels object is read-only (a historical view)")
        self._message = message
        self._pending = self._apply_all(events)
        return self._commit(tx_kind, 0, author=author, meta=meta)

    def _apply_all(self, events: list[Event]) -> list[Event]:
        """Apply events in order; on a failure undo the ones applied, then re-raise."""
        done: list[Event] = []
        try:
            for event in events:
                self._apply(event)
                done.append(event)
        except BaseException:
            for event in reversed(done):
                self._apply(invert(event))
            raise
        return done

    # ----------------------------------------------------------------- undo/redo

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def _tx_range(self, tx: int) -> tuple[int, int]:
        """First and last seq of a transaction: remembered for this session's
        transactions, asked of the store (an index lookup) for older ones."""
        known = self._tx_ranges.get(tx)
        if known is not None:
            return known
        lookup = getattr(self.store, "tx_range", None)
        if lookup is not None:
            found = lookup(tx)
        else:
            seqs = [r.seq for r in self.store.read(1) if r.tx == tx]
            found = (seqs[0], seqs[-1]) if seqs else None
        if found is None:
            raise TransactionError(f"transaction {tx} is not in the history")
        self._tx_ranges[tx] = found
        return found

    def tx_author(self, tx: int) -> str:
        if tx not in self._tx_author:
            first, _ = self._tx_range(tx)
            self._tx_author[tx] = next(iter(self.store.read(first, first))).author
        return self._tx_author[tx]

    def _events_of(self, tx: int) -> list[Event]:
        first, last = self._tx_range(tx)
        return [rec.event for rec in self.store.read(first, last)]

    def _replay_as(self, events: list[Event], tx_kind: str, ref: int, message: str) -> int:
        if self._depth:
            raise TransactionError("undo/redo inside a transaction is not allowed")
        if self.read_only:
            raise ReadOnlyError("this labels object is read-only (a historical view)")
        self._message = message
        self._pending = self._apply_all(events)
        return self._commit(tx_kind, ref)

    def undo(self, author: str | None = None) -> bool:
        """Undo the newest undoable transaction (of ``author`` when given)."""
        tx = next((t for t in reversed(self._undo) if t not in self._refused
                   and (author is None or self.tx_author(t) == author)), None)
        if tx is None:
            return False
        events = [invert(e) for e in reversed(self._events_of(tx))]
        try:
            self._replay_as(events, UNDO, tx, f"undo {tx}")
        except EventMismatch as exc:
            # a later change (another author's edit of the same point...) stands in
            # the way: nothing was changed; the next undo moves on to older work
            self._refused.add(tx)
            raise EventMismatch(f"cannot undo transaction {tx}: {exc}; nothing was "
                                "changed") from exc
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        tx = self._redo[-1]
        self._replay_as(self._events_of(tx), REDO, tx, f"redo {tx}")
        return True

    # ----------------------------------------------------------------- history

    def records(self, start: int = 1, stop: int | None = None) -> list[Record]:
        """Committed records ``start..stop``, with their hashes filled in."""
        self._ensure_hashes(self._head if stop is None else min(stop, self._head))
        return list(self.store.read(start, stop))

    def _ensure_hashes(self, upto: int) -> None:
        if upto <= self._hashed_upto:
            return
        stored = getattr(self.store, "hash_at", None)
        if stored is not None:  # a durable store hashed every record as it wrote it
            self._last_hash = stored(upto) or ""
            self._hashed_upto = upto
            return
        self._last_hash = chain_hashes(self.store.read(self._hashed_upto + 1, upto),
                                       self._last_hash)
        self._hashed_upto = upto

    def head_hash(self) -> str:
        self._ensure_hashes(self._head)
        return self._last_hash

    def verify(self) -> int:
        """Re-hash the whole chain; raise `IntegrityError` naming the first bad seq.

        Returns the number of records checked. A store that can check itself (from
        its stored bytes, chunks and recorded head) does so."""
        store_verify = getattr(self.store, "verify", None)
        if store_verify is not None:
            return int(store_verify())
        parent = GENESIS
        expected_seq = 1
        for rec in self.store.read(1):
            if rec.seq != expected_seq:
                raise IntegrityError(f"record {expected_seq} is missing or out of order "
                                     f"(found {rec.seq})", seq=expected_seq)
            digest = link_hash(parent, rec.content())
            if rec.hash and rec.hash != digest.hex():
                raise IntegrityError(f"record {rec.seq} does not match its hash", seq=rec.seq)
            rec.hash = rec.hash or digest.hex()
            parent = digest
            expected_seq += 1
        return expected_seq - 1

    def state_at(self, seq: int) -> State:
        """A fresh state replayed up to and including ``seq``."""
        state = State()
        for rec in self.store.read(1, seq):
            apply_event(state, rec.event)
        return state


def _drop(stack: list[int], tx: int) -> None:
    """Remove ``tx`` from a stack; O(1) in the usual case where it is on top."""
    if stack and stack[-1] == tx:
        stack.pop()
    elif tx in stack:
        stack.remove(tx)
