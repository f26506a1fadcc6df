"""`Project`: the application service every client talks to.

A project owns the event ledger (transactions, undo/redo), its store, the
snapshot policy and id allocation. `Labels` (the SLEAP facade), merge, diff, the
CLI and the tools all go through this public API; none of them reaches into a
store or a state directly.

What it costs, and why:

* Opening reads only the head. The state is built on first use (newest snapshot,
  then the tail), so ``log``, ``stats``, ``tag`` and ``show`` never build it.
* A commit appends its records (one store transaction). Snapshots are never
  taken on the commit path: `close` takes one when replaying the tail since the
  last snapshot would cost more than ``snapshot_every`` events, so a session of a
  few edits writes only those edits.
* `fork` copies the store (a file copy for SQLite), it does not replay.

Example::

    project = Project.open("proj.ledger", author="ana")
    project.head, project.summary()["frames"]
    project.tag("reviewed")
    project.close()
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, overload

from ledger.core.events import Event
from ledger.core.ids import IdSource, RandomIds
from ledger.core.record import DO, Envelope, Record, chain_hashes
from ledger.core.state import State
from ledger.core.values import check_int
from ledger.errors import StoreError, ValidationError
from ledger.project.event_ledger import EventLedger, summary_of
from ledger.store.base import Store
from ledger.store.memory import MemoryStore

SNAPSHOT_EVERY = 10_000  # records of tail replay that justify writing a snapshot
_READ_PAGE = 4096


class History(Sequence[Record]):
    """The committed records as a lazy sequence: ``history[-1]`` reads one record,
    ``len(history)`` reads nothing, iteration reads in pages."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._head = project.head

    def __len__(self) -> int:
        return self._head

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            seqs = range(1, self._head + 1)[index]
            if not seqs:
                return []
            if seqs.step == 1:
                return self._project.records(seqs.start, seqs.stop - 1)
            return [self[k - 1] for k in seqs]
        if isinstance(index, bool) or not isinstance(index, int):
            raise ValidationError(f"history index must be an int or a slice, not {index!r}")
        k = index + self._head if index < 0 else index
        if not 0 <= k < self._head:
            raise IndexError(f"history index {index} out of range ({self._head} records)")
        return self._project.records(k + 1, k + 1)[0]

    def __iter__(self) -> Iterator[Record]:
        for lo in range(1, self._head + 1, _READ_PAGE):
            yield from self._project.records(lo, min(lo + _READ_PAGE - 1, self._head))

    def __repr__(self) -> str:
        return f"<history of {self._head} records>"


