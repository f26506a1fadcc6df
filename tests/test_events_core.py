"""The event core on its own: stored tags, the one list of event types, `invert`,
and `apply_event` being all-or-nothing.

A small base state is built from raw events; `catalogue` then holds, for every
event type, an event that fits that state. Each must apply, and applying its
inverse must give back the same canonical state and caches. Corrupted variants of
the same events (hypothesis) must either raise `EventMismatch` and leave the state
exactly as it was, or apply and invert cleanly -- never anything in between.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from ledger.core import events as ev
from ledger.core.apply import apply_event
from ledger.core.codec import decode_event, encode_event
from ledger.core.state import State, canonical, canonical_caches, rebuild_caches
from ledger.core.state_batches import frames_batch, instance_batch_from_rows
from ledger.errors import EventMismatch

SK = ev.SkeletonDef(1, "fly", (ev.NodeDef(2, "head"), ev.NodeDef(5, "tail")), ((2, 5),))
SPARE_SK = ev.SkeletonDef(50, "spare", (ev.NodeDef(51, "a"),))
TRACK = ev.TrackDef(3, "t0", 0)
SPARE_TRACK = ev.TrackDef(31, "unused", 4)
VIDEO = ev.VideoDef(4, {"filename": "a.mp4"})
OTHER_VIDEO = ev.VideoDef(40, {"filename": "b.mp4"})


def batch(ids: list[int], video: int, frame_idx: list[int], skeleton: int = 1,
          track: int = 3, n_nodes: int = 2, kind: int = 0) -> ev.InstanceBatch:
    n = len(ids)
    pts = n * n_nodes
    return ev.InstanceBatch(
        ids=np.asarray(ids, np.int64), video=np.full(n, video, np.int64),
        frame_idx=np.asarray(frame_idx, np.int64), skeleton=np.full(n, skeleton, np.int64),
        track=np.full(n, track, np.int64), kind=np.full(n, kind, np.uint8),
        score=np.full(n, np.nan if kind == 0 else 0.5),
        tracking_score=np.full(n, np.nan if kind == 0 else 0.25),
        from_predicted=np.full(n, -1, np.int64), n_pts=np.full(n, n_nodes, np.int32),
        x=np.arange(pts, dtype=float) + 1, y=np.arange(pts, dtype=float) * 2,
        visible=np.ones(pts, bool), complete=np.zeros(pts, bool), point_score=np.zeros(pts))


def frames(video: int, idxs: list[int], ids: list[list[int]], position: int,
           kind: int = 0) -> ev.FrameBatch:
    flat = [i for group in ids for i in group]
    fidx = [f for f, group in zip(idxs, ids, strict=True) for _ in group]
    return ev.FrameBatch(np.full(len(idxs), video, np.int64), np.asarray(idxs, np.int64),
                         np.arange(position, position + len(idxs), dtype=np.int64),
                         batch(flat, video, fidx, kind=kind))


def base_state() -> State:
    state = State()
    for e in [
        ev.SkeletonAdded(SK, 0), ev.SkeletonAdded(SPARE_SK, 1), ev.TrackAdded(TRACK, 0),
        ev.TrackAdded(SPARE_TRACK, 1), ev.VideoAdded(VIDEO, 0),
        ev.FramesAdded(frames(4, [0, 7], [[10, 11], [12]], 0)),
        ev.SuggestionAdded(ev.SuggestionDef(4, 3, None), 0),
        ev.AnchorsAdded(4, (0,), ((5, 1.0, 2.0),)),
        ev.ProvenanceSet({}, {"tool": "test", "nan": float("nan")}),
    ]:
        apply_event(state, e)
    return state


def _row(state: State, ident: int) -> int:
    row = state.instances.row_of(ident)
    assert row is not None
    return row


def catalogue(state: State) -> dict[type, ev.Event]:
    """For every event type, one event that fits `base_state()`."""
    table = state.instances
    r10 = _row(state, 10)
    old = table.points_of(r10)
    x, y, vis, comp, score = table.points.get(int(table.cols.cols["pt_start"][r10]))
    new = old.copy()
    new[:, 0] += 100
    video_rows = [r for r in state.frames.order() if state.frame_key(r)[0] == 4]
    head_values = np.array([table.points_of(_row(state, i))[0] for i in (10, 11, 12)])
    renamed = ev.SkeletonDef(1, "fly", (ev.NodeDef(2, "nose"), ev.NodeDef(5, "tail")),
                             ((2, 5),), ((2, 5),))
    with_node = ev.SkeletonDef(1, "fly", SK.nodes + (ev.NodeDef(9, "wing"),), SK.edges)
    without_head = ev.SkeletonDef(1, "fly", (ev.NodeDef(5, "tail"),))
    sugg = ev.SuggestionDef(4, 3, None)
    out: list[ev.Event] = [
        ev.FramesAdded(frames(4, [1, 2], [[20], [21, 22]], 2)),
        ev.FramesRemoved(frames_batch(state, [state.frames.row_of(4, 0)])),
        ev.InstancesAdded(batch([23], 4, [7], kind=1)),
        ev.InstancesRemoved(instance_batch_from_rows(state, np.array([r10]))),
        ev.PointSet(10, 2, 9.0, 8.0, True, True, 0.0, x, y, bool(vis), bool(comp), score),
        ev.PointsSet(10, new, old),
        ev.InstanceUpdated(11, -1, 10, float("nan"), 0.9, float("nan"), 0.1),
        ev.TracksAssigned((10, 12), (3, 3), (31, -1)),
        ev.TrackAdded(ev.TrackDef(30, "new", 2), 1),
        ev.TrackRemoved(SPARE_TRACK, 1),
        ev.TrackChanged(TRACK, ev.TrackDef(3, "renamed", 5)),
        ev.VideoAdded(OTHER_VIDEO, 1, frames(40, [0], [[60, 61]], 2, kind=1),
                      ((1, ev.SuggestionDef(40, 0, 2)),), ((0, 1.5, 2.5),)),
        ev.VideoRemoved(VIDEO, 0, frames_batch(state, video_rows), ((0, sugg),),
                        ((5, 1.0, 2.0),)),
        ev.VideoChanged(VIDEO, ev.VideoDef(4, {"filename": "moved.mp4"}, {"backend": {}})),
        ev.SkeletonAdded(ev.SkeletonDef(70, "new", (ev.NodeDef(71, "x"),)), 0),
        ev.SkeletonRemoved(SPARE_SK, 1),
        ev.SkeletonChanged(SK, renamed),
        ev.NodeAdded(SK, with_node, 9, np.array([10], np.int64),
                     np.array([[1.0, 2.0, 1.0, 1.0, 0.0]])),
        ev.NodeRemoved(SK, without_head, 2, np.array([10, 11, 12], np.int64), head_values),
        ev.SuggestionsReplaced((sugg,), (ev.SuggestionDef(4, 9, 1), sugg)),
        ev.SuggestionAdded(ev.SuggestionDef(4, 4, None), 1),
        ev.SuggestionRemoved(sugg, 0),
        ev.AnchorsAdded(4, (0, 2), ((1, 0.0, 0.0), (9, 3.0, 3.0))),
        ev.AnchorsRemoved(4, (0,), ((5, 1.0, 2.0),)),
        ev.ProvenanceSet(dict(state.provenance), {"tool": "other"}),
    ]
    return {type(e): e for e in out}


def picture(state: State) -> Any:
    """Canonical state and caches, with the caches also checked against a rebuild."""
    occ, counts = canonical_caches(state)
    rebuilt_occ, rebuilt_counts = rebuild_caches(state)
    assert occ == {k: v.intervals for k, v in rebuilt_occ.items() if not v.is_empty}
    assert {v: c for v, c in counts.items() if v in state.videos} == rebuilt_counts
    return repr(canonical(state)), occ, counts  # repr: NaN in provenance equals itself


# ----------------------------------------------------------------- tags and registry

# The tags stored ledgers hold. Changing one breaks every ledger written before.
STORED_TAGS = (
    "FramesAdded", "FramesRemoved", "InstancesAdded", "InstancesRemoved", "PointSet",
    "PointsSet", "InstanceUpdated", "TracksAssigned", "TrackAdded", "TrackRemoved",
    "TrackChanged", "VideoAdded", "VideoRemoved", "VideoChanged", "SkeletonAdded",
    "SkeletonRemoved", "SkeletonChanged", "NodeAdded", "NodeRemoved", "SuggestionsReplaced",
    "SuggestionAdded", "SuggestionRemoved", "AnchorsAdded", "AnchorsRemoved", "ProvenanceSet",
)


def _all_subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _all_subclasses(sub)
    return out


def test_every_event_type_is_registered_once() -> None:
    assert set(ev.EVENT_TYPES) == _all_subclasses(ev.Event)
    assert len(set(ev.EVENT_TYPES)) == len(ev.EVENT_TYPES)
    assert ev.ALL_EVENTS is ev.EVENT_TYPES


def test_tags_are_explicit_unique_and_unchanged() -> None:
    tags = tuple(ev.tag_of(t) for t in ev.EVENT_TYPES)
    assert tags == STORED_TAGS
    assert len(set(tags)) == len(tags)
    for t in ev.EVENT_TYPES:  # written out on the class, not derived from its name
        assert "tag=" in _class_source(t), t.__name__


def _class_source(t: type) -> str:
    import inspect

    return inspect.getsource(t).splitlines()[0]


def test_a_renamed_class_still_decodes_stored_bytes() -> None:
    """The tag, not the class name, is what is stored and matched."""
    stored = encode_event(ev.TrackAdded(TRACK, 0))

    class Renamed(msgspec.Struct, frozen=True, tag="TrackAdded"):
        track: ev.TrackDef
        position: int

    decoded = msgspec.msgpack.decode(stored, type=Renamed | ev.TrackRemoved)
    assert isinstance(decoded, Renamed) and decoded.track == TRACK


def test_codec_union_is_the_registry() -> None:
    import typing

    assert set(typing.get_args(ev.AnyEvent)) == set(ev.EVENT_TYPES)


# ----------------------------------------------------------------- invert


def test_catalogue_covers_every_event_type() -> None:
    assert set(catalogue(base_state())) == set(ev.EVENT_TYPES)


@pytest.mark.parametrize("kind", ev.EVENT_TYPES, ids=lambda t: t.__name__)
def test_apply_then_invert_restores_state(kind: type) -> None:
    state = base_state()
    before = picture(state)
    event = catalogue(state)[kind]
    apply_event(state, event)
    assert picture(state) != before or kind is ev.ProvenanceSet
    inverse = ev.invert(event)
    assert ev.invert(inverse) == event or kind in _ARRAY_EVENTS
    apply_event(state, inverse)
    assert picture(state) == before


@pytest.mark.parametrize("kind", ev.EVENT_TYPES, ids=lambda t: t.__name__)
def test_inverse_survives_the_codec(kind: type) -> None:
    """Undo decodes events from the store: the decoded inverse must work too."""
    state = base_state()
    before = picture(state)
    event = decode_event(encode_event(catalogue(state)[kind]))
    apply_event(state, event)
    apply_event(state, decode_event(encode_event(ev.invert(event))))
    assert picture(state) == before


_ARRAY_EVENTS = (ev.FramesAdded, ev.FramesRemoved, ev.InstancesAdded, ev.InstancesRemoved,
                 ev.PointsSet, ev.VideoAdded, ev.VideoRemoved, ev.NodeAdded, ev.NodeRemoved)


# ----------------------------------------------------------------- EventMismatch


def _mismatch_leaves_state(state: State, event: ev.Event) -> None:
    before = picture(state)
    with pytest.raises(EventMismatch):
        apply_event(state, event)
    assert picture(state) == before


def test_frames_added_with_unknown_skeleton_leaves_no_frames() -> None:
    """The review's case: the frames used to stay behind after the error."""
    state = base_state()
    fb = frames(4, [1, 2], [[20], [21]], 2)
    bad = ev.FramesAdded(msgspec.structs.replace(
        fb, instances=msgspec.structs.replace(fb.instances,
                                              skeleton=np.array([1, 99], np.int64))))
    _mismatch_leaves_state(state, bad)
    assert state.frames.row_of(4, 1) is None


