"""Adding and removing instance rows, with the caches they move (frames, which
carry instances, are in `ledger.core.apply_frames`).

The event handlers in `ledger.core.apply` call these. Two paths each: a scalar one for
the editor's handful of instances (per-element numpy calls would cost more than the
work), and a vectorised one for bulk batches (imports, merges, undo of a video
removal) that touches every column once. Each validates before it mutates
(`check_instances`; a removal must carry exactly what it removes, `check_carried`),
so a batch that does not fit raises `EventMismatch` and changes nothing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ledger.core import events as ev
from ledger.core.columns import distinct
from ledger.core.ids import NO_ID
from ledger.core.rangelist import RangeList
from ledger.core.state import State
from ledger.core.state_batches import instance_batch_from_rows
from ledger.errors import EventMismatch

# ----------------------------------------------------------------- caches


def occupancy_add(state: State, video: int, track: int, frame_idx: int) -> None:
    rl = state.occupancy.get((video, track))
    if rl is None:
        state.occupancy[(video, track)] = RangeList([(frame_idx, frame_idx + 1)])
    else:
        rl.add_index(frame_idx)


def occupancy_drop(state: State, video: int, track: int, frame_idx: int) -> None:
    key = (video, track)
    rl = state.occupancy.get(key)
    if rl is None:
        return
    rl.remove_index(frame_idx)
    if rl.is_empty:
        del state.occupancy[key]


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Unique values of an int array, O(n) when it is already sorted."""
    if len(values) < 2 or np.all(values[1:] >= values[:-1]):
        if len(values) < 2:
            return values
        return values[np.concatenate(([True], values[1:] != values[:-1]))]
    return np.unique(values)


