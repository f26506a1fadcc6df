"""Sequences property tests found once; kept as plain tests."""

from __future__ import annotations

from ledger import Instance, LabeledFrame, Labels, Point, Skeleton, Track, Video
from ledger.apply import apply_event
from ledger.state import State, canonical


def _replayed(labels: Labels) -> dict:
    state = State()
    for rec in labels.history:
        apply_event(state, rec.event)
    return canonical(state)


def test_video_removed_readded_and_both_undone_keeps_its_id():
    """remove_video, then a suggestion re-adds the same video object, then both are
    undone: the restored frame must still be reachable through the video object."""
    skel = Skeleton.from_names_and_edge_inds(["a"], [])
    video = Video.from_filename("/missing/v0.mp4")
    labels = Labels()
    labels.append(LabeledFrame(video, 0, []))
    labels.remove_video(video)
    labels.add_suggestion(video, 0)
    labels.undo()
    labels.undo()
    frame = labels.find(video, 0)[0]
    labels.add_instance(frame, Instance(skel, {"a": Point(1, 2)}))
    assert len(labels.find(video, 0)[0].instances) == 1
    assert labels.videos == [video]
    assert _replayed(labels) == labels.canonical()


def test_track_removed_readded_and_both_undone_keeps_its_id():
    skel = Skeleton.from_names_and_edge_inds(["a"], [])
    video = Video.from_filename("/missing/v0.mp4")
    track = Track(0, "t")
    labels = Labels()
    labels.append(LabeledFrame(video, 0, [Instance(skel, {"a": Point(1, 2)}, track=track)]))
    inst = labels[0].instances[0]
    labels.remove_track(track)
    labels.track_set_instance(labels[0], inst, track)
    labels.undo()
    labels.undo()
    assert inst.track is track
    labels.track_set_instance(labels[0], inst, None)
    assert labels.get_track_occupancy(video) == {None: labels.cache.get_track_occupancy(
        video, None)}
    assert _replayed(labels) == labels.canonical()