def test_bulk_frames_added_with_bad_instance_leaves_nothing() -> None:
    state = State()
    for e in (ev.SkeletonAdded(SK, 0), ev.TrackAdded(TRACK, 0), ev.VideoAdded(VIDEO, 0)):
        apply_event(state, e)
    idxs = list(range(40))
    fb = frames(4, idxs, [[100 + i] for i in idxs], 0)
    fidx = fb.instances.frame_idx.copy()
    fidx[5] = 999
    bad = ev.FramesAdded(msgspec.structs.replace(
        fb, instances=msgspec.structs.replace(fb.instances, frame_idx=fidx)))
    _mismatch_leaves_state(state, bad)
    assert state.frames.cols.n == 0 or not state.frames.order()


def test_video_added_with_bad_frames_leaves_no_video() -> None:
    state = base_state()
    bad = ev.VideoAdded(OTHER_VIDEO, 1, _with_skeleton(frames(40, [0], [[60]], 3), 77))
    _mismatch_leaves_state(state, bad)
    assert 40 not in state.videos


def _with_skeleton(fb: ev.FrameBatch, skeleton: int) -> ev.FrameBatch:
    inst = msgspec.structs.replace(fb.instances,
                                   skeleton=np.full(len(fb.instances), skeleton, np.int64))
    return msgspec.structs.replace(fb, instances=inst)


