"""Laying a `.slp` file's two point tables out as one instance-ordered pool.

A `.slp` file keeps user points (``points``) and predicted points (``pred_points``)
in separate tables, each in the order of its kind's instances. The ledger takes
one pool in instance order, so it can borrow the columns without copying them
again. Where user and predicted instances are interleaved (a proofread project:
user instances copied from predictions on some frames), every run of consecutive
predicted instances is a contiguous slice of ``pred_points`` that belongs at a
different place in the pool.

The reader must cost about as much as reading the tables whatever the mix (1% or
50% of frames proofread, runs short or long), and must not hold a second copy of
the large table. Every path but ``gather`` fills the pool in one forward pass and
puts the user points into the gaps a chunk at a time, reading the user table a
chunk at a time too when it is stored as SLEAP stores it. They differ in how the
predicted rows get into their slots:

* ``spread`` (the usual file: ``pred_points`` in the pool's record type): HDF5
  reads the whole table in one contiguous read into the tail of the pool; the
  forward pass moves the rows down into their slots, whole instances at a time.
  One read plus one memory pass whatever the number of runs; extra memory is one
  chunk.
* ``runs`` (the same, with few long runs): HDF5 reads each run straight into its
  slots, as a union of hyperslabs per batch of runs. No extra pass, but HDF5 pays
  about 10 us per run (building a union is quadratic in its size): with the
  thousands of short runs of a proofread project this was 5-6x the raw read.
* ``scatter`` (other stored types, e.g. ``float32`` points): the table is read a
  chunk at a time, converted and scattered into its slots.
* ``gather`` (point tables not in instance order, never written by SLEAP or
  sleap-io): each kind's blocks gathered by index.

Also measured and dropped: the kernel copying each run from the file straight
into its slots (``preadv``, one buffer per run, for contiguous tables). It skips
the memory pass, but with the 60,000 runs of a 300,000-frame file proofread on
20% of its frames the read itself took 3x the raw read, against 1x plus a pass.

A pool made of the two tables as they are (instances indexing two segments)
would skip placing rows at all, but the ledger takes one instance-ordered pool
and would gather a copy of it.

``tools/bench/slp.py`` measures the choice on files with 1% to 20% of frames
proofread.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from ledger.core.columns import ranges_to_index
from ledger.io.project_data import PREDICTED, USER

POOL_DTYPE = np.dtype([("x", "<f8"), ("y", "<f8"), ("visible", "?"), ("complete", "?"),
                       ("score", "<f8")])
# the user table as SLEAP stores it: the first 18 bytes of a pool record
_STORED_USER = np.dtype([("x", "<f8"), ("y", "<f8"), ("visible", "?"), ("complete", "?")])
_UNION_BATCH = 256  # runs per HDF5 read: HDF5 builds a union of n hyperslabs in O(n^2)
_MAX_UNION_RUNS = 4096  # beyond this many runs, reading them in place never pays
# Reading runs in place skips the spread pass (a few ns per pool row), but HDF5's
# hyperslab unions cost far more per run than that saves unless runs are very long
# (measured: a 50,000-frame file with 1% of frames proofread, ~500 runs of ~6,000
# rows, loads in 64 ms spread against 95 ms in place).
_MIN_ROWS_PER_RUN = 1 << 16
_CHUNK = 1 << 16  # pool rows per step of the spread and scatter passes
_USER_BLOCK = 1 << 20  # user rows per read of a SLEAP-stored user table (18 MB)


def kind_order(is_pred: np.ndarray, n_nodes: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """For instances with these kinds and node counts: where each one's points
    start in an instance-ordered pool, where they start in its kind's table if
    that table is in instance order, and each kind's total points."""
    dest = np.cumsum(n_nodes)
    total = int(dest[-1]) if len(dest) else 0
    dest -= n_nodes
    n_pred = int(np.count_nonzero(is_pred))
    if n_pred in (0, len(is_pred)):
        return dest, dest, (0, total) if n_pred else (total, 0)
    own = np.where(is_pred, n_nodes, 0)
    pred_before = np.cumsum(own)
    pred_total = int(pred_before[-1])
    pred_before -= own
    starts = dest - pred_before
    np.copyto(starts, pred_before, where=is_pred)
    return dest, starts, (total - pred_total, pred_total)


def choose_path(pred: dict[str, np.ndarray] | h5py.Dataset, in_order: bool,
                n_runs: int, n_rows: int) -> str:
    """Which of the module's paths lays out this file (see the module docstring)."""
    if not in_order:
        return "gather"
    if not isinstance(pred, h5py.Dataset) or pred.dtype != POOL_DTYPE:
        return "scatter"
    if n_runs <= _MAX_UNION_RUNS and n_runs * _MIN_ROWS_PER_RUN <= n_rows:
        return "runs"
    return "spread"


