"""Events: the immutable facts a ledger is made of.

Every change to a project is one of the `Event` structs below. Each is
self-contained and invertible: it carries what is needed to apply it *and* to undo
it (a removal carries what it removed; a point edit carries the old and the new
value). `invert` turns any event into the event that undoes it, so undo never needs
to look anything up.

Events refer to things by stable id (see `ledger.core.ids`), never by Python identity or
list position, except where a list position *is* the fact (where a frame, video or
suggestion sits in its list).

Bulk data travels in columnar batches (`InstanceBatch`, `FrameBatch`) of numpy
arrays, so importing a 300,000-frame file is one event, and a point edit is a small
struct of plain numbers.

Example::

    event = PointSet(instance=7, node=3, x=10.0, y=5.0, visible=True, complete=True,
                     score=0.0, old_x=9.0, old_y=5.0, old_visible=True,
                     old_complete=False, old_score=0.0)
    invert(event).x   # 9.0
"""

from __future__ import annotations

from typing import Any, Union

import msgspec
import numpy as np

# --------------------------------------------------------------------- definitions


class NodeDef(msgspec.Struct, frozen=True):
    id: int
    name: str
    weight: float = 1.0


class SkeletonDef(msgspec.Struct, frozen=True):
    """A skeleton's structure. Edges and symmetries name nodes by id."""

    id: int
    name: str
    nodes: tuple[NodeDef, ...] = ()
    edges: tuple[tuple[int, int], ...] = ()
    symmetries: tuple[tuple[int, int], ...] = ()

    def node_position(self, node_id: int) -> int:
        for pos, node in enumerate(self.nodes):
            if node.id == node_id:
                return pos
        raise KeyError(node_id)


class TrackDef(msgspec.Struct, frozen=True):
    id: int
    name: str = ""
    spawned_on: int = 0


class VideoDef(msgspec.Struct, frozen=True):
    """A video as SLEAP serialises it: the backend's attribute dict.

    ``backend`` holds ``filename`` and the backend options; ``source_video`` is the
    serialised original of an embedded video.
    """

    id: int
    backend: dict[str, Any]
    source_video: dict[str, Any] | None = None


class SuggestionDef(msgspec.Struct, frozen=True):
    video: int
    frame_idx: int
    group: int | None = None


# --------------------------------------------------------------------- batches


def _i64(values: Any = ()) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


class InstanceBatch(msgspec.Struct, frozen=True):
    """Instances in columns; instance ``i`` owns points
    ``[sum(n_pts[:i]), sum(n_pts[:i+1]))`` of the point columns, in node order.

    ``video``/``frame_idx`` name the frame each instance lives in. ``kind`` is 0 for
    user and 1 for predicted instances; ``track`` and ``from_predicted`` hold ids or
    -1. Scores are NaN for user instances.
    """

    ids: np.ndarray
    video: np.ndarray
    frame_idx: np.ndarray
    skeleton: np.ndarray
    track: np.ndarray
    kind: np.ndarray
    score: np.ndarray
    tracking_score: np.ndarray
    from_predicted: np.ndarray
    n_pts: np.ndarray
    x: np.ndarray
    y: np.ndarray
    visible: np.ndarray
    complete: np.ndarray
    point_score: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def pt_offsets(self) -> np.ndarray:
        """Start of each instance's points, plus the total at the end."""
        out = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(self.n_pts, out=out[1:])
        return out

    @classmethod
    def empty(cls) -> InstanceBatch:
        f8 = np.zeros(0, dtype=np.float64)
        b = np.zeros(0, dtype=np.bool_)
        e = _i64()
        return cls(e, e, e, e, e, np.zeros(0, np.uint8), f8, f8, e,
                   np.zeros(0, np.int32), f8, f8, b, b, f8)

    def take(self, index: np.ndarray) -> InstanceBatch:
        """The instances at ``index`` (positions in this batch), in that order."""
        index = np.asarray(index, dtype=np.int64)
        offsets = self.pt_offsets
        if len(index):
            pts = np.concatenate(
                [np.arange(offsets[i], offsets[i + 1]) for i in index.tolist()]
            ).astype(np.int64)
        else:
            pts = _i64()
        return InstanceBatch(
            self.ids[index], self.video[index], self.frame_idx[index],
            self.skeleton[index], self.track[index], self.kind[index],
            self.score[index], self.tracking_score[index], self.from_predicted[index],
            self.n_pts[index], self.x[pts], self.y[pts], self.visible[pts],
            self.complete[pts], self.point_score[pts],
        )

    @staticmethod
    def concat(batches: list[InstanceBatch]) -> InstanceBatch:
        if not batches:
            return InstanceBatch.empty()
        if len(batches) == 1:
            return batches[0]
        fields = InstanceBatch.__struct_fields__
        return InstanceBatch(*(np.concatenate([getattr(b, f) for b in batches])
                               for f in fields))


