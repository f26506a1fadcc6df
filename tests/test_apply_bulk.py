"""Bulk replay (`ledger.core.apply_bulk.apply_events`) equals one-by-one replay:
the same state, and for a run with a wrong old value or a dead instance, the same
error after the same events."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import Instance, LabeledFrame, Labels, Point, Skeleton, Video
from ledger.core import apply_bulk
from ledger.core import events as ev
from ledger.core.apply import apply_event
from ledger.core.apply_bulk import apply_events
from ledger.core.state import State, canonical
from ledger.errors import EventMismatch


def _labels() -> Labels:
    skel = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1)])
    video = Video.from_filename("/missing/v.mp4")
    labels = Labels()
    labels.extend([LabeledFrame(video, f, [Instance(skel, {"a": Point(f, 1.0), "b": Point(2, f)})
                                           for _ in range(2)]) for f in range(4)])
    return labels


def _fresh(labels: Labels) -> State:
    return labels.project.at(labels.project.head)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(0, 60), corrupt=st.booleans(), min_run=st.integers(1, 20))
def test_bulk_replay_equals_one_by_one(data: st.DataObject, n: int, corrupt: bool,
                                       min_run: int) -> None:
    labels = _labels()
    state = labels.project.state
    insts = [(lf, i) for lf in labels for i in lf.instances]
    nodes = [node._id for node in labels.skeleton.nodes]
    held: dict[tuple[int, int], tuple] = {}
    events: list[ev.Event] = []
    for k in range(n):
        _, inst = data.draw(st.sampled_from(insts))
        pos = data.draw(st.integers(0, 2))
        key = (inst._id, pos)
        if key not in held:
            row = state.instances.row_of(inst._id)
            x, y, vis, comp, score = state.instances.points_of(row)[pos].tolist()
            held[key] = (x, y, bool(vis), bool(comp), score)
        new = (float(data.draw(st.integers(0, 9))), float(k), data.draw(st.booleans()),
               data.draw(st.booleans()), 0.0)
        old = held[key]
        if corrupt and data.draw(st.integers(0, 9)) == 0:
            old = (old[0] + 1.0, *old[1:])
        events.append(ev.PointSet(inst._id, nodes[pos], *new, *old))
        held[key] = new
        if data.draw(st.integers(0, 15)) == 0:  # something else in between
            events.append(ev.ProvenanceSet(dict(state.provenance), dict(state.provenance)))
    saved = apply_bulk.MIN_RUN
    apply_bulk.MIN_RUN = min_run
    try:
        one, bulk = _fresh(labels), _fresh(labels)
        error_one = error_bulk = None
        try:
            for event in events:
                apply_event(one, event)
        except EventMismatch as exc:
            error_one = str(exc)
        try:
            apply_events(bulk, events)
        except EventMismatch as exc:
            error_bulk = str(exc)
    finally:
        apply_bulk.MIN_RUN = saved
    assert error_bulk == error_one
    assert canonical(bulk) == canonical(one)


def test_dead_instance_falls_back_to_the_exact_error() -> None:
    labels = _labels()
    inst = labels[0].instances[0]
    node = labels.skeleton.nodes[0]._id
    labels.remove_instance(labels[0], inst)
    edits = [ev.PointSet(inst._id, node, 1.0, 1.0, True, True, 0.0,
                         0.0, 1.0, True, False, 0.0)] * 40
    state = _fresh(labels)
    before = canonical(state)
    with pytest.raises(EventMismatch, match="not in the labels"):
        apply_events(state, edits)
    assert canonical(state) == before


def test_borrowed_points_are_copied_not_written() -> None:
    labels = _labels()
    state = labels.project.state
    inst = labels[1].instances[1]
    row = state.instances.row_of(inst._id)
    x, y, vis, comp, score = state.instances.points_of(row)[0].tolist()
    node = labels.skeleton.nodes[0]._id
    edits, prev = [], (x, y, bool(vis), bool(comp), score)
    for k in range(40):
        new = (float(k), 5.0, True, True, score)
        edits.append(ev.PointSet(inst._id, node, *new, *prev))
        prev = new
    fresh = _fresh(labels)
    apply_events(fresh, edits)
    got = fresh.instances.points_of(fresh.instances.row_of(inst._id))[0]
    assert got[0] == 39.0 and got[1] == 5.0
    assert np.array_equal(state.instances.points_of(row)[0], [x, y, vis, comp, score],
                          equal_nan=True)  # the labels' own state is untouched