def interleave(kind: np.ndarray, n_nodes: np.ndarray, p_start: np.ndarray,
               dest: np.ndarray, in_order: bool, user: tuple[np.ndarray, ...] | h5py.Dataset,
               pred: dict[str, np.ndarray] | h5py.Dataset) -> tuple[np.ndarray, ...]:
    """One point pool in instance order (``dest``: each instance's start) from the
    two per-kind tables. ``user`` is the user x, y, visible, complete columns, or
    the ``points`` dataset stored as SLEAP stores it (``_STORED_USER``), which the
    spread reads in blocks. Returns the pool's x, y, visible, complete,
    score columns."""
    is_pred = kind == PREDICTED
    if not in_order:
        if isinstance(user, h5py.Dataset):
            user = _user_columns(user[()])
        return tuple(_gather_kinds(kind, n_nodes, p_start, dest, user, _pred_columns(pred)))
    total = int(dest[-1] + n_nodes[-1]) if len(dest) else 0
    pool = np.empty(total, POOL_DTYPE)
    run_start, run_len = _runs(is_pred, dest, n_nodes)
    n_pred_rows = int(run_len.sum())
    path = choose_path(pred, in_order, len(run_start), n_pred_rows)
    if isinstance(user, h5py.Dataset) and (path != "spread" or user.dtype != _STORED_USER):
        user = _user_columns(user[()])
    if path == "spread" and isinstance(pred, h5py.Dataset):
        if n_pred_rows:
            pred.read_direct(pool, np.s_[0:n_pred_rows], np.s_[total - n_pred_rows:total])
        _spread(pool, is_pred, n_nodes, user)
    else:
        if path == "runs" and isinstance(pred, h5py.Dataset):
            _read_into_runs(pred, pool, run_start, run_len)
        else:
            _scatter_chunks(pred, pool, run_start, run_len)
        user_pos = ranges_to_index(dest[~is_pred], n_nodes[~is_pred])
        for name, column in zip(POOL_DTYPE.names, user, strict=False):  # type: ignore[arg-type]
            pool[name][user_pos] = column[:len(user_pos)]
        pool["score"][user_pos] = 0.0
    return tuple(pool[name] for name in POOL_DTYPE.names)


