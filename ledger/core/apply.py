"""`apply_event(state, event)`: the only code that changes a `State`.

Each event kind has one function here. They read nothing but the state and the
event (no clock, no randomness, no files), so replaying the same log always builds
the same state. They check that the event fits the state (an instance removal
names a live instance, points fit the skeleton...) and raise `EventMismatch`
*before* changing anything when it does not, so a bad event never leaves a
half-applied state behind.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ledger.core import events as ev
from ledger.core.apply_frames import add_frames, check_frames, remove_frames
from ledger.core.apply_rows import (
    add_instances,
    occupancy_add,
    occupancy_drop,
    remove_instances,
)
from ledger.core.ids import NO_ID
from ledger.core.state import State
from ledger.core.values import same_value
from ledger.errors import EventMismatch


def apply_event(state: State, event: ev.Event) -> None:
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise EventMismatch(f"unknown event kind {type(event).__name__}")
    handler(state, event)


# ----------------------------------------------------------------- frames & instances


def _instances_added(state: State, e: ev.InstancesAdded) -> None:
    add_instances(state, e.instances)


def _instances_removed(state: State, e: ev.InstancesRemoved) -> None:
    remove_instances(state, e.instances)


def _frames_added(state: State, e: ev.FramesAdded) -> None:
    add_frames(state, e.frames)


def _frames_removed(state: State, e: ev.FramesRemoved) -> None:
    remove_frames(state, e.frames)


# ----------------------------------------------------------------- points & tracks


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _point_set(state: State, e: ev.PointSet) -> None:
    """Checks that the point still holds the event's old value: an undo (or redo)
    must not overwrite a later edit of the same point by someone else."""
    table = state.instances
    row = table.row_of(e.instance)
    if row is None:
        raise EventMismatch(f"instance {e.instance} is not in the labels")
    sk = state.skeletons[int(table.cols.cols["skeleton"][row])]
    try:
        pos = sk.node_position(e.node)
    except KeyError:
        raise EventMismatch(f"node {e.node} is not in skeleton {sk.name!r}") from None
    i = int(table.cols.cols["pt_start"][row]) + pos
    x, y, visible, complete, score = table.points.get(i)
    if not (_same_float(x, e.old_x) and _same_float(y, e.old_y)
            and bool(visible) == bool(e.old_visible) and bool(complete) == bool(e.old_complete)
            and _same_float(score, e.old_score)):
        raise EventMismatch(f"point {sk.nodes[pos].name!r} of instance {e.instance} was "
                            "changed since (it no longer holds the event's old value)")
    table.points.set(i, e.x, e.y, e.visible, e.complete, e.score)


def _points_set(state: State, e: ev.PointsSet) -> None:
    """Like `_point_set`, checks the current points equal the event's old ones."""
    table = state.instances
    row = table.row_of(e.instance)
    if row is None:
        raise EventMismatch(f"instance {e.instance} is not in the labels")
    n = int(table.cols.cols["n_pts"][row])
    if e.new.shape != (n, 5) or e.old.shape != (n, 5):
        raise EventMismatch("points do not fit the instance's skeleton")
    _check_flags(e.new)
    if not np.array_equal(table.points_of(row), e.old, equal_nan=True):
        raise EventMismatch(f"points of instance {e.instance} were changed since (they no "
                            "longer hold the event's old values)")
    table.write_points(row, e.new)


def _instance_updated(state: State, e: ev.InstanceUpdated) -> None:
    table = state.instances
    row = table.row_of(e.instance)
    if row is None:
        raise EventMismatch(f"instance {e.instance} is not in the labels")
    c = table.cols.cols
    if int(c["from_predicted"][row]) != e.old_from_predicted or not (
            _same_float(float(c["score"][row]), e.old_score)
            and _same_float(float(c["tracking_score"][row]), e.old_tracking_score)):
        raise EventMismatch(f"instance {e.instance} link or scores differ from the event")
    c = table.cols.writable()
    c["from_predicted"][row] = e.new_from_predicted
    c["score"][row] = e.new_score
    c["tracking_score"][row] = e.new_tracking_score


def _tracks_assigned(state: State, e: ev.TracksAssigned) -> None:
    table = state.instances
    if not len(e.instances) == len(e.old) == len(e.new):
        raise EventMismatch("track assignment lists differ in length")
    if len(set(e.instances)) != len(e.instances):
        raise EventMismatch("track assignment names an instance twice")
    for t in set(e.new):
        if t != NO_ID and t not in state.tracks:
            raise EventMismatch(f"track {t} is not in the labels")
    c = table.cols.cols
    rows = []
    for ident, old in zip(e.instances, e.old, strict=True):
        row = table.row_of(ident)
        if row is None:
            raise EventMismatch(f"instance {ident} is not in the labels")
        if int(c["track"][row]) != old:
            raise EventMismatch(f"instance {ident} is not on track {old}")
        rows.append(row)
    c = table.cols.writable()
    fc = state.frames.cols.cols
    for row, old, new in zip(rows, e.old, e.new, strict=True):
        c["track"][row] = new
        f_row = int(c["frame"][row])
        v, f = int(fc["video"][f_row]), int(fc["frame_idx"][f_row])
        if not any(c["track"][r] == old for r in state.frame_instance_rows(f_row)):
            occupancy_drop(state, v, old, f)
        occupancy_add(state, v, new, f)


