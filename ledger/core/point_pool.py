"""The point pool: every instance's points, in segments.

A global point index is a segment's base plus an offset; an instance's block of
points never straddles two segments. Segments come in two kinds:

- *borrowed*: the point columns of an immutable bulk event (an import, a merge),
  taken without copying and split into segments of at most ``MAX_SEGMENT`` points.
  The first write into one copies that segment only, so editing a freshly loaded
  300,000-frame project costs a few megabytes, not the whole pool;
- *owned*: where points added one by one go. The tail segment grows by doubling up
  to ``MAX_SEGMENT`` points, then a new one starts, so no growth ever copies more
  than one segment.

Appending a large batch (a merge) therefore costs its own size, never the size of
what is already there.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import numpy as np

from ledger.core.columns import POINT_COLUMNS, Columns, ranges_to_index

NAMES = tuple(POINT_COLUMNS)


class PointPool:
    MAX_SEGMENT = 1 << 20

    def __init__(self) -> None:
        self.bases: list[int] = []
        self.segments: list[Columns] = []
        # for borrowed segments: the event's whole arrays and where the segment
        # starts in them, so that neighbours cut from one array read as one view
        self.origins: list[tuple[dict[str, np.ndarray] | None, int]] = []
        self.n = 0  # end of the global index space

    # ----------------------------------------------------------------- layout

    def _locate(self, g: int) -> tuple[Columns, int]:
        k = bisect_right(self.bases, g) - 1
        return self.segments[k], g - self.bases[k]

    def _new_segment(self, seg: Columns, origin: dict[str, np.ndarray] | None = None,
                     offset: int = 0) -> int:
        base = self.n
        self.bases.append(base)
        self.segments.append(seg)
        self.origins.append((origin, offset))
        self.n = base + seg.n
        return base

    def alloc(self, n: int) -> int:
        """Room for ``n`` points in one owned segment; the first global index."""
        tail = self.segments[-1] if self.segments else None
        if tail is not None and not tail.shared and self.bases[-1] + tail.n == self.n and (
                tail.n + n <= self.MAX_SEGMENT):
            start = tail.reserve(n)
            self.n = self.bases[-1] + tail.n
            return self.bases[-1] + start
        seg = Columns(POINT_COLUMNS, capacity=max(min(2 * n, self.MAX_SEGMENT), n, 64))
        seg.reserve(n)
        return self._new_segment(seg)

    def adopt(self, arrays: dict[str, np.ndarray], offsets: np.ndarray) -> int:
        """Borrow an event's point columns (no copy); ``offsets`` are the instance
        block boundaries (cuts fall only there). Returns the first global index."""
        total = int(offsets[-1]) if len(offsets) else 0
        base = self.n
        wanted = np.arange(self.MAX_SEGMENT, total, self.MAX_SEGMENT)
        cuts = np.unique(offsets[np.searchsorted(offsets, wanted)]) if len(wanted) else []
        edges = [0, *[int(c) for c in cuts if 0 < c < total], total]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            seg = Columns(POINT_COLUMNS)
            seg.adopt({name: arrays[name][a:b] for name in NAMES})
            self._new_segment(seg, arrays, a)
        return base

    def to_segments(self) -> list[dict[str, Any]]:
        """Each segment's live columns, as views (for snapshots: no copy is made).
        A segment still borrowed from an event is given as that event's whole
        arrays plus its range, so a snapshot refers to the very arrays the event
        stored instead of storing a slice of them again."""
        out: list[dict[str, Any]] = []
        for seg, (origin, offset) in zip(self.segments, self.origins, strict=True):
            if origin is not None and seg.shared:
                out.append({"origin": {name: origin[name] for name in NAMES},
                            "start": offset, "stop": offset + seg.n})
            else:
                out.append({name: seg.view(name) for name in NAMES})
        return out

    def from_segments(self, segments: list[dict[str, Any]]) -> None:
        """Replace the pool by borrowed segments holding ``segments`` (read-only,
        copied on first write, like an import's columns)."""
        self.bases, self.segments, self.origins, self.n = [], [], [], 0
        for item in segments:
            if "origin" in item:
                origin, a, b = item["origin"], int(item["start"]), int(item["stop"])
                if b > a:
                    seg = Columns(POINT_COLUMNS)
                    seg.adopt({name: origin[name][a:b] for name in NAMES})
                    self._new_segment(seg, origin, a)
            elif len(item["x"]):
                seg = Columns(POINT_COLUMNS)
                seg.adopt({name: item[name] for name in NAMES})
                self._new_segment(seg)

    # ----------------------------------------------------------------- access

    def get(self, g: int) -> tuple[float, float, bool, bool, float]:
        seg, i = self._locate(g)
        c = seg.cols
        return (float(c["x"][i]), float(c["y"][i]), bool(c["visible"][i]),
                bool(c["complete"][i]), float(c["score"][i]))

    def set(self, g: int, x: float, y: float, visible: bool, complete: bool,
            score: float) -> None:
        seg, i = self._locate(g)
        seg.own()
        c = seg.cols
        c["x"][i], c["y"][i], c["visible"][i], c["complete"][i], c["score"][i] = (
            x, y, visible, complete, score)

    def read_block(self, start: int, n: int) -> np.ndarray:
        """(n, 5) float rows: x, y, visible, complete, score."""
        seg, i = self._locate(start)
        c = seg.cols
        out = np.empty((n, 5), dtype=np.float64)
        for k, name in enumerate(NAMES):
            out[:, k] = c[name][i:i + n]
        return out

    def write_block(self, start: int, values: np.ndarray) -> None:
        self.write_columns(start, {name: values[:, k] for k, name in enumerate(NAMES)},
                           as_rows=True)

    def write_columns(self, start: int, columns: dict[str, Any], as_rows: bool = False) -> None:
        """Write contiguous points from ``start`` (inside one segment)."""
        seg, i = self._locate(start)
        seg.own()
        n = len(columns["x"])
        c = seg.cols
        for name in NAMES:
            value = columns[name]
            if as_rows and name in ("visible", "complete"):
                value = value != 0
            c[name][i:i + n] = value

    def gather(self, starts: np.ndarray, lengths: np.ndarray
               ) -> tuple[dict[str, np.ndarray], bool]:
        """The points of several blocks, concatenated in order, and whether they
        are borrowed views (then they never change: callers may keep them)."""
        starts = np.asarray(starts, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        total = int(lengths.sum())
        if total == 0:
            return {name: np.zeros(0, dtype=dtype) for name, dtype in POINT_COLUMNS.items()}, False
        first = int(starts[0])
        if np.all(starts[1:] == starts[:-1] + lengths[:-1]):
            return self._gather_range(first, total)
        idx = ranges_to_index(starts, lengths)
        which = np.searchsorted(np.asarray(self.bases, dtype=np.int64), idx, side="right") - 1
        out = {name: np.empty(total, dtype=dtype) for name, dtype in POINT_COLUMNS.items()}
        for k in np.unique(which).tolist():
            pos = np.flatnonzero(which == k)
            local = idx[pos] - self.bases[k]
            seg = self.segments[k]
            for name in NAMES:
                out[name][pos] = seg.cols[name][local]
        return out, False

    def scatter(self, idx: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        """Write point ``idx[i]`` from ``columns[name][i]`` (distinct indices), one
        vectorised write per segment touched; borrowed segments are copied first."""
        which = np.searchsorted(np.asarray(self.bases, dtype=np.int64), idx, side="right") - 1
        for k in np.unique(which).tolist():
            pos = np.flatnonzero(which == k)
            local = idx[pos] - self.bases[k]
            seg = self.segments[k]
            seg.own()
            for name in NAMES:
                seg.cols[name][local] = columns[name][pos]

    def _gather_range(self, first: int, total: int) -> tuple[dict[str, np.ndarray], bool]:
        """Points ``first .. first + total - 1``: views when one segment (or borrowed
        neighbours cut from one event array) holds them, else one copy."""
        k0 = bisect_right(self.bases, first) - 1
        k1 = bisect_right(self.bases, first + total - 1) - 1
        i = first - self.bases[k0]
        if k0 == k1:
            seg = self.segments[k0]
            return {name: seg.cols[name][i:i + total] for name in NAMES}, seg.shared
        origin, offset = self.origins[k0]
        if origin is not None and all(
                self.segments[k].shared and self.origins[k][0] is origin
                and self.origins[k][1] == offset + self.bases[k] - self.bases[k0]
                for k in range(k0, k1 + 1)):
            a = offset + i
            return {name: origin[name][a:a + total] for name in NAMES}, True
        parts = []
        for k in range(k0, k1 + 1):
            seg = self.segments[k]
            lo = max(first, self.bases[k]) - self.bases[k]
            hi = min(first + total, self.bases[k] + seg.n) - self.bases[k]
            parts.append({name: seg.cols[name][lo:hi] for name in NAMES})
        return {name: np.concatenate([p[name] for p in parts]) for name in NAMES}, False

    @property
    def segment_count(self) -> int:
        return len(self.segments)