def test_frame_index_at_2_40_is_refused_and_keys_do_not_collide() -> None:
    """(video 0, 2**40) and (video 1, 0) once packed to the same key."""
    state = State()
    for e in (ev.SkeletonAdded(SK, 0), ev.TrackAdded(TRACK, 0), ev.VideoAdded(VIDEO, 0),
              ev.VideoAdded(OTHER_VIDEO, 1)):
        apply_event(state, e)
    fb = ev.FrameBatch(np.array([4, 40]), np.array([1 << 40, 0]), np.array([0, 1]),
                       ev.InstanceBatch.empty())
    _mismatch_leaves_state(state, ev.FramesAdded(fb))
    ok = ev.FrameBatch(np.array([4, 40]), np.array([(1 << 40) - 1, 0]), np.array([0, 1]),
                       _two_video_instances())
    apply_event(state, ev.FramesAdded(ok))
    assert state.frames.row_of(4, (1 << 40) - 1) != state.frames.row_of(40, 0)
    assert len(state.frame_instance_rows(state.frames.row_of(40, 0))) == 1


def _two_video_instances() -> ev.InstanceBatch:
    b = batch([1, 2], 4, [(1 << 40) - 1, 0])
    return msgspec.structs.replace(b, video=np.array([4, 40], np.int64))


