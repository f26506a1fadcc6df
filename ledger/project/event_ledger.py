"""The write path: transactions, undo/redo, time travel and the hash chain.

`EventLedger` owns a `Store` and, once somebody reads it, the `State` projected
from it. Every change goes through `emit`, which applies the event at once (so
code inside a transaction reads its own writes) and buffers it; `commit` hands
the transaction's records to the store. An exception inside a transaction
applies the inverses of what was buffered, newest first, and nothing reaches the
store.

The state is built lazily (newest usable snapshot, then the tail), so reading
history, tags or counters never pays for it. Undo appends the inverse events as a
new transaction: history is never rewritten. The undo and redo stacks are not
kept anywhere: they follow from the transaction kinds (`do`, `undo`, `redo`) and
are found by walking transaction summaries back from the head (`undo_stack`,
`redo_stack`), usually one small read, so a ledger opened anywhere -- a file, a
server, a CLI command that never builds the state -- has the same stacks.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ledger.core import events as ev
from ledger.core.apply import apply_event
from ledger.core.apply_bulk import apply_events
from ledger.core.codec import freeze_arrays
from ledger.core.events import Event, invert
from ledger.core.record import DO, REDO, UNDO, Record, TxInfo
from ledger.core.state import State
from ledger.errors import EventMismatch, ReadOnlyError, TransactionError, ValidationError
from ledger.store.base import Store
from ledger.store.memory import MemoryStore

TOOL_VERSION = "ledger 0.2.0"
_TX_PAGE = 64

# Kinds whose events change none of the counters in `summary_of` (so an undo of
# them may be committed without building the state; see `EventLedger.undo`).
COUNT_NEUTRAL = (ev.PointSet, ev.PointsSet, ev.TracksAssigned, ev.TrackChanged,
                 ev.VideoChanged, ev.SkeletonChanged, ev.NodeAdded, ev.NodeRemoved,
                 ev.ProvenanceSet)


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


def summary_of(state: State, seq: int) -> dict[str, Any]:
    """The counters `ledger stats` shows, for the state after ``seq`` (cheap: the
    state keeps per-video counts)."""
    counts = list(state.counts.values())
    return {"seq": seq, "videos": len(state.video_order),
            "skeletons": len(state.skeleton_order), "tracks": len(state.track_order),
            "frames": sum(c[0] for c in counts),
            "user_frames": sum(c[1] for c in counts),
            "instances": int(np.count_nonzero(state.instances.cols.view("alive"))),
            "suggestions": len(state.suggestions)}


def _stack_walk(txs_newest_first: Iterator[TxInfo]) -> Iterator[tuple[str, TxInfo]]:
    """Label each transaction, newest first, with what it means for the stacks.

    Each transaction is pushed on the undo stack when it commits (a ``redo``
    pushes itself); only an ``undo`` removes one, for good. So the undo stack is
    every non-undo transaction not undone later, in commit order; the redo stack
    is the ``ref`` of every ``undo`` after the newest ``do`` that no later
    ``redo`` took back. Yields ("undo", tx) and ("redo", tx) entries top-down.
    """
    undone: set[int] = set()
    redone: set[int] = set()
    redo_open = True
    for info in txs_newest_first:
        if info.tx_kind == UNDO:
            undone.add(info.ref)
            if redo_open and info.ref not in redone:
                yield "redo", info
        elif info.tx_kind == REDO:
            redone.add(info.ref)
            if info.tx not in undone:
                yield "undo", info
        else:
            redo_open = False
            if info.tx not in undone:
                yield "undo", info


class EventLedger:
    """Store + lazily built state + transactions. `Project` sits on top of one."""

    def __init__(self, store: Store | None = None, author: str | None = None,
                 clock: Callable[[], str] = utc_now, read_only: bool = False,
                 state: State | None = None) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        if self.store.author is not None and author not in (None, self.store.author):
            raise ValidationError(f"{self.store.describe()} records its own role "
                                  f"{self.store.author!r} as the author, not {author!r}")
        self.author = self.store.author or author or default_author()
        self.clock = clock
        self.read_only = read_only
        self._head = self.store.head()
        self._last_tx = self.store.last_tx()
        self._state: State | None = state if state is not None else (
            State() if self._head == 0 else None)
        self.loaded_from = 0  # the snapshot seq the state was built from (0: none)
        self._pending: list[Event] = []
        self._last_summary: dict[str, Any] | None = None  # the counters at the head
        self._depth = 0
        self._message = ""
        self._listeners: list[Callable[[Event], None]] = []
        self._commit_listeners: list[Callable[[list[Record]], None]] = []
        self._refused: set[int] = set()  # transactions whose undo was refused
        self._keys: dict[str, Any] = {}  # author -> private key or None (docs/audit.md)
        self._ledger_keys: dict[str, Any] | None = None

    # ----------------------------------------------------------------- state

    @property
    def state_loaded(self) -> bool:
        return self._state is not None

    @property
    def state(self) -> State:
        """The projection at the head, built on first use."""
        if self._state is None:
            self._state, self.loaded_from = self.build_state(self._head)
        return self._state

    def build_state(self, seq: int) -> tuple[State, int]:
        """A fresh state after ``seq``: the newest usable snapshot at or before it,
        then the records after the snapshot. Returns (state, snapshot seq)."""
        from ledger.project.snapshot import state_from_data

        state, start = State(), 0
        found = self.store.latest_snapshot(max_seq=seq) if seq else None
        if found is not None:
            try:
                state, start = state_from_data(found[2]), found[0]
            except Exception as exc:  # noqa: BLE001 - a snapshot is only a cache
                import warnings

                warnings.warn(f"{self.store.describe()}: ignoring the snapshot at seq "
                              f"{found[0]} ({exc})", UserWarning, stacklevel=3)
                state, start = State(), 0
        if seq > start:
            apply_events(state, self.store.read_events(start + 1, seq))
        return state, start

    def add_commit_listener(self, listener: Callable[[list[Record]], None]) -> None:
        """Called with a transaction's records once the store has them."""
        self._commit_listeners.append(listener)

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Called after every event applied (the facade keeps its objects in step)."""
        self._listeners.append(listener)

    def refresh(self) -> int:
        """Apply records other writers stored after our head; return how many.

        After a `ConcurrencyError`, refresh and retry."""
        if self._depth:
            raise TransactionError("cannot refresh inside a transaction")
        count = 0
        for rec in self.store.read(self._head + 1):
            if self._state is not None:
                self._apply(rec.event)
            self._head = rec.seq
            self._last_tx = max(self._last_tx, rec.tx)
            count += 1
        return count

    # ----------------------------------------------------------------- writing

    @property
    def head(self) -> int:
        return self._head

    @property
    def last_tx(self) -> int:
        return self._last_tx

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError("this labels object is read-only (a historical view)")

    def _apply(self, event: Event) -> None:
        apply_event(self.state, event)
        for listener in self._listeners:
            listener(event)

    def emit(self, event: Event) -> None:
        """Apply an event now; it is committed with the enclosing transaction, or
        as a transaction of its own when there is none."""
        self._check_writable()
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
        self._check_writable()
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

    def _records(self, events: list[Event], tx_kind: str, ref: int, author: str | None,
                 meta: dict | None) -> list[Record]:
        tx = self._last_tx + 1
        time = self.clock()
        who = author or self.author
        for event in events:
            freeze_arrays(event)
        return [Record(seq=self._head + i + 1, tx=tx, author=who, time=time,
                       message=self._message, tool_version=TOOL_VERSION, tx_kind=tx_kind,
                       ref=ref, event=event, meta=dict(meta or {}))
                for i, event in enumerate(events)]

    def _commit(self, tx_kind: str, ref: int, author: str | None = None,
                meta: dict | None = None) -> int:
        pending, self._pending = self._pending, []
        if not pending:
            return 0
        records = self._records(pending, tx_kind, ref, author, meta)
        summary = self._summary_after(pending, records[-1].seq)
        try:
            self._append(records, summary)
        except BaseException:
            for event in reversed(pending):
                self._apply(invert(event))
            raise
        return self._committed(records)

    def _append(self, records: list[Record], summary: dict[str, Any] | None) -> None:
        """Hand a transaction to the store, signed when its author has a private
        key in the key directory and the store keeps signatures (docs/audit.md)."""
        signs = self.store.signs_commits()
        key = self._key_of(records[0].author) if signs else None
        if key is None:
            if signs and records[0].author in self._held_keys():
                raise ValidationError(
                    f"{records[0].author!r} signs in {self.store.describe()} but has no "
                    "private key in the key directory (LEDGER_KEY_DIR); an unsigned "
                    "transaction would fail verify(), so nothing was committed")
            self.store.append(records, self._head, summary=summary)
            return
        from ledger.core.signing import public_hex, sign_hash

        author, public = records[0].author, public_hex(key)
        self.store.append_signed(records, self._head, summary=summary,
                                 sign=lambda h: (author, public, sign_hash(key, h)))

    def _held_keys(self) -> dict[str, Any]:
        """The authors who sign in this ledger (read once per session)."""
        if self._ledger_keys is None:
            self._ledger_keys = self.store.public_keys()
        return self._ledger_keys

    def _key_of(self, author: str) -> Any | None:
        """The author's private key (loaded once per session), or None."""
        if author not in self._keys:
            from ledger.core.signing import load_key

            self._keys[author] = load_key(author)
        return self._keys[author]

    def _summary_after(self, events: list[Event], seq: int) -> dict[str, Any]:
        """The counters after this commit: carried over from the previous commit
        when every event is count-neutral (a point edit costs no recount), else
        recounted from the state."""
        last = self._last_summary
        if last is not None and last.get("seq") == self._head and \
                all(isinstance(e, COUNT_NEUTRAL) for e in events):
            summary = {**last, "seq": seq}
        else:
            summary = summary_of(self.state, seq)
        self._last_summary = summary
        return summary

    def _committed(self, records: list[Record]) -> int:
        self._head = records[-1].seq
        self._last_tx = records[-1].tx
        for listener in self._commit_listeners:
            listener(records)
        return records[-1].tx

    def commit_events(self, events: list[Event], message: str, tx_kind: str = DO,
                      meta: dict | None = None, author: str | None = None) -> int:
        """Apply ``events`` and commit them as one transaction of kind ``tx_kind``
        (``merge`` for merges) with transaction metadata; all or nothing."""
        if self._depth:
            raise TransactionError("commit_events inside a transaction is not allowed")
        self._check_writable()
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

    def _txs_newest_first(self) -> Iterator[TxInfo]:
        hi = self._last_tx
        while hi >= 1:
            lo = max(1, hi - _TX_PAGE + 1)
            yield from reversed(self.store.transactions(lo, hi))
            hi = lo - 1

    def undo_stack(self) -> Iterator[TxInfo]:
        """Undoable transactions, the next one to undo first."""
        return (info for what, info in _stack_walk(self._txs_newest_first()) if what == "undo")

    def redo_stack(self) -> Iterator[TxInfo]:
        """Undone transactions (the ``undo`` records), the next one to redo first."""
        return (info for what, info in _stack_walk(self._txs_newest_first()) if what == "redo")

    @property
    def can_undo(self) -> bool:
        return next(self.undo_stack(), None) is not None

    @property
    def can_redo(self) -> bool:
        return next(self.redo_stack(), None) is not None

    def tx_info(self, tx: int) -> TxInfo:
        found = self.store.transactions(tx, tx)
        if not found:
            raise TransactionError(f"transaction {tx} is not in the history")
        return found[0]

    def tx_author(self, tx: int) -> str:
        return self.tx_info(tx).author

    def _events_of(self, info: TxInfo) -> list[Event]:
        return [rec.event for rec in self.store.read(info.first, info.last)]

    def _replay_as(self, events: list[Event], tx_kind: str, ref: int, message: str,
                   at_head: bool) -> int:
        if self._depth:
            raise TransactionError("undo/redo inside a transaction is not allowed")
        self._check_writable()
        self._message = message
        if self._state is None and at_head and all(isinstance(e, COUNT_NEUTRAL)
                                                   for e in events):
            # The events invert (or repeat) the newest transaction exactly, so they
            # fit the head state by construction, and they change no counter:
            # commit them without building the state (a CLI undo of an edit).
            records = self._records(events, tx_kind, ref, None, None)
            summary = self.store.summary()
            if summary.get("seq") == self._head:
                summary["seq"] = records[-1].seq
            else:
                summary = None
            self._append(records, summary)
            return self._committed(records)
        self._pending = self._apply_all(events)
        return self._commit(tx_kind, ref)

    def undo(self, author: str | None = None) -> bool:
        """Undo the newest undoable transaction (of ``author`` when given)."""
        info = next((t for t in self.undo_stack() if t.tx not in self._refused
                     and (author is None or t.author == author)), None)
        if info is None:
            return False
        events = [invert(e) for e in reversed(self._events_of(info))]
        try:
            self._replay_as(events, UNDO, info.tx, f"undo {info.tx}", info.last == self._head)
        except EventMismatch as exc:
            # a later change (another author's edit of the same point...) stands in
            # the way: nothing was changed; the next undo moves on to older work
            self._refused.add(info.tx)
            raise EventMismatch(f"cannot undo transaction {info.tx}: {exc}; nothing was "
                                "changed") from exc
        return True

    def redo(self) -> bool:
        undo_info = next(self.redo_stack(), None)
        if undo_info is None:
            return False
        target = self.tx_info(undo_info.ref)
        self._replay_as(self._events_of(target), REDO, target.tx, f"redo {target.tx}",
                        undo_info.last == self._head)
        return True

    # ----------------------------------------------------------------- history

    def records(self, start: int = 1, stop: int | None = None) -> list[Record]:
        """Committed records ``start..stop``, with their hashes filled in."""
        return list(self.store.read(start, self._head if stop is None else min(stop,
                                                                               self._head)))

    def head_hash(self) -> str:
        return self.store.hash_at(self._head) or ""

    def verify(self) -> int:
        """Re-hash the whole chain; raise `IntegrityError` naming the first bad seq."""
        return int(self.store.verify())

    def state_at(self, seq: int) -> State:
        """A fresh state after ``seq``, from the nearest snapshot at or before it."""
        return self.build_state(seq)[0]
