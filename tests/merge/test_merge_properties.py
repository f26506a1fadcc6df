"""Property tests of three-way merge and diff.

A random base project is forked twice; each fork gets a random edit sequence;
then ``merge(ours, theirs)``. Independently of the merge code, a per-field model
(`model`) computes what each side changed; the tests check that
- the conflicts are exactly the fields both sides changed to different values;
- resolving all as "ours" gives ours plus theirs' non-conflicting changes;
- replaying ours' history from empty equals the live state after the merge;
- undoing the merge restores ours exactly; merging the same theirs twice
  changes nothing.
For diff: applying ``diff(a, b).events`` to ``a`` gives ``b``; ``diff(a, a)`` is
empty.
"""

from __future__ import annotations

import math
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Instance, LabeledFrame, Labels, PredictedInstance, Skeleton, Track, Video
from ledger.core.apply import apply_event
from ledger.core.state import State, canonical
from ledger.diffing import diff
from ledger.merging import fork_in_memory, merge

NODES = ["n0", "n1", "n2"]
coord = st.integers(0, 20).map(float)


def build_base(data: st.DataObject) -> Labels:
    skel = Skeleton.from_names_and_edge_inds(NODES, [(0, 1)])
    video = Video.from_filename("/m/v0.mp4")
    tracks = [Track(0, "a"), Track(0, "b")]
    labels = Labels()
    with labels.transaction("base"):
        labels.add_skeleton(skel)
        labels.add_video(video)
        for f in range(data.draw(st.integers(1, 4), label="frames")):
            insts = []
            for _ in range(data.draw(st.integers(0, 2))):
                pts = np.array([[data.draw(coord), data.draw(coord)] for _ in NODES])
                track = data.draw(st.sampled_from([None, *tracks]))
                if data.draw(st.booleans()):
                    insts.append(PredictedInstance.from_numpy(pts, np.ones(3), 0.5, skel,
                                                              track=track))
                else:
                    insts.append(Instance.from_numpy(pts, skel, track=track))
            labels.append(LabeledFrame(video, f, insts))
        for t in tracks:
            if t._id is None:
                labels.add_track(None, t)
    return labels


OPS = ["point", "points", "remove", "add", "track", "rename", "remove_node", "add_node",
       "suggest", "new_frame"]


def edit(labels: Labels, data: st.DataObject, side: str, ops: list[str] = OPS) -> None:
    """One random API call on ``labels`` (one of ``ops``)."""
    op = data.draw(st.sampled_from(ops), label=f"{side} op")
    insts = [(lf, i) for lf in labels.labeled_frames for i in lf.instances]
    skel = labels.skeletons[0]
    if op in ("point", "points", "remove", "track") and not insts:
        return
    if op == "point":
        lf, inst = data.draw(st.sampled_from(insts))
        labels.set_point(inst, data.draw(st.sampled_from(skel.node_names)), data.draw(coord),
                         data.draw(coord))
    elif op == "points":
        lf, inst = data.draw(st.sampled_from(insts))
        labels.set_points(inst, np.array([[data.draw(coord), data.draw(coord)]
                                          for _ in skel.nodes]))
    elif op == "remove":
        lf, inst = data.draw(st.sampled_from(insts))
        labels.remove_instance(lf, inst)
    elif op == "track":
        lf, inst = data.draw(st.sampled_from(insts))
        labels.track_set_instance(lf, inst, data.draw(st.sampled_from([None, *labels.tracks])))
    elif op == "add" and labels.labeled_frames:
        lf = data.draw(st.sampled_from(labels.labeled_frames))
        pts = np.array([[data.draw(coord), data.draw(coord)] for _ in skel.nodes])
        if data.draw(st.booleans()):
            labels.add_instance(lf, PredictedInstance.from_numpy(pts, np.ones(len(pts)), .3, skel))
        else:
            labels.add_instance(lf, Instance.from_numpy(pts, skel))
    elif op == "new_frame":
        f = data.draw(st.integers(0, 6))
        if labels.find_first(labels.videos[0], f) is None:
            pts = np.array([[data.draw(coord), data.draw(coord)] for _ in skel.nodes])
            labels.append(LabeledFrame(labels.videos[0], f, [Instance.from_numpy(pts, skel)]))
    elif op == "rename":
        old = data.draw(st.sampled_from(skel.node_names))
        new = data.draw(st.sampled_from(["x", "y", old + "_" + side]))
        if new not in skel.node_names:
            labels.rename_node(skel, old, new)
    elif op == "remove_node" and len(skel.nodes) > 2:
        labels.remove_node(skel, data.draw(st.sampled_from(skel.node_names)))
    elif op == "add_node":
        name = data.draw(st.sampled_from(["p", "q"]))
        if name not in skel.node_names:
            labels.add_node(skel, name)
    elif op == "suggest":
        labels.add_suggestion(labels.videos[0], data.draw(st.integers(0, 6)))


# --------------------------------------------------------------------- model


def _pt(v: np.ndarray) -> tuple:
    return tuple(None if (isinstance(x, float) and math.isnan(x)) else float(x) for x in v)


def model(state: State) -> dict:
    """Every mergeable field, keyed by identity: ("pt", inst, node), ("track", inst),
    ("inst", inst) existence, ("node", node) name, ("frame", key) existence,
    ("sugg", key)."""
    out: dict = {}
    c = state.instances.cols.cols
    for row in state.live_instance_rows().tolist():
        ident = int(c["id"][row])
        sk = state.skeletons[int(c["skeleton"][row])]
        key = state.frame_key(int(c["frame"][row]))
        out[("inst", ident)] = (key, int(c["kind"][row]))
        out[("track", ident)] = int(c["track"][row])
        for node, p in zip(sk.nodes, state.instances.points_of(row), strict=True):
            out[("pt", ident, node.id)] = _pt(p)
    for sk in state.skeletons.values():
        for n in sk.nodes:
            out[("node", n.id)] = n.name
    for row in state.frames.order():
        out[("frame", state.frame_key(row))] = True
    for s in state.suggestions:
        out[("sugg", s.video, s.frame_idx)] = True
    return out


