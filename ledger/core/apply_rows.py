"""Adding and removing frame and instance rows, with the caches they move.

The event handlers in `ledger.core.apply` call these. Two paths each: a scalar one for
the editor's handful of instances (per-element numpy calls would cost more than the
work), and a vectorised one for bulk batches (imports, merges, undo of a video
removal) that touches every column once. Each validates before it mutates, so a
batch that does not fit raises `EventMismatch` and changes nothing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ledger.core import events as ev
from ledger.core.columns import distinct
from ledger.core.rangelist import RangeList
from ledger.core.state import State
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
    for sk, k in zip(skels, n_pts, strict=True):
        if _skeleton_size(state, sk) != k:
            raise EventMismatch(f"instance points do not fit skeleton {sk}")
    existing = [table.index.get(i) for i in ids]
    for ident, row in zip(ids, existing, strict=True):
        if row is not None and c["alive"][row]:
            raise EventMismatch(f"instance {ident} is already in the labels")
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
                   runs: FrameRuns | None = None) -> None:
    """Add (or revive) the batch's instances in their frames."""
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
    for sk in distinct(batch.skeleton).tolist():
        size = _skeleton_size(state, sk)
        if np.any(batch.n_pts[batch.skeleton == sk] != size):
            raise EventMismatch(f"instance points do not fit skeleton {sk} ({size} nodes)")
    if table.n:
        found = table.index.get_many(batch.ids)
        known = found >= 0
        if np.any(table.cols.cols["alive"][found[known]]):
            clash = int(batch.ids[known][table.cols.cols["alive"][found[known]]][0])
            raise EventMismatch(f"instance {clash} is already in the labels")
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
    table = state.instances
    rows = np.empty(n, dtype=np.int64)
    for i, ident in enumerate(batch.ids.tolist()):
        row = table.row_of(ident)
        if row is None:
            raise EventMismatch(f"instance {ident} is not in the labels")
        rows[i] = row
    c = table.cols.writable()
    if np.any(c["track"][rows] != batch.track):
        raise EventMismatch("instance track differs from the event")
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


# ----------------------------------------------------------------- frames


def _frame_keys(batch: ev.FrameBatch, uniq_v: np.ndarray) -> tuple[np.ndarray, Any]:
    """Sorted composite keys of the batch's frames, and the sorting order (None
    when the batch is already sorted by (video, frame_idx), the usual case)."""
    fk = np.searchsorted(uniq_v, batch.video).astype(np.int64) << 40 | batch.frame_idx
    if np.all(fk[1:] > fk[:-1]):
        return fk, None
    order_k = np.argsort(fk, kind="stable")
    fk_sorted = fk[order_k]
    if np.any(fk_sorted[1:] == fk_sorted[:-1]):
        raise EventMismatch("frame batch has duplicate frames")
    return fk_sorted, order_k


def add_frames(state: State, batch: ev.FrameBatch) -> None:
    n = len(batch)
    if n == 0:
        return
    fr = state.frames
    fc = fr.cols
    uniq_v = distinct(batch.video)
    per_video = [n] if len(uniq_v) == 1 else np.bincount(
        np.searchsorted(uniq_v, batch.video), minlength=len(uniq_v)).tolist()
    for v in uniq_v.tolist():
        if v not in state.videos:
            raise EventMismatch(f"video {v} is not in the labels")
    fk_sorted, order_k = _frame_keys(batch, uniq_v)
    bulk = fc.n == 0 and n > 1
    if bulk:
        first = fc.reserve(n, zero=False)
        rows = np.arange(first, first + n, dtype=np.int64)
        fr.invalidate_indexes()
    else:
        keys = fr.key_index()
        batch_keys = list(zip(batch.video.tolist(), batch.frame_idx.tolist(), strict=True))
        existing = [keys.get(key) for key in batch_keys]
        alive = fc.cols["alive"]
        for key, row in zip(batch_keys, existing, strict=True):
            if row is not None and alive[row]:
                raise EventMismatch(f"frame {key} is already in the labels")
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
        add_instances(state, inst)
        return
    # instances name frames by key; map the keys to this batch's rows
    if len(uniq_v) == 1:
        icode = np.where(inst.video == uniq_v[0], 0, -1)
    else:
        icode = np.clip(np.searchsorted(uniq_v, inst.video), 0, len(uniq_v) - 1)
        icode = np.where(uniq_v[icode] == inst.video, icode, -1)
    ik = icode.astype(np.int64) << 40 | inst.frame_idx
    sorted_rows = rows if order_k is None else rows[order_k]
    runs = _key_runs(ik)
    if runs is None:
        add_instances(state, inst, sorted_rows[_positions(fk_sorted, ik)])
        return
    first, length, run_keys = runs
    run_rows = sorted_rows[_positions(fk_sorted, run_keys)]
    frame_rows = np.repeat(run_rows, length)
    ordered = len(run_rows) < 2 or bool(np.all(run_rows[1:] > run_rows[:-1]))
    add_instances(state, inst, frame_rows,
                  FrameRuns(first, length, run_rows) if ordered else None)


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


def _positions(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each key sits in ``sorted_keys``; every key must be there."""
    if len(keys) == len(sorted_keys) and np.array_equal(keys, sorted_keys):
        return np.arange(len(keys))
    at = np.clip(np.searchsorted(sorted_keys, keys), 0, len(sorted_keys) - 1)
    if not np.array_equal(sorted_keys[at], keys):
        raise EventMismatch("an instance names a frame that is not in the batch")
    return at


def remove_frames(state: State, batch: ev.FrameBatch) -> None:
    fr = state.frames
    rows = []
    for v, f in zip(batch.video.tolist(), batch.frame_idx.tolist(), strict=True):
        row = fr.row_of(v, f)
        if row is None:
            raise EventMismatch(f"frame ({v}, {f}) is not in the labels")
        rows.append(row)
    live = [r for row in rows for r in state.frame_instance_rows(row)]
    if len(live) != len(batch.instances):
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
