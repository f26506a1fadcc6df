"""Pose arrays from the columnar state: `Labels.numpy()` and the analysis matrices.

Analysis code starts from one dense array per video, ``(frames, tracks, nodes, 2)``.
Building it by walking instance objects costs a minute at 300,000 frames; here it is
computed from the state's columns (frames table, instances table, point pool) with
a handful of vectorised passes: select the video's live instances, put them in
frame order, choose one instance per output cell, gather their points, scatter.

Two selection rules exist, because the two oracles differ:

- `numpy_array` follows sleap-io 0.9.5's ``Labels.numpy()`` (which SLEAP users now
  call): tracked cells prefer a user instance over a prediction of the same track;
  untracked or single-instance projects list user instances first, then the
  predictions no user instance was made from (or shares a track with);
- `analysis_matrices` follows SLEAP 1.4.1's ``write_tracking_h5`` (what
  ``Labels.export`` writes): per track, the user instances if any, else the
  predictions; without tracks every instance goes to one column.

In both, when several instances compete for one cell the last one in frame order
wins, as the reference loops do.

Example::

    arr = numpy_array(state, vid, n_nodes=13)
    arr.shape        # (n_frames, n_tracks, n_nodes, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ledger.core.ids import NO_ID
from ledger.core.state import State
from ledger.errors import ValidationError


@dataclass
class VideoInstances:
    """The live instances of one video's frames, in frame order (each frame's
    instances in the order the frame lists them)."""

    rows: np.ndarray  # instance rows
    frame_idx: np.ndarray  # frame index of each instance
    is_user: np.ndarray  # bool
    track: np.ndarray  # position in the track order, -1 for none
    frame_idxs: np.ndarray  # every labelled frame of the video (empty ones too)


def _positions(order: list[int], ids: np.ndarray) -> np.ndarray:
    """Position of each id in ``order``; NO_ID and unknown ids → -1."""
    out = np.full(len(ids), -1, dtype=np.int64)
    if not order or len(ids) == 0:
        return out
    keys = np.asarray(order, dtype=np.int64)
    sorter = np.argsort(keys)
    pos = np.clip(np.searchsorted(keys, ids, sorter=sorter), 0, len(keys) - 1)
    hit = keys[sorter[pos]] == ids
    out[hit] = sorter[pos[hit]]
    return out


def video_instances(state: State, vid: int) -> VideoInstances:
    """Select a video's frames and instances straight from the columns."""
    fc = state.frames.cols
    f_live = fc.view("alive") & (fc.view("video") == vid)
    frame_rows = np.flatnonzero(f_live)
    ic = state.instances.cols
    i_frame = ic.view("frame")
    in_video = np.zeros(fc.n + 1, dtype=bool)
    in_video[frame_rows] = True
    rows = np.flatnonzero(ic.view("alive") & in_video[np.clip(i_frame, 0, fc.n)])
    f_of = i_frame[rows]
    start = fc.view("inst_start")[f_of]
    end = fc.view("inst_end")[f_of]
    later = (rows < start) | (rows >= end)  # added after the frame's first block
    if later.any() or np.any(f_of[1:] < f_of[:-1]):
        order = np.lexsort((rows, later, f_of))
        rows, f_of = rows[order], f_of[order]
    return VideoInstances(
        rows=rows,
        frame_idx=fc.view("frame_idx")[f_of],
        is_user=ic.view("kind")[rows] == 0,
        track=_positions(state.track_order, ic.view("track")[rows]),
        frame_idxs=fc.view("frame_idx")[frame_rows],
    )


