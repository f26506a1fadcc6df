"""Replaying transactions onto another history, each keeping its author.

A rebase (``labels.pull()`` on a replica) and, later, a three-way merge that
keeps authors both need the same step: take transactions made on top of one
history and append them, one by one, on top of another, each with its own
author, time, message, tool version, kind and metadata. Only the positions
change (seq, transaction number, the ``ref`` of an undo or redo), and with them
the hashes, since every record's parent is new.

A transaction is replayed only when it still means what it meant:

* its footprint (`ledger.project.touch.Touch`) does not overlap ``dirty``, what
  the new history changed since the fork (and what earlier skipped transactions
  would have changed), and
* its events apply to the new state (`ledger.core.apply.apply_event` checks and
  refuses before changing anything), and
* an undo or redo refers to a transaction that was itself replayed (or that
  precedes the fork).

Everything else is *skipped*: reported to the caller, who turns the skipped
changes into conflicts-as-data with a three-way merge (`ledger.merging.merge`),
so nothing is silently overwritten.

Example::

    done = replay(store, state, [tx1_records, tx2_records], dirty=Touch.of(theirs))
    done.new_tx, done.skipped
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ledger.core.apply import apply_event
from ledger.core.events import Event, invert
from ledger.core.record import REDO, UNDO, Record
from ledger.core.state import State
from ledger.project.event_ledger import summary_of
from ledger.project.touch import Touch
from ledger.store.base import Store

FLUSH_RECORDS = 4096  # records per store append while replaying


def by_transaction(records: Iterable[Record]) -> list[list[Record]]:
    """Consecutive records grouped by transaction number."""
    out: list[list[Record]] = []
    for rec in records:
        if out and out[-1][0].tx == rec.tx:
            out[-1].append(rec)
        else:
            out.append([rec])
    return out


@dataclass
class Replayed:
    """What `replay` did: old tx → new tx for each replayed transaction, the old
    numbers of the skipped ones, and the records appended (with their events)."""

    new_tx: dict[int, int] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)


def _apply_all(state: State, events: Sequence[Event]) -> bool:
    done: list[Event] = []
    try:
        for event in events:
            apply_event(state, event)
            done.append(event)
    except Exception:  # noqa: BLE001 - an event that no longer fits: skip the tx
        for event in reversed(done):
            apply_event(state, invert(event))
        return False
    return True


def replay(store: Store, state: State, transactions: Iterable[Sequence[Record]], *,
           dirty: Touch | None = None, flush: int = FLUSH_RECORDS) -> Replayed:
    """Append ``transactions`` (each a list of records, in order) on top of
    ``store``'s head, keeping every envelope field but the positions.

    ``state`` must be the projection at the store's head; it is advanced with
    every replayed transaction. ``dirty`` (changed in place) is what the store's
    history changed since the transactions were made. The summary is written
    with the last append.
    """
    dirty = dirty if dirty is not None else Touch()
    head, last_tx = store.head(), store.last_tx()
    txs = [list(t) for t in transactions]
    local = {t[0].tx for t in txs}
    out = Replayed()
    pending: list[Record] = []

    def write() -> None:
        nonlocal pending
        if pending:
            store.append(pending, pending[0].seq - 1, summary=summary_of(state, pending[-1].seq))
            out.records.extend(pending)
            pending = []

    for tx in txs:
        first = tx[0]
        touch = Touch.of(rec.event for rec in tx)
        ref = first.ref
        ok = not touch.clashes(dirty)
        if ok and first.tx_kind in (UNDO, REDO) and ref in local:
            ok = ref in out.new_tx
            ref = out.new_tx.get(ref, ref)
        if ok:
            ok = _apply_all(state, [rec.event for rec in tx])
        if not ok:
            out.skipped.append(first.tx)
            dirty.update(touch)
            continue
        last_tx += 1
        out.new_tx[first.tx] = last_tx
        for rec in tx:
            head += 1
            pending.append(Record(seq=head, tx=last_tx, author=rec.author, time=rec.time,
                                  message=rec.message, tool_version=rec.tool_version,
                                  tx_kind=rec.tx_kind, ref=ref, event=rec.event,
                                  meta=rec.meta))
        if len(pending) >= flush:
            write()
    write()
    return out
