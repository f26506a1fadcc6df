"""Between a ledger's state and the file-shaped `ProjectData`.

`import_events` turns a file's tables into one transaction: the definitions, then
a single bulk `FramesAdded` carrying every frame, instance and point as numpy
columns (design §2.6), so loading a large prediction file costs array copies, not
Python objects. `export_project` goes the other way, vectorised over the columns.
"""

from __future__ import annotations

import numpy as np

from ledger.core import events as ev
from ledger.core.columns import ranges_to_index
from ledger.core.ids import NO_ID, IdSource
from ledger.core.state import State
from ledger.io.project_data import ProjectData, SkeletonData, VideoData


def _lookup(ids_in_order: list[int], values: np.ndarray) -> np.ndarray:
    """Positions of ``values`` (ids) in ``ids_in_order``; NO_ID and unknown → -1."""
    out = np.full(values.shape, -1, dtype=np.int64)
    if not ids_in_order or values.size == 0:
        return out
    ids = np.asarray(ids_in_order, dtype=np.int64)
    order = np.argsort(ids)
    sorted_ids = ids[order]
    pos = np.clip(np.searchsorted(sorted_ids, values), 0, len(ids) - 1)
    hit = sorted_ids[pos] == values
    out[hit] = order[pos[hit]]
    return out


def export_project(state: State) -> ProjectData:
    """The state as file tables, in list order (frames) and frame order (instances)."""
    data = ProjectData()
    for vid in state.video_order:
        v = state.videos[vid]
        data.videos.append(VideoData(backend=dict(v.backend), source_video=v.source_video))
    for sid in state.skeleton_order:
        s = state.skeletons[sid]
        pos = {n.id: k for k, n in enumerate(s.nodes)}
        data.skeletons.append(SkeletonData(
            name=s.name, node_names=[n.name for n in s.nodes],
            edges=[(pos[a], pos[b]) for a, b in s.edges],
            symmetries=[(pos[a], pos[b]) for a, b in s.symmetries],
            node_weights=[n.weight for n in s.nodes]))
    data.tracks = [(state.tracks[t].spawned_on, state.tracks[t].name) for t in state.track_order]
    vindex = {v: k for k, v in enumerate(state.video_order)}
    data.suggestions = [(vindex[s.video], s.frame_idx, s.group) for s in state.suggestions]
    data.negative_anchors = {vindex[v]: [tuple(a) for a in lst]  # type: ignore[misc]
                             for v, lst in state.anchors.items() if lst}
    data.provenance = dict(state.provenance)

    fc = state.frames.cols
    frame_rows = np.asarray(state.frames.order(), dtype=np.int64)
    n_frames = len(frame_rows)
    data.frame_video = _lookup(state.video_order, fc.cols["video"][frame_rows])
    data.frame_idx = fc.cols["frame_idx"][frame_rows].copy()

    ic = state.instances.cols.cols
    live = state.live_instance_rows()
    position = np.full(fc.n, -1, dtype=np.int64)
    position[frame_rows] = np.arange(n_frames)
    inst_pos = position[ic["frame"][live]]
    live = live[inst_pos >= 0]
    inst_pos = inst_pos[inst_pos >= 0]
    if np.all(inst_pos[1:] >= inst_pos[:-1]):
        rows, data.inst_frame = live, inst_pos  # already in frame order (the usual case)
    else:
        order = np.lexsort((live, inst_pos))
        rows = live[order]
        data.inst_frame = inst_pos[order]
    counts = np.bincount(data.inst_frame, minlength=n_frames)
    ends = np.cumsum(counts)
    data.frame_inst_start = ends - counts
    data.frame_inst_end = ends
    data.inst_kind = ic["kind"][rows].copy()
    data.inst_skeleton = _lookup(state.skeleton_order, ic["skeleton"][rows])
    data.inst_track = _lookup(state.track_order, ic["track"][rows])
    data.inst_from_predicted = _lookup(ic["id"][rows].tolist(), ic["from_predicted"][rows])
    data.inst_score = ic["score"][rows].copy()
    data.inst_tracking_score = ic["tracking_score"][rows].copy()
    n_pts = ic["n_pts"][rows].astype(np.int64)
    starts = np.zeros(len(rows), dtype=np.int64)
    if len(rows):
        np.cumsum(n_pts[:-1], out=starts[1:])
    data.inst_pt_start = starts
    p, _ = state.instances.points.gather(ic["pt_start"][rows], n_pts)  # views if it can
    data.point_x = p["x"]
    data.point_y = p["y"]
    data.point_visible = p["visible"]
    data.point_complete = p["complete"]
    data.point_score = p["score"]
    return data


def _merge_duplicate_frames(data: ProjectData) -> tuple[np.ndarray, np.ndarray]:
    """Frame rows to keep, and each instance's kept frame row (duplicates fold into
    the first frame with the same key; see docs/compat.md)."""
    n = data.n_frames
    keys = data.frame_video.astype(np.int64) << 40 | data.frame_idx.astype(np.int64)
    if n < 2 or np.all(keys[1:] > keys[:-1]):
        return np.arange(n), data.inst_frame
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    canonical = first[inverse]
    keep = np.flatnonzero(canonical == np.arange(n))
    return keep, canonical[data.inst_frame] if data.n_instances else data.inst_frame


