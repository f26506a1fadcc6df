"""Vectorised reads of a `State` for comparing two projects.

Diffs and merges compare tens of thousands of instances at a time, so everything
here works on numpy columns: instance ids to rows, instance attributes, and point
blocks laid out by node id (so two states whose skeletons differ in node order or
node set can still be compared point by point).
"""

from __future__ import annotations

import numpy as np

from ledger.core import events as ev
from ledger.core.columns import ranges_to_index
from ledger.core.state import State

MISSING_POINT = np.array([np.nan, np.nan, 1.0, 0.0, 0.0])
"""The value `NodeAdded` gives an instance's new point (x, y, visible, complete, score)."""

VIDEO_SHIFT = 40  # frame keys pack (video code << 40) | frame_idx


def live_ids(state: State) -> tuple[np.ndarray, np.ndarray]:
    """Ids and rows of every live instance."""
    rows = state.live_instance_rows()
    return state.instances.cols.cols["id"][rows].copy(), rows


def rows_of(state: State, ids: np.ndarray) -> np.ndarray:
    """Row of each id, -1 where the instance is not live. Uses a sorted join for
    many ids and the id index for few."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.full(len(ids), -1, dtype=np.int64)
    if len(ids) == 0:
        return out
    table = state.instances
    if len(ids) < 2048:
        for k, ident in enumerate(ids.tolist()):
            row = table.row_of(ident)
            if row is not None:
                out[k] = row
        return out
    all_ids, all_rows = live_ids(state)
    order = np.argsort(all_ids)
    sorted_ids = all_ids[order]
    pos = np.clip(np.searchsorted(sorted_ids, ids), 0, max(len(sorted_ids) - 1, 0))
    if len(sorted_ids):
        hit = sorted_ids[pos] == ids
        out[hit] = all_rows[order[pos[hit]]]
    return out


def node_ids(state: State, skeleton: int) -> tuple[int, ...]:
    return tuple(n.id for n in state.skeletons[skeleton].nodes)


def points_block(state: State, rows: np.ndarray, k: int) -> np.ndarray:
    """(n, k, 5) points of instances at ``rows`` that all have ``k`` points."""
    p = point_columns(state, rows, k)
    out = np.empty((len(rows), k, 5), dtype=np.float64)
    out[..., 0] = p["x"]
    out[..., 1] = p["y"]
    out[..., 2] = p["visible"]
    out[..., 3] = p["complete"]
    out[..., 4] = p["score"]
    return out


def point_columns(state: State, rows: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Each point column as an (n, k) array for instances at ``rows`` (a view, no
    copy, when their points are contiguous, as after a bulk import)."""
    starts = state.instances.cols.cols["pt_start"][rows]
    p, _ = state.instances.points.gather(starts, np.full(len(rows), k, dtype=np.int64))
    return {name: col.reshape(len(rows), k) for name, col in p.items()}


def differing_points(a: State, ra: np.ndarray, b: State, rb: np.ndarray, k: int) -> np.ndarray:
    """(n, k) mask of points that differ, for instances with the same layout."""
    ca, cb = point_columns(a, ra, k), point_columns(b, rb, k)
    out = np.zeros((len(ra), k), dtype=bool)
    for name in ("x", "y", "score"):
        out |= ~same_values(ca[name], cb[name])
    for name in ("visible", "complete"):
        out |= ca[name] != cb[name]
    return out


def points_by_node(state: State, rows: np.ndarray, skeleton: int,
                   nodes: tuple[int, ...]) -> np.ndarray:
    """(n, len(nodes), 5) points laid out in the order of ``nodes`` (node ids);
    nodes the skeleton lacks get `MISSING_POINT`."""
    own = node_ids(state, skeleton)
    block = points_block(state, rows, len(own))
    if own == nodes:
        return block
    pos = {n: k for k, n in enumerate(own)}
    out = np.empty((len(rows), len(nodes), 5), dtype=np.float64)
    out[:] = MISSING_POINT
    for j, n in enumerate(nodes):
        if n in pos:
            out[:, j] = block[:, pos[n]]
    return out


def same_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality where NaN equals NaN."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def frame_keys_of_rows(state: State, inst_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(video ids, frame indices) of the frames of instances at ``inst_rows``."""
    fr = state.instances.cols.cols["frame"][inst_rows]
    fc = state.frames.cols.cols
    return fc["video"][fr].copy(), fc["frame_idx"][fr].copy()


def live_frame_keys(state: State) -> tuple[np.ndarray, np.ndarray]:
    """(video ids, frame indices) of live frames in list order."""
    rows = np.asarray(state.frames.order(), dtype=np.int64)
    fc = state.frames.cols.cols
    return fc["video"][rows].copy(), fc["frame_idx"][rows].copy()


