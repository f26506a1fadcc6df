"""Adding and removing frames (with the instances they carry).

`check_frames` checks a whole frame addition -- videos, frame indices, duplicate
frames, and every instance -- before `add_frames` changes anything, so a batch
that does not fit raises `EventMismatch` and leaves the state as it was (a
`FramesAdded` naming an unknown skeleton once left its frames behind).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ledger.core import events as ev
from ledger.core.apply_rows import (
    SMALL_BATCH,
    FrameRuns,
    _count,
    _key_runs,
    add_instances,
    check_instances,
    remove_instances,
)
from ledger.core.columns import distinct
from ledger.core.state import State
from ledger.core.values import FRAME_IDX_LIMIT, frame_idx_ok
from ledger.errors import EventMismatch


def _frame_keys(batch: ev.FrameBatch, uniq_v: np.ndarray) -> tuple[np.ndarray, Any]:
    """Sorted composite keys of the batch's frames, and the sorting order (None
    when the batch is already sorted by (video, frame_idx), the usual case).

    A key packs ``video code << 40 | frame_idx``; `check_frames` has made sure
    every ``frame_idx`` is below 2**40, so two frames never share a key."""
    fk = np.searchsorted(uniq_v, batch.video).astype(np.int64) << 40 | batch.frame_idx
    if np.all(fk[1:] > fk[:-1]):
        return fk, None
    order_k = np.argsort(fk, kind="stable")
    fk_sorted = fk[order_k]
    if np.any(fk_sorted[1:] == fk_sorted[:-1]):
        raise EventMismatch("frame batch has duplicate frames")
    return fk_sorted, order_k


class FramePlan(NamedTuple):
    """What `check_frames` worked out, so `add_frames` does not redo it."""

    uniq_v: np.ndarray
    fk_sorted: np.ndarray
    order_k: Any
    existing: list[int | None] | None  # per frame: a dead row to revive (non-bulk)
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # instance runs by frame key
    positions: np.ndarray | None  # each run's (or instance's) frame in fk_sorted


def _check_shape(batch: ev.FrameBatch) -> None:
    for name in ("frame_idx", "position"):
        col = getattr(batch, name)
        if batch.video.ndim != 1 or col.ndim != 1 or col.shape[0] != len(batch):
            raise EventMismatch(f"frame batch column {name} has the wrong length")


def check_frames(state: State, batch: ev.FrameBatch,
                 new_videos: tuple[int, ...] = ()) -> FramePlan:
    """Check a frame addition in full -- videos, frame indices, frames not already
    labelled, and every instance (skeleton, fresh id, its frame in the batch) --
    without changing anything. ``new_videos`` count as present (a `VideoAdded`
    carries its frames). Raises `EventMismatch`."""
    n = len(batch)
    _check_shape(batch)
    if not frame_idx_ok(batch.frame_idx):
        raise EventMismatch(f"frame batch has a frame index outside 0..{FRAME_IDX_LIMIT - 1}")
    uniq_v = distinct(batch.video)
    for v in uniq_v.tolist():
        if v not in state.videos and v not in new_videos:
            raise EventMismatch(f"video {v} is not in the labels")
    fk_sorted, order_k = _frame_keys(batch, uniq_v)
    fr = state.frames
    existing = None
    positions = batch.position
    if not (fr.cols.n == 0 and n > 1 and np.array_equal(positions, np.arange(n))):
        # frames are inserted in ascending position: each must land where it says
        # (Python's insert would clamp a position past the end, and the removal
        # that undoes it would then name the wrong place)
        ordered = np.sort(positions)
        if np.any(ordered[1:] == ordered[:-1]) or (n and (
                ordered[0] < 0 or np.any(ordered > len(fr.order()) + np.arange(n)))):
            raise EventMismatch("frame batch positions are repeated or past the list's end")
        keys = fr.key_index()
        alive = fr.cols.cols["alive"]
        existing = []
        for key in zip(batch.video.tolist(), batch.frame_idx.tolist(), strict=True):
            row = keys.get(key)
            if row is not None and alive[row]:
                raise EventMismatch(f"frame {key} is already in the labels")
            existing.append(row)
    inst = batch.instances
    check_instances(state, inst)
    runs = places = None
    if len(inst):
        icode = np.clip(np.searchsorted(uniq_v, inst.video), 0, len(uniq_v) - 1)
        icode = np.where(uniq_v[icode] == inst.video, icode, -1)
        ok = (icode >= 0) & (inst.frame_idx >= 0) & (inst.frame_idx < FRAME_IDX_LIMIT)
        if not np.all(ok):
            raise EventMismatch("an instance names a frame that is not in the batch")
        ik = icode.astype(np.int64) << 40 | inst.frame_idx
        runs = _key_runs(ik)
        places = _positions(fk_sorted, ik if runs is None else runs[2])
    return FramePlan(uniq_v, fk_sorted, order_k, existing, runs, places)


def add_frames(state: State, batch: ev.FrameBatch, new_videos: tuple[int, ...] = ()) -> None:
    n = len(batch)
    if n == 0:
        return
    plan = check_frames(state, batch, new_videos)
    uniq_v, order_k = plan.uniq_v, plan.order_k
    fr = state.frames
    fc = fr.cols
    per_video = [n] if len(uniq_v) == 1 else np.bincount(
        np.searchsorted(uniq_v, batch.video), minlength=len(uniq_v)).tolist()
    bulk = plan.existing is None
    if bulk:
        first = fc.reserve(n, zero=False)
        rows = np.arange(first, first + n, dtype=np.int64)
        fr.invalidate_indexes()
    else:
        keys = fr.key_index()
        batch_keys = list(zip(batch.video.tolist(), batch.frame_idx.tolist(), strict=True))
        existing = plan.existing
        n_new = sum(1 for row in existing if row is None)
        first = fc.reserve(n_new) if n_new else 0
        rows = np.empty(n, dtype=np.int64)
        for k, (key, row) in enumerate(zip(batch_keys, existing, strict=True)):
            if row is None:
                row = first
                first += 1
                keys[key] = row
            rows[k] = row
    c = fc.cols
    c["video"][rows] = batch.video
    c["frame_idx"][rows] = batch.frame_idx
    c["alive"][rows] = True
    c["n_user"][rows] = 0
    c["n_pred"][rows] = 0
    if state.frames.extra:
        for r in rows.tolist():
            state.frames.extra.pop(r, None)
    c["inst_start"][rows] = 0
    c["inst_end"][rows] = 0
    if not bulk:
        order = fr.order()
        positions = batch.position.tolist()
        if positions == list(range(len(order), len(order) + n)):
            order.extend(rows.tolist())  # appended at the end: the usual case
        else:
            for pos, r in sorted(zip(positions, rows.tolist(), strict=True)):
                if pos >= len(order):
                    order.append(r)
                else:
                    order.insert(pos, r)
    for v, k in zip(uniq_v.tolist(), per_video, strict=True):
        _count(state, v)[0] += k
    inst = batch.instances
    if len(inst) == 0:
        return
    if len(inst) <= SMALL_BATCH and not bulk:
        add_instances(state, inst, checked=True)
        return
    # instances name frames by key; map the keys to this batch's rows
    sorted_rows = rows if order_k is None else rows[order_k]
    if plan.runs is None:
        add_instances(state, inst, sorted_rows[plan.positions], checked=True)
        return
    first, length, _ = plan.runs
    run_rows = sorted_rows[plan.positions]
    frame_rows = np.repeat(run_rows, length)
    ordered = len(run_rows) < 2 or bool(np.all(run_rows[1:] > run_rows[:-1]))
    add_instances(state, inst, frame_rows,
                  FrameRuns(first, length, run_rows) if ordered else None, checked=True)


def _positions(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each key sits in ``sorted_keys``; every key must be there."""
    if len(keys) == len(sorted_keys) and np.array_equal(keys, sorted_keys):
        return np.arange(len(keys))
    at = np.clip(np.searchsorted(sorted_keys, keys), 0, len(sorted_keys) - 1)
    if not np.array_equal(sorted_keys[at], keys):
        raise EventMismatch("an instance names a frame that is not in the batch")
    return at


