"""A sorted list of half-open integer intervals, compatible with SLEAP's ``RangeList``.

SLEAP keeps per-(video, track) *track occupancy* as a ``RangeList``: the frame
indices on which a track has an instance, stored as runs ``(start, end)``. Code
ported from SLEAP (and SLEAP's own tests) pokes at ``.list``, the static helpers
``cut_`` / ``join_`` / ``join_pair_`` and the quirky ``add``, so those keep SLEAP's
exact behaviour, quirks included (see ``add`` and ``join_``).

What differs from SLEAP, and why:

* ``insert`` and ``remove`` find the affected intervals by binary search and
  splice ``.list`` *in place* (SLEAP builds a new list each time). Occupancy
  caches call them once per edit event, so they must be O(log n) plus the splice
  rather than O(n). On a well-formed list the resulting intervals are identical
  to SLEAP's. A consequence: a list object handed to the constructor sees these
  edits (in SLEAP only ``add`` mutated it).
* Degenerate arguments do not silently corrupt the list: an empty range is a
  no-op for ``insert`` / ``remove`` (SLEAP could store an empty ``(a, a)``
  interval or split an interval into two touching halves), a reversed range
  ``(a, b)`` with ``b < a`` and a ``range`` whose step is not 1 raise
  `ValidationError` (a ``ValueError``).
* Endpoints are normalised to plain ``int`` (``operator.index``), so numpy
  integers read from files do not leak into ``.list`` or ``repr``.
* Extra API that SLEAP lacks: ``__eq__``, ``covered``, ``contains``, ``copy``,
  ``intervals``, ``add_index``, ``remove_index`` and ``from_indices``. There is
  deliberately no ``__len__`` (nor ``__bool__``): a ``RangeList`` is always truthy,
  as in SLEAP, so ``if occupancy:`` keeps meaning "is not None".

*Well-formed* means: sorted, every interval non-empty (``start < end``), and
neighbours neither overlap nor touch (``end < next start``). Every method here
keeps a well-formed list well-formed, except the SLEAP-compatible ``add`` when fed
a value smaller than the last one. The binary-search methods assume the list is
well-formed; a list given to the constructor is not checked.
"""

from __future__ import annotations

import operator
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from ledger.errors import ValidationError

__all__ = ["Interval", "RangeLike", "RangeList"]

Interval: TypeAlias = tuple[int, int]
"""A half-open interval ``[start, end)`` of integers."""

RangeLike: TypeAlias = tuple[int, int] | range | Sequence[int]
"""What the interval-taking methods accept: ``(start, end)``, ``[start, end]`` or ``range``."""

_start_of = operator.itemgetter(0)
_end_of = operator.itemgetter(1)


def _as_interval(value: RangeLike) -> Interval:
    """Return ``value`` as an ``(int, int)`` tuple.

    SLEAP accepts a ``range`` anywhere an interval is expected and uses its
    ``start`` / ``stop``. A stepped range does not describe a contiguous run, so it
    is rejected instead of being silently widened.
    """
    if isinstance(value, range):
        if value.step != 1:
            raise ValidationError(f"a range with step {value.step} is not an interval")
        return value.start, value.stop
    try:
        start, end = value
    except (TypeError, ValueError):
        raise ValidationError(f"expected (start, end) or range, got {value!r}") from None
    return operator.index(start), operator.index(end)


def _checked_interval(value: RangeLike) -> Interval:
    """Return ``value`` as an interval, refusing reversed ones.

    ``insert`` and ``remove`` on a reversed interval corrupt the list in SLEAP;
    here they fail before anything changes.
    """
    start, end = _as_interval(value)
    if end < start:
        raise ValidationError(f"interval ({start}, {end}) ends before it starts")
    return start, end