def _occ_add_bulk(state: State, videos: np.ndarray, tracks: np.ndarray,
                  fidx: np.ndarray) -> None:
    if len(fidx) == 0:
        return
    vcodes = distinct(videos)
    tcodes = distinct(tracks)
    if len(vcodes) * len(tcodes) <= 64:
        groups = []
        for v in vcodes.tolist():
            in_video = videos == v if len(vcodes) > 1 else None
            for t in tcodes.tolist():
                mask = tracks == t if in_video is None else in_video & (tracks == t)
                groups.append(((v, t), fidx[mask]))
    else:
        vinv = np.searchsorted(vcodes, videos)
        tinv = np.searchsorted(tcodes, tracks)
        group = vinv.astype(np.int64) * len(tcodes) + tinv
        order = np.lexsort((fidx, group))
        g_sorted = group[order]
        f_sorted = fidx[order]
        bounds = np.flatnonzero(np.diff(g_sorted)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(g_sorted)]])
        groups = []
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            g = int(g_sorted[a])
            key = (int(vcodes[g // len(tcodes)]), int(tcodes[g % len(tcodes)]))
            groups.append((key, f_sorted[a:b]))
    for key, idxs in groups:
        if len(idxs) == 0:
            continue
        idxs = _sorted_unique(idxs)
        rl = state.occupancy.get(key)
        if rl is None:
            state.occupancy[key] = RangeList.from_indices(idxs)
        else:
            for interval in RangeList.from_indices(idxs).list:
                rl.insert(interval)  # a run at a time: few runs, however many frames


def _count(state: State, video: int) -> list[int]:
    c = state.counts.get(video)
    if c is None:
        c = state.counts[video] = [0, 0, 0]
    return c


# ----------------------------------------------------------------- instances


def _skeleton_size(state: State, skeleton: int) -> int:
    sk = state.skeletons.get(skeleton)
    if sk is None:
        raise EventMismatch(f"skeleton {skeleton} is not in the labels")
    return len(sk.nodes)


def _check_shape(batch: ev.InstanceBatch) -> None:
    """The batch's columns agree in length (a decoded foreign or corrupt event may
    not): otherwise applying it would fail half-way with an IndexError."""
    n = len(batch)
    for name in ("video", "frame_idx", "skeleton", "track", "kind", "score",
                 "tracking_score", "from_predicted", "n_pts"):
        col = getattr(batch, name)
        if col.ndim != 1 or col.shape[0] != n:
            raise EventMismatch(f"instance batch column {name} has the wrong length")
    if n and int(batch.n_pts.min()) < 0:
        raise EventMismatch("instance batch has a negative point count")
    total = int(batch.n_pts.sum()) if n else 0
    for name in ("x", "y", "visible", "complete", "point_score"):
        col = getattr(batch, name)
        if col.ndim != 1 or col.shape[0] != total:
            raise EventMismatch(f"instance batch point column {name} has the wrong length")
    if n and not np.all((batch.kind == 0) | (batch.kind == 1)):
        raise EventMismatch("instance kind must be 0 (user) or 1 (predicted)")


def check_instances(state: State, batch: ev.InstanceBatch) -> None:
    """Everything about an instance batch that does not depend on its frames:
    shape, skeletons, fresh ids. Raises `EventMismatch`; changes nothing."""
    _check_shape(batch)
    n = len(batch)
    if n == 0:
        return
    for sk in distinct(batch.skeleton).tolist():
        size = _skeleton_size(state, sk)
        if np.any(batch.n_pts[batch.skeleton == sk] != size):
            raise EventMismatch(f"instance points do not fit skeleton {sk} ({size} nodes)")
    for t in distinct(batch.track).tolist():
        if t != NO_ID and t not in state.tracks:
            raise EventMismatch(f"track {t} is not in the labels")
    if n <= SMALL_BATCH and len(set(batch.ids.tolist())) != n:
        raise EventMismatch("instance batch names an instance twice")
    table = state.instances
    if table.n:
        found = table.index.get_many(batch.ids)
        known = found >= 0
        alive = table.cols.cols["alive"][found[known]]
        if np.any(alive):
            clash = int(batch.ids[known][alive][0])
            raise EventMismatch(f"instance {clash} is already in the labels")


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return bool(np.array_equal(a.astype(np.float64), b.astype(np.float64), equal_nan=True))
    return bool(np.array_equal(a, b))


def check_carried(state: State, rows: np.ndarray, batch: ev.InstanceBatch) -> None:
    """A removal must carry exactly what it removes: its inverse puts the carried
    data back, so anything else would make undo restore something that never was
    (or wipe a later edit by someone else)."""
    now = instance_batch_from_rows(state, rows)
    for name in ev.InstanceBatch.__struct_fields__:
        if not _same(getattr(now, name), getattr(batch, name)):
            raise EventMismatch(f"instance removal carries a {name} that differs from the "
                                "labels (changed since?)")


SMALL_BATCH = 16
# instance columns a bulk batch lends to an empty table: (column, batch field)
_LENT = (("id", "ids"), ("skeleton", "skeleton"), ("track", "track"), ("kind", "kind"),
         ("score", "score"), ("tracking_score", "tracking_score"),
         ("from_predicted", "from_predicted"), ("n_pts", "n_pts"))


def _add_few_instances(state: State, batch: ev.InstanceBatch) -> None:
    """Scalar path for the editor's case (a handful of instances): per-element
    numpy calls cost more than the work for tiny batches."""
    table = state.instances
    fr = state.frames
    c = table.cols.writable()
    ids = batch.ids.tolist()
    videos = batch.video.tolist()
    fidxs = batch.frame_idx.tolist()
    skels = batch.skeleton.tolist()
    n_pts = batch.n_pts.tolist()
    frame_rows = []
    for v, f in zip(videos, fidxs, strict=True):
        row = fr.row_of(v, f)
        if row is None:
            raise EventMismatch(f"frame ({v}, {f}) is not in the labels")
        frame_rows.append(row)
    existing = [table.index.get(i) for i in ids]
    offsets = batch.pt_offsets.tolist()
    pool = table.points
    fc = fr.cols.cols
    tracks = batch.track.tolist()
    kinds = batch.kind.tolist()
    for k, ident in enumerate(ids):
        row = existing[k]
        fresh = row is None
        if fresh:
            row = table.cols.reserve(1)
            table.index.add(ident, row)
            c = table.cols.cols
            c["pt_start"][row] = pool.alloc(n_pts[k])
            c["n_pts"][row] = n_pts[k]
        elif int(c["n_pts"][row]) != n_pts[k]:
            table.realloc_points(row, n_pts[k])
        f_row = frame_rows[k]
        c["id"][row] = ident
        c["frame"][row] = f_row
        c["skeleton"][row] = skels[k]
        c["track"][row] = tracks[k]
        c["kind"][row] = kinds[k]
        c["score"][row] = batch.score[k]
        c["tracking_score"][row] = batch.tracking_score[k]
        c["from_predicted"][row] = batch.from_predicted[k]
        c["alive"][row] = True
        pool.write_columns(int(c["pt_start"][row]), _batch_points(batch, offsets[k],
                                                                  offsets[k + 1]))
        _attach_one(state, row, f_row, fresh)
        counter = "n_pred" if kinds[k] else "n_user"
        before = int(fc[counter][f_row])
        fc[counter][f_row] = before + 1
        if before == 0:
            _count(state, videos[k])[2 if kinds[k] else 1] += 1
        occupancy_add(state, videos[k], tracks[k], fidxs[k])


def _batch_points(batch: ev.InstanceBatch, a: int, b: int) -> dict[str, np.ndarray]:
    """Point columns ``a:b`` of a batch, named as the pool names them."""
    return {"x": batch.x[a:b], "y": batch.y[a:b], "visible": batch.visible[a:b],
            "complete": batch.complete[a:b], "score": batch.point_score[a:b]}


def _attach_one(state: State, r: int, f: int, fresh: bool) -> None:
    fc = state.frames.cols.cols
    extra = state.frames.extra
    if not fresh:
        start, end = int(fc["inst_start"][f]), int(fc["inst_end"][f])
        if start <= r < end or r in extra.get(f, ()):
            return  # revived in place: it keeps its old position
    if fresh and f not in extra and fc["inst_start"][f] == fc["inst_end"][f]:
        fc["inst_start"][f] = r
        fc["inst_end"][f] = r + 1
    elif fresh and f not in extra and fc["inst_end"][f] == r:
        fc["inst_end"][f] = r + 1
    else:
        lst = extra.setdefault(f, [])
        lst.append(r)
        if len(lst) > 1 and lst[-2] > r:
            lst.sort()


class FrameRuns(NamedTuple):
    """Runs of consecutive instances of one frame, for batches in frame order
    (imports and merges are): per-frame work then costs a pass over frames, not
    over instances."""

    first: np.ndarray  # index in the batch of each run's first instance
    length: np.ndarray  # instances in each run
    frame: np.ndarray  # frame row of each run, strictly increasing


def _frame_runs(frame_rows: np.ndarray) -> FrameRuns | None:
    """The runs of ``frame_rows``, or None unless it is sorted (then each frame
    is one run)."""
    runs = _key_runs(frame_rows)
    return None if runs is None else FrameRuns(*runs)


def add_instances(state: State, batch: ev.InstanceBatch,
                   frame_rows: np.ndarray | None = None,
                   runs: FrameRuns | None = None, checked: bool = False) -> None:
    """Add (or revive) the batch's instances in their frames. ``checked``: the
    caller (`add_frames`) already ran `check_instances`."""
    if not checked:
        check_instances(state, batch)
    n = len(batch)
    if n == 0:
        return
    if n <= SMALL_BATCH and frame_rows is None:
        _add_few_instances(state, batch)
        return
    table = state.instances
    fr = state.frames
    if frame_rows is None:
        frame_rows = np.empty(n, dtype=np.int64)
        for i, (v, f) in enumerate(zip(batch.video.tolist(), batch.frame_idx.tolist(),
                                       strict=True)):
            row = fr.row_of(v, f)
            if row is None:
                raise EventMismatch(f"frame ({v}, {f}) is not in the labels")
            frame_rows[i] = row
    if table.n:
        found = table.index.get_many(batch.ids)
        known = found >= 0
        existing = [None if r < 0 else r for r in found.tolist()]
        fresh = ~known
    else:
        existing = []
        fresh = np.ones(n, dtype=bool)
    offsets = batch.pt_offsets
    rows = np.empty(n, dtype=np.int64)
    n_fresh = int(fresh.sum())
    all_fresh = n_fresh == n
    # Into an empty table, a big batch lends its columns: the event is immutable,
    # the table copies them before its first write (see Columns.adopt).
    borrow = table.n == 0 and all_fresh and n > SMALL_BATCH
    adopt = False
    if n_fresh:
        if borrow:
            table.cols.adopt({name: getattr(batch, field) for name, field in _LENT}, n)
            first = 0
        else:
            first = table.cols.reserve(n_fresh, zero=not all_fresh)
        if all_fresh:
            rows = np.arange(first, first + n, dtype=np.int64)
        else:
            rows[fresh] = np.arange(first, first + n_fresh)
        table.index.add_block(batch.ids if all_fresh else batch.ids[fresh], first)
        n_pts_fresh = batch.n_pts if all_fresh else batch.n_pts[fresh]
        # a batch's points are an immutable event payload: borrow them (the pool
        # copies a segment before its first write)
        adopt = all_fresh and n > SMALL_BATCH
        if adopt:
            p0 = table.points.adopt(_batch_points(batch, 0, int(offsets[-1])), offsets)
        else:
            p0 = table.points.alloc(int(n_pts_fresh.sum()))
        pt_start = table.cols.cols["pt_start"][first:first + n_fresh]
        if all_fresh:
            np.add(offsets[:-1], p0, out=pt_start)
        else:
            pt_start[0] = p0
            np.cumsum(n_pts_fresh[:-1], out=pt_start[1:])
            pt_start[1:] += p0
        if not borrow:
            table.cols.cols["n_pts"][first:first + n_fresh] = n_pts_fresh
    for i in np.flatnonzero(~fresh).tolist():
        row = existing[i]
        rows[i] = row
        if int(table.cols.cols["n_pts"][row]) != int(batch.n_pts[i]):
            table.realloc_points(row, int(batch.n_pts[i]))
    c = table.cols.cols if borrow else table.cols.writable()
    sel: Any = slice(int(rows[0]), int(rows[0]) + n) if all_fresh else rows
    c["frame"][sel] = frame_rows
    c["alive"][sel] = True
    if not borrow:
        for name, field in _LENT:
            c[name][sel] = getattr(batch, field)
    if not adopt:
        if n_fresh == n and n > 0 and np.all(np.diff(rows) == 1):
            table.points.write_columns(int(c["pt_start"][rows[0]]),
                                       _batch_points(batch, 0, int(offsets[-1])))
        else:
            for i, r in enumerate(rows.tolist()):
                table.points.write_columns(int(c["pt_start"][r]), _batch_points(
                    batch, int(offsets[i]), int(offsets[i + 1])))
    if runs is None:
        runs = _frame_runs(frame_rows)
    _attach_to_frames(state, rows, frame_rows, fresh, runs if all_fresh else None)
    _count_instances(state, frame_rows, batch.kind, +1, runs)
    # the batch names each instance's frame by (video, frame_idx): no gathers needed
    if n > 32:
        _occ_add_bulk(state, batch.video, batch.track, batch.frame_idx)
    else:
        for v, t, f in zip(batch.video.tolist(), batch.track.tolist(),
                           batch.frame_idx.tolist(), strict=True):
            occupancy_add(state, v, t, f)


def _attach_to_frames(state: State, rows: np.ndarray, frame_rows: np.ndarray,
                      fresh: np.ndarray, runs: FrameRuns | None) -> None:
    """Record frame membership: runs of new rows on empty frames become ranges.
    ``runs`` is given only when ``rows`` are consecutive new rows."""
    fc = state.frames.cols.cols
    extra = state.frames.extra
    if runs is not None:  # given only for consecutive new rows
        first_idx, uniq = runs.first, runs.frame
        last_idx = first_idx + runs.length
        empty = (fc["inst_start"][uniq] == fc["inst_end"][uniq]) & np.array(
            [u not in extra for u in uniq.tolist()] if extra else np.ones(len(uniq), bool))
        fc["inst_start"][uniq[empty]] = rows[first_idx[empty]]
        fc["inst_end"][uniq[empty]] = rows[last_idx[empty] - 1] + 1
        todo = np.flatnonzero(~empty)
        for k in todo.tolist():
            extra.setdefault(int(uniq[k]), []).extend(
                rows[first_idx[k]:last_idx[k]].tolist())
        return
    for r, f, is_fresh in zip(rows.tolist(), frame_rows.tolist(), fresh.tolist(), strict=True):
        _attach_one(state, r, f, is_fresh)


def _count_instances(state: State, frame_rows: np.ndarray, kinds: np.ndarray,
                     sign: int, runs: FrameRuns | None = None) -> None:
    """Update per-frame user/predicted counts and the per-video frame counts."""
    fc = state.frames.cols.cols
    if runs is not None:
        uniq = runs.frame
        user = np.flatnonzero(kinds != 1)  # user instances are the few
        n_user = np.bincount(np.searchsorted(runs.first, user, side="right") - 1,
                             minlength=len(uniq))
        n_pred = runs.length - n_user
    else:
        lo = int(frame_rows.min())
        local = frame_rows - lo
        size = int(local.max()) + 1
        n_user = np.bincount(local[kinds != 1], minlength=size)
        n_pred = np.bincount(local, minlength=size) - n_user
        touched = np.flatnonzero((n_user > 0) | (n_pred > 0))
        uniq = touched + lo
        n_user, n_pred = n_user[touched], n_pred[touched]
    before_u = fc["n_user"][uniq].astype(np.int64)
    before_p = fc["n_pred"][uniq].astype(np.int64)
    after_u = before_u + sign * n_user
    after_p = before_p + sign * n_pred
    fc["n_user"][uniq] = after_u
    fc["n_pred"][uniq] = after_p
    du = (after_u > 0).astype(np.int64) - (before_u > 0)
    dp = (after_p > 0).astype(np.int64) - (before_p > 0)
    changed = (du != 0) | (dp != 0)
    videos = fc["video"][uniq][changed]
    du, dp = du[changed], dp[changed]
    for v in distinct(videos).tolist():
        mask = videos == v
        c = _count(state, v)
        c[1] += int(du[mask].sum())
        c[2] += int(dp[mask].sum())


def remove_instances(state: State, batch: ev.InstanceBatch, whole_frames: bool = False) -> None:
    n = len(batch)
    if n == 0:
        return
    _check_shape(batch)
    table = state.instances
    rows = np.empty(n, dtype=np.int64)
    if not whole_frames and (len(set(batch.ids.tolist())) if n <= SMALL_BATCH
                             else len(np.unique(batch.ids))) != n:
        raise EventMismatch("instance removal names an instance twice")
    for i, ident in enumerate(batch.ids.tolist()):
        row = table.row_of(ident)
        if row is None:
            raise EventMismatch(f"instance {ident} is not in the labels")
        rows[i] = row
    check_carried(state, rows, batch)
    c = table.cols.writable()
    frame_rows = c["frame"][rows].copy()
    c["alive"][rows] = False
    _count_instances(state, frame_rows, c["kind"][rows], -1)
    fc = state.frames.cols.cols
    fvid = fc["video"][frame_rows]
    fidx = fc["frame_idx"][frame_rows]
    tracks = c["track"][rows]
    seen: set[tuple[int, int, int]] = set()
    for f_row, v, t, f in zip(frame_rows.tolist(), fvid.tolist(), tracks.tolist(),
                              fidx.tolist(), strict=True):
        if (v, t, f) in seen:
            continue
        seen.add((v, t, f))
        if not whole_frames and any(
            c["track"][r] == t for r in state.frame_instance_rows(f_row)
        ):
            continue
        occupancy_drop(state, v, t, f)


def _key_runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """First index, length and key of each run of equal keys, when ``keys`` is
    sorted (instances come grouped by frame, so each frame is looked up once)."""
    if len(keys) < 2:
        return None
    step = np.diff(keys)
    if step.min() < 0:
        return None
    first = np.flatnonzero(step)
    first += 1
    first = np.concatenate(([0], first))
    return first, np.diff(first, append=len(keys)), keys[first]
