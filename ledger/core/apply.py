"""`apply_event(state, event)`: the only code that changes a `State`.

Each event kind has one function here. They read nothing but the state and the
event (no clock, no randomness, no files), so replaying the same log always builds
the same state. They check that the event fits the state (an instance removal
names a live instance, points fit the skeleton...) and raise `EventMismatch`
*before* changing anything when it does not, so a bad event never leaves a
half-applied state behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ledger.core import events as ev
from ledger.core.apply_rows import (
    add_frames,
    add_instances,
    occupancy_add,
    occupancy_drop,
    remove_frames,
    remove_instances,
)
from ledger.core.state import State
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


def _point_set(state: State, e: ev.PointSet) -> None:
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
    table.points.set(i, e.x, e.y, e.visible, e.complete, e.score)


def _points_set(state: State, e: ev.PointsSet) -> None:
    table = state.instances
    row = table.row_of(e.instance)
    if row is None:
        raise EventMismatch(f"instance {e.instance} is not in the labels")
    if e.new.shape[0] != int(table.cols.cols["n_pts"][row]):
        raise EventMismatch("points do not fit the instance's skeleton")
    table.write_points(row, e.new)


def _instance_updated(state: State, e: ev.InstanceUpdated) -> None:
    table = state.instances
    row = table.row_of(e.instance)
    if row is None:
        raise EventMismatch(f"instance {e.instance} is not in the labels")
    c = table.cols.writable()
    if int(c["from_predicted"][row]) != e.old_from_predicted:
        raise EventMismatch(f"instance {e.instance} link differs from the event")
    c["from_predicted"][row] = e.new_from_predicted
    c["score"][row] = e.new_score
    c["tracking_score"][row] = e.new_tracking_score


def _tracks_assigned(state: State, e: ev.TracksAssigned) -> None:
    table = state.instances
    c = table.cols.writable()
    rows = []
    for ident, old in zip(e.instances, e.old, strict=True):
        row = table.row_of(ident)
        if row is None:
            raise EventMismatch(f"instance {ident} is not in the labels")
        if int(c["track"][row]) != old:
            raise EventMismatch(f"instance {ident} is not on track {old}")
        rows.append(row)
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
    state.tracks[e.track.id] = e.track
    state.track_order.insert(e.position, e.track.id)


def _track_removed(state: State, e: ev.TrackRemoved) -> None:
    if e.track.id not in state.tracks:
        raise EventMismatch(f"track {e.track.name!r} is not in the labels")
    if np.any(state.instances.cols.view("track")[state.live_instance_rows()] == e.track.id):
        raise EventMismatch(f"track {e.track.name!r} is still in use")
    del state.tracks[e.track.id]
    state.track_order.remove(e.track.id)


def _track_changed(state: State, e: ev.TrackChanged) -> None:
    if state.tracks.get(e.before.id) != e.before:
        raise EventMismatch(f"track {e.before.name!r} differs from the event")
    state.tracks[e.after.id] = e.after


# ----------------------------------------------------------------- videos


def _video_added(state: State, e: ev.VideoAdded) -> None:
    if e.video.id in state.videos:
        raise EventMismatch("video is already in the labels")
    state.videos[e.video.id] = e.video
    state.video_order.insert(e.position, e.video.id)
    state.counts.setdefault(e.video.id, [0, 0, 0])
    if e.frames is not None:
        add_frames(state, e.frames)
    for pos, s in e.suggestions:
        state.suggestions.insert(pos, s)
    if e.anchors:
        state.anchors[e.video.id] = list(e.anchors)


def _video_removed(state: State, e: ev.VideoRemoved) -> None:
    vid = e.video.id
    if vid not in state.videos:
        raise EventMismatch("video is not in the labels")
    for pos, s in e.suggestions:
        if pos >= len(state.suggestions) or state.suggestions[pos] != s:
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
    if e.before.id not in state.videos:
        raise EventMismatch("video is not in the labels")
    state.videos[e.after.id] = e.after


# ----------------------------------------------------------------- skeletons


def _skeleton_added(state: State, e: ev.SkeletonAdded) -> None:
    if e.skeleton.id in state.skeletons:
        raise EventMismatch("skeleton is already in the labels")
    state.skeletons[e.skeleton.id] = e.skeleton
    state.skeleton_order.insert(e.position, e.skeleton.id)


def _skeleton_removed(state: State, e: ev.SkeletonRemoved) -> None:
    sid = e.skeleton.id
    if sid not in state.skeletons:
        raise EventMismatch("skeleton is not in the labels")
    if np.any(state.instances.cols.view("skeleton")[state.live_instance_rows()] == sid):
        raise EventMismatch("skeleton is still in use")
    del state.skeletons[sid]
    state.skeleton_order.remove(sid)


def _skeleton_changed(state: State, e: ev.SkeletonChanged) -> None:
    current = state.skeletons.get(e.before.id)
    if current is None:
        raise EventMismatch("skeleton is not in the labels")
    if [n.id for n in current.nodes] != [n.id for n in e.after.nodes]:
        raise EventMismatch("SkeletonChanged may not add, remove or reorder nodes")
    state.skeletons[e.after.id] = e.after


def _reshape_points(state: State, skeleton: ev.SkeletonDef, after: ev.SkeletonDef,
                    node: int, instances: np.ndarray, values: np.ndarray, adding: bool) -> None:
    sid = skeleton.id
    current = state.skeletons.get(sid)
    if current is None or [n.id for n in current.nodes] != [n.id for n in skeleton.nodes]:
        raise EventMismatch("skeleton differs from the event")
    table = state.instances
    c = table.cols.cols
    live = state.live_instance_rows()
    rows = live[c["skeleton"][live] == sid]
    pos = (after if adding else skeleton).node_position(node)
    given = {int(i): values[k] for k, i in enumerate(np.asarray(instances).tolist())}
    missing = np.array([np.nan, np.nan, 1.0, 0.0, 0.0])
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
    state.suggestions = list(e.after)


def _suggestion_added(state: State, e: ev.SuggestionAdded) -> None:
    if not 0 <= e.position <= len(state.suggestions):
        raise EventMismatch("suggestion position out of range")
    state.suggestions.insert(e.position, e.suggestion)


def _suggestion_removed(state: State, e: ev.SuggestionRemoved) -> None:
    if not (0 <= e.position < len(state.suggestions)) or \
            state.suggestions[e.position] != e.suggestion:
        raise EventMismatch("suggestion list differs from the event")
    del state.suggestions[e.position]


def _anchors_added(state: State, e: ev.AnchorsAdded) -> None:
    if e.video not in state.videos:
        raise EventMismatch("video is not in the labels")
    lst = state.anchors.setdefault(e.video, [])
    for pos, anchor in zip(e.positions, e.anchors, strict=True):
        lst.insert(pos, tuple(anchor))


def _anchors_removed(state: State, e: ev.AnchorsRemoved) -> None:
    lst = state.anchors.get(e.video, [])
    for pos, anchor in zip(e.positions, e.anchors, strict=True):
        if pos >= len(lst) or tuple(lst[pos]) != tuple(anchor):
            raise EventMismatch("anchor list differs from the event")
    for pos in sorted(e.positions, reverse=True):
        del lst[pos]
    if not lst:
        state.anchors.pop(e.video, None)


def _provenance_set(state: State, e: ev.ProvenanceSet) -> None:
    state.provenance = dict(e.after)


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

assert set(_HANDLERS) == set(ev.ALL_EVENTS)
