"""`MergeResult`: a merge before it is committed — conflicts, choices, commit.

Nothing touches ours until `commit`: the plan is laid out as events against
ours' current state (`ledger.diffing.patch.events_for`). With shared history
theirs' transactions are replayed one by one keeping their authors and the rest
lands in a final ``merge`` transaction (`ledger.merging.authored`); without it
the plan is one ``merge`` transaction. Its envelope records both heads' hashes
and every resolution with its author. Undoing `MergeResult.transactions`
(newest first) returns ours exactly.

Example::

    result = merge(ours, theirs)
    for c in result.conflicts:
        result.resolve(c, "theirs")
    result.commit("merge the afternoon session")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core import events as ev
from ledger.core.ids import NO_ID
from ledger.core.record import MERGE
from ledger.diffing.patch import Patch, events_for
from ledger.errors import LedgerError, ValidationError
from ledger.merging.authored import Incoming, commit_replaying
from ledger.merging.conflict import Conflict, plain
from ledger.merging.plan import Plan

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels

CHOICES = ("ours", "theirs", "both")


_VALUE_HELP = {"point": "(x, y) or (x, y, visible, complete, score)",
               "track": "a Track of ours, a track id or None",
               "attributes": "(from_predicted, score, tracking_score)"}


class _Probe:
    """Stands in for a plan while a resolution value is checked."""

    def __init__(self) -> None:
        self.patches: list[Any] = []

    def add(self, patch: Any) -> None:
        self.patches.append(patch)


class MergeConflictError(LedgerError):
    """A merge was committed while conflicts were unresolved."""


class MergeResult:
    """Conflicts as data plus the plan for everything that merged cleanly."""

    def __init__(self, ours: Labels, plan: Plan, conflicts: list[Conflict], *,
                 dry_run: bool, info: dict[str, Any], replay: Incoming | None = None) -> None:
        self.ours = ours
        self._plan = plan
        self.conflicts = conflicts
        self.dry_run = dry_run
        self.info = info
        self._choices: dict[int, tuple[Any, str]] = {}
        self._head_at_start = ours.project.head
        self.committed_tx: int | None = None
        self.transactions: list[int] = []  # what commit appended, the merge last
        self.warnings: list[str] = []  # what a history-less merge adds or leaves out
        self._incoming = replay

    # ----------------------------------------------------------------- choosing

    @property
    def unresolved(self) -> list[Conflict]:
        return [c for c in self.conflicts if id(c) not in self._choices]

    @property
    def resolutions(self) -> dict[int, Any]:
        return {k: v for k, (v, _) in self._choices.items()}

    def resolve(self, conflict: Conflict | list[Conflict] | None, choice: Any,
                author: str | None = None) -> None:
        """Choose ``"ours"``, ``"theirs"``, ``"both"`` (frame conflicts) or a value
        (points: ``(x, y)`` or ``(x, y, visible, complete, score)``; tracks: a
        `Track` or track id; instance attributes: ``(from_predicted, score,
        tracking_score)``). ``conflict=None`` resolves every unresolved one."""
        targets = self.unresolved if conflict is None else (
            conflict if isinstance(conflict, list) else [conflict])
        for c in targets:
            if not any(c is x for x in self.conflicts):
                raise LedgerError("that conflict is not part of this merge")
            if isinstance(choice, str):
                if choice not in c.choices:
                    raise LedgerError(f"{c.kind} conflicts take {c.choices}, not {choice!r}")
            elif c.value_applier is None:
                raise LedgerError(f"{c.kind} conflicts take {c.choices}, not a value")
            else:
                self._check_value(c, choice)
            self._choices[id(c)] = (choice, author or self.ours.project.author)

    def _check_value(self, c: Conflict, value: Any) -> None:
        """Refuse a value the commit could not apply, now rather than at `commit`:
        run the conflict's applier on a probe plan and check what it produced."""
        probe = _Probe()
        try:
            c.value_applier(probe, value)  # type: ignore[misc]
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{c.kind} conflicts take {_VALUE_HELP.get(c.kind, 'a value')}"
                                  f", not {value!r} ({exc})") from None
        for patch in probe.patches:
            if patch.pt_val is not None and not np.all(np.isin(patch.pt_val[:, 2:4], (0, 1))):
                raise ValidationError("a point's visible and complete must be 0 or 1")
            if patch.tr_new is not None:
                for tid in patch.tr_new.tolist():
                    if tid != NO_ID and tid not in self.ours.project.state.tracks:
                        raise ValidationError(f"track {value!r} is not in ours")

    def resolve_all(self, choice: str, author: str | None = None) -> None:
        """Resolve every unresolved conflict the same way (``"both"`` falls back
        to ``"theirs"`` where it does not apply)."""
        for c in self.unresolved:
            self.resolve(c, choice if choice in c.choices else "theirs", author)

    # ----------------------------------------------------------------- output

    def patch(self) -> Patch:
        """The plan with the resolutions applied (unresolved conflicts keep ours)."""
        plan = self._plan.copy()
        for c in self.conflicts:
            choice, _ = self._choices.get(id(c), ("ours", ""))
            if isinstance(choice, str):
                c.appliers[choice](plan, None)
            else:
                c.value_applier(plan, choice)  # type: ignore[misc]
        return plan.finish()

    @property
    def events(self) -> list[ev.Event]:
        """The events a commit would apply to ours."""
        return events_for(self.ours.project.state, self.patch())

    @property
    def is_noop(self) -> bool:
        return not self.conflicts and not self.events

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for c in self.conflicts:
            counts[c.kind] = counts.get(c.kind, 0) + 1
        kinds: dict[str, int] = {}
        for e in self.events:
            kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
        return {"mode": self.info.get("mode"), "fork_seq": self.info.get("fork_seq"),
                "conflicts": len(self.conflicts), "unresolved": len(self.unresolved),
                "conflict_kinds": counts, "events": kinds}

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "info": plain(self.info),
                "conflicts": [c.to_dict() for c in self.conflicts]}

    # ----------------------------------------------------------------- commit

    def commit(self, message: str = "merge", author: str | None = None) -> int:
        """Apply the merge to ours as one ``merge`` transaction; return its tx id
        (0 when there was nothing to change)."""
        if self.dry_run:
            raise LedgerError("a dry-run merge cannot be committed")
        if self.committed_tx is not None:
            raise LedgerError("this merge is already committed")
        if self.unresolved:
            raise MergeConflictError(f"{len(self.unresolved)} conflict(s) unresolved")
        project = self.ours.project
        if project.head != self._head_at_start:
            raise LedgerError("ours changed since the merge was computed; merge again")
        events = self.events
        meta = {"merge": {
            **{k: v for k, v in self.info.items() if k in (
                "mode", "fork_seq", "ours_head", "theirs_head", "theirs_seq")},
            "resolutions": [
                {**{k: v for k, v in c.to_dict().items() if k in (
                    "kind", "video", "frame_idx", "instance", "node")},
                 "choice": plain(self._choices[id(c)][0]),
                 "author": self._choices[id(c)][1]}
                for c in self.conflicts],
        }}
        if not events and not self.conflicts:
            self.committed_tx = 0
            return 0
        if not events:
            # every conflict kept ours: record the merge anyway (a no-op event), so
            # the next merge of this theirs starts from its head and asks nothing again
            same = dict(project.state.provenance)
            events = [ev.ProvenanceSet(same, dict(same))]
        if self._incoming is not None:
            self.transactions = commit_replaying(project, self._incoming, events, message,
                                                 meta, author, bool(self.conflicts))
            self.committed_tx = self.transactions[-1]
            return self.committed_tx
        tx = project.commit(events, message, tx_kind=MERGE, meta=meta, author=author)
        self.committed_tx = tx
        self.transactions = [tx]
        return tx

    def __repr__(self) -> str:
        return (f"MergeResult(mode={self.info.get('mode')!r}, conflicts={len(self.conflicts)}, "
                f"unresolved={len(self.unresolved)})")