def _last_per_cell(cells: np.ndarray, is_user: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For candidates in frame order: the cells filled and, per cell, which
    candidate fills it (a user instance over predictions, then the last one)."""
    if len(cells) == 0:
        return cells, cells
    key = cells * 2 + is_user
    order = np.argsort(key, kind="stable")
    sorted_cells = cells[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = sorted_cells[1:] != sorted_cells[:-1]
    return sorted_cells[last], order[last]


def _points(state: State, vi: VideoInstances, chosen: np.ndarray, n_nodes: int,
            names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The points of instances ``vi.rows[chosen]`` as (len(chosen), n_nodes) columns.

    The video's instances usually sit in one run of the point pool (a load or a
    merge adds them together), so the whole run is taken as views and the chosen
    instances are picked with one row gather per column; otherwise only the
    chosen blocks are gathered."""
    ic = state.instances.cols
    pool = state.instances.points
    rows = vi.rows[chosen]
    n_pts = ic.view("n_pts")[rows]
    if len(rows) and np.any(n_pts != n_nodes):
        raise ValidationError(
            f"instances have {sorted(set(np.unique(n_pts).tolist()))} points but the "
            f"skeleton used for the array has {n_nodes} nodes; one skeleton per project "
            "is assumed (as SLEAP does)")
    starts = ic.view("pt_start")
    every = vi.rows if np.all(vi.rows[1:] > vi.rows[:-1]) else np.sort(vi.rows)
    first = starts[every]
    if len(every) and np.all(ic.view("n_pts")[every] == n_nodes) and np.array_equal(
            first[1:], first[:-1] + n_nodes):
        cols, _ = pool.gather(first[:1], np.array([len(every) * n_nodes]))
        pos = (starts[rows] - first[0]) // n_nodes
        return {k: np.take(cols[k].reshape(-1, n_nodes), pos, axis=0) for k in names}
    cols, _ = pool.gather(starts[rows], n_pts)
    return {k: cols[k].reshape(len(rows), n_nodes) for k in names}


def _frame_range(vi: VideoInstances, all_frames: bool, n_video_frames: int
                 ) -> tuple[int, int]:
    """(first frame, frame count) of the output."""
    if len(vi.frame_idxs) == 0:
        if not all_frames:
            return 0, 0
        return 0, max(n_video_frames, 1)
    first = 0 if all_frames else int(vi.frame_idxs.min())
    last = int(vi.frame_idxs.max())
    if all_frames:
        last = max(last, n_video_frames - 1)
    return first, last - first + 1


def numpy_array(state: State, vid: int, n_nodes: int, *, all_frames: bool = True,
                untracked: bool = False, return_confidence: bool = False,
                n_video_frames: int = 0) -> np.ndarray:
    """sleap-io 0.9.5's ``Labels.numpy()`` for one video, vectorised (see module
    docstring). ``n_video_frames`` extends the frames to the video's length when
    ``all_frames``, as sleap-io does."""
    vi = video_instances(state, vid)
    first, n_frames = _frame_range(vi, all_frames, n_video_frames)
    keep = (vi.frame_idx >= first) & (vi.frame_idx < first + n_frames)
    fpos = vi.frame_idx - first
    is_user = vi.is_user
    n_user = np.bincount(fpos[keep & is_user], minlength=n_frames)[:n_frames]
    n_pred = np.bincount(fpos[keep & ~is_user], minlength=n_frames)[:n_frames]
    n_most = int(np.maximum(n_user, n_pred).max()) if n_frames else 0
    single = n_most == 1
    untracked = untracked or single
    if untracked:
        n_tracks = n_most
        cells, chosen = _untracked_cells(state, vi, fpos, keep, n_user, single, n_tracks)
    else:
        n_tracks = len(state.track_order)
        cand = np.flatnonzero(keep & (vi.track >= 0))
        cells, pick = _last_per_cell(fpos[cand] * n_tracks + vi.track[cand], is_user[cand])
        chosen = cand[pick]
    depth = 3 if return_confidence else 2
    shape = (n_frames, n_tracks, n_nodes, depth)
    if len(chosen) == 0:
        return np.full(shape, np.nan, dtype=np.float32)
    table, pos = _pose_table(state, vi, chosen, n_nodes, depth)
    flat_shape = (n_frames * n_tracks, n_nodes, depth)
    if len(cells) == flat_shape[0] and np.all(cells[1:] > cells[:-1]):
        out = np.empty(shape, dtype=np.float32)  # every cell filled, in order
        np.take(table, pos, axis=0, out=out.reshape(flat_shape))
    else:
        out = np.full(shape, np.nan, dtype=np.float32)
        out.reshape(flat_shape)[cells] = table[pos]
    if return_confidence:
        users = is_user[chosen]
        if users.any():
            out.reshape(flat_shape)[cells[users], :, 2] = 1.0
    return out


def _pose_table(state: State, vi: VideoInstances, chosen: np.ndarray, n_nodes: int,
                depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Points as a float32 ``(instances, n_nodes, depth)`` table (x, y[, score];
    NaN where invisible) and the row of each chosen instance in it.

    This is where the time goes, so it is done in as few passes as numpy allows:
    the video's instances usually sit in one run of the point pool (a load or a
    merge adds them together), so the whole run is converted with one strided
    copy per column and the chosen instances are then taken by row; otherwise
    only the chosen blocks are gathered."""
    ic = state.instances.cols
    rows = vi.rows[chosen]
    n_pts = ic.view("n_pts")[rows]
    if np.any(n_pts != n_nodes):
        raise ValidationError(
            f"instances have {sorted(set(np.unique(n_pts).tolist()))} points but the "
            f"skeleton used for the array has {n_nodes} nodes; one skeleton per project "
            "is assumed (as SLEAP does)")
    starts = ic.view("pt_start")
    every = vi.rows if np.all(vi.rows[1:] > vi.rows[:-1]) else np.sort(vi.rows)
    first = starts[every]
    if np.all(ic.view("n_pts")[every] == n_nodes) and np.array_equal(
            first[1:], first[:-1] + n_nodes):
        cols, _ = state.instances.points.gather(first[:1], np.array([len(every) * n_nodes]))
        pos = (starts[rows] - first[0]) // n_nodes
    else:
        cols, _ = state.instances.points.gather(starts[rows], n_pts)
        pos = np.arange(len(rows))
    table = np.empty((len(cols["x"]), depth), dtype=np.float32)
    np.copyto(table[:, 0], cols["x"], casting="same_kind")
    np.copyto(table[:, 1], cols["y"], casting="same_kind")
    if depth == 3:
        np.copyto(table[:, 2], cols["score"], casting="same_kind")
    hidden = np.flatnonzero(~cols["visible"])  # few: a fancy write beats a mask pass
    if len(hidden):
        table[hidden, :2] = np.nan
    return table.reshape(-1, n_nodes, depth), pos


def _untracked_cells(state: State, vi: VideoInstances, fpos: np.ndarray, keep: np.ndarray,
                     n_user: np.ndarray, single: bool, n_tracks: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """sleap-io's untracked slots: a frame's user instances first, then (unless the
    project has one instance per frame) the predictions that no user instance in
    the frame came from or shares a track with; frames without user instances
    list their predictions."""
    is_user = vi.is_user
    frame_has_user = np.zeros(len(n_user) + 1, dtype=bool)
    frame_has_user[:len(n_user)] = n_user > 0
    fp_safe = np.where(keep, fpos, len(n_user))
    pred_with_user = ~is_user & frame_has_user[fp_safe]
    include = keep.copy()
    if pred_with_user.any():
        if single:
            include &= ~pred_with_user
        else:
            include &= ~(pred_with_user & _shadowed(state, vi, fpos, keep))
    idx = np.flatnonzero(include)
    order = np.argsort(fpos[idx] * 2 + ~is_user[idx], kind="stable")
    idx = idx[order]
    f = fpos[idx]
    group_start = np.ones(len(idx), dtype=bool)
    group_start[1:] = f[1:] != f[:-1]
    starts = np.flatnonzero(group_start)
    rank = np.arange(len(idx)) - np.repeat(starts, np.diff(np.append(starts, len(idx))))
    fits = rank < n_tracks
    return f[fits] * n_tracks + rank[fits], idx[fits]


def _shadowed(state: State, vi: VideoInstances, fpos: np.ndarray, keep: np.ndarray
              ) -> np.ndarray:
    """Instances some user instance of the same frame was made from, or shares a
    track with."""
    ic = state.instances.cols
    users = np.flatnonzero(keep & vi.is_user)
    out = np.zeros(len(vi.rows), dtype=bool)
    links = ic.view("from_predicted")[vi.rows[users]]
    linked = links != NO_ID
    if linked.any():
        target_rows = state.instances.index.get_many(links[linked])
        link_frame = np.full(ic.n + 1, -1, dtype=np.int64)
        ok = target_rows >= 0
        link_frame[target_rows[ok]] = fpos[users[linked]][ok]
        out |= link_frame[vi.rows] == fpos
    tracked = users[vi.track[users] >= 0]
    if len(tracked):
        width = len(state.track_order) + 1
        user_cells = fpos[tracked] * width + vi.track[tracked]
        mine = vi.track >= 0
        out[mine] |= np.isin(fpos[mine] * width + vi.track[mine], user_cells)
    return out


@dataclass
class AnalysisMatrices:
    """SLEAP 1.4.1's analysis arrays, in its in-memory axis order (before the
    transpose SLEAP applies when writing)."""

    track_names: list[str]
    occupancy: np.ndarray  # (tracks, frames) uint8
    locations: np.ndarray  # (frames, nodes, 2, tracks) float64
    point_scores: np.ndarray  # (frames, nodes, tracks)
    instance_scores: np.ndarray  # (frames, tracks)
    tracking_scores: np.ndarray  # (frames, tracks)


def analysis_matrices(state: State, vid: int, n_nodes: int, all_frames: bool = True
                      ) -> AnalysisMatrices:
    """What SLEAP 1.4.1's ``get_occupancy_and_points_matrices`` and
    ``remove_empty_tracks_from_matrices`` compute, vectorised. Raises
    `ValidationError` when the video has no labelled frame (SLEAP printed a
    message and wrote nothing)."""
    vi = video_instances(state, vid)
    if len(vi.frame_idxs) == 0:
        raise ValidationError("the video has no labelled frames: no analysis to export")
    first, n_frames = _frame_range(vi, all_frames, 0)
    has_tracks = bool(state.track_order)
    n_tracks = len(state.track_order) or 1
    track = vi.track if has_tracks else np.zeros(len(vi.rows), dtype=np.int64)
    cand = np.flatnonzero(track >= 0)
    fpos = vi.frame_idx[cand] - first
    cells, pick = _last_per_cell(fpos * n_tracks + track[cand], vi.is_user[cand])
    chosen = cand[pick]
    occupancy = np.zeros((n_tracks, n_frames), dtype=np.uint8)
    locations = np.full((n_frames, n_nodes, 2, n_tracks), np.nan, dtype=float)
    point_scores = np.full((n_frames, n_nodes, n_tracks), np.nan, dtype=float)
    instance_scores = np.full((n_frames, n_tracks), np.nan, dtype=float)
    tracking_scores = np.full((n_frames, n_tracks), np.nan, dtype=float)
    f_i, t_i = cells // n_tracks, cells % n_tracks
    occupancy[t_i, f_i] = 1
    if len(chosen):
        pts = _points(state, vi, chosen, n_nodes, ("x", "y", "visible", "score"))
        hidden = ~pts["visible"]
        xy = np.stack([pts["x"], pts["y"]], axis=-1)  # (k, nodes, 2)
        xy[hidden] = np.nan
        locations[f_i, :, :, t_i] = xy
        pred = ~vi.is_user[chosen]
        ic = state.instances.cols
        rows = vi.rows[chosen][pred]
        scores = np.where(hidden[pred], np.nan, pts["score"][pred])
        point_scores[f_i[pred], :, t_i[pred]] = scores
        instance_scores[f_i[pred], t_i[pred]] = ic.view("score")[rows]
        tracking_scores[f_i[pred], t_i[pred]] = ic.view("tracking_score")[rows]
    names = [state.tracks[t].name for t in state.track_order]
    occupied = occupancy.sum(axis=1) > 0
    if not occupied.all():
        occupancy = occupancy[occupied]
        locations = locations[..., occupied]
        point_scores = point_scores[..., occupied]
        instance_scores = instance_scores[..., occupied]
        tracking_scores = tracking_scores[..., occupied]
        names = [n for n, k in zip(names, occupied.tolist(), strict=False) if k]
    return AnalysisMatrices(names, occupancy, locations, point_scores, instance_scores,
                            tracking_scores)