class RangeList:
    """Sorted half-open integer intervals ``(start, end)``, e.g. a track's occupied frames.

    ``.list`` is a plain, public list of tuples, because SLEAP code reads and
    assigns it directly.
    """

    list: list[Interval]

    def __init__(self, range_list: list[Interval] | None = None) -> None:
        """Wrap ``range_list`` (kept, not copied, as in SLEAP) or start empty."""
        self.list = range_list if range_list is not None else []

    def __repr__(self) -> str:
        """``RangeList([(1, 3), ...])``; SLEAP's tests compare ``str()`` against this."""
        return f"{type(self).__name__}({self.list!r})"

    def __eq__(self, other: object) -> bool:
        """Equal when both cover the same intervals (SLEAP compares by identity).

        Defining equality makes instances unhashable, which suits a mutable value.
        """
        if not isinstance(other, RangeList):
            return NotImplemented
        return self.intervals == other.intervals

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ views

    @property
    def is_empty(self) -> bool:
        """True when there are no intervals."""
        return len(self.list) == 0

    @property
    def start(self) -> int | None:
        """Start of the first interval, or ``None`` when empty."""
        if not self.list:
            return None
        return self.list[0][0]

    @property
    def end(self) -> int | None:
        """End of the last interval, or ``None`` when empty."""
        if not self.list:
            return None
        return self.list[-1][1]

    @property
    def intervals(self) -> tuple[Interval, ...]:
        """An immutable snapshot of the intervals, safe to keep or hash."""
        return tuple((s, e) for s, e in self.list)

    def covered(self) -> int:
        """Number of integers covered, e.g. how many frames a track occupies."""
        return sum(e - s for s, e in self.list)

    def contains(self, index: int) -> bool:
        """Whether ``index`` lies in some interval; O(log n)."""
        index = operator.index(index)
        pos = bisect_right(self.list, index, key=_start_of) - 1
        return pos >= 0 and index < self.list[pos][1]

    def copy(self) -> RangeList:
        """An independent copy; the constructor would share the list."""
        return type(self)(list(self.list))

    # --------------------------------------------------------------- cutting

    @staticmethod
    def cut_(range_list: Sequence[Interval], cut: int) -> tuple[list[Interval], list[Interval]]:
        """Split ``range_list`` at ``cut`` into ``(pre, post)``.

        Intervals ending at or before ``cut`` go to ``pre``, those starting at or
        after it go to ``post``, and one straddling it is split into ``(s, cut)``
        and ``(cut, e)``. A linear scan, exactly as in SLEAP, so it behaves the
        same on lists that are not well-formed.
        """
        pre: list[Interval] = []
        post: list[Interval] = []
        for interval in range_list:
            start, end = interval
            if end <= cut:
                pre.append(interval)
            elif start >= cut:
                post.append(interval)
            else:
                pre.append((start, cut))
                post.append((cut, end))
        return pre, post

    def cut(self, cut: int) -> tuple[list[Interval], list[Interval]]:
        """``cut_`` applied to this list; the list itself is not changed."""
        return self.cut_(self.list, cut)

    def cut_range(self, cut: RangeLike) -> tuple[list[Interval], list[Interval], list[Interval]]:
        """Split into the parts ``(before, within, after)`` the interval ``cut``.

        Used by track swapping to take the occupancy inside a frame range. An
        empty list gives ``([], [], [])`` without looking at ``cut``, as in SLEAP.
        """
        if not self.list:
            return [], [], []
        first, last = _as_interval(cut)
        before, rest = self.cut_(self.list, first)
        within, after = self.cut_(rest, last)
        return before, within, after

    # --------------------------------------------------------------- editing

    def insert(self, new_range: RangeLike) -> list[Interval]:
        """Cover ``new_range`` and return ``.list``.

        Whatever overlaps the new interval is absorbed, and neighbours that merely
        touch it are joined, so ``[(1, 2)]`` plus ``(2, 3)`` is ``[(1, 3)]``. Binary
        search plus one splice: called per event by occupancy caches.
        """
        start, end = _checked_interval(new_range)
        if start == end:
            return self.list
        items = self.list
        # First interval whose end reaches ``start`` (overlapping or touching) ...
        lo = bisect_left(items, start, key=_end_of)
        # ... up to the last one whose start is at most ``end``.
        hi = bisect_right(items, end, lo=lo, key=_start_of)
        if lo < hi:
            start = min(start, items[lo][0])
            end = max(end, items[hi - 1][1])
        items[lo:hi] = [(start, end)]
        return items

    def insert_list(self, range_list: Sequence[RangeLike]) -> list[Interval]:
        """Insert each interval of ``range_list`` in turn; return ``.list``."""
        for interval in range_list:
            self.insert(interval)
        return self.list

    def remove(self, remove: RangeLike) -> None:
        """Uncover everything in ``remove``, splitting intervals at its edges.

        Binary search plus one splice, like ``insert``.
        """
        start, end = _checked_interval(remove)
        if start == end:
            return
        items = self.list
        # Intervals that share at least one integer with [start, end).
        lo = bisect_right(items, start, key=_end_of)
        hi = bisect_left(items, end, lo=lo, key=_start_of)
        if lo == hi:
            return
        kept: list[Interval] = []
        first_start = items[lo][0]
        last_end = items[hi - 1][1]
        if first_start < start:
            kept.append((first_start, start))
        if last_end > end:
            kept.append((end, last_end))
        items[lo:hi] = kept

    def add(self, val: int, tolerance: int = 0) -> None:
        """Append ``val`` to the *end* of the list, SLEAP's way (bug-compatible).

        Designed for increasing values, as in SLEAP's occupancy rebuild: if the
        last interval ends at or after ``val - tolerance`` it becomes
        ``(last start, val + 1)``, otherwise ``(val, val + 1)`` is appended. So
        ``tolerance`` fills gaps of up to that many integers.

        A value *smaller* than earlier ones shrinks or corrupts the last interval,
        exactly as in SLEAP (whose tests pin this): ``[(1, 5)].add(2)`` leaves
        ``(1, 3)`` and ``[(5, 6)].add(1)`` leaves the reversed ``(5, 2)``. Use
        `add_index` to add an index anywhere.
        """
        val = operator.index(val)
        items = self.list
        if items and items[-1][1] + tolerance >= val:
            items[-1] = (items[-1][0], val + 1)
        else:
            items.append((val, val + 1))

    def add_index(self, index: int) -> None:
        """Cover the single integer ``index`` wherever it lies, joining neighbours.

        The correct counterpart of `add`, used by our occupancy caches; O(log n).
        """
        index = operator.index(index)
        self.insert((index, index + 1))

    def remove_index(self, index: int) -> None:
        """Uncover the single integer ``index``, splitting its interval; O(log n)."""
        index = operator.index(index)
        self.remove((index, index + 1))

    # ------------------------------------------------------- static helpers

    @staticmethod
    def join_(list_list: Sequence[list[Interval]]) -> Any:
        """Concatenate range lists left to right, joining each seam with `join_pair_`.

        SLEAP quirk kept on purpose (SLEAP's tests assert it): with exactly one
        argument the *first element of it* is returned unchanged, so
        ``join_([(1, 2)]) == (1, 2)``. An empty argument raises ``IndexError``.
        Iterative rather than recursive, so long inputs cannot hit the recursion
        limit; the result is the same as SLEAP's right-nested joins.
        """
        if len(list_list) == 1:
            return list_list[0]
        if not list_list:
            raise IndexError("join_ needs at least one list")
        joined = list_list[-1]
        for left in reversed(list_list[:-1]):
            joined = RangeList.join_pair_(left, joined)
        return joined

    @staticmethod
    def join_pair_(list_a: list[Interval], list_b: list[Interval]) -> list[Interval]:
        """Concatenate two range lists, merging ``a``'s last and ``b``'s first interval.

        They merge into ``(a_last start, b_first end)`` when ``a_last`` reaches
        ``b_first``'s start, as in SLEAP (which assumes ``a`` lies before ``b``).
        Always returns a new list.
        """
        if not list_a or not list_b:
            return list_a + list_b
        last_a = list_a[-1]
        first_b = list_b[0]
        if last_a[1] >= first_b[0]:
            return [*list_a[:-1], (last_a[0], first_b[1]), *list_b[1:]]
        return list_a + list_b

    # ------------------------------------------------------------ building

    @classmethod
    def from_indices(cls, indices: npt.ArrayLike) -> RangeList:
        """Build the runs of a sorted, duplicate-free integer array, vectorised.

        Equivalent to calling `add_index` for each value, but done with numpy so
        rebuilding occupancy for hundreds of thousands of frames is fast.
        Raises `ValidationError` if the input is not 1-D, not integer, or not
        strictly increasing.
        """
        arr = np.asarray(indices)
        if arr.ndim != 1:
            raise ValidationError(f"indices must be 1-D, got shape {arr.shape}")
        if arr.size == 0:
            return cls()
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValidationError(f"indices must be integers, got dtype {arr.dtype}")
        # Compare rather than subtract so unsigned dtypes cannot wrap around.
        if not np.all(arr[1:] > arr[:-1]):
            raise ValidationError("indices must be sorted and free of duplicates")
        # Strictly increasing, so these differences are positive even when unsigned.
        breaks = np.flatnonzero(arr[1:] - arr[:-1] != 1) + 1
        starts = arr[np.concatenate(([0], breaks))].tolist()
        last_of_run = arr[np.concatenate((breaks - 1, [arr.size - 1]))].tolist()
        return cls([(s, e + 1) for s, e in zip(starts, last_of_run, strict=True)])
