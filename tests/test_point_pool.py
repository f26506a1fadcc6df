"""The segmented point pool: borrowing without copies, copy-on-write per segment,
allocation that never straddles segments, gathers across segments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.point_pool import NAMES, PointPool


@pytest.fixture()
def small_segments(monkeypatch):
    monkeypatch.setattr(PointPool, "MAX_SEGMENT", 10)


def _columns(n: int, start: float = 0.0) -> dict[str, np.ndarray]:
    x = np.arange(n, dtype=np.float64) + start
    return {"x": x, "y": -x, "visible": np.ones(n, bool), "complete": np.zeros(n, bool),
            "score": x / 10}


def test_borrowed_segments_cut_only_at_block_boundaries(small_segments):
    pool = PointPool()
    offsets = np.array([0, 4, 8, 13, 16, 25, 30])
    base = pool.adopt(_columns(30), offsets)
    assert base == 0 and pool.n == 30
    assert pool.bases == [0, 13, 25]  # first boundary at or after 10, 20
    assert all(seg.shared for seg in pool.segments)
    assert pool.read_block(13, 3)[:, 0].tolist() == [13.0, 14.0, 15.0]


def test_first_write_copies_one_segment_and_never_the_event(small_segments):
    pool = PointPool()
    payload = _columns(30)
    pool.adopt(payload, np.array([0, 4, 8, 13, 16, 25, 30]))
    pool.set(14, 99.0, 98.0, False, True, 0.5)
    assert payload["x"][14] == 14.0  # the event's arrays are untouched
    assert pool.get(14) == (99.0, 98.0, False, True, 0.5)
    assert [seg.shared for seg in pool.segments] == [True, False, True]


def test_alloc_never_straddles_and_grows_only_the_tail(small_segments):
    pool = PointPool()
    pool.adopt(_columns(12), np.array([0, 12]))
    a = pool.alloc(4)
    b = pool.alloc(4)
    c = pool.alloc(4)  # would pass MAX_SEGMENT: a new segment
    assert (a, b, c) == (12, 16, 20)
    for start in (a, b, c):
        seg, i = pool._locate(start)
        assert i + 4 <= seg.n
    assert pool.segments[0].shared  # the borrowed segment was never copied
    big = pool.alloc(25)  # larger than a segment: a segment of its own
    seg, i = pool._locate(big)
    assert i == 0 and seg.n == 25


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=12), st.data())
def test_gather_equals_a_flat_model(sizes, data):
    PointPool.MAX_SEGMENT, saved = 8, PointPool.MAX_SEGMENT
    try:
        pool = PointPool()
        model = {name: [] for name in NAMES}
        starts, lengths = [], []
        for k, n in enumerate(sizes):
            cols = _columns(n, start=100.0 * k)
            if data.draw(st.booleans()):
                g = pool.adopt(cols, np.array([0, n]))
            else:
                g = pool.alloc(n)
                pool.write_columns(g, cols)
            starts.append(g)
            lengths.append(n)
            for name in NAMES:
                model[name].extend(cols[name].tolist())
        order = data.draw(st.permutations(range(len(starts))))
        got, _ = pool.gather(np.array(starts)[order], np.array(lengths)[order])
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        for name in NAMES:
            want = [v for k in order for v in model[name][offsets[k]:offsets[k + 1]]]
            assert got[name].tolist() == want
    finally:
        PointPool.MAX_SEGMENT = saved


def test_snapshot_columns_round_trip(small_segments):
    pool = PointPool()
    pool.adopt(_columns(15), np.array([0, 5, 15]))
    g = pool.alloc(3)
    pool.write_columns(g, _columns(3, start=50.0))
    segments = pool.to_segments()
    again = PointPool()
    again.from_segments(segments)
    assert again.n == pool.n
    assert [sorted(s) for s in again.to_segments()] == [sorted(s) for s in segments]
    assert "origin" in segments[0]  # still borrowed: referred to, not copied
    for g in range(pool.n):
        assert np.array_equal(again.read_block(g, 1), pool.read_block(g, 1), equal_nan=True)
    assert again.read_block(15, 3)[:, 0].tolist() == [50.0, 51.0, 52.0]
    again.write_columns(15, _columns(1, start=7.0))  # borrowed: copied on first write
    assert again.read_block(15, 1)[0, 0] == 7.0 and pool.read_block(15, 1)[0, 0] == 50.0
