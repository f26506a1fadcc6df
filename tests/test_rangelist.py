"""Tests for `ledger.core.rangelist.RangeList`.

The first part replays SLEAP's own test vectors (``tests/test_rangelist.py`` in
SLEAP, summarised in the reference doc §3), including the quirks SLEAP pins. The
property tests then check every operation against a plain ``set[int]`` model of
the covered integers, and that edits keep the list well-formed (sorted, non-empty,
non-overlapping, non-touching intervals).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.rangelist import RangeList
from ledger.errors import ValidationError

# --------------------------------------------------------------------------- helpers


def covered_set(rl: RangeList) -> set[int]:
    """The integers a range list covers (the model the property tests compare to)."""
    return {i for s, e in rl.list for i in range(s, e)}


def runs_of(values: Iterable[int]) -> list[tuple[int, int]]:
    """The well-formed interval list covering ``values``, built the naive way."""
    runs: list[tuple[int, int]] = []
    for v in sorted(set(values)):
        if runs and runs[-1][1] == v:
            runs[-1] = (runs[-1][0], v + 1)
        else:
            runs.append((v, v + 1))
    return runs


def assert_well_formed(intervals: list[tuple[int, int]]) -> None:
    """Sorted, non-empty, non-overlapping, non-touching intervals of plain ints."""
    for s, e in intervals:
        assert type(s) is int and type(e) is int, intervals
        assert s < e, intervals
    for (_, e1), (s2, _) in pairwise(intervals):
        assert e1 < s2, intervals


SLEAP_START = [(1, 2), (3, 5), (7, 13), (50, 100)]

ints = st.integers(min_value=-30, max_value=70)
index_sets = st.sets(ints, max_size=40)


@st.composite
def intervals(draw: st.DrawFn) -> tuple[int, int]:
    """A non-reversed interval, sometimes empty."""
    a = draw(ints)
    b = draw(st.integers(min_value=a, max_value=a + 25))
    return a, b


# ------------------------------------------------------------- SLEAP test vectors


def test_sleap_vectors_in_sequence() -> None:
    a = RangeList(list(SLEAP_START))
    assert a.list == SLEAP_START
    assert a.cut(8) == ([(1, 2), (3, 5), (7, 8)], [(8, 13), (50, 100)])
    assert a.cut_range((60, 70)) == (
        [(1, 2), (3, 5), (7, 13), (50, 60)],
        [(60, 70)],
        [(70, 100)],
    )
    assert a.list == SLEAP_START  # cutting does not modify

    assert a.insert((10, 20)) == [(1, 2), (3, 5), (7, 20), (50, 100)]
    assert a.insert(range(5, 8)) == [(1, 2), (3, 20), (50, 100)]

    a.remove((5, 8))
    assert a.list == [(1, 2), (3, 5), (8, 20), (50, 100)]

    assert a.start == 1
    a.remove((1, 3))
    assert a.start == 3
    assert a.end == 100


def test_sleap_add_sequence() -> None:
    b = RangeList()
    for v in (1, 2, 4, 5, 6, 9, 10):
        b.add(v)
    assert b.list == [(1, 3), (4, 7), (9, 11)]


def test_sleap_empty_repr_and_insert_list() -> None:
    empty = RangeList()
    assert empty.start is None
    assert empty.end is None
    assert empty.is_empty
    assert empty.cut_range((3, 4)) == ([], [], [])

    empty.insert((1, 2))
    assert str(empty) == "RangeList([(1, 2)])"
    assert repr(empty) == "RangeList([(1, 2)])"
    assert not empty.is_empty

    empty.insert_list([(1, 2), (3, 5), (7, 13), (50, 100)])
    assert empty.list == SLEAP_START


def test_sleap_join_helpers_quirks() -> None:
    # join_ with a single argument returns its *first element*, as SLEAP asserts.
    assert RangeList.join_([(1, 2)]) == (1, 2)
    assert RangeList.join_pair_(list_a=[(1, 2)], list_b=[]) == [(1, 2)]
    assert RangeList.join_pair_(list_a=[], list_b=[(1, 2)]) == [(1, 2)]
    assert RangeList.join_pair_(list_a=[], list_b=[]) == []


def test_join_helpers_general() -> None:
    assert RangeList.join_pair_([(1, 3)], [(3, 5), (8, 9)]) == [(1, 5), (8, 9)]
    assert RangeList.join_pair_([(1, 3)], [(4, 5)]) == [(1, 3), (4, 5)]
    # SLEAP's join takes the first interval's start and the second's end, as is.
    assert RangeList.join_pair_([(1, 9)], [(4, 5)]) == [(1, 5)]
    assert RangeList.join_([[(0, 1)], [(1, 2)], [(2, 3)], [(5, 6)]]) == [(0, 3), (5, 6)]
    with pytest.raises(IndexError):
        RangeList.join_([])
    # Deep inputs do not recurse.
    many = [[(i, i + 1)] for i in range(5000)]
    assert RangeList.join_(many) == [(0, 5000)]


def test_add_is_bug_compatible_with_sleap() -> None:
    shrunk = RangeList([(1, 5)])
    shrunk.add(2)
    assert shrunk.list == [(1, 3)]

    corrupt = RangeList([(5, 6)])
    corrupt.add(1)
    assert corrupt.list == [(5, 2)]


def test_add_tolerance_fills_gaps() -> None:
    rl = RangeList()
    for v in (0, 2, 5):
        rl.add(v, tolerance=1)
    assert rl.list == [(0, 3), (5, 6)]
    rl.add(7, tolerance=2)
    assert rl.list == [(0, 3), (5, 8)]


# ------------------------------------------------------------------ our additions


def test_constructor_keeps_list_object() -> None:
    backing = [(1, 2)]
    rl = RangeList(backing)
    assert rl.list is backing
    rl.add(2)
    assert backing == [(1, 3)]
    assert RangeList().list == []
    assert RangeList().list is not RangeList().list


def test_always_truthy_no_len() -> None:
    assert not hasattr(RangeList, "__len__")
    assert bool(RangeList())
    assert bool(RangeList([(1, 2)]))


def test_equality_and_hash() -> None:
    assert RangeList([(1, 3)]) == RangeList([(1, 3)])
    assert RangeList([(1, 3)]) == RangeList([[1, 3]])  # type: ignore[list-item]
    assert RangeList([(1, 3)]) != RangeList([(1, 4)])
    assert RangeList() == RangeList()
    assert RangeList([(1, 3)]) != [(1, 3)]
    with pytest.raises(TypeError):
        hash(RangeList())


def test_views_and_copy() -> None:
    rl = RangeList([(1, 3), (5, 9)])
    assert rl.intervals == ((1, 3), (5, 9))
    assert rl.covered() == 6
    assert RangeList().covered() == 0
    assert [i for i in range(-1, 11) if rl.contains(i)] == [1, 2, 5, 6, 7, 8]
    assert not RangeList().contains(0)
    dup = rl.copy()
    assert dup == rl and dup.list is not rl.list
    dup.add_index(3)
    assert rl.list == [(1, 3), (5, 9)]
    assert dup.list == [(1, 4), (5, 9)]


def test_add_index_and_remove_index() -> None:
    rl = RangeList()
    for i in (5, 1, 3, 2, 4, 9):
        rl.add_index(i)
    assert rl.list == [(1, 6), (9, 10)]
    rl.add_index(3)  # already covered
    assert rl.list == [(1, 6), (9, 10)]
    rl.remove_index(3)
    assert rl.list == [(1, 3), (4, 6), (9, 10)]
    rl.remove_index(9)
    rl.remove_index(100)
    assert rl.list == [(1, 3), (4, 6)]
    rl.add_index(np.int64(3))  # type: ignore[arg-type]
    assert rl.list == [(1, 6)]
    assert all(type(v) is int for pair in rl.list for v in pair)


def test_degenerate_arguments() -> None:
    rl = RangeList([(1, 5), (8, 10)])
    assert rl.insert((6, 6)) == [(1, 5), (8, 10)]
    rl.remove((3, 3))  # SLEAP would split (1, 5) into touching halves
    assert rl.list == [(1, 5), (8, 10)]
    with pytest.raises(ValidationError):
        rl.insert((5, 2))
    with pytest.raises(ValueError):
        rl.remove((5, 2))
    with pytest.raises(ValidationError):
        rl.insert(range(0, 10, 2))
    with pytest.raises(ValidationError):
        rl.insert((1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rl.insert((1.5, 2))  # type: ignore[arg-type]
    assert rl.list == [(1, 5), (8, 10)]
    assert rl.insert([5, 8]) == [(1, 10)]


def test_insert_and_remove_edit_in_place() -> None:
    backing = [(1, 2), (10, 12)]
    rl = RangeList(backing)
    assert rl.insert((2, 4)) is backing
    rl.remove((11, 12))
    assert rl.list is backing
    assert backing == [(1, 4), (10, 11)]


def test_from_indices_basic() -> None:
    assert RangeList.from_indices(np.array([], dtype=np.int64)) == RangeList()
    assert RangeList.from_indices([]) == RangeList()
    rl = RangeList.from_indices(np.array([0, 1, 2, 5, 7, 8], dtype=np.int32))
    assert rl.list == [(0, 3), (5, 6), (7, 9)]
    assert all(type(v) is int for pair in rl.list for v in pair)
    assert RangeList.from_indices([4]).list == [(4, 5)]
    assert RangeList.from_indices(np.array([1, 2, 9], dtype=np.uint16)).list == [(1, 3), (9, 10)]


@pytest.mark.parametrize(
    "bad",
    [
        np.array([3, 2]),
        np.array([1, 1]),
        np.array([1.0, 2.0]),
        np.array([[1, 2]]),
        np.array([5, 2], dtype=np.uint8),
    ],
)
def test_from_indices_rejects_bad_input(bad: np.ndarray) -> None:
    with pytest.raises(ValidationError):
        RangeList.from_indices(bad)


def test_from_indices_large() -> None:
    rng = np.random.default_rng(0)
    idx = np.flatnonzero(rng.random(600_000) < 0.5)
    assert idx.size > 250_000
    rl = RangeList.from_indices(idx)
    assert_well_formed(rl.list)
    assert rl.covered() == idx.size
    expected = RangeList()
    for i in idx.tolist():
        expected.add(i)
    assert rl == expected


# --------------------------------------------------------------- property tests


@settings(max_examples=300)
@given(index_sets, intervals())
def test_insert_matches_model_and_sleap(values: set[int], new: tuple[int, int]) -> None:
    rl = RangeList(runs_of(values))
    before, _, after = rl.cut_range(new)
    returned = rl.insert(new)
    assert returned is rl.list
    assert_well_formed(rl.list)
    assert covered_set(rl) == values | set(range(*new))
    if new[0] < new[1]:
        # Same intervals as SLEAP's own algorithm: cut, then join the pieces.
        assert rl.list == RangeList.join_([before, [new], after])


@settings(max_examples=300)
@given(index_sets, intervals())
def test_remove_matches_model_and_sleap(values: set[int], gone: tuple[int, int]) -> None:
    rl = RangeList(runs_of(values))
    before, _, after = rl.cut_range(gone)
    rl.remove(gone)
    assert_well_formed(rl.list)
    assert covered_set(rl) == values - set(range(*gone))
    if gone[0] < gone[1]:
        assert rl.list == before + after


@settings(max_examples=300)
@given(index_sets, ints)
def test_add_index_remove_index_contains(values: set[int], i: int) -> None:
    rl = RangeList(runs_of(values))
    assert rl.contains(i) == (i in values)
    assert rl.covered() == len(values)

    added = rl.copy()
    added.add_index(i)
    assert_well_formed(added.list)
    assert covered_set(added) == values | {i}
    assert added.contains(i)

    removed = rl.copy()
    removed.remove_index(i)
    assert_well_formed(removed.list)
    assert covered_set(removed) == values - {i}
    assert not removed.contains(i)

    assert covered_set(rl) == values  # copies are independent


@settings(max_examples=300)
@given(
    index_sets,
    st.lists(
        st.tuples(st.sampled_from(["insert", "remove", "add_index", "remove_index"]), intervals()),
        max_size=30,
    ),
)
def test_random_edit_sequences(values: set[int], ops: list[tuple[str, tuple[int, int]]]) -> None:
    rl = RangeList(runs_of(values))
    model = set(values)
    for op, (a, b) in ops:
        if op == "insert":
            rl.insert((a, b))
            model |= set(range(a, b))
        elif op == "remove":
            rl.remove(range(a, b))
            model -= set(range(a, b))
        elif op == "add_index":
            rl.add_index(a)
            model.add(a)
        else:
            rl.remove_index(a)
            model.discard(a)
        assert_well_formed(rl.list)
        assert covered_set(rl) == model
        assert rl.covered() == len(model)
        assert rl.start == (min(model) if model else None)
        assert rl.end == (max(model) + 1 if model else None)
    assert rl == RangeList(runs_of(model))


@settings(max_examples=300)
@given(index_sets, ints)
def test_cut_matches_model(values: set[int], c: int) -> None:
    rl = RangeList(runs_of(values))
    pre, post = rl.cut(c)
    assert_well_formed(pre)
    assert_well_formed(post)
    assert covered_set(RangeList(pre)) == {v for v in values if v < c}
    assert covered_set(RangeList(post)) == {v for v in values if v >= c}
    assert rl.list == runs_of(values)


@settings(max_examples=300)
@given(index_sets, intervals())
def test_cut_range_matches_model(values: set[int], window: tuple[int, int]) -> None:
    a, b = window
    rl = RangeList(runs_of(values))
    before, within, after = rl.cut_range(window)
    for part in (before, within, after):
        assert_well_formed(part)
    assert covered_set(RangeList(before)) == {v for v in values if v < a}
    assert covered_set(RangeList(within)) == {v for v in values if a <= v < b}
    assert covered_set(RangeList(after)) == {v for v in values if v >= b}


@settings(max_examples=300)
@given(index_sets)
def test_from_indices_equals_add_index_and_add(values: set[int]) -> None:
    ordered = sorted(values)
    by_index = RangeList()
    for v in reversed(ordered):  # any order works for add_index
        by_index.add_index(v)
    by_add = RangeList()
    for v in ordered:  # add only works for increasing values
        by_add.add(v)
    built = RangeList.from_indices(np.array(ordered, dtype=np.int64))
    assert_well_formed(built.list)
    assert built == by_index == by_add == RangeList(runs_of(values))
    assert built.covered() == len(values)


@settings(max_examples=300)
@given(
    st.lists(st.integers(min_value=0, max_value=8), max_size=30),
    st.integers(min_value=0, max_value=3),
)
def test_add_non_decreasing_with_tolerance(steps: list[int], tolerance: int) -> None:
    """For non-decreasing values, add covers each value and fills gaps <= tolerance."""
    rl = RangeList()
    model: set[int] = set()
    v = 0
    for step in steps:
        v += step
        if model and max(model) + 1 + tolerance >= v:
            model |= set(range(max(model) + 1, v + 1))
        model.add(v)
        rl.add(v, tolerance=tolerance)
        assert_well_formed(rl.list)
        assert covered_set(rl) == model


@settings(max_examples=300)
@given(index_sets, index_sets)
def test_equality_is_same_coverage(a: set[int], b: set[int]) -> None:
    assert (RangeList(runs_of(a)) == RangeList(runs_of(b))) == (a == b)
