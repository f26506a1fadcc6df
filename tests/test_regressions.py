"""Sequences property tests found once; kept as plain tests."""

from __future__ import annotations

from ledger import Instance, LabeledFrame, Labels, Point, Skeleton, Track, Video
from ledger.core.apply import apply_event
from ledger.core.state import State, canonical


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


def test_merge_removing_two_nodes_is_undone_exactly():
    """theirs removes two nodes; the merge's events must carry each removed node's
    own values, so undoing the merge restores every point."""
    from ledger.merging import fork_in_memory, merge

    skel = Skeleton.from_names_and_edge_inds(["n0", "n1", "n2"], [(0, 1)])
    video = Video.from_filename("/m/v0.mp4")
    base = Labels()
    for f in range(2):
        base.append(LabeledFrame(video, f, [Instance(
            skel, {"n0": Point(0, 0), "n1": Point(5, 5), "n2": Point(0, float(f + 1))})]))
    ours, theirs = fork_in_memory(base), fork_in_memory(base)
    theirs.remove_node(theirs.skeleton, "n0")
    theirs.remove_node(theirs.skeleton, "n2")
    before = ours.canonical()
    result = merge(ours, theirs)
    result.commit("merge")
    assert ours.skeleton.node_names == ["n1"]
    for _ in result.transactions:  # theirs' replayed transactions, then the merge
        ours.undo()
    assert ours.canonical() == before
    assert ours[1].instances[0]["n2"].y == 2.0


def test_removed_frame_keeps_all_instances_whatever_was_collected():
    """A frame object held by user code, removed from the labels, keeps every one of
    its instances, even those no Python object existed for any more."""
    import gc

    skel = Skeleton.from_names_and_edge_inds(["a"], [])
    video = Video.from_filename("/missing/v0.mp4")
    labels = Labels()
    labels.append(LabeledFrame(video, 0, [Instance(skel, {"a": Point(1, 2)}),
                                          Instance(skel, {"a": Point(3, 4)})]))
    frame = labels[0]
    gc.collect()  # the instance objects given to append are gone now
    labels.remove(frame)
    assert [i["a"].x for i in frame.instances] == [1.0, 3.0]
    labels.append(frame)
    assert [i["a"].x for i in labels[0].instances] == [1.0, 3.0]
    assert _replayed(labels) == labels.canonical()