def _track_added(state: State, e: ev.TrackAdded) -> None:
    if e.track.id in state.tracks:
        raise EventMismatch(f"track {e.track.name!r} is already in the labels")
    _check_position(e.position, len(state.track_order), "track")
    state.tracks[e.track.id] = e.track
    state.track_order.insert(e.position, e.track.id)


def _track_removed(state: State, e: ev.TrackRemoved) -> None:
    if state.tracks.get(e.track.id) != e.track:
        raise EventMismatch(f"track {e.track.name!r} is not in the labels as the event has it")
    if state.track_order.index(e.track.id) != e.position:
        raise EventMismatch(f"track {e.track.name!r} is not at position {e.position}")
    if np.any(state.instances.cols.view("track")[state.live_instance_rows()] == e.track.id):
        raise EventMismatch(f"track {e.track.name!r} is still in use")
    del state.tracks[e.track.id]
    state.track_order.remove(e.track.id)


def _track_changed(state: State, e: ev.TrackChanged) -> None:
    if state.tracks.get(e.before.id) != e.before or e.after.id != e.before.id:
        raise EventMismatch(f"track {e.before.name!r} differs from the event")
    state.tracks[e.after.id] = e.after


# ----------------------------------------------------------------- videos


def _video_added(state: State, e: ev.VideoAdded) -> None:
    vid = e.video.id
    if vid in state.videos:
        raise EventMismatch("video is already in the labels")
    _check_position(e.position, len(state.video_order), "video")
    if e.frames is not None and len(e.frames):
        if np.any(e.frames.video != vid):
            raise EventMismatch("a video's frames belong to another video")
        check_frames(state, e.frames, new_videos=(vid,))
    n = len(state.suggestions)
    _check_ascending([pos for pos, _ in e.suggestions], "suggestion")
    for k, (pos, s) in enumerate(e.suggestions):
        if s.video != vid:
            raise EventMismatch("a video's suggestions belong to another video")
        _check_position(pos, n + k, "suggestion")
    state.videos[vid] = e.video
    state.video_order.insert(e.position, vid)
    state.counts.setdefault(vid, [0, 0, 0])
    if e.frames is not None:
        add_frames(state, e.frames)
    for pos, s in e.suggestions:
        state.suggestions.insert(pos, s)
    if e.anchors:
        state.anchors[vid] = [tuple(a) for a in e.anchors]


def _video_removed(state: State, e: ev.VideoRemoved) -> None:
    vid = e.video.id
    if state.videos.get(vid) != e.video:
        raise EventMismatch("video is not in the labels as the event has it")
    if state.video_order.index(vid) != e.position:
        raise EventMismatch(f"video is not at position {e.position}")
    n_frames = 0 if e.frames is None else len(e.frames)
    if state.counts.get(vid, [0])[0] != n_frames or (
            n_frames and np.any(e.frames.video != vid)):  # type: ignore[union-attr]
        raise EventMismatch("video removal does not carry exactly the video's frames")
    if [tuple(a) for a in state.anchors.get(vid, [])] != [tuple(a) for a in e.anchors]:
        raise EventMismatch("video removal does not carry the video's anchors")
    _check_ascending([pos for pos, _ in e.suggestions], "suggestion")
    for pos, s in e.suggestions:
        if not 0 <= pos < len(state.suggestions) or state.suggestions[pos] != s:
            raise EventMismatch("suggestion list differs from the event")
    if e.frames is not None:
        remove_frames(state, e.frames)
    for pos, _s in sorted(e.suggestions, key=lambda ps: ps[0], reverse=True):
        del state.suggestions[pos]
    state.anchors.pop(vid, None)
    del state.videos[vid]
    state.video_order.remove(vid)
    state.counts.pop(vid, None)
    for key in [k for k in state.occupancy if k[0] == vid]:
        del state.occupancy[key]


def _video_changed(state: State, e: ev.VideoChanged) -> None:
    current = state.videos.get(e.before.id)
    if current is None or e.after.id != e.before.id or not (
            same_value(current.backend, e.before.backend)
            and same_value(current.source_video, e.before.source_video)):
        raise EventMismatch("video is not in the labels as the event has it")
    state.videos[e.after.id] = e.after


# ----------------------------------------------------------------- skeletons