def _spread(pool: np.ndarray, is_pred: np.ndarray, n_nodes: np.ndarray,
            user: tuple[np.ndarray, ...] | h5py.Dataset) -> None:
    """Predicted rows, read contiguously into the tail of ``pool``, moved down into
    their instances' slots, and the user points put into the other slots.

    One forward pass over the pool, ``_CHUNK`` rows at a time. It is safe in place:
    every predicted row moves down (its slot lies at or below where it was read),
    so a chunk's writes never reach rows a later chunk still has to read. The rows
    a chunk reads are moved directly while they lie above the chunk (while the user
    points still to come outnumber a chunk) and copied out first where they overlap
    its slots. Once no user point is left, the remaining rows already sit in their
    slots.

    numpy moves masked records one at a time, so the unit is as large as it can be:
    a whole instance when every instance has the same number of nodes (one
    skeleton, the usual file), else one point. A user table stored as SLEAP stores
    it is read ``_USER_BLOCK`` rows at a time (few HDF5 calls, bounded memory) and
    its records copied as bytes: they are the first bytes of a pool record.
    """
    same = len(n_nodes) > 0 and int(n_nodes[0]) > 0 and bool(np.all(n_nodes == n_nodes[0]))
    unit = int(n_nodes[0]) if same else 1
    slot_pred = is_pred if same else np.repeat(is_pred, n_nodes)
    as_void = np.dtype((np.void, pool.dtype.itemsize * unit))
    raw = pool.view(as_void)
    units = len(raw)
    chunk = max(1, _CHUNK // unit)
    n_user_total = units - int(np.count_nonzero(slot_pred))
    src = n_user_total
    # one chunk's predicted rows, copied out, and its user points, staged as pool
    # records; allocated once (a fresh buffer per chunk would be a fresh mapping
    # whose page faults cost more than the copy)
    spare = np.empty(min(chunk, units), as_void)
    staged = np.empty(min(chunk, units) * unit, POOL_DTYPE)
    staged["score"] = 0.0
    staged_raw = staged.view(as_void)
    staged_bytes = staged.view(np.uint8).reshape(-1, POOL_DTYPE.itemsize)
    block = np.empty(0, _STORED_USER)
    block_start = 0  # user table row of block[0]
    u = 0  # user units placed so far
    for d0 in range(0, units, chunk):
        if u == n_user_total:
            break  # no user point from here on: the rest already sits in place
        d1 = min(d0 + chunk, units)
        mask = slot_pred[d0:d1]
        k = int(np.count_nonzero(mask))
        if k == d1 - d0:
            raw[d0:d1] = raw[src:src + k]  # numpy copies overlapping slices safely
            src += k
            continue
        if k and src >= d1:  # the rows lie above the chunk: move them directly
            raw[d0:d1][mask] = raw[src:src + k]
            src += k
        elif k:  # they overlap the chunk's slots: copy them out first
            np.copyto(spare[:k], raw[src:src + k])
            raw[d0:d1][mask] = spare[:k]
            src += k
        n_user = d1 - d0 - k
        rows, first = n_user * unit, u * unit
        if isinstance(user, h5py.Dataset):
            if first + rows > block_start + len(block):
                block_start = first
                block = user[first:min(first + max(_USER_BLOCK, rows), n_user_total * unit)]
            records = block[first - block_start:first - block_start + rows]
            staged_bytes[:rows, :records.itemsize] = records.view(np.uint8).reshape(rows, -1)
        else:
            for name, column in zip(POOL_DTYPE.names, user, strict=False):
                staged[name][:rows] = column[first:first + rows]
        raw[d0:d1][~mask] = staged_raw[:n_user]
        u += n_user


def _runs(is_pred: np.ndarray, dest: np.ndarray, n_nodes: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Pool start and length of each run of consecutive predicted instances."""
    padded = np.zeros(len(is_pred) + 2, np.bool_)
    padded[1:-1] = is_pred
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    first, stop = edges[0::2], edges[1::2]
    ends = dest + n_nodes
    return dest[first], ends[stop - 1] - dest[first]


def _read_into_runs(ds: h5py.Dataset, pool: np.ndarray, run_start: np.ndarray,
                    run_len: np.ndarray) -> None:
    """``ds[:sum(run_len)]`` read by HDF5 straight into the runs of ``pool``: one
    read per ``_UNION_BATCH`` runs, each a union of hyperslabs in memory."""
    file_first = np.concatenate(([0], np.cumsum(run_len)))
    for b0 in range(0, len(run_start), _UNION_BATCH):
        b1 = min(b0 + _UNION_BATCH, len(run_start))
        n = int(file_first[b1] - file_first[b0])
        if n == 0:
            continue
        memory = h5py.h5s.create_simple((len(pool),))
        memory.select_none()
        for a, k in zip(run_start[b0:b1].tolist(), run_len[b0:b1].tolist(), strict=True):
            memory.select_hyperslab((a,), (k,), op=h5py.h5s.SELECT_OR)
        file_space = ds.id.get_space()
        file_space.select_hyperslab((int(file_first[b0]),), (n,))
        ds.id.read(memory, file_space, pool)


def _scatter_chunks(pred: dict[str, np.ndarray] | h5py.Dataset, pool: np.ndarray,
                    run_start: np.ndarray, run_len: np.ndarray) -> None:
    """Predicted points into the runs of ``pool``, a chunk of table rows at a time:
    the extra memory is one chunk and its slots, whatever the file's size. Whole
    records move as opaque bytes when the dtypes agree."""
    file_first = np.concatenate(([0], np.cumsum(run_len)))
    as_void = np.dtype((np.void, pool.dtype.itemsize))
    for c0 in range(0, int(file_first[-1]), _CHUNK):
        c1 = min(c0 + _CHUNK, int(file_first[-1]))
        # the runs holding table rows c0..c1-1, clipped to them
        k0 = int(np.searchsorted(file_first, c0, side="right")) - 1
        k1 = int(np.searchsorted(file_first, c1, side="left"))
        lo = np.maximum(file_first[k0:k1], c0)
        hi = np.minimum(file_first[k0 + 1:k1 + 1], c1)
        where = ranges_to_index(run_start[k0:k1] + (lo - file_first[k0:k1]), hi - lo)
        if isinstance(pred, h5py.Dataset):
            block = pred[c0:c1]
            if block.dtype == pool.dtype:
                pool.view(as_void)[where] = block.view(as_void)
                continue
            columns = _pred_fields(block)
        else:
            columns = tuple(pred[name][c0:c1] for name in POOL_DTYPE.names)
        for name, column in zip(POOL_DTYPE.names, columns, strict=True):
            pool[name][where] = column


def _user_columns(table: np.ndarray) -> tuple[np.ndarray, ...]:
    return table["x"], table["y"], table["visible"], table["complete"]


def _pred_fields(block: Any) -> tuple[np.ndarray, ...]:
    return (block["x"], block["y"], as_bool(block["visible"]), as_bool(block["complete"]),
            block["score"])


def _pred_columns(pred: dict[str, np.ndarray] | h5py.Dataset) -> tuple[np.ndarray, ...]:
    return _pred_fields(pred[()] if isinstance(pred, h5py.Dataset) else pred)


def _gather_kinds(kind: np.ndarray, n_nodes: np.ndarray, p_start: np.ndarray,
                  dest: np.ndarray, user: tuple[np.ndarray, ...],
                  pred: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """The general case: each kind's blocks gathered by index into instance order."""
    total = int(n_nodes.sum())
    out = [np.empty(total, np.float64), np.empty(total, np.float64), np.empty(total, np.bool_),
           np.empty(total, np.bool_), np.zeros(total, np.float64)]
    for which, cols in ((USER, user), (PREDICTED, pred)):
        sel = kind == which
        dst = ranges_to_index(dest[sel], n_nodes[sel])
        src = ranges_to_index(p_start[sel], n_nodes[sel])
        for target, column in zip(out, cols, strict=False):
            target[dst] = column[src]
    return out


def as_bool(col: np.ndarray) -> np.ndarray:
    """A flag column as booleans (files store them as bool or small integers)."""
    return col if col.dtype == np.bool_ else col != 0