MISSING = (None, None, 1.0, 0.0, 0.0)  # the point a new node gives every instance


def changed(base: dict, side: dict) -> dict:
    keys = set(base) | set(side)
    return {k: side.get(k) for k in keys if base.get(k) != side.get(k) and not (
        k[0] == "pt" and k not in base and side.get(k) == MISSING
        and ("inst", k[1]) in base)}


def _seeded(data: st.DataObject) -> tuple[Labels, Labels, Labels]:
    base = build_base(data)
    ours, theirs = fork_in_memory(base), fork_in_memory(base)
    for side, labels in (("o", ours), ("t", theirs)):
        for _ in range(data.draw(st.integers(0, 6), label=f"{side} edits")):
            edit(labels, data, side)
    return base, ours, theirs


SETTINGS = settings(max_examples=int(os.environ.get("LEDGER_PROPERTY_EXAMPLES", "300")),
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(data=st.data())
def test_merge_properties(data: st.DataObject) -> None:
    base, ours, theirs = _seeded(data)
    mb, mo, mt = model(base._state), model(ours._state), model(theirs._state)
    before = canonical(ours._state)
    result = merge(ours, theirs)
    assert result.info["mode"] == "three-way"
    d_o, d_t = changed(mb, mo), changed(mb, mt)
    both = {k for k in set(d_o) & set(d_t) if d_o[k] != d_t[k]}
    point_conflicts = {("pt", c.instance, c.node) for c in result.conflicts if c.kind == "point"}
    track_conflicts = {("track", c.instance) for c in result.conflicts if c.kind == "track"}
    # exactly the places both sides touched differently (points and tracks of
    # instances that both sides kept)
    kept = {k for k in both if k[0] in ("pt", "track")
            and mo.get(("inst", k[1])) is not None and mt.get(("inst", k[1])) is not None
            and (k[0] != "pt" or mb.get(("node", k[2])) is not None)}
    node_conflict_nodes = {c.node for c in result.conflicts if c.kind == "node"}
    kept = {k for k in kept if not (k[0] == "pt" and k[2] in node_conflict_nodes)}
    assert {k for k in kept if k[0] == "pt"} == point_conflicts
    assert {k for k in kept if k[0] == "track"} == track_conflicts
    result.resolve_all("ours")
    result.commit("merge")
    merged = model(ours._state)
    conflicted_inst = {c.instance for c in result.conflicts if c.instance is not None}
    conflicted_nodes = {c.node for c in result.conflicts if c.kind == "node"}
    conflicted_frames = {(c.video, c.frame_idx) for c in result.conflicts if c.kind == "frame"}
    # ours' changes are all kept
    for k, v in d_o.items():
        if k[0] == "pt" and mt.get(("node", k[2])) is None and mb.get(("node", k[2])):
            continue  # theirs removed the node; instances ours added lose it too
        if k[0] in ("pt", "track", "node", "sugg"):
            assert merged.get(k) == v, k
    # theirs' non-conflicting changes are all there
    for k, v in d_t.items():
        if k in d_o:
            continue
        if k[0] in ("pt", "track", "inst") and (k[1] in conflicted_inst or (
                k[0] == "pt" and k[2] in conflicted_nodes)):
            continue
        if k[0] in ("pt", "track") and mo.get(("inst", k[1])) is None and \
                mb.get(("inst", k[1])) is not None:
            continue  # ours removed the instance
        if k[0] == "pt" and mo.get(("node", k[2])) is None and mb.get(("node", k[2])):
            continue  # ours removed the node
        if k[0] == "node" and k[1] in conflicted_nodes:
            continue
        if k[0] == "inst" and v is not None and v[0] in conflicted_frames:
            continue
        if k[0] == "frame" and v is None:
            continue  # a frame stays while the other side keeps instances in it
        if k[0] in ("pt", "track") and mt.get(("inst", k[1])) is not None and \
                mb.get(("inst", k[1])) is None and mt[("inst", k[1])][0] in conflicted_frames:
            continue
        assert merged.get(k) == v, (k, merged.get(k), v)
    # replay equals live
    replay = State()
    for rec in ours.history:
        apply_event(replay, rec.event)
    assert canonical(replay) == canonical(ours._state)
    # merging again changes nothing
    again = merge(ours, theirs)
    assert not again.conflicts and not again.events
    # undo of the merge (its replayed transactions and the merge one) restores ours
    for _ in result.transactions:
        ours.undo()
    assert canonical(ours._state) == before


@SETTINGS
@given(data=st.data())
def test_diff_properties(data: st.DataObject) -> None:
    base, ours, theirs = _seeded(data)
    for a, b in ((base, ours), (ours, theirs), (theirs, base)):
        d = diff(a, b)
        state = fork_in_memory(a)._state
        for e in d.events:
            apply_event(state, e)
        assert _sorted(canonical(state)) == _sorted(canonical(b._state))
        assert diff(a, a).is_empty
        assert d.is_empty == (canonical(a._state) == canonical(b._state))
        assert isinstance(d.to_dict()["summary"], dict)


def _sorted(c: dict) -> dict:
    """Canonical picture with instances sorted within frames (an instance keeps
    its slot in a frame for undo, so order within a frame is history-dependent)."""
    c = dict(c)
    c["frames"] = [(v, f, tuple(sorted(insts))) for v, f, insts in c["frames"]]
    return c
