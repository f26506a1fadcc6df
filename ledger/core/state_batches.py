"""Read frames and instances out of a `State` as event batches.

Removal events carry what they remove; these functions gather it straight from
the columns (vectorised, so removing a 50,000-frame video is a few array copies).
"""

from __future__ import annotations

import numpy as np

from ledger.core import events as ev
from ledger.core.state import State


def _as_slice(index: np.ndarray) -> np.ndarray | slice:
    """A slice when ``index`` is consecutive (copies become memcpy, not gathers)."""
    if len(index) and int(index[-1]) - int(index[0]) == len(index) - 1 and \
            np.all(np.diff(index) == 1):
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


def instance_batch_from_rows(state: State, rows: np.ndarray) -> ev.InstanceBatch:
    rows = np.asarray(rows, dtype=np.int64)
    c = state.instances.cols.cols
    fc = state.frames.cols.cols
    f_rows = c["frame"][rows]
    points, borrowed = state.instances.points.gather(c["pt_start"][rows], c["n_pts"][rows])
    rows = _as_slice(rows)  # type: ignore[assignment]

    def take(name: str) -> np.ndarray:
        # Points borrowed from an immutable event never change: a batch may share
        # them. Anything else may change later, so it is copied (gathers already are).
        col = points[name]
        return col if borrowed or col.base is None else col.copy()

    return ev.InstanceBatch(
        ids=c["id"][rows].copy(), video=fc["video"][f_rows].copy(),
        frame_idx=fc["frame_idx"][f_rows].copy(), skeleton=c["skeleton"][rows].copy(),
        track=c["track"][rows].copy(), kind=c["kind"][rows].copy(),
        score=c["score"][rows].copy(), tracking_score=c["tracking_score"][rows].copy(),
        from_predicted=c["from_predicted"][rows].copy(),
        n_pts=c["n_pts"][rows].astype(np.int32), x=take("x"), y=take("y"),
        visible=take("visible"), complete=take("complete"), point_score=take("score"))


def frames_batch(state: State, frame_rows: list[int]) -> ev.FrameBatch:
    """The frames at these rows, with their list positions and all their instances."""
    order = state.frames.order()
    if len(frame_rows) == 1:
        positions = [order.index(frame_rows[0])]
    else:
        where = {r: k for k, r in enumerate(order)}
        positions = [where[r] for r in frame_rows]
    pairs = sorted(zip(positions, frame_rows, strict=True))
    rows = np.array([r for _, r in pairs], dtype=np.int64)
    fc = state.frames.cols.cols
    inst_rows = [r for f in rows.tolist() for r in state.frame_instance_rows(f)]
    return ev.FrameBatch(
        video=fc["video"][rows].copy(), frame_idx=fc["frame_idx"][rows].copy(),
        position=np.array([p for p, _ in pairs], dtype=np.int64),
        instances=instance_batch_from_rows(state, np.array(inst_rows, dtype=np.int64)))
