"""Committing a three-way merge so that every merged-in change keeps its author.

A merge used to land as one transaction by whoever merged, so ``blame``,
``history`` and ``undo(author=...)`` lost who made each change. Now the commit
follows the same model as a replica's pull (`ledger.project.rebase.replay`):

1. theirs' transactions that ours does not hold yet (by identity, see
   `ledger.merging.history`) are replayed onto ours one by one, each keeping its
   author, time, message and kind (an undo or redo keeps pointing at the same
   change, renumbered into ours); one that touches what ours changed on its own
   since the fork, or no longer applies, is skipped;
2. one final ``merge`` transaction makes ours what the plan with the chosen
   resolutions says (the skipped transactions' changes and the resolutions), and
   records who merged, who resolved what, and the identities of the skipped
   transactions it *absorbed*, so no later merge asks about them again.

When a transaction was skipped or there were conflicts, the target of the merge
(ours' state before the replays, rebuilt from the store, with the plan's events
applied) is compared with what the replays produced and the final transaction
is the difference, so the result is exactly the plan's whatever was replayed.
When everything replayed, nothing conflicted and both sides only changed
instances and frames, the replays are theirs' changes since the base, which is
what the plan holds, and the check is skipped.

Undoing the merge is undoing its transactions (`MergeResult.transactions`,
newest first); an undone merge holds nothing, so merging again brings it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.core import events as ev
from ledger.core.apply import apply_event
from ledger.core.events import Event
from ledger.core.record import MERGE, REDO, UNDO, Record
from ledger.diffing.changes import Changes, Scope, compare
from ledger.diffing.patch import events_for
from ledger.merging.history import Base

if TYPE_CHECKING:
    from ledger.project.project import Project


# Events that change only instances and frames: replaying them cleanly gives the
# plan's result. Anything else (a node removed on one side while the other adds
# instances, ...) is checked against the target.
_CONTENT = (ev.PointSet, ev.PointsSet, ev.InstanceUpdated, ev.TracksAssigned,
            ev.InstancesAdded, ev.InstancesRemoved, ev.FramesAdded, ev.FramesRemoved)


@dataclass
class Incoming:
    """What a three-way merge needs to replay theirs at commit time."""

    base: Base
    ours_after: list[Record]
    theirs_after: list[Record]
    scope: Scope


class _Holdings:
    """Ours' transactions by identity while theirs are replayed: which are in
    effect (an undo needs one), which are undone (a redo needs one)."""

    def __init__(self, incoming: Incoming) -> None:
        base = incoming.base
        assert base.ours is not None and base.theirs is not None
        self.holds = dict(base.ours.holds)
        self.live: dict[str, int] = {}
        self.undone: dict[str, int] = {}
        oid_of = base.ours.oid_of
        for t in base.ours.txs:
            if t.kind in (UNDO, REDO):
                target = oid_of.get(t.ref)
                if target is not None:
                    self._flip(target, t.ref, t.kind == REDO)
            else:
                self.live[t.oid] = t.tx
        self.theirs_oid = base.theirs.oid_of
        self.theirs_own = base.theirs.own

    def _flip(self, oid: str, tx: int, on: bool) -> None:
        if on:
            self.undone.pop(oid, None)
            self.live[oid] = tx
            self.holds[oid] = tx
        else:
            self.live.pop(oid, None)
            self.undone[oid] = tx
            if self.holds.get(oid) == tx:
                del self.holds[oid]

    def wanted(self, tx: Sequence[Record]) -> bool:
        """Not held here yet; an undo or redo of a change theirs had merged from
        elsewhere stays theirs' own business (un-merging is local)."""
        from ledger.project.rebase import origin_of

        first = tx[0]
        if first.tx_kind in (UNDO, REDO) and not self.theirs_own.get(first.ref, True):
            return False
        return origin_of(tx) not in self.holds

    def ref_of(self, tx: Sequence[Record]) -> int | None:
        ref = tx[0].ref
        oid = self.theirs_oid.get(ref)
        if oid is None:
            return ref  # before the fork: same number on both sides
        return (self.undone if tx[0].tx_kind == REDO else self.live).get(oid)

    def done(self, tx: Sequence[Record], new_tx: int) -> None:
        from ledger.project.rebase import origin_of

        first = tx[0]
        self.holds[origin_of(tx)] = new_tx
        if first.tx_kind in (UNDO, REDO):
            target = self.theirs_oid.get(first.ref)
            if target is not None:
                self._flip(target, self.ref_of(tx) or 0, first.tx_kind == REDO)
        else:
            self.live[origin_of(tx)] = new_tx


def commit_replaying(project: Project, incoming: Incoming, events: list[Event],
                     message: str, meta: dict[str, Any], author: str | None,
                     conflicted: bool) -> list[int]:
    """Replay, then commit the rest as one ``merge`` transaction; returns the
    new transaction numbers in commit order (the merge transaction last)."""
    # imported here: ledger.project.touch reads ledger.merging.history
    from ledger.project.rebase import by_transaction, origin_of, replay
    from ledger.project.touch import Touch

    head0 = project.head
    base = incoming.base
    assert base.theirs is not None
    assert base.ours is not None
    theirs_known, ours_own = base.theirs.known, base.ours.own
    # what ours changed that theirs does not know of: not the transactions
    # theirs has, nor the un-merging of changes ours had taken from elsewhere
    ours_only = [rec for tx in by_transaction(incoming.ours_after)
                 if origin_of(tx) not in theirs_known
                 and not (tx[0].tx_kind in (UNDO, REDO) and not ours_own.get(tx[0].ref, True))
                 for rec in tx]
    hold = _Holdings(incoming)
    ledger = project.ledger
    done = replay(project.store, project.state, by_transaction(incoming.theirs_after),
                  dirty=Touch.of(rec.event for rec in ours_only), apply=ledger._apply,
                  ref_of=hold.ref_of, wanted=hold.wanted, done=hold.done,
                  appended=ledger._committed)
    state = project.state
    remainder: list[Event] = []
    structural = any(not isinstance(rec.event, _CONTENT) for rec in (*ours_only, *done.records))
    if done.skipped or conflicted or structural:
        # the target: ours before the replays (from the store) with the plan's
        # events; the merge transaction is what the replays left to do
        target = project.ledger.build_state(head0)[0]
        for event in events:
            apply_event(target, event)
        rest = compare(state, target, incoming.scope)
        from ledger.merging.plan import Combiner

        plan, left = Combiner(state, target, Changes(), rest).run()
        assert not left, "a two-way fix-up cannot conflict"
        remainder = events_for(state, plan.finish())
    by_old = {t[0].tx: origin_of(t) for t in by_transaction(incoming.theirs_after)}
    meta["merge"]["replayed"] = sorted(done.new_tx.values())
    meta["merge"]["absorbed"] = [by_old[t] for t in done.skipped]
    if not remainder:
        # nothing left to change: record the merge anyway (a no-op event), so its
        # resolutions and absorbed transactions are kept and seen by later merges
        same = dict(state.provenance)
        from ledger.core.events import ProvenanceSet

        remainder = [ProvenanceSet(same, dict(same))]
    tx = project.commit(remainder, message, tx_kind=MERGE, meta=meta, author=author)
    return [*sorted(done.new_tx.values()), tx]
