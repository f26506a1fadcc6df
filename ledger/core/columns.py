"""Named numpy columns that grow in place: the storage of every table.

Columns grow by doubling, so appending one row is amortised O(1) and a bulk import
is a handful of array copies. Columns may also borrow arrays from an immutable
event (`adopt`), copying them only before the first write (`own`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

POINT_COLUMNS: dict[str, Any] = {
    "x": np.float64,
    "y": np.float64,
    "visible": np.bool_,
    "complete": np.bool_,
    "score": np.float64,
}


class Columns:
    """Named, equally long numpy columns with spare capacity at the end."""

    def __init__(self, spec: dict[str, Any], capacity: int = 16) -> None:
        self._spec = spec
        self.shared = False  # columns borrowed from an event: copy before writing
        self.n = 0
        self.cols: dict[str, np.ndarray] = {
            name: np.empty(capacity, dtype=dtype) for name, dtype in spec.items()
        }

    def reserve(self, extra: int, zero: bool = True) -> int:
        """Make room for ``extra`` rows at the end; return the first new row.

        ``zero=False`` skips clearing the new rows, for callers that write every
        column of them straight away (bulk imports). Borrowed columns are copied
        once, into the grown arrays."""
        start = self.n
        need = start + extra
        cap = next(iter(self.cols.values())).shape[0]
        if need > cap or self.shared:
            new_cap = max(need, cap * 2, 16) if need > cap else cap
            for name, col in self.cols.items():
                grown = np.empty(new_cap, dtype=col.dtype)
                grown[:start] = col[:start]
                self.cols[name] = grown
            self.shared = False
        if zero:
            for col in self.cols.values():
                col[start:need] = 0
        self.n = need
        return start

    def adopt(self, arrays: dict[str, np.ndarray], n: int | None = None) -> None:
        """Borrow columns (bulk import into an empty table) without copying.

        ``arrays`` may hold only some of the columns; the others are allocated for
        ``n`` rows, for the caller to fill. Borrowed arrays belong to an immutable
        event, so they are kept as read-only views and `own` copies them before
        the first write: a loaded project costs one copy of what is edited, and a
        write that forgot `own` fails loudly instead of changing history."""
        n = len(next(iter(arrays.values()))) if n is None else n
        cols = {}
        for name, dtype in self._spec.items():
            if name in arrays:
                col = np.asarray(arrays[name], dtype=dtype).view()
                col.flags.writeable = False
            else:
                col = np.empty(n, dtype=dtype)
            cols[name] = col
        self.cols = cols
        self.n = n
        self.shared = True

    def own(self) -> None:
        """Stop sharing: copy borrowed columns so they may be written."""
        if self.shared:
            self.cols = {name: col if col.flags.writeable else col.copy()
                         for name, col in self.cols.items()}
            self.shared = False

    def writable(self) -> dict[str, np.ndarray]:
        """The columns, ready to be written (borrowed ones are copied first)."""
        self.own()
        return self.cols

    def view(self, name: str) -> np.ndarray:
        return self.cols[name][: self.n]


def ranges_to_index(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``range(starts[i], starts[i] + lengths[i])`` for all i, without
    a Python loop (how point blocks of many instances are gathered)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    return np.repeat(np.asarray(starts, dtype=np.int64) - offsets, lengths) + np.arange(total)


def distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, fast for the usual batch: many rows, few distinct values
    (its videos, tracks, skeletons). A sample proposes the values and one comparison
    pass per value confirms them, instead of sorting or hashing every row."""
    values = np.asarray(values)
    n = len(values)
    if n < 4096:
        return np.unique(values)
    candidates = np.unique(values[:: n // 512])
    if len(candidates) > 8:
        return np.unique(values)
    covered = values == candidates[0]
    for value in candidates[1:]:
        covered |= values == value
    return candidates if covered.all() else np.unique(values)