def _skeleton_added(state: State, e: ev.SkeletonAdded) -> None:
    if e.skeleton.id in state.skeletons:
        raise EventMismatch("skeleton is already in the labels")
    _check_position(e.position, len(state.skeleton_order), "skeleton")
    _check_skeleton(e.skeleton)
    state.skeletons[e.skeleton.id] = e.skeleton
    state.skeleton_order.insert(e.position, e.skeleton.id)


def _skeleton_removed(state: State, e: ev.SkeletonRemoved) -> None:
    sid = e.skeleton.id
    if state.skeletons.get(sid) != e.skeleton:
        raise EventMismatch("skeleton is not in the labels as the event has it")
    if state.skeleton_order.index(sid) != e.position:
        raise EventMismatch(f"skeleton is not at position {e.position}")
    if np.any(state.instances.cols.view("skeleton")[state.live_instance_rows()] == sid):
        raise EventMismatch("skeleton is still in use")
    del state.skeletons[sid]
    state.skeleton_order.remove(sid)


def _skeleton_changed(state: State, e: ev.SkeletonChanged) -> None:
    current = state.skeletons.get(e.before.id)
    if current is None or current != e.before or e.after.id != e.before.id:
        raise EventMismatch("skeleton is not in the labels as the event has it")
    if [n.id for n in current.nodes] != [n.id for n in e.after.nodes]:
        raise EventMismatch("SkeletonChanged may not add, remove or reorder nodes")
    _check_skeleton(e.after)
    state.skeletons[e.after.id] = e.after


def _reshape_points(state: State, skeleton: ev.SkeletonDef, after: ev.SkeletonDef,
                    node: int, instances: np.ndarray, values: np.ndarray, adding: bool) -> None:
    """Insert or delete a node's column of points. A removal must carry the
    points it deletes (the listed instances' values; every other instance's point
    must be missing), so that its inverse restores them exactly."""
    sid = skeleton.id
    if state.skeletons.get(sid) != skeleton:
        raise EventMismatch("skeleton differs from the event")
    bigger, smaller = (after, skeleton) if adding else (skeleton, after)
    if after.id != sid or [n.id for n in bigger.nodes if n.id != node] != [
            n.id for n in smaller.nodes] or len(bigger.nodes) != len(smaller.nodes) + 1:
        raise EventMismatch("node event does not add or remove exactly its node")
    _check_skeleton(after)
    instances = np.asarray(instances)
    values = np.asarray(values, dtype=np.float64)
    if instances.ndim != 1 or values.shape != (len(instances), 5):
        raise EventMismatch("node event values do not fit its instances")
    _check_flags(values)
    table = state.instances
    c = table.cols.cols
    live = state.live_instance_rows()
    rows = live[c["skeleton"][live] == sid]
    pos = bigger.node_position(node)
    given = {int(i): values[k] for k, i in enumerate(instances.tolist())}
    if len(given) != len(instances) or not set(given) <= set(c["id"][rows].tolist()):
        raise EventMismatch("node event names instances that are not the skeleton's")
    missing = np.array([np.nan, np.nan, 1.0, 0.0, 0.0])
    if not adding:
        for row in rows.tolist():
            want = given.get(int(c["id"][row]), missing)
            if not np.array_equal(table.points_of(row)[pos], want, equal_nan=True):
                raise EventMismatch("node removal does not carry the node's points")
    for row in rows.tolist():
        pts = table.points_of(row)
        if adding:
            new = np.insert(pts, pos, given.get(int(c["id"][row]), missing), axis=0)
        else:
            new = np.delete(pts, pos, axis=0)
        table.realloc_points(row, new.shape[0])
        table.write_points(row, new)
    state.skeletons[sid] = after


def _node_added(state: State, e: ev.NodeAdded) -> None:
    _reshape_points(state, e.skeleton_before, e.skeleton_after, e.node, e.instances,
                    e.values, adding=True)


def _node_removed(state: State, e: ev.NodeRemoved) -> None:
    _reshape_points(state, e.skeleton_before, e.skeleton_after, e.node, e.instances,
                    e.values, adding=False)


# ----------------------------------------------------------------- the rest


def _suggestions_replaced(state: State, e: ev.SuggestionsReplaced) -> None:
    if tuple(state.suggestions) != tuple(e.before):
        raise EventMismatch("suggestion list differs from the event")
    if any(s.video not in state.videos for s in e.after):
        raise EventMismatch("suggestion names a video that is not in the labels")
    state.suggestions = list(e.after)


def _suggestion_added(state: State, e: ev.SuggestionAdded) -> None:
    _check_position(e.position, len(state.suggestions), "suggestion")
    if e.suggestion.video not in state.videos:
        raise EventMismatch("suggestion names a video that is not in the labels")
    state.suggestions.insert(e.position, e.suggestion)