class KeyCoder:
    """Packs (video id, frame_idx) pairs into one int64 so frame sets can be
    joined with numpy; video ids (random 62-bit) become small codes."""

    def __init__(self, *video_id_lists: list[int] | np.ndarray) -> None:
        parts = [np.asarray(lst, dtype=np.int64).reshape(-1) for lst in video_id_lists]
        self.videos = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def add(self, vids: np.ndarray) -> None:
        extra = np.setdiff1d(np.asarray(vids, dtype=np.int64), self.videos)
        if len(extra):
            self.videos = np.union1d(self.videos, extra)

    def pack(self, video: np.ndarray, frame_idx: np.ndarray) -> np.ndarray:
        video = np.asarray(video, dtype=np.int64)
        if len(video) and not np.isin(video, self.videos).all():
            self.add(video)
        code = np.searchsorted(self.videos, video).astype(np.int64)
        return (code << VIDEO_SHIFT) | np.asarray(frame_idx, dtype=np.int64)

    def unpack(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = np.asarray(keys, dtype=np.int64)
        return self.videos[keys >> VIDEO_SHIFT], keys & ((1 << VIDEO_SHIFT) - 1)


def batch_rows(state: State, rows: np.ndarray) -> ev.InstanceBatch:
    """Instances at ``rows`` as an `InstanceBatch` (vectorised)."""
    from ledger.core.state_batches import instance_batch_from_rows

    return instance_batch_from_rows(state, np.asarray(rows, dtype=np.int64))


def take(batch: ev.InstanceBatch, index: np.ndarray) -> ev.InstanceBatch:
    """Vectorised `InstanceBatch.take` (the model's version loops per instance)."""
    index = np.asarray(index, dtype=np.int64)
    if len(index) == len(batch) and (len(index) == 0 or np.array_equal(
            index, np.arange(len(batch)))):
        return batch
    pts = ranges_to_index(batch.pt_offsets[:-1][index], batch.n_pts[index])
    return ev.InstanceBatch(
        batch.ids[index], batch.video[index], batch.frame_idx[index], batch.skeleton[index],
        batch.track[index], batch.kind[index], batch.score[index],
        batch.tracking_score[index], batch.from_predicted[index], batch.n_pts[index],
        batch.x[pts], batch.y[pts], batch.visible[pts], batch.complete[pts],
        batch.point_score[pts])


def concat(batches: list[ev.InstanceBatch]) -> ev.InstanceBatch:
    return ev.InstanceBatch.concat([b for b in batches if len(b)]) if any(
        len(b) for b in batches) else ev.InstanceBatch.empty()


def replace(batch: ev.InstanceBatch, **fields: np.ndarray) -> ev.InstanceBatch:
    values = {f: getattr(batch, f) for f in ev.InstanceBatch.__struct_fields__}
    values.update(fields)
    return ev.InstanceBatch(**values)


def relayout(batch: ev.InstanceBatch, layouts: dict[int, tuple[int, ...]],
             targets: dict[int, tuple[int, ...]]) -> ev.InstanceBatch:
    """Re-order each instance's points from its skeleton's ``layouts`` node order
    to ``targets`` (node ids); nodes missing from the source get `MISSING_POINT`."""
    if len(batch) == 0 or all(layouts.get(s) == targets.get(s, layouts.get(s))
                              for s in np.unique(batch.skeleton).tolist()):
        return batch
    offsets = batch.pt_offsets
    src_index: list[np.ndarray] = []
    new_n = batch.n_pts.astype(np.int64).copy()
    for i, sk in enumerate(batch.skeleton.tolist()):
        src, dst = layouts[sk], targets.get(sk, layouts[sk])
        pos = {n: k for k, n in enumerate(src)}
        src_index.append(np.array([offsets[i] + pos[n] if n in pos else -1 for n in dst],
                                  dtype=np.int64))
        new_n[i] = len(dst)
    idx = np.concatenate(src_index) if src_index else np.zeros(0, np.int64)
    hole = idx < 0
    safe = np.where(hole, 0, idx)

    def col(values: np.ndarray, fill: float) -> np.ndarray:
        out = values[safe] if len(values) else np.zeros(len(idx), values.dtype)
        out = out.copy()
        out[hole] = fill
        return out

    return replace(batch, n_pts=new_n.astype(np.int32), x=col(batch.x, np.nan),
                   y=col(batch.y, np.nan), visible=col(batch.visible, True),
                   complete=col(batch.complete, False), point_score=col(batch.point_score, 0.0))