def test_undo_of_a_point_edit_after_a_later_edit_is_a_mismatch() -> None:
    state = base_state()
    first = catalogue(state)[ev.PointSet]
    apply_event(state, first)
    table = state.instances
    x, y, vis, comp, score = table.points.get(int(table.cols.cols["pt_start"][_row(state, 10)]))
    apply_event(state, ev.PointSet(10, 2, 50.0, 50.0, True, True, 0.0, x, y, vis, comp, score))
    _mismatch_leaves_state(state, ev.invert(first))
    _mismatch_leaves_state(state, ev.PointsSet(10, table.points_of(_row(state, 10)) + 1,
                                               table.points_of(_row(state, 10)) - 1))


# hypothesis: corrupt one field of a fitting event; all-or-nothing must hold


def _corrupt(value: Any, data: st.DataObject) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return data.draw(st.sampled_from([-1, 0, 1, 2, 3, 4, 5, 7, 9, 10, 12, 31, 40, 99,
                                          1 << 40, value + 1]))
    if isinstance(value, float):
        return data.draw(st.sampled_from([0.0, -1.0, float("nan"), value + 1]))
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return value
        out = value.copy()
        flat = out.reshape(-1)
        k = data.draw(st.integers(0, flat.size - 1))
        if out.dtype == np.bool_:
            flat[k] = not flat[k]
        else:
            flat[k] = data.draw(st.sampled_from([0, 1, 2, 3, 7, 10, 99])) if \
                out.dtype.kind in "iu" else flat[k] + 1
        if data.draw(st.booleans()) and out.ndim == 1 and len(out) > 1:
            out = out[:-1]  # and sometimes a column of the wrong length
        return out
    if isinstance(value, tuple):
        if not value:
            return value
        k = data.draw(st.integers(0, len(value) - 1))
        how = data.draw(st.sampled_from(["drop", "dup", "inner"]))
        if how == "drop":
            return value[:k] + value[k + 1:]
        if how == "dup":
            return value + (value[k],)
        return value[:k] + (_corrupt(value[k], data),) + value[k + 1:]
    if isinstance(value, dict):
        return {**value, "extra": 1}
    if isinstance(value, msgspec.Struct):
        fields = [f for f in value.__struct_fields__]
        name = data.draw(st.sampled_from(fields))
        return msgspec.structs.replace(value, **{name: _corrupt(getattr(value, name), data)})
    return value


@settings(max_examples=int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "400")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(ev.EVENT_TYPES), data=st.data())
def test_corrupted_event_applies_whole_or_not_at_all(kind: type, data: st.DataObject) -> None:
    state = base_state()
    event = catalogue(state)[kind]
    for _ in range(data.draw(st.integers(1, 2))):
        event = _corrupt(event, data)
    try:  # only what a store could hand back: the decoder checks the types
        event = decode_event(encode_event(event))
    except msgspec.ValidationError:
        reject()
    before = picture(state)
    try:
        apply_event(state, event)
    except EventMismatch:
        assert picture(state) == before
        return
    apply_event(state, ev.invert(event))
    assert picture(state) == before

