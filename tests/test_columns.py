"""Array helpers of `ledger.core.columns`: each equals its plain numpy definition."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.columns import distinct, ranges_to_index


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 20_000), values=st.lists(st.integers(-2**62, 2**62), min_size=1,
                                                 max_size=12),
       rare=st.integers(0, 3), seed=st.integers(0, 2**32 - 1))
def test_distinct_is_np_unique(n: int, values: list[int], rare: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    arr = np.asarray(values, dtype=np.int64)[rng.integers(0, len(values), n)]
    if n:
        # a few rows with values the sample is unlikely to see
        arr[rng.integers(0, n, rare)] = rng.integers(-2**62, 2**62, rare)
    np.testing.assert_array_equal(distinct(arr), np.unique(arr))


def test_distinct_sees_a_single_odd_row() -> None:
    arr = np.zeros(100_000, np.int64)
    arr[77_777] = 5
    np.testing.assert_array_equal(distinct(arr), [0, 5])


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 20)), max_size=50))
def test_ranges_to_index_concatenates_ranges(pairs: list[tuple[int, int]]) -> None:
    starts = np.array([s for s, _ in pairs], dtype=np.int64)
    lengths = np.array([k for _, k in pairs], dtype=np.int64)
    expected = [i for s, k in pairs for i in range(s, s + k)]
    np.testing.assert_array_equal(ranges_to_index(starts, lengths), expected)
