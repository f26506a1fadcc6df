"""What a transaction touches, to tell whether it still applies after others' work.

An online writer that lost a race (`ConcurrencyError`) and a replica replaying
its unpushed transactions on top of its origin's (`ledger.project.rebase`) ask
the same question: *do these events still mean what they meant?* Events carry
the values they replace, so they do exactly when nothing the other side changed
overlaps what they touch. `Touch` is that footprint: whole instances, single
points (instance, node), frames, and named definitions (videos, skeletons,
tracks, provenance keys, suggestions, anchors). Two edits of different points of
one instance do not clash; a point edit and the removal of its instance do.

The test is conservative on purpose: a clash is never missed (the caller then
falls back to a three-way merge that shows it as a conflict), and it costs a few
set operations per transaction, never a comparison of states.

Example::

    mine = Touch.of(my_events)
    theirs = Touch.of(rec.event for rec in fetched)
    if not mine.clashes(theirs):
        ...  # replay mine on top of theirs
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger.core import events as ev
from ledger.merging.history import _def_mentions, mentions

_WHOLE_INSTANCE = (ev.PointsSet, ev.InstanceUpdated)


@dataclass
class Touch:
    """The footprint of some events (see the module docstring)."""

    instances: set[int] = field(default_factory=set)
    points: set[tuple[int, int]] = field(default_factory=set)
    frames: set[tuple[int, int]] = field(default_factory=set)
    other: set[tuple[object, ...]] = field(default_factory=set)

    @classmethod
    def of(cls, events: Iterable[ev.Event]) -> Touch:
        """The footprint of ``events``: ``Touch.of([PointSet(...)]).points``."""
        out = cls()
        for event in events:
            out.add(event)
        return out

    def add(self, event: ev.Event) -> None:
        if isinstance(event, ev.PointSet):
            self.points.add((event.instance, event.node))
            return
        if isinstance(event, _WHOLE_INSTANCE):
            self.instances.add(event.instance)
            return
        if isinstance(event, ev.TracksAssigned):
            self.instances.update(event.instances)
        ids, vids, fidx = mentions(event)
        self.instances.update(ids.tolist())
        self.frames.update(zip(vids.tolist(), fidx.tolist(), strict=True))
        if isinstance(event, ev.SuggestionsReplaced | ev.SuggestionAdded | ev.SuggestionRemoved):
            self.other.add(("suggestions",))
        elif isinstance(event, ev.AnchorsAdded | ev.AnchorsRemoved):
            self.other.add(("anchors", event.video))
        elif isinstance(event, ev.NodeAdded | ev.NodeRemoved):
            self.instances.update(int(i) for i in event.instances)
        self.other.update(key for key in _def_mentions(event) if key[0] != "node")

    def update(self, other: Touch) -> None:
        self.instances |= other.instances
        self.points |= other.points
        self.frames |= other.frames
        self.other |= other.other

    def _point_instances(self) -> set[int]:
        return {i for i, _ in self.points}

    def clashes(self, other: Touch) -> bool:
        """Whether the two footprints overlap (a point edit clashes with any change
        of its whole instance, not with an edit of another point)."""
        return bool(self.instances & (other.instances | other._point_instances())
                    or other.instances & self._point_instances()
                    or self.points & other.points or self.frames & other.frames
                    or self.other & other.other)

    def __bool__(self) -> bool:
        return bool(self.instances or self.points or self.frames or self.other)