class FrameBatch(msgspec.Struct, frozen=True):
    """Frames with their instances.

    ``position`` is where each frame sits in the labels' frame list: applying an
    addition inserts the frames in ascending ``position`` order, so the list ends
    up with frame ``k`` at ``position[k]``; a removal carries the positions the
    frames had, so its inverse puts them back exactly.
    """

    video: np.ndarray
    frame_idx: np.ndarray
    position: np.ndarray
    instances: InstanceBatch

    def __len__(self) -> int:
        return int(self.video.shape[0])


# --------------------------------------------------------------------- events


class Event(msgspec.Struct, frozen=True, tag=True):
    """Base of all events.

    Every subclass spells its msgspec tag out (``tag="FramesAdded"``): the tag is
    what stored ledgers hold, so renaming a class must not change it. The tags
    equal the class names the first ledgers were written with.
    """


class FramesAdded(Event, frozen=True, tag="FramesAdded"):
    frames: FrameBatch


class FramesRemoved(Event, frozen=True, tag="FramesRemoved"):
    frames: FrameBatch


class InstancesAdded(Event, frozen=True, tag="InstancesAdded"):
    """Instances added to frames that already exist."""

    instances: InstanceBatch


class InstancesRemoved(Event, frozen=True, tag="InstancesRemoved"):
    instances: InstanceBatch


class PointSet(Event, frozen=True, tag="PointSet"):
    """One point of one instance changed (the editor's drag)."""

    instance: int
    node: int
    x: float
    y: float
    visible: bool
    complete: bool
    score: float
    old_x: float
    old_y: float
    old_visible: bool
    old_complete: bool
    old_score: float


class PointsSet(Event, frozen=True, tag="PointsSet"):
    """All points of one instance replaced, in skeleton node order."""

    instance: int
    new: np.ndarray  # (n_nodes, 5): x, y, visible, complete, score
    old: np.ndarray


class InstanceUpdated(Event, frozen=True, tag="InstanceUpdated"):
    """An instance's ``from_predicted`` link or scores changed."""

    instance: int
    old_from_predicted: int
    new_from_predicted: int
    old_score: float
    new_score: float
    old_tracking_score: float
    new_tracking_score: float


class TracksAssigned(Event, frozen=True, tag="TracksAssigned"):
    """Instances moved between tracks (track_set_instance, track_swap, untracking)."""

    instances: tuple[int, ...]
    old: tuple[int, ...]
    new: tuple[int, ...]


class TrackAdded(Event, frozen=True, tag="TrackAdded"):
    track: TrackDef
    position: int


class TrackRemoved(Event, frozen=True, tag="TrackRemoved"):
    track: TrackDef
    position: int


class TrackChanged(Event, frozen=True, tag="TrackChanged"):
    before: TrackDef
    after: TrackDef


class VideoAdded(Event, frozen=True, tag="VideoAdded"):
    """A video, with (on undo of a removal) the frames, suggestions and anchors it
    had; ``suggestions`` pairs list positions with suggestions."""

    video: VideoDef
    position: int
    frames: FrameBatch | None = None
    suggestions: tuple[tuple[int, SuggestionDef], ...] = ()
    anchors: tuple[tuple[int, float, float], ...] = ()


class VideoRemoved(Event, frozen=True, tag="VideoRemoved"):
    """A video and everything it cascaded to."""

    video: VideoDef
    position: int
    frames: FrameBatch | None = None
    suggestions: tuple[tuple[int, SuggestionDef], ...] = ()
    anchors: tuple[tuple[int, float, float], ...] = ()


class VideoChanged(Event, frozen=True, tag="VideoChanged"):
    before: VideoDef
    after: VideoDef


class SkeletonAdded(Event, frozen=True, tag="SkeletonAdded"):
    skeleton: SkeletonDef
    position: int


class SkeletonRemoved(Event, frozen=True, tag="SkeletonRemoved"):
    skeleton: SkeletonDef
    position: int


class SkeletonChanged(Event, frozen=True, tag="SkeletonChanged"):
    """Name, edges, symmetries or node names changed; the node ids stay."""

    before: SkeletonDef
    after: SkeletonDef


class NodeAdded(Event, frozen=True, tag="NodeAdded"):
    """A node inserted at ``position``; every instance of the skeleton gets a point
    (``values`` rows, (n, 5) x y visible complete score, for ``instances``; others NaN).
    ``skeleton_after`` is the skeleton once the node is in."""

    skeleton_before: SkeletonDef
    skeleton_after: SkeletonDef
    node: int
    instances: np.ndarray
    values: np.ndarray


class NodeRemoved(Event, frozen=True, tag="NodeRemoved"):
    skeleton_before: SkeletonDef
    skeleton_after: SkeletonDef
    node: int
    instances: np.ndarray
    values: np.ndarray


class SuggestionsReplaced(Event, frozen=True, tag="SuggestionsReplaced"):
    before: tuple[SuggestionDef, ...]
    after: tuple[SuggestionDef, ...]


class SuggestionAdded(Event, frozen=True, tag="SuggestionAdded"):
    suggestion: SuggestionDef
    position: int


