"""The SLEAP data model (reference §1): nodes, skeletons, points, instances, tracks,
frames. Expected values come from the reference, not from running the code."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ledger import (
    Instance,
    LabeledFrame,
    Node,
    Point,
    PredictedInstance,
    PredictedPoint,
    Skeleton,
    SuggestionFrame,
    Track,
)
from ledger.errors import LedgerError

NAN = math.nan


# --------------------------------------------------------------------------- Node


def test_node_equality_is_identity_and_matches_is_by_value():
    a1, a2 = Node("a"), Node("a")
    assert a1 != a2
    assert a1 == a1
    assert len({a1, a2}) == 2  # distinct keys everywhere
    assert a1.matches(a2)
    assert not a1.matches(Node("a", weight=2.0))
    assert not a1.matches(Node("b"))
    assert Node("x").weight == 1.0


# --------------------------------------------------------------------------- Skeleton


def test_skeleton_node_order_is_insertion_order():
    s = Skeleton("s")
    s.add_nodes(["c", "a", "b"])
    assert s.node_names == ["c", "a", "b"]
    assert [n.name for n in s.nodes] == ["c", "a", "b"]
    assert s != Skeleton("s")  # identity


def test_add_edge_reverse_direction_allowed_and_order_is_insertion_order():
    s = Skeleton()
    s.add_nodes(["a", "b", "c"])
    s.add_edge("c", "b")
    s.add_edge("a", "b")
    s.add_edge("b", "a")  # reverse of an existing edge is a different edge
    assert s.edge_inds == [(2, 1), (0, 1), (1, 0)]
    assert s.edge_names == [("c", "b"), ("a", "b"), ("b", "a")]
    assert [(x.name, y.name) for x, y in s.edges] == s.edge_names


def test_add_edge_by_node_object():
    s = Skeleton()
    s.add_nodes(["a", "b"])
    na, nb = s.nodes
    s.add_edge(na, nb)
    assert s.edge_inds == [(0, 1)]


def test_add_edge_duplicate_raises_value_error():
    s = Skeleton.from_names_and_edge_inds(["a", "b"], [(0, 1)])
    with pytest.raises(ValueError):
        s.add_edge("a", "b")
    assert s.edge_inds == [(0, 1)]


def test_add_edge_missing_node_raises_ledger_error():
    s = Skeleton.from_names_and_edge_inds(["a", "b"], [])
    with pytest.raises(LedgerError):
        s.add_edge("a", "zzz")
    with pytest.raises(LedgerError):
        s.add_edge("zzz", "a")
    assert s.edge_inds == []


def test_add_edge_missing_node_raises_value_error_like_sleap():
    s = Skeleton.from_names_and_edge_inds(["a", "b"], [])
    with pytest.raises(ValueError):
        s.add_edge("a", "zzz")


def test_symmetry_rules():
    s = Skeleton()
    s.add_nodes(["lw", "rw", "la", "ra", "head"])
    s.add_symmetry("rw", "lw")
    # both directions
    assert s.get_symmetry("lw").name == "rw"
    assert s.get_symmetry("rw").name == "lw"
    assert s.get_symmetry("head") is None
    # a node symmetric to itself is refused
    with pytest.raises(ValueError):
        s.add_symmetry("head", "head")
    # at most one partner per node (either side)
    with pytest.raises(ValueError):
        s.add_symmetry("lw", "la")
    with pytest.raises(ValueError):
        s.add_symmetry("la", "rw")
    s.add_symmetry("la", "ra")
    pairs = sorted(tuple(n.name for n in p) for p in s.symmetries)
    # each pair sorted by node name, de-duplicated
    assert pairs == [("la", "ra"), ("lw", "rw")]
    # symmetries are not body edges
    assert s.edge_inds == []
    s.delete_symmetry("lw", "rw")
    assert s.get_symmetry("lw") is None and s.get_symmetry("rw") is None
    assert [tuple(n.name for n in p) for p in s.symmetries] == [("la", "ra")]


def test_from_names_and_edge_inds():
    s = Skeleton.from_names_and_edge_inds(["h", "t", "x"], [(0, 1), (2, 1)])
    assert s.node_names == ["h", "t", "x"]
    assert s.edge_inds == [(0, 1), (2, 1)]
    assert s.edge_names == [("h", "t"), ("x", "t")]


def test_skeleton_name_cannot_be_set():
    s = Skeleton("fly")
    with pytest.raises(NotImplementedError):
        s.name = "other"
    assert s.name == "fly"


def test_skeleton_matches():
    a = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1), (1, 2)], name="one")
    b = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1), (1, 2)], name="two")
    assert a.matches(b) and b.matches(a)  # name ignored, different objects fine
    reordered = Skeleton.from_names_and_edge_inds(["b", "a", "c"], [(1, 0), (0, 2)])
    assert not a.matches(reordered)  # node names must agree position by position
    renamed = Skeleton.from_names_and_edge_inds(["a", "b", "d"], [(0, 1), (1, 2)])
    assert not a.matches(renamed)
    fewer_edges = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1)])
    assert not a.matches(fewer_edges)
    more_nodes = Skeleton.from_names_and_edge_inds(["a", "b", "c", "d"], [(0, 1), (1, 2)])
    assert not a.matches(more_nodes)


def test_delete_and_relabel_node_free_skeleton():
    s = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1), (1, 2)])
    node_b = s.nodes[1]
    s.relabel_node("b", "bee")
    assert s.nodes[1] is node_b and node_b.name == "bee"  # identity kept
    s.delete_node("a")
    assert s.node_names == ["bee", "c"]
    assert s.edge_inds == [(0, 1)]


# --------------------------------------------------------------------------- Points


def test_point_defaults():
    p = Point()
    assert math.isnan(p.x) and math.isnan(p.y)
    assert p.visible is True and p.complete is False
    pp = PredictedPoint(1, 2)
    assert pp.score == 0.0 and pp.visible is True and pp.complete is False


def test_point_equality_field_by_field():
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert Point(1, 2, visible=False) != Point(1, 2)
    assert Point(1, 2, complete=True) != Point(1, 2)
    assert PredictedPoint(1, 2, score=0.5) == PredictedPoint(1, 2, score=0.5)
    assert PredictedPoint(1, 2, score=0.5) != PredictedPoint(1, 2, score=0.6)


def test_point_and_predicted_point_never_equal():
    assert Point(1, 2) != PredictedPoint(1, 2)
    assert PredictedPoint(1, 2) != Point(1, 2)


def test_nan_points_are_not_equal():
    # distinct NaN float objects (as produced by arithmetic or file reads)
    assert Point(float("nan"), 1.0) != Point(float("nan"), 1.0)
    assert PredictedPoint(float("nan"), float("nan")) != PredictedPoint(float("nan"),
                                                                        float("nan"))


def test_default_nan_points_are_not_equal():
    assert Point() != Point()
    assert Point(NAN, NAN) != Point(NAN, NAN)
    assert PredictedPoint() != PredictedPoint()


# --------------------------------------------------------------------------- Instance


def test_instance_points_by_name_and_by_node(skel):
    a, b, c = skel.nodes
    by_name = Instance(skel, {"a": Point(1, 2), "c": Point(5, 6)})
    by_node = Instance(skel, {a: Point(1, 2), c: Point(5, 6)})
    for inst in (by_name, by_node):
        arr = inst.numpy()
        assert arr.shape == (3, 2)
        np.testing.assert_array_equal(arr[0], [1, 2])
        assert np.isnan(arr[1]).all()
        np.testing.assert_array_equal(arr[2], [5, 6])
        assert inst["a"] == Point(1, 2)
        assert inst[c] == Point(5, 6)


def test_instance_unknown_name_raises_key_error(skel):
    with pytest.raises(KeyError):
        Instance(skel, {"nope": Point(1, 2)})


def test_instance_unknown_node_object_silently_ignored(skel):
    stranger = Node("a")  # same name, different object, not in the skeleton
    inst = Instance(skel, {stranger: Point(1, 2), "b": Point(3, 4)})
    assert np.isnan(inst.numpy()[0]).all()
    np.testing.assert_array_equal(inst.numpy()[1], [3, 4])


def test_instance_wrong_array_length_raises_value_error(skel):
    with pytest.raises(ValueError):
        Instance(skel, np.zeros((2, 2)))
    with pytest.raises(ValueError):
        Instance(skel, np.zeros((4, 2)))
    with pytest.raises(ValueError):
        Instance(skel, np.zeros((0, 2)))
    with pytest.raises(ValueError):
        Instance.from_numpy(np.zeros((2, 2)), skel)


def test_instance_empty_points_all_nan(skel):
    for inst in (Instance(skel), Instance(skel, {}), Instance(skel, None)):
        assert np.isnan(inst.numpy()).all()
        assert inst.points == []
        assert inst.nodes == []
        assert len(inst) == 0
        assert not inst


def test_instance_requires_skeleton():
    with pytest.raises(ValueError):
        Instance(None)


def test_from_predicted_type_check(skel):
    pred = PredictedInstance(skel, {"a": Point(1, 1)}, score=0.5)
    user = Instance(skel, {"a": Point(1, 1)})
    with pytest.raises(TypeError):
        Instance(skel, from_predicted=user)
    with pytest.raises(TypeError):
        Instance(skel, from_predicted="x")
    ok = Instance(skel, from_predicted=pred)
    assert ok.from_predicted is pred
    with pytest.raises(TypeError):
        ok.from_predicted = user
    assert ok.from_predicted is pred
    with pytest.raises(ValueError):
        PredictedInstance(skel, from_predicted=pred)


def test_predicted_point_in_user_instance_becomes_point(skel):
    inst = Instance(skel, {"a": PredictedPoint(1, 2, score=0.9)})
    assert type(inst["a"]) is Point
    assert inst["a"] == Point(1, 2)


def test_numpy_nan_for_invisible_but_coordinates_kept(skel):
    inst = Instance(skel, {"a": Point(1, 2), "b": Point(3, 4, visible=False)})
    arr = inst.numpy()
    np.testing.assert_array_equal(arr[0], [1, 2])
    assert np.isnan(arr[1]).all()  # invisible -> NaN
    assert np.isnan(arr[2]).all()  # missing -> NaN
    assert inst["b"].x == 3 and inst["b"].y == 4 and inst["b"].visible is False


def test_truthiness_counts_visible_non_nan(skel):
    only_invisible = Instance(skel, {"a": Point(1, 2, visible=False)})
    assert len(only_invisible) == 0
    assert not only_invisible
    two = Instance(skel, {"a": Point(1, 2), "b": Point(3, 4), "c": Point(5, 6, visible=False)})
    assert len(two) == 2
    assert two
    # points/nodes list labelled (non-NaN) points, invisible ones included, in skeleton order
    assert [n.name for n in two.nodes] == ["a", "b", "c"]
    assert len(two.points) == 3


def test_points_and_nodes_in_skeleton_order(skel):
    inst = Instance(skel, {"c": Point(5, 6), "a": Point(1, 2)})
    assert [n.name for n in inst.nodes] == ["a", "c"]
    assert inst.points == [Point(1, 2), Point(5, 6)]


def test_instance_equality_is_identity(skel):
    a = Instance(skel, {"a": Point(1, 2)})
    b = Instance(skel, {"a": Point(1, 2)})
    assert a != b
    assert a == a


def test_instance_from_numpy(skel):
    inst = Instance.from_numpy(np.array([[1, 2], [NAN, NAN], [5, 6]]), skel, track=Track(0, "t"))
    assert [n.name for n in inst.nodes] == ["a", "c"]
    assert inst.track.name == "t"
    assert type(inst) is Instance


def test_predicted_instance_from_numpy(skel):
    pts = np.array([[1, 2], [3, 4], [NAN, NAN]])
    pi = PredictedInstance.from_numpy(pts, np.array([0.1, 0.2, 0.3]), 0.75, skel,
                                      tracking_score=0.4)
    assert type(pi) is PredictedInstance
    assert pi.score == 0.75
    assert pi.tracking_score == 0.4
    assert pi["a"] == PredictedPoint(1, 2, score=0.1)
    assert pi["b"] == PredictedPoint(3, 4, score=0.2)
    assert len(pi) == 2
    np.testing.assert_array_equal(pi.numpy()[:2], pts[:2])
    with pytest.raises(ValueError):
        PredictedInstance.from_numpy(np.zeros((2, 2)), np.zeros(2), 0.5, skel)


def test_predicted_instance_defaults(skel):
    pi = PredictedInstance(skel, {"a": PredictedPoint(1, 1, score=0.3)})
    assert pi.score == 0.0 and pi.tracking_score == 0.0
    assert pi.from_predicted is None
    assert isinstance(pi, Instance)


# --------------------------------------------------------------------------- matches


def _in_frame(video, idx, *insts):
    return LabeledFrame(video, idx, list(insts))


def test_matches_requires_same_exact_class(skel):
    u = Instance(skel, {"a": Point(1, 2)})
    p = PredictedInstance(skel, {"a": Point(1, 2)})
    assert not u.matches(p)
    assert not p.matches(u)


def test_matches_points_in_sequence_node_identity_not_checked(skel):
    on_a = Instance(skel, {"a": Point(1, 2)})
    on_b = Instance(skel, {"b": Point(1, 2)})
    assert on_a.matches(on_b)  # verified SLEAP quirk: which node is not compared
    assert on_b.matches(on_a)
    two = Instance(skel, {"a": Point(1, 2), "b": Point(3, 4)})
    assert not on_a.matches(two)


def test_matches_compares_visible_and_complete(skel):
    base = Instance(skel, {"a": Point(1, 2)})
    assert not base.matches(Instance(skel, {"a": Point(1, 2, visible=False)}))
    assert not base.matches(Instance(skel, {"a": Point(1, 2, complete=True)}))
    assert not base.matches(Instance(skel, {"a": Point(1, 2.5)}))


def test_matches_point_score_compared_instance_score_not(skel):
    p1 = PredictedInstance(skel, {"a": PredictedPoint(1, 2, score=0.5)}, score=0.1,
                           tracking_score=0.2)
    p2 = PredictedInstance(skel, {"a": PredictedPoint(1, 2, score=0.5)}, score=0.9,
                           tracking_score=0.8)
    assert p1.matches(p2)  # verified: only the instance score differs
    p3 = PredictedInstance(skel, {"a": PredictedPoint(1, 2, score=0.6)}, score=0.1)
    assert not p1.matches(p3)


def test_matches_skeletons_by_value(skel):
    same = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1), (1, 2)], name="other")
    diff = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1)])
    inst = Instance(skel, {"a": Point(1, 2)})
    assert inst.matches(Instance(same, {"a": Point(1, 2)}))
    assert not inst.matches(Instance(diff, {"a": Point(1, 2)}))


def test_matches_tracks(skel):
    def mk(track):
        return Instance(skel, {"a": Point(1, 2)}, track=track)

    assert mk(None).matches(mk(None))
    assert not mk(None).matches(mk(Track(0, "t")))
    assert not mk(Track(0, "t")).matches(mk(None))
    assert mk(Track(0, "t")).matches(mk(Track(0, "t")))  # different objects fine
    assert not mk(Track(0, "t")).matches(mk(Track(0, "u")))
    assert not mk(Track(0, "t")).matches(mk(Track(3, "t")))


def test_matches_frame_idx_but_not_video_nor_from_predicted(skel, video, video2):
    pred = PredictedInstance(skel, {"a": Point(9, 9)})
    a = Instance(skel, {"a": Point(1, 2)})
    b = Instance(skel, {"a": Point(1, 2)}, from_predicted=pred)
    assert a.matches(b)  # both outside frames: frame_idx None == None
    _in_frame(video, 3, a)
    assert not a.matches(b)  # 3 vs None
    _in_frame(video2, 3, b)
    assert a.matches(b)  # same frame_idx, different video: video not compared
    c = Instance(skel, {"a": Point(1, 2)})
    _in_frame(video, 4, c)
    assert not a.matches(c)


def test_matches_ignores_nan_points(skel):
    a = Instance(skel, np.array([[1, 2], [NAN, NAN], [NAN, NAN]]))
    b = Instance(skel, np.array([[NAN, NAN], [NAN, NAN], [1, 2]]))
    assert a.matches(b)
    assert Instance(skel).matches(Instance(skel))  # no points on either side


# --------------------------------------------------------------------------- Track


def test_track_identity_and_matches():
    t1, t2 = Track(0, "x"), Track(0, "x")
    assert t1 != t2
    assert t1.matches(t2)
    assert not t1.matches(Track(1, "x"))
    assert not t1.matches(Track(0, "y"))
    t = Track()
    assert t.spawned_on == 0 and t.name == ""
    assert Track("5", 7).spawned_on == 5 and Track("5", 7).name == "7"  # converters


# --------------------------------------------------------------------------- LabeledFrame


def test_frame_backreference_and_int_converter(skel, video):
    inst = Instance(skel, {"a": Point(1, 1)})
    lf = LabeledFrame(video, np.int64(7), [inst])
    assert type(lf.frame_idx) is int and lf.frame_idx == 7
    assert inst.frame is lf
    assert inst.frame_idx == 7
    assert inst.video is video
    assert lf != LabeledFrame(video, 7)  # identity


def test_frame_user_and_predicted_exact_types(skel, video):
    u = Instance(skel, {"a": Point(1, 1)})
    p = PredictedInstance(skel, {"a": Point(2, 2)})
    lf = LabeledFrame(video, 0, [p, u])
    assert lf.user_instances == [u]
    assert lf.predicted_instances == [p]
    assert lf.has_user_instances and lf.has_predicted_instances
    assert lf.n_user_instances == 1 and lf.n_predicted_instances == 1
    empty = LabeledFrame(video, 1)
    assert empty.user_instances == [] and not empty.has_user_instances


def test_training_and_tracked_instances(skel, video):
    t = Track(0, "t")
    visible = Instance(skel, {"a": Point(1, 1)})
    invisible = Instance(skel, {"a": Point(1, 1, visible=False)})
    tracked = PredictedInstance(skel, {"a": Point(2, 2)}, track=t)
    untracked = PredictedInstance(skel, {"a": Point(3, 3)})
    lf = LabeledFrame(video, 0, [visible, invisible, tracked, untracked])
    assert lf.training_instances == [visible]
    assert lf.tracked_instances == [tracked]


def test_unused_predictions_by_from_predicted(skel, video):
    p1 = PredictedInstance(skel, {"a": Point(1, 1)})
    p2 = PredictedInstance(skel, {"a": Point(2, 2)})
    u = Instance(skel, {"a": Point(1, 1)}, from_predicted=p1)
    lf = LabeledFrame(video, 0, [p1, p2, u])
    assert lf.unused_predictions == [p2]


def test_unused_predictions_by_track_when_any_tracked(skel, video):
    t1, t2 = Track(0, "1"), Track(0, "2")
    p1 = PredictedInstance(skel, {"a": Point(1, 1)}, track=t1)
    p2 = PredictedInstance(skel, {"a": Point(2, 2)}, track=t2)
    p3 = PredictedInstance(skel, {"a": Point(3, 3)})
    # from_predicted points at p2, but tracks decide because the frame has tracks
    u = Instance(skel, {"a": Point(1, 1)}, track=t1, from_predicted=p2)
    lf = LabeledFrame(video, 0, [p1, p2, p3, u])
    unused = lf.unused_predictions
    assert p1 not in unused
    assert p2 in unused and p3 in unused


def test_frame_find(skel, video):
    t1, t2 = Track(0, "1"), Track(0, "2")
    u1 = Instance(skel, {"a": Point(1, 1)}, track=t1)
    u0 = Instance(skel, {"a": Point(2, 2)})
    p1 = PredictedInstance(skel, {"a": Point(3, 3)}, track=t1)
    p0 = PredictedInstance(skel, {"a": Point(4, 4)})
    lf = LabeledFrame(video, 0, [u1, u0, p1, p0])
    assert lf.find() == [u1, u0, p1, p0]
    assert lf.find(track=-1) == [u1, u0, p1, p0]
    assert lf.find(track=None) == [u0, p0]
    assert lf.find(track=t1) == [u1, p1]
    assert lf.find(track=Track(0, "1")) == []  # identity, not value
    assert lf.find(track=t2) == []
    assert lf.find(user=True) == [u1, u0]
    assert lf.find(track=None, user=True) == [u0]


def test_frame_numpy_shapes(skel, video):
    assert LabeledFrame(video, 0).numpy().shape == (0, 0, 2)
    lf = LabeledFrame(video, 0, [Instance(skel, {"a": Point(1, 2)}),
                                 PredictedInstance(skel, {"c": Point(5, 6)})])
    arr = lf.numpy()
    assert arr.shape == (2, 3, 2)
    np.testing.assert_array_equal(arr[0, 0], [1, 2])
    np.testing.assert_array_equal(arr[1, 2], [5, 6])
    assert np.isnan(arr[0, 1:]).all()


def test_instances_to_show_sorted_by_spawned_on_untracked_last(skel, video):
    late, early = Track(9, "late"), Track(1, "early")
    u_none = Instance(skel, {"a": Point(1, 1)})
    u_late = Instance(skel, {"a": Point(2, 2)}, track=late)
    p_early = PredictedInstance(skel, {"a": Point(3, 3)}, track=early)
    lf = LabeledFrame(video, 0, [u_none, u_late, p_early])
    assert lf.instances_to_show == [p_early, u_late, u_none]


def test_suggestion_frame_value_equality_and_unhashable(video, video2):
    assert SuggestionFrame(video, 3) == SuggestionFrame(video, 3)
    assert SuggestionFrame(video, 3) != SuggestionFrame(video2, 3)
    assert SuggestionFrame(video, 3) != SuggestionFrame(video, 4)
    assert SuggestionFrame(video, 3, group=1) != SuggestionFrame(video, 3)
    assert SuggestionFrame(video, 3).group is None
    with pytest.raises(TypeError):
        hash(SuggestionFrame(video, 3))


# --------------------------------------------------------------------------- free instances
# SLEAP's Instance._fix_array adapts an instance to later skeleton edits: points
# follow their *node* (deleted node's point dropped, new nodes NaN), reference §1.2.


def test_free_instance_follows_skeleton_node_edits():
    s = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1)])
    inst = Instance(s, {"a": Point(1, 2), "c": Point(5, 6)})
    s.add_node("d")
    assert inst.numpy().shape == (4, 2)
    assert np.isnan(inst.numpy()[3]).all()
    s.delete_node("a")
    assert [n.name for n in inst.nodes] == ["c"]
    assert inst["c"] == Point(5, 6)