def _ids_at(table: np.ndarray, index: np.ndarray, rows: np.ndarray | None = None
            ) -> np.ndarray:
    """``table[index[rows]]``. When the table has one entry (one video or skeleton,
    the usual project) it is a read-only broadcast of that entry: no memory and no
    pass over the instances (events are immutable, so nothing writes into it)."""
    n = len(index) if rows is None else len(rows)
    if n == 0:
        return np.zeros(0, dtype=table.dtype)
    if len(table) == 1:
        return np.broadcast_to(table[:1], (n,))
    return table[index if rows is None else index[rows]]


def _linked_ids(from_predicted: np.ndarray, base: int) -> np.ndarray:
    """Instance ids of the ``from_predicted`` rows (``NO_ID`` where unlinked)."""
    out = np.full(len(from_predicted), NO_ID, dtype=np.int64)
    linked = np.flatnonzero(from_predicted >= 0)
    out[linked] = base + from_predicted[linked]
    return out


def import_events(data: ProjectData, ids: IdSource) -> list[ev.Event]:
    """Events that build ``data`` in an empty ledger."""
    events: list[ev.Event] = []
    skeleton_ids: list[int] = []
    for k, s in enumerate(data.skeletons):
        sid = ids.new_id()
        weights = s.node_weights or [1.0] * len(s.node_names)
        nodes = tuple(ev.NodeDef(ids.new_id(), name, float(w))
                      for name, w in zip(s.node_names, weights, strict=True))
        events.append(ev.SkeletonAdded(ev.SkeletonDef(
            sid, s.name or "Skeleton", nodes,
            tuple((nodes[a].id, nodes[b].id) for a, b in s.edges),
            tuple((nodes[a].id, nodes[b].id) for a, b in s.symmetries)), k))
        skeleton_ids.append(sid)
    video_ids: list[int] = []
    for k, v in enumerate(data.videos):
        vid = ids.new_id()
        events.append(ev.VideoAdded(ev.VideoDef(vid, dict(v.backend), v.source_video), k))
        video_ids.append(vid)
    track_ids: list[int] = []
    for k, (spawned_on, name) in enumerate(data.tracks):
        tid = ids.new_id()
        events.append(ev.TrackAdded(ev.TrackDef(tid, str(name), int(spawned_on)), k))
        track_ids.append(tid)

    keep, inst_frame = _merge_duplicate_frames(data)
    n_inst = data.n_instances
    vids = np.asarray(video_ids, dtype=np.int64)
    sids = np.asarray(skeleton_ids, dtype=np.int64)
    tids = np.asarray(track_ids + [NO_ID], dtype=np.int64)  # index -1 → NO_ID
    base = ids.new_block(max(n_inst, 1))
    inst_ids = base + np.arange(n_inst, dtype=np.int64)
    sizes = np.asarray([len(s.node_names) for s in data.skeletons], dtype=np.int32)
    n_pts = _ids_at(sizes, data.inst_skeleton)
    contiguous = n_inst == 0 or (
        data.inst_pt_start[0] == 0 and np.array_equal(data.inst_pt_start[1:],
                                                      np.cumsum(n_pts, dtype=np.int64)[:-1]))
    idx = slice(None) if contiguous else ranges_to_index(data.inst_pt_start, n_pts)
    fp = data.inst_from_predicted
    batch = ev.InstanceBatch(
        ids=inst_ids,
        video=_ids_at(vids, data.frame_video, inst_frame),
        frame_idx=data.frame_idx[inst_frame].astype(np.int64, copy=False),
        skeleton=_ids_at(sids, data.inst_skeleton),
        track=tids[data.inst_track] if n_inst else np.zeros(0, np.int64),
        kind=data.inst_kind.astype(np.uint8, copy=False),
        score=data.inst_score.astype(np.float64, copy=False),
        tracking_score=data.inst_tracking_score.astype(np.float64, copy=False),
        from_predicted=_linked_ids(fp, base),
        n_pts=n_pts,
        x=np.asarray(data.point_x[idx], np.float64), y=np.asarray(data.point_y[idx], np.float64),
        visible=np.asarray(data.point_visible[idx], np.bool_),
        complete=np.asarray(data.point_complete[idx], np.bool_),
        point_score=np.asarray(data.point_score[idx], np.float64))
    if data.n_frames:
        events.append(ev.FramesAdded(ev.FrameBatch(
            video=vids[data.frame_video[keep]],
            frame_idx=data.frame_idx[keep].astype(np.int64, copy=False),
            position=np.arange(len(keep), dtype=np.int64), instances=batch)))
    if data.suggestions:
        events.append(ev.SuggestionsReplaced((), tuple(
            ev.SuggestionDef(video_ids[v], int(f), g) for v, f, g in data.suggestions)))
    for v, anchors in sorted(data.negative_anchors.items()):
        if anchors:
            events.append(ev.AnchorsAdded(
                video_ids[v], tuple(range(len(anchors))),
                tuple((int(f), float(x), float(y)) for f, x, y in anchors)))
    if data.provenance:
        events.append(ev.ProvenanceSet({}, dict(data.provenance)))
    return events
