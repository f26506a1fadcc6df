"""Worked merge and diff cases: each conflict kind, resolutions, the state-based
fallback for projects without shared history, and the merge envelope."""

from __future__ import annotations

import numpy as np
import pytest

from ledger import Instance, LabeledFrame, Labels, PredictedInstance, Skeleton, Track, Video
from ledger.core.state import canonical
from ledger.diffing import diff
from ledger.errors import LedgerError
from ledger.merging import MergeConflictError, fork_in_memory, merge

PTS = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def base_labels() -> Labels:
    skel = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1)])
    video = Video.from_filename("/x/v.mp4")
    labels = Labels()
    labels.append(LabeledFrame(video, 0, [Instance.from_numpy(PTS, skel, track=Track(0, "t"))]))
    labels.append(LabeledFrame(video, 1, [PredictedInstance.from_numpy(PTS, np.ones(3), .5,
                                                                       skel)]))
    return labels


@pytest.fixture
def forks() -> tuple[Labels, Labels]:
    b = base_labels()
    return fork_in_memory(b, author="alice"), fork_in_memory(b, author="bob")


def test_clean_merge_and_undo(forks: tuple[Labels, Labels]) -> None:
    ours, theirs = forks
    ours.set_point(ours[0].instances[0], "a", 10, 20)
    theirs.set_point(theirs[0].instances[0], "b", 30, 40)
    theirs.append(LabeledFrame(theirs.videos[0], 7, [Instance.from_numpy(PTS, theirs.skeleton)]))
    before = canonical(ours._state)
    result = merge(ours, theirs)
    assert result.conflicts == []
    result.commit("merge")
    inst = ours[0].instances[0]
    assert inst["a"].x == 10 and inst["b"].x == 30
    assert len(ours) == 3
    rec = ours.history[-1]
    assert rec.tx_kind == "merge"
    assert rec.meta["merge"]["theirs_head"] == theirs.head_hash()
    assert not merge(ours, theirs).events  # idempotent
    # theirs' two transactions were replayed as bob's, then the merge transaction
    assert [ours.project.ledger.tx_author(t) for t in result.transactions] == [
        "bob", "bob", "alice"]
    for _ in result.transactions:
        ours.undo()
    assert canonical(ours._state) == before


def test_point_conflict_resolutions(forks: tuple[Labels, Labels]) -> None:
    ours, theirs = forks
    ours.set_point(ours[0].instances[0], "a", 10, 20)
    theirs.set_point(theirs[0].instances[0], "a", 11, 21)
    result = merge(ours, theirs)
    (c,) = result.conflicts
    assert (c.kind, c.frame_idx, c.node_name) == ("point", 0, "a")
    assert c.to_dict()["base"][:2] == [1.0, 2.0]
    assert c.ours_authors == ["alice"] and c.theirs_authors == ["bob"]
    with pytest.raises(MergeConflictError):
        result.commit()
    result.resolve(c, (50.0, 60.0))
    result.commit("merge")
    assert ours[0].instances[0]["a"].x == 50
    res = ours.history[-1].meta["merge"]["resolutions"]
    assert res[0]["choice"] == [50.0, 60.0] and res[0]["author"] == "alice"


def test_frame_and_removed_edited_conflicts(forks: tuple[Labels, Labels]) -> None:
    ours, theirs = forks
    ours.add_instance(ours[1], Instance.from_numpy(PTS, ours.skeleton))
    theirs.add_instance(theirs[1], Instance.from_numpy(PTS + 1, theirs.skeleton))
    ours.remove_instance(ours[0], ours[0].instances[0])
    theirs.set_point(theirs[0].instances[0], "c", 0, 0)
    result = merge(ours, theirs)
    kinds = sorted(c.kind for c in result.conflicts)
    assert kinds == ["frame", "removed_edited"]
    frame = next(c for c in result.conflicts if c.kind == "frame")
    result.resolve(frame, "both")
    result.resolve_all("theirs")
    result.commit()
    assert len(ours[1].instances) == 3
    assert ours[0].instances[0]["c"].x == 0


def test_node_and_track_conflicts(forks: tuple[Labels, Labels]) -> None:
    ours, theirs = forks
    ours.rename_node(ours.skeleton, "c", "tail")
    theirs.rename_node(theirs.skeleton, "c", "end")
    ours.track_set_instance(ours[1], ours[1].instances[0], ours.tracks[0])
    theirs.track_set_instance(theirs[1], theirs[1].instances[0], Track(0, "new"))
    result = merge(ours, theirs, dry_run=True)
    assert sorted(c.kind for c in result.conflicts) == ["node", "track"]
    assert result.summary()["unresolved"] == 2
    with pytest.raises(LedgerError):
        result.commit()
    result = merge(ours, theirs)
    result.resolve_all("theirs")
    result.commit()
    assert ours.skeleton.node_names == ["a", "b", "end"]
    assert ours[1].instances[0].track.name == "new"


def test_video_removed_and_edited(forks: tuple[Labels, Labels]) -> None:
    ours, theirs = forks
    ours.remove_video(ours.videos[0])
    theirs.set_point(theirs[0].instances[0], "a", 9, 9)
    result = merge(ours, theirs)
    assert [c.kind for c in result.conflicts] == ["video"]
    result.resolve_all("theirs")
    result.commit()
    assert len(ours.videos) == 1 and ours[0].instances[0]["a"].x == 9


def test_state_merge_of_unrelated_projects(tmp_path) -> None:
    first, second = base_labels(), base_labels()
    second.append(LabeledFrame(second.videos[0], 5, [Instance.from_numpy(PTS, second.skeleton)]))
    second.add_instance(second[0], Instance.from_numpy(PTS + 3, second.skeleton))
    result = merge(first, second)
    assert result.info["mode"] == "state"
    assert [c.kind for c in result.conflicts] == []
    result.commit()
    assert len(first) == 3 and len(first[0].instances) == 2
    assert not merge(first, second).events  # matched now: nothing new
    third = base_labels()
    third.add_instance(third[0], Instance.from_numpy(PTS + 5, third.skeleton))
    clash = merge(first, third)
    assert [c.kind for c in clash.conflicts] == ["frame"]


def test_diff_of_unrelated_projects() -> None:
    a, b = base_labels(), base_labels()
    b.set_point(b[0].instances[0], "a", 4, 6)
    d = diff(a, b)
    s = d.summary()
    assert s["points_changed"] == 1 and s["instances_added"] == 0
    node = d.to_dict()["frames"][0]["changed"][0]["nodes"][0]
    assert node["node"] == "a" and node["displacement"] == pytest.approx(5.0)
    assert diff(a, a.at(a._ledger.head)).is_empty
