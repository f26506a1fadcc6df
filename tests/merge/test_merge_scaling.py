"""Issue 11 items 5 and 9: no false conflict from the ``complete`` default, and
a plan whose set operations do not grow with the number of transactions."""

from __future__ import annotations

import numpy as np

from ledger import Instance, LabeledFrame, Labels, Point, Skeleton, Video
from ledger.merging import fork_in_memory, merge


def _base(frames: int = 5) -> Labels:
    skel = Skeleton.from_names_and_edge_inds(["a", "b"], [(0, 1)])
    video = Video.from_filename("clip.mp4")
    labels = Labels()
    for f in range(frames):
        labels.append(LabeledFrame(video, f, [Instance.from_numpy(np.ones((2, 2)) * f, skel)]))
    return labels


def test_set_point_and_point_assignment_agree() -> None:
    """The same x, y placed with `set_point` on one side and with
    ``inst[node] = Point(x, y)`` on the other is the same point (SLEAP's
    ``Point`` has ``complete=False``; so does `set_point` by default)."""
    base = _base()
    ours, theirs = fork_in_memory(base, author="ana"), fork_in_memory(base, author="bob")
    ours.set_point(ours[0].instances[0], "a", 7.0, 8.0)
    theirs[0].instances[0]["a"] = Point(7.0, 8.0)
    assert not ours[0].instances[0]["a"].complete
    assert ours[0].instances[0]["a"] == theirs[0].instances[0]["a"]
    result = merge(ours, theirs)
    assert result.conflicts == []


def _isin_calls(monkeypatch, n_tx: int) -> int:
    base = _base(20)
    ours, theirs = fork_in_memory(base, author="ana"), fork_in_memory(base, author="bob")
    for k in range(n_tx):
        ours.set_point(ours[k % 20].instances[0], "a", float(k), 1.0)
        theirs.set_point(theirs[k % 20].instances[0], "a", float(k) + 0.5, 1.0)
    calls = []
    real = np.isin

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "isin", counting)
    try:
        result = merge(ours, theirs)
    finally:
        monkeypatch.undo()
    assert len(result.conflicts) == 20
    assert {a for c in result.conflicts for a in c.theirs_authors} == {"bob"}
    assert all(len(c.theirs_tx) == n_tx // 20 for c in result.conflicts)
    return len(calls)


def test_plan_set_operations_do_not_grow_with_transactions(monkeypatch) -> None:
    """Each side's mentions are gathered once, so a merge makes as many
    `np.isin` calls for 400 single-edit transactions per side as for 40 (it
    made one per record)."""
    assert _isin_calls(monkeypatch, 40) == _isin_calls(monkeypatch, 400)


def test_history_less_merge_warns_and_says_what_it_adds() -> None:
    """Item 7: two unrelated projects merge by content; the merge says so and
    names the video and skeleton it adds."""
    ours = _base(2)
    skel = Skeleton.from_names_and_edge_inds(["x", "y"], [(0, 1)], name="mouse")
    theirs = Labels()
    theirs.append(LabeledFrame(Video.from_filename("other.mp4"), 0,
                               [Instance.from_numpy(np.ones((2, 2)), skel)]))
    import pytest

    with pytest.warns(UserWarning, match="share no history"):
        result = merge(ours, theirs)
    text = " ".join(result.warnings)
    assert "other.mp4" in text and "mouse" in text