def _positions_of(order: list[int], rows: list[int]) -> list[int]:
    """Where each frame row sits in the frame list."""
    if len(rows) == 1:
        return [order.index(rows[0])]
    where = {r: k for k, r in enumerate(order)}
    return [where[r] for r in rows]


def remove_frames(state: State, batch: ev.FrameBatch) -> None:
    _check_shape(batch)
    fr = state.frames
    rows = []
    for v, f in zip(batch.video.tolist(), batch.frame_idx.tolist(), strict=True):
        row = fr.row_of(v, f)
        if row is None:
            raise EventMismatch(f"frame ({v}, {f}) is not in the labels")
        rows.append(row)
    if len(set(rows)) != len(rows):
        raise EventMismatch("frame removal names a frame twice")
    if len(batch.position) != len(rows) or list(_positions_of(fr.order(), rows)) != \
            batch.position.tolist():
        raise EventMismatch("frame removal positions differ from the frames' places")
    live = [r for row in rows for r in state.frame_instance_rows(row)]
    if len(live) != len(batch.instances) or not np.array_equal(
            np.sort(state.instances.cols.cols["id"][live]), np.sort(batch.instances.ids)):
        raise EventMismatch("frame removal does not carry the frames' instances")
    remove_instances(state, batch.instances, whole_frames=True)
    c = fr.cols.cols
    c["alive"][rows] = False
    removed = set(rows)
    order = fr.order()
    if len(rows) == 1:
        order.remove(rows[0])
    else:
        order[:] = [r for r in order if r not in removed]
    for v in batch.video.tolist():
        _count(state, v)[0] -= 1
