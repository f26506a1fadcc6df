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

from collections.abc import Callable, Iterable, Sequence
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


def origin_of(tx: Sequence[Record]) -> str:
    """A transaction's identity across histories: the hash of its first record
    where it was first committed. A replayed transaction carries it in its
    ``meta["origin"]``, so a merge or a pull can tell that two histories hold the
    same change although every hash differs."""
    return tx[0].meta.get("origin") or tx[0].hash


def _apply_all(apply: Callable[[Event], None], events: Sequence[Event]) -> bool:
    done: list[Event] = []
    try:
        for event in events:
            apply(event)
            done.append(event)
    except Exception:  # noqa: BLE001 - an event that no longer fits: skip the tx
        for event in reversed(done):
            apply(invert(event))
        return False
    return True


def _clashes(mine: Touch, dirty: Touch, dirty_point_instances: set[int]) -> bool:
    """`Touch.clashes` with the dirty side's point instances kept from call to
    call: every set operation here costs the smaller set, so replaying 10,000
    single edits against 10,000 of ours is linear, not quadratic."""
    mine_pi = mine._point_instances()
    return bool(mine.instances & dirty.instances or mine.instances & dirty_point_instances
                or dirty.instances & mine_pi or mine.points & dirty.points
                or mine.frames & dirty.frames or mine.other & dirty.other)


def replay(store: Store, state: State, transactions: Iterable[Sequence[Record]], *,
           dirty: Touch | None = None, flush: int = FLUSH_RECORDS,
           apply: Callable[[Event], None] | None = None,
           ref_of: Callable[[Sequence[Record]], int | None] | None = None,
           wanted: Callable[[Sequence[Record]], bool] | None = None,
           done: Callable[[Sequence[Record], int], None] | None = None,
           appended: Callable[[list[Record]], None] | None = None) -> Replayed:
    """Append ``transactions`` (each a list of records, in order) on top of
    ``store``'s head, keeping every envelope field but the positions; each
    replayed record's ``meta["origin"]`` names the transaction it came from
    (`origin_of`).

    ``state`` must be the projection at the store's head; it is advanced with
    every replayed transaction (through ``apply`` when given, so a live
    project's listeners follow). ``dirty`` (changed in place) is what the
    store's history changed since the transactions were made. The summary is
    written with the last append.

    A merge replays transactions of another history, whose undo/redo refs name
    that history's transactions: ``ref_of(tx)`` maps them (None: the target is
    not here, skip). ``wanted(tx)`` is asked just before each transaction (a
    merge leaves out what ours already holds, which earlier replays change);
    ``done(tx, new_tx)`` is told of each replayed one and ``appended`` of every
    batch of records written.
    """
    apply = apply or (lambda event: apply_event(state, event))
    dirty = dirty if dirty is not None else Touch()
    dirty_pi = dirty._point_instances()
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
            if appended is not None:
                appended(pending)
            pending = []

    for tx in txs:
        first = tx[0]
        if wanted is not None and not wanted(tx):
            continue
        touch = Touch.of(rec.event for rec in tx)
        ref: int | None = first.ref
        ok = not _clashes(touch, dirty, dirty_pi)
        if ok and first.tx_kind in (UNDO, REDO):
            if ref_of is not None:
                ref = ref_of(tx)
                ok = ref is not None
            elif ref in local:
                ok = ref in out.new_tx
                ref = out.new_tx.get(ref, ref)
        if ok:
            ok = _apply_all(apply, [rec.event for rec in tx])
        if not ok:
            out.skipped.append(first.tx)
            dirty.update(touch)
            dirty_pi |= touch._point_instances()
            continue
        last_tx += 1
        out.new_tx[first.tx] = last_tx
        if done is not None:
            done(tx, last_tx)
        meta = {**first.meta, "origin": origin_of(tx)}
        for rec in tx:
            head += 1
            pending.append(Record(seq=head, tx=last_tx, author=rec.author, time=rec.time,
                                  message=rec.message, tool_version=rec.tool_version,
                                  tx_kind=rec.tx_kind, ref=ref or 0, event=rec.event,
                                  meta=meta))
        if len(pending) >= flush:
            write()
    write()
    return out