class SuggestionRemoved(Event, frozen=True, tag="SuggestionRemoved"):
    suggestion: SuggestionDef
    position: int


class AnchorsAdded(Event, frozen=True, tag="AnchorsAdded"):
    """Negative anchors ``(frame_idx, x, y)`` inserted into the video's list at
    ascending ``positions``."""

    video: int
    positions: tuple[int, ...]
    anchors: tuple[tuple[int, float, float], ...]


class AnchorsRemoved(Event, frozen=True, tag="AnchorsRemoved"):
    video: int
    positions: tuple[int, ...]
    anchors: tuple[tuple[int, float, float], ...]


class ProvenanceSet(Event, frozen=True, tag="ProvenanceSet"):
    before: dict[str, Any]
    after: dict[str, Any]


EVENT_TYPES: tuple[type[Event], ...] = (
    FramesAdded, FramesRemoved, InstancesAdded, InstancesRemoved, PointSet, PointsSet,
    InstanceUpdated, TracksAssigned, TrackAdded, TrackRemoved, TrackChanged, VideoAdded,
    VideoRemoved, VideoChanged, SkeletonAdded, SkeletonRemoved, SkeletonChanged, NodeAdded,
    NodeRemoved, SuggestionsReplaced, SuggestionAdded, SuggestionRemoved, AnchorsAdded,
    AnchorsRemoved, ProvenanceSet,
)
"""The one list of event types. The codec's union, `apply`'s handlers, `invert` and
the registry's listeners are all checked against it; a new event type goes here."""

ALL_EVENTS = EVENT_TYPES  # the older name, kept for callers

AnyEvent = Union[EVENT_TYPES]  # noqa: UP007 - built from the tuple, so it cannot drift
"""The tagged union the codec decodes: exactly the types of `EVENT_TYPES`."""


def tag_of(event_type: type[Event]) -> str:
    """The stable string an event type is stored under (its msgspec tag)."""
    return str(event_type.__struct_config__.tag)


def kind_of(event: Event) -> str:
    """The event's stored tag (not its class name, which may change)."""
    return tag_of(type(event))


# --------------------------------------------------------------------- inversion


def invert(event: Event) -> Event:
    """The event that undoes ``event``. Pure; never consults state."""
    return _INVERT[type(event)](event)


def _invert_point(e: PointSet) -> PointSet:
    return PointSet(e.instance, e.node, e.old_x, e.old_y, e.old_visible, e.old_complete,
                    e.old_score, e.x, e.y, e.visible, e.complete, e.score)


_INVERT: dict[type, Any] = {
    FramesAdded: lambda e: FramesRemoved(e.frames),
    FramesRemoved: lambda e: FramesAdded(e.frames),
    InstancesAdded: lambda e: InstancesRemoved(e.instances),
    InstancesRemoved: lambda e: InstancesAdded(e.instances),
    PointSet: _invert_point,
    PointsSet: lambda e: PointsSet(e.instance, e.old, e.new),
    InstanceUpdated: lambda e: InstanceUpdated(
        e.instance, e.new_from_predicted, e.old_from_predicted, e.new_score, e.old_score,
        e.new_tracking_score, e.old_tracking_score),
    TracksAssigned: lambda e: TracksAssigned(e.instances, e.new, e.old),
    TrackAdded: lambda e: TrackRemoved(e.track, e.position),
    TrackRemoved: lambda e: TrackAdded(e.track, e.position),
    TrackChanged: lambda e: TrackChanged(e.after, e.before),
    VideoAdded: lambda e: VideoRemoved(e.video, e.position, e.frames, e.suggestions, e.anchors),
    VideoRemoved: lambda e: VideoAdded(e.video, e.position, e.frames, e.suggestions, e.anchors),
    VideoChanged: lambda e: VideoChanged(e.after, e.before),
    SkeletonAdded: lambda e: SkeletonRemoved(e.skeleton, e.position),
    SkeletonRemoved: lambda e: SkeletonAdded(e.skeleton, e.position),
    SkeletonChanged: lambda e: SkeletonChanged(e.after, e.before),
    NodeAdded: lambda e: NodeRemoved(e.skeleton_after, e.skeleton_before, e.node,
                                     e.instances, e.values),
    NodeRemoved: lambda e: NodeAdded(e.skeleton_after, e.skeleton_before, e.node,
                                     e.instances, e.values),
    SuggestionsReplaced: lambda e: SuggestionsReplaced(e.after, e.before),
    SuggestionAdded: lambda e: SuggestionRemoved(e.suggestion, e.position),
    SuggestionRemoved: lambda e: SuggestionAdded(e.suggestion, e.position),
    AnchorsAdded: lambda e: AnchorsRemoved(e.video, e.positions, e.anchors),
    AnchorsRemoved: lambda e: AnchorsAdded(e.video, e.positions, e.anchors),
    ProvenanceSet: lambda e: ProvenanceSet(e.after, e.before),
}

assert set(_INVERT) == set(EVENT_TYPES), "every event type needs an inverse"
