"""Columnar tables behind the projection: frames, instances and the point pool.

Rows are handles internal to one `State`; events speak in ids. Rows are never
reused for something else and never compacted while a state lives: removing an
instance or a frame marks its row dead, and re-adding the same id (undo) brings the
same row back. That is what makes undo restore an instance to its old place in its
frame without storing list positions, and what keeps `apply` cheap.

Columns grow by doubling, so appending one instance is amortised O(1) and a bulk
import is a handful of array copies.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import numpy as np

from ledger.core.columns import Columns
from ledger.core.point_pool import PointPool


class IdIndex:
    """Maps instance ids to rows: a dict for ids added one by one, sorted ranges
    for contiguous id blocks of bulk imports (so a million-instance import adds one
    range, not a million dict entries)."""

    def __init__(self) -> None:
        self.single: dict[int, int] = {}
        self._starts: list[int] = []
        self._ranges: list[tuple[int, int, int]] = []  # (first id, end id, first row)

    def get(self, ident: int) -> int | None:
        row = self.single.get(ident)
        if row is not None:
            return row
        k = bisect_right(self._starts, ident) - 1
        if k >= 0:
            first, end, row0 = self._ranges[k]
            if ident < end:
                return row0 + (ident - first)
        return None

    def get_many(self, ids: np.ndarray) -> np.ndarray:
        """Rows of many ids at once (-1 where unknown): vectorised over the ranges,
        and a dict lookup only when ids were added one by one."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.full(len(ids), -1, dtype=np.int64)
        if self._ranges:
            firsts = np.array([r[0] for r in self._ranges], dtype=np.int64)
            ends = np.array([r[1] for r in self._ranges], dtype=np.int64)
            row0 = np.array([r[2] for r in self._ranges], dtype=np.int64)
            k = np.searchsorted(firsts, ids, side="right") - 1
            ok = k >= 0
            kk = np.where(ok, k, 0)
            ok &= ids < ends[kk]
            out[ok] = row0[kk[ok]] + (ids[ok] - firsts[kk[ok]])
        if self.single:
            single = self.single
            for i, ident in enumerate(ids.tolist()):
                row = single.get(ident)
                if row is not None:
                    out[i] = row
        return out

    def add(self, ident: int, row: int) -> None:
        self.single[ident] = row

    def add_block(self, ids: np.ndarray, first_row: int) -> None:
        """Register ``ids[i] -> first_row + i``; contiguous runs become ranges."""
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) > 1 and np.all(np.diff(ids) == 1):
            first, end = int(ids[0]), int(ids[-1]) + 1
            k = bisect_right(self._starts, first)
            self._starts.insert(k, first)
            self._ranges.insert(k, (first, end, first_row))
        else:
            self.single.update(zip(ids.tolist(), range(first_row, first_row + len(ids)),
                                   strict=True))


INSTANCE_COLUMNS: dict[str, Any] = {
    "id": np.int64,
    "frame": np.int64,  # frame row
    "skeleton": np.int64,
    "track": np.int64,
    "kind": np.uint8,
    "score": np.float64,
    "tracking_score": np.float64,
    "from_predicted": np.int64,
    "pt_start": np.int64,
    "n_pts": np.int32,
    "alive": np.bool_,
}


FRAME_COLUMNS: dict[str, Any] = {
    "video": np.int64,
    "frame_idx": np.int64,
    "alive": np.bool_,
    "inst_start": np.int64,  # contiguous instance rows from a bulk add ...
    "inst_end": np.int64,
    "n_user": np.int32,
    "n_pred": np.int32,
}


class FrameTable:
    """Frames: rows, the (video id, frame_idx) index and the labels' list order.

    Instance membership is a contiguous row range (what bulk imports produce)
    plus, per frame, a list of rows added later. The key index and the order list
    are built on first use, so a bulk import does not pay for them up front.
    """

    def __init__(self) -> None:
        self.cols = Columns(FRAME_COLUMNS)
        self.extra: dict[int, list[int]] = {}
        self._key_index: dict[tuple[int, int], int] | None = {}
        self._order: list[int] | None = []

    @property
    def n(self) -> int:
        return self.cols.n

    def key_index(self) -> dict[tuple[int, int], int]:
        if self._key_index is None:
            v = self.cols.view("video").tolist()
            f = self.cols.view("frame_idx").tolist()
            self._key_index = dict(zip(zip(v, f, strict=True), range(len(v)), strict=True))
        return self._key_index

    def order(self) -> list[int]:
        """Live frame rows in list order (materialised on first use)."""
        if self._order is None:
            self._order = np.flatnonzero(self.cols.view("alive")).tolist()
        return self._order

    def row_of(self, video: int, frame_idx: int) -> int | None:
        """The live row for a key, or None."""
        row = self.key_index().get((video, frame_idx))
        if row is None or not self.cols.cols["alive"][row]:
            return None
        return row

    def invalidate_indexes(self) -> None:
        self._key_index = None
        self._order = None

    def instance_rows(self, row: int, inst_alive: np.ndarray, inst_frame: np.ndarray) -> list[int]:
        """Live instance rows of a frame, in the frame's instance order."""
        start = int(self.cols.cols["inst_start"][row])
        end = int(self.cols.cols["inst_end"][row])
        rows = [r for r in range(start, end) if inst_alive[r] and inst_frame[r] == row]
        extra = self.extra.get(row)
        if extra:
            rows.extend(r for r in extra if inst_alive[r] and inst_frame[r] == row)
        return rows


class InstanceTable:
    """Instances and the point pool they index into."""

    def __init__(self) -> None:
        self.cols = Columns(INSTANCE_COLUMNS)
        self.points = PointPool()
        self.index = IdIndex()

    @property
    def n(self) -> int:
        return self.cols.n

    def row_of(self, ident: int) -> int | None:
        row = self.index.get(ident)
        if row is None or not self.cols.cols["alive"][row]:
            return None
        return row

    def live_row(self, ident: int) -> int:
        row = self.row_of(ident)
        if row is None:
            raise KeyError(f"instance {ident} is not in the labels")
        return row

    def point_block(self, row: int) -> tuple[int, int]:
        start = int(self.cols.cols["pt_start"][row])
        return start, start + int(self.cols.cols["n_pts"][row])

    def points_of(self, row: int) -> np.ndarray:
        """(n_nodes, 5) float array: x, y, visible, complete, score."""
        a, b = self.point_block(row)
        return self.points.read_block(a, b - a)

    def write_points(self, row: int, values: np.ndarray) -> None:
        self.points.write_block(int(self.cols.cols["pt_start"][row]), values)

    def realloc_points(self, row: int, n: int) -> None:
        """Give an instance a fresh point block of ``n`` rows (skeleton changed)."""
        c = self.cols.writable()
        c["pt_start"][row] = self.points.alloc(n)
        c["n_pts"][row] = n