class Project:
    """Ledger + store + snapshot policy + ids; see the module docstring."""

    def __init__(self, store: Store | None = None, author: str | None = None, *,
                 read_only: bool = False, ids: IdSource | None = None,
                 snapshot_every: int = SNAPSHOT_EVERY, state: State | None = None) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.ledger = EventLedger(self.store, author=author, read_only=read_only, state=state)
        self.ids: IdSource = ids or RandomIds()
        self.snapshot_every = snapshot_every
        self._closed = False

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: str | os.PathLike[str], author: str | None = None, *,
             create: bool = True, read_only: bool = False,
             snapshot_every: int = SNAPSHOT_EVERY) -> Project:
        """Open (or create) a ledger file. Reads the head only."""
        from ledger.store.sqlite import SqliteStore

        store = SqliteStore(path, create=create, read_only=read_only)
        return cls(store, author, read_only=read_only, snapshot_every=snapshot_every)

    def describe(self) -> str:
        return self.store.describe()

    # ----------------------------------------------------------------- reading

    @property
    def author(self) -> str:
        return self.ledger.author

    @property
    def read_only(self) -> bool:
        return self.ledger.read_only

    @property
    def head(self) -> int:
        return self.ledger.head

    @property
    def last_tx(self) -> int:
        return self.ledger.last_tx

    def head_hash(self) -> str:
        return self.ledger.head_hash()

    @property
    def state(self) -> State:
        """The projection at the head (built on first use). Read it; never change
        it except through `commit`/`emit`."""
        return self.ledger.state

    @property
    def state_loaded(self) -> bool:
        return self.ledger.state_loaded

    def records(self, start: int = 1, stop: int | None = None) -> list[Record]:
        """Records ``start..stop`` (to the head when None), with hashes."""
        return self.ledger.records(start, stop)

    def envelopes(self, start: int = 1, stop: int | None = None) -> list[Envelope]:
        """Like `records` without decoding events (what ``log`` shows)."""
        stop = self.head if stop is None else min(stop, self.head)
        return list(self.store.read_envelopes(start, stop))

    def page(self, page: int = 1, per_page: int = 50) -> list[Envelope]:
        """Page ``page`` (1 = newest) of the history, newest first."""
        if page < 1 or per_page < 1:
            raise ValidationError("page and per_page must be positive")
        stop = max(self.head - (page - 1) * per_page, 0)
        start = max(stop - per_page + 1, 1)
        return list(reversed(self.envelopes(start, stop))) if stop else []

    @property
    def history(self) -> History:
        return History(self)

    def summary(self) -> dict[str, Any]:
        """Counters (videos, frames, instances, ...) at the head: the ones the store
        keeps when they are current, else computed from the state."""
        stored = self.store.summary()
        if stored.get("seq") == self.head or (self.head == 0 and not stored):
            stored.setdefault("seq", self.head)
            return stored
        return summary_of(self.state, self.head)

    def resolve_version(self, version: int | str) -> int:
        """A seq from a seq (int or digits) or a tag name."""
        if isinstance(version, str):
            return int(version) if version.isdigit() else self.store.tag_seq(version)
        return check_int(version, "a version (seq)")  # not None, 1.7 or True

    def at(self, version: int | str) -> State:
        """The state right after ``version`` (a seq or a tag), built from the nearest
        snapshot at or before it."""
        seq = self.resolve_version(version)
        if not 0 <= seq <= self.head:
            raise ValidationError(f"seq {seq} is outside the history (0..{self.head})")
        if seq == self.head and self.state_loaded:
            from ledger.core.codec import decode_payload, local_arrays
            from ledger.project.snapshot import state_from_data, state_to_payload

            payload = state_to_payload(self.state, seq)
            return state_from_data(decode_payload(payload.body,
                                                  local_arrays(payload.arrays)))
        return self.ledger.state_at(seq)

    # ----------------------------------------------------------------- writing

    def commit(self, events: list[Event], message: str = "", *, tx_kind: str = DO,
               meta: dict | None = None, author: str | None = None) -> int:
        """Apply ``events`` and commit them as one transaction; returns its number
        (0 when ``events`` is empty). All or nothing."""
        return self.ledger.commit_events(list(events), message, tx_kind=tx_kind, meta=meta,
                                         author=author)

    def emit(self, event: Event) -> None:
        self.ledger.emit(event)

    def transaction(self, message: str = "") -> Any:
        return self.ledger.transaction(message)

    def undo(self, author: str | None = None) -> bool:
        return self.ledger.undo(author)

    def redo(self) -> bool:
        return self.ledger.redo()

    @property
    def can_undo(self) -> bool:
        return self.ledger.can_undo

    @property
    def can_redo(self) -> bool:
        return self.ledger.can_redo

    def refresh(self) -> int:
        return self.ledger.refresh()

    # ----------------------------------------------------------------- tags

    def tag(self, name: str, seq: int | None = None, *, move: bool = False) -> int:
        """Name the head (or ``seq``); an existing name moves only with ``move``."""
        seq = self.head if seq is None else self.resolve_version(seq)
        self.store.set_tag(name, seq, move=move)
        return seq

    def tags(self) -> dict[str, int]:
        return self.store.tags()

    def delete_tag(self, name: str) -> None:
        self.store.delete_tag(name)

    # ----------------------------------------------------------------- snapshots

    @property
    def snapshot_due(self) -> bool:
        """Whether replaying from the newest snapshot costs more than we allow."""
        seqs = self.store.snapshot_seqs()
        return self.head - max(seqs[-1] if seqs else 0, self.ledger.loaded_from) >= \
            self.snapshot_every

    def snapshot(self) -> bool:
        """Write a snapshot of the head state now (if there is none there yet)."""
        from ledger.project.snapshot import state_to_payload

        if self.head == 0 or self.read_only or self.head in self.store.snapshot_seqs():
            return False
        payload = state_to_payload(self.state, self.head)
        self.store.save_snapshot(self.head, self.head_hash(), payload)
        return True

    # ----------------------------------------------------------------- checking

    def verify(self, *, deep: bool = False, receipt: Any = None,
               keys: dict[str, str] | None = None) -> int:
        """Re-hash the chain; check every signature of an author who has a key;
        with ``receipt`` (a dict, JSON or path from `receipt`) check the chain still
        holds its head and pin its keys; ``keys`` pins author → public key hex;
        ``deep`` replays and compares every snapshot. Returns the record count;
        `IntegrityError` names the first failure. docs/audit.md says what each proves."""
        from ledger.project.audit import verify

        return verify(self, deep=deep, receipt=receipt, keys=keys)

    def receipt(self, author: str | None = None) -> dict[str, Any]:
        """A small signed JSON-able dict attesting (chain, head seq, head hash) and the
        keys the ledger holds, signed with ``author``'s (default ours) private key.
        Keep it outside the file; `verify(receipt=...)` then detects truncation and
        rewrites up to that head."""
        from ledger.project.audit import receipt

        return receipt(self, author)

    # ----------------------------------------------------------------- forks

    def fork(self, path: str | os.PathLike[str], author: str | None = None, *,
             progress: Callable[[int], None] | None = None) -> Project:
        """A new ledger file with this whole history (same hashes), opened as
        ``author`` (default: ours). SQLite stores are copied page by page; other
        stores are written once into a new file (``progress(n)`` hears of every
        ``n`` bytes of array data written: see `array_bytes`)."""
        from ledger.store.sqlite import SqliteStore
        from ledger.store.sqlite_file import refuse_leftovers

        target = Path(path)
        if target.exists():
            raise StoreError(f"{target}: already exists; a fork needs a new path")
        refuse_leftovers(target)
        if isinstance(self.store, SqliteStore):
            self.store.copy_to(target)
        else:
            SqliteStore.create_from(target, (
                self.records(lo, min(lo + _READ_PAGE - 1, self.head))
                for lo in range(1, self.head + 1, _READ_PAGE)), summary=self.summary(),
                progress=progress, keys=self.store.public_keys(),
                signatures=self.store.signatures())
        return Project.open(target, author or self.author, create=False)

    def array_bytes(self) -> int:
        """Bytes of array data in the history's events (what `fork` reports)."""
        from ledger.core.codec import encode_payload

        seen: dict[str, int] = {}
        for lo in range(1, self.head + 1, _READ_PAGE):
            for rec in self.records(lo, min(lo + _READ_PAGE - 1, self.head)):
                for digest, arr in encode_payload(rec.event).arrays.items():
                    seen[digest] = arr.nbytes
        return sum(seen.values())

    def fork_in_memory(self, author: str | None = None) -> Project:
        """The same history in a new in-memory project (for trials and merges)."""
        store = MemoryStore()
        if self.head:
            store.append(chain_hashes(self.records()), 0, summary=self.summary())
            store.copy_signatures(self.store.public_keys(), self.store.signatures())
        return Project(store, author or self.author, ids=self.ids)

    # ----------------------------------------------------------------- lifetime

    def close(self) -> None:
        """Take a snapshot when one is due (never failing the close for it), then
        release the store. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self.read_only and self.state_loaded and self.snapshot_due:
                self.snapshot()
        except Exception as exc:  # noqa: BLE001 - a snapshot is only a cache
            warnings.warn(f"{self.describe()}: no snapshot written ({exc}); the next open "
                          "replays more", UserWarning, stacklevel=2)
        finally:
            self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({self.describe()!r}, head={self.head})"