def _suggestion_removed(state: State, e: ev.SuggestionRemoved) -> None:
    if not (0 <= e.position < len(state.suggestions)) or \
            state.suggestions[e.position] != e.suggestion:
        raise EventMismatch("suggestion list differs from the event")
    del state.suggestions[e.position]


def _anchors_added(state: State, e: ev.AnchorsAdded) -> None:
    if e.video not in state.videos:
        raise EventMismatch("video is not in the labels")
    if len(e.positions) != len(e.anchors) or any(len(a) != 3 for a in e.anchors):
        raise EventMismatch("anchor event lists differ in length")
    n = len(state.anchors.get(e.video, []))
    _check_ascending(e.positions, "anchor")
    for k, pos in enumerate(e.positions):
        _check_position(pos, n + k, "anchor")
    lst = state.anchors.setdefault(e.video, [])
    for pos, anchor in zip(e.positions, e.anchors, strict=True):
        lst.insert(pos, tuple(anchor))


def _anchors_removed(state: State, e: ev.AnchorsRemoved) -> None:
    lst = state.anchors.get(e.video, [])
    if len(e.positions) != len(e.anchors):
        raise EventMismatch("anchor event lists differ in length")
    _check_ascending(e.positions, "anchor")
    for pos, anchor in zip(e.positions, e.anchors, strict=True):
        if not 0 <= pos < len(lst) or tuple(lst[pos]) != tuple(anchor):
            raise EventMismatch("anchor list differs from the event")
    for pos in sorted(e.positions, reverse=True):
        del lst[pos]
    if not lst:
        state.anchors.pop(e.video, None)


def _provenance_set(state: State, e: ev.ProvenanceSet) -> None:
    if not same_value(state.provenance, e.before):
        raise EventMismatch("provenance differs from the event's old value")
    state.provenance = dict(e.after)


def _check_position(pos: int, size: int, what: str) -> None:
    """A list insertion position must be inside the list (or just past its end):
    Python's insert would clamp anything else, and the inverse would then remove
    from the wrong place."""
    if not 0 <= pos <= size:
        raise EventMismatch(f"{what} position {pos} is outside 0..{size}")


def _check_flags(rows: np.ndarray) -> None:
    """Point rows' visible and complete columns are 0 or 1: the tables store them
    as booleans, so any other value would not read back as written."""
    flags = np.asarray(rows)[:, 2:4]
    if not np.all((flags == 0) | (flags == 1)):
        raise EventMismatch("point visible/complete flags must be 0 or 1")


def _check_ascending(positions: Any, what: str) -> None:
    """Positions of a multi-insert (or of the removal it undoes) strictly ascend,
    so that inserting them one by one puts each exactly where it says."""
    if any(b <= a for a, b in zip(positions, positions[1:], strict=False)):
        raise EventMismatch(f"{what} positions must strictly ascend")


def _check_skeleton(sk: ev.SkeletonDef) -> None:
    """Node ids unique; edges and symmetries name the skeleton's own nodes."""
    ids = [n.id for n in sk.nodes]
    if len(set(ids)) != len(ids):
        raise EventMismatch(f"skeleton {sk.name!r} has a node id twice")
    known = set(ids)
    for pair in (*sk.edges, *sk.symmetries):
        if len(pair) != 2 or not set(pair) <= known:
            raise EventMismatch(f"skeleton {sk.name!r} has an edge to a node it does not have")


_HANDLERS: dict[type, Callable[[State, Any], None]] = {
    ev.FramesAdded: _frames_added,
    ev.FramesRemoved: _frames_removed,
    ev.InstancesAdded: _instances_added,
    ev.InstancesRemoved: _instances_removed,
    ev.PointSet: _point_set,
    ev.PointsSet: _points_set,
    ev.InstanceUpdated: _instance_updated,
    ev.TracksAssigned: _tracks_assigned,
    ev.TrackAdded: _track_added,
    ev.TrackRemoved: _track_removed,
    ev.TrackChanged: _track_changed,
    ev.VideoAdded: _video_added,
    ev.VideoRemoved: _video_removed,
    ev.VideoChanged: _video_changed,
    ev.SkeletonAdded: _skeleton_added,
    ev.SkeletonRemoved: _skeleton_removed,
    ev.SkeletonChanged: _skeleton_changed,
    ev.NodeAdded: _node_added,
    ev.NodeRemoved: _node_removed,
    ev.SuggestionsReplaced: _suggestions_replaced,
    ev.SuggestionAdded: _suggestion_added,
    ev.SuggestionRemoved: _suggestion_removed,
    ev.AnchorsAdded: _anchors_added,
    ev.AnchorsRemoved: _anchors_removed,
    ev.ProvenanceSet: _provenance_set,
}

assert set(_HANDLERS) == set(ev.EVENT_TYPES), "every event type needs a handler"
