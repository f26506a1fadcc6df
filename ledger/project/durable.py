"""Durable ledgers: `open` a ledger file, snapshots, forks.

`open(path)` returns a `Labels` bound to a SQLite ledger file. Every committed
transaction is on disk when the call returns (the store commits with
``synchronous=FULL``). Opening loads the newest snapshot whose hash matches the
chain and replays only the tail; snapshots are taken automatically every
``snapshot_every`` events or ``snapshot_bytes`` of event payload, and on close.
A snapshot that is missing, stale or corrupt is ignored with a warning.

Example::

    import ledger
    with ledger.open("project.ledger", author="ana") as labels:
        labels.set_point(labels[0].instances[0], "head", 10, 20)
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from ledger.core.record import Record
from ledger.errors import StoreError
from ledger.project.event_ledger import EventLedger
from ledger.project.snapshot import state_from_bytes, state_to_bytes
from ledger.sleap.labels import Labels
from ledger.store.sqlite import SqliteStore

SNAPSHOT_EVERY = 20_000
SNAPSHOT_BYTES = 256 * 1024 * 1024


class SnapshotPolicy:
    """Takes snapshots of a durable ledger by event count and by bytes."""

    def __init__(self, labels: Labels, every: int, max_bytes: int, snapshot_seq: int) -> None:
        self.labels = labels
        self.every = every
        self.max_bytes = max_bytes
        self.last_seq = snapshot_seq  # the newest snapshot on disk (0: none)
        self.bytes_since = 0

    def on_commit(self, records: list[Record]) -> None:
        store = self.labels._ledger.store
        self.bytes_since += sum(getattr(r, "size", 0) for r in records)
        due = self.labels._ledger.head - self.last_seq >= self.every or \
            self.bytes_since >= self.max_bytes
        if due and not getattr(store, "read_only", False):
            self.take()

    def take(self) -> None:
        led = self.labels._ledger
        if led.head == 0 or led.head == self.last_seq:
            return
        store: Any = led.store
        blob = state_to_bytes(led.state, led.bookkeeping())
        store.save_snapshot(led.head, store.hash_at(led.head), blob)
        self.last_seq = led.head
        self.bytes_since = 0


def _load_snapshot(store: SqliteStore) -> Any:
    try:
        snap = store.latest_snapshot()
    except Exception as exc:  # noqa: BLE001 - a snapshot is only a cache
        warnings.warn(f"{store.path}: ignoring unreadable snapshot ({exc})", stacklevel=3)
        return None
    if snap is None:
        return None
    seq, head_hash, blob = snap
    if store.hash_at(seq) != head_hash:
        warnings.warn(f"{store.path}: ignoring stale snapshot at seq {seq}", stacklevel=3)
        return None
    try:
        state, book = state_from_bytes(blob)
    except Exception as exc:  # noqa: BLE001 - corrupt snapshot: rebuild instead
        warnings.warn(f"{store.path}: ignoring corrupt snapshot at seq {seq} ({exc})",
                      stacklevel=3)
        return None
    if book.head != seq:
        warnings.warn(f"{store.path}: ignoring inconsistent snapshot at seq {seq}", stacklevel=3)
        return None
    return state, book


def open(path: str | os.PathLike[str], author: str | None = None, *, create: bool = True,
         read_only: bool = False, snapshot_every: int = SNAPSHOT_EVERY,
         snapshot_bytes: int = SNAPSHOT_BYTES, use_snapshot: bool = True) -> Labels:
    """Open (or create) a ledger file and return its `Labels`."""
    store = SqliteStore(path, create=create, read_only=read_only)
    try:
        snapshot = _load_snapshot(store) if use_snapshot else None
        led = EventLedger(store=store, author=author, read_only=read_only, snapshot=snapshot)
    except Exception:
        store.close()
        raise
    labels = Labels(_ledger=led)
    policy = SnapshotPolicy(labels, snapshot_every, snapshot_bytes,
                            snapshot[1].head if snapshot is not None else 0)
    led.add_commit_listener(policy.on_commit)
    labels._snapshots = policy  # type: ignore[attr-defined]
    return labels


def fork(labels: Labels, path: str | os.PathLike[str]) -> Labels:
    """A new ledger file holding this ledger's whole history (same hashes)."""
    target = os.fspath(path)
    if os.path.exists(target):
        raise StoreError(f"{target}: already exists; a fork needs a new file")
    led = labels._ledger
    records = led.records()
    store = SqliteStore(target, create=True)
    try:
        step = 10_000
        for k in range(0, len(records), step):
            store.append(records[k:k + step], k)
    finally:
        store.close()
    forked = open(target, author=led.author)
    forked._snapshots.take()  # type: ignore[attr-defined]
    return forked
