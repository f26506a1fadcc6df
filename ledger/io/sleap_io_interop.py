"""In-memory conversion between `ProjectData` and sleap-io ``Labels``.

Labs mix tools: a script loads predictions here, hands them to sleap-io for an
export or a rendering, and takes the result back. Going through a file costs a
write and a read; these functions convert in memory instead.

Both directions go through `ProjectData` (the file-shaped, columnar description
every reader and writer already uses), so what a `.slp` file means and what an
in-memory sleap-io object means cannot drift apart. Points never pass through
Python one by one:

- to sleap-io: the points of all user instances (and of all predictions) are
  filled into one structured ``PointsArray`` with vectorised column copies; each
  instance gets a slice view of it. Only the instance objects themselves are made
  in a Python loop (sleap-io's model needs one object per instance);
- from sleap-io: each instance's points array is collected in that loop, then all
  are concatenated once and scattered into the point columns.

sleap-io is imported only inside these functions.

Example::

    sio_labels = to_sleap_io(export_project(state))
    data = from_sleap_io(sio_labels)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ledger.core.columns import ranges_to_index
from ledger.errors import ValidationError
from ledger.io.project_data import PREDICTED, USER, ProjectData, SkeletonData, VideoData


def _sanitize(path: str) -> str:
    return path.replace("\\", "/")


def _sio_video(sio: Any, v: VideoData) -> Any:
    backend = dict(v.backend)
    filename: Any = backend.get("filenames") or v.filename
    if isinstance(filename, list):
        filename = [_sanitize(str(p)) for p in filename]
    else:
        filename = _sanitize(str(filename))
    source = None
    if v.source_video:
        source = _sio_video(sio, VideoData(backend=dict(v.source_video.get("backend", {}))))
    return sio.Video(filename=filename, backend_metadata=backend, source_video=source)


def to_sleap_io(data: ProjectData) -> Any:
    """A sleap-io ``Labels`` with the same content as ``data``."""
    import sleap_io as sio
    from sleap_io.model.instance import PointsArray, PredictedPointsArray

    skeletons = [sio.Skeleton(nodes=list(s.node_names), edges=[tuple(e) for e in s.edges],
                              symmetries=[tuple(p) for p in s.symmetries], name=s.name)
                 for s in data.skeletons]
    videos = [_sio_video(sio, v) for v in data.videos]
    tracks = [sio.Track(name=name) for _, name in data.tracks]

    n = data.n_instances
    kind = np.asarray(data.inst_kind)
    sk = np.asarray(data.inst_skeleton, dtype=np.int64)
    sizes = np.asarray([len(s.node_names) for s in data.skeletons], dtype=np.int64)
    n_pts = sizes[sk] if n else np.zeros(0, np.int64)
    starts = np.asarray(data.inst_pt_start, dtype=np.int64)
    names = [np.asarray(s.node_names, dtype=object) for s in data.skeletons]
    arrays: dict[int, Any] = {}
    offsets = np.zeros(n, dtype=np.int64)
    for k, cls in ((USER, PointsArray), (PREDICTED, PredictedPointsArray)):
        sel = np.flatnonzero(kind == k)
        idx = ranges_to_index(starts[sel], n_pts[sel])
        big = cls.empty(len(idx))
        big["xy"][:, 0] = data.point_x[idx]
        big["xy"][:, 1] = data.point_y[idx]
        big["visible"] = data.point_visible[idx]
        big["complete"] = data.point_complete[idx]
        if k == PREDICTED:
            big["score"] = data.point_score[idx]
        if len(sel):
            big["name"] = np.concatenate([names[s] for s in sk[sel]]) if len(sizes) > 1 \
                else np.tile(names[0], len(sel))
        arrays[k] = big
        ends = np.cumsum(n_pts[sel])
        offsets[sel] = ends - n_pts[sel]

    track_col = np.asarray(data.inst_track, dtype=np.int64).tolist()
    score = np.asarray(data.inst_score, dtype=np.float64).tolist()
    tscore = np.asarray(data.inst_tracking_score, dtype=np.float64).tolist()
    kinds = kind.tolist()
    sk_list = sk.tolist()
    starts_l = offsets.tolist()
    npts_l = n_pts.tolist()
    user_pts, pred_pts = arrays[USER], arrays[PREDICTED]
    Inst, Pred = sio.Instance, sio.PredictedInstance
    objects: list[Any] = []
    append = objects.append
    for i in range(n):
        a = starts_l[i]
        b = a + npts_l[i]
        t = track_col[i]
        track = tracks[t] if t >= 0 else None
        if kinds[i] == USER:
            append(Inst(user_pts[a:b], skeleton=skeletons[sk_list[i]], track=track,
                        tracking_score=tscore[i]))
        else:
            append(Pred(pred_pts[a:b], skeleton=skeletons[sk_list[i]], score=score[i],
                        track=track, tracking_score=tscore[i]))
    fp = np.asarray(data.inst_from_predicted, dtype=np.int64)
    for i in np.flatnonzero(fp >= 0).tolist():
        objects[i].from_predicted = objects[int(fp[i])]

    frames = [sio.LabeledFrame(video=videos[v], frame_idx=f, instances=objects[a:b])
              for v, f, a, b in zip(np.asarray(data.frame_video).tolist(),
                                    np.asarray(data.frame_idx).tolist(),
                                    np.asarray(data.frame_inst_start).tolist(),
                                    np.asarray(data.frame_inst_end).tolist(), strict=True)]
    suggestions = [sio.SuggestionFrame(video=videos[v], frame_idx=f,
                                       metadata={"group": 0 if g is None else g})
                   for v, f, g in data.suggestions]
    return sio.Labels(labeled_frames=frames, videos=videos, skeletons=skeletons,
                      tracks=tracks, suggestions=suggestions,
                      provenance=dict(data.provenance))


def _video_data(video: Any) -> VideoData:
    meta = dict(getattr(video, "backend_metadata", None) or {})
    filename = video.filename
    if isinstance(filename, list):
        files = [str(p) for p in filename]
        if [_sanitize(str(p)) for p in meta.get("filenames", [])] != [_sanitize(p)
                                                                      for p in files]:
            meta["filenames"] = files
        meta.setdefault("filename", files[0] if files else "")
    else:
        name = str(filename)
        if _sanitize(str(meta.get("filename", ""))) != _sanitize(name):
            meta["filename"] = name
    if "grayscale" not in meta and "filenames" not in meta:
        from ledger.model.video import Video

        meta = {**Video.from_filename(meta["filename"]).backend_dict(), **meta}
    source = getattr(video, "source_video", None)
    return VideoData(backend=meta, source_video=None if source is None else
                     {"backend": _video_data(source).backend})


def from_sleap_io(labels: Any) -> ProjectData:
    """`ProjectData` with the same content as a sleap-io ``Labels``."""
    import sleap_io as sio

    if not isinstance(labels, sio.Labels):
        raise ValidationError(f"expected a sleap_io.Labels, got {type(labels).__name__}")
    data = ProjectData()
    skel_index = {id(s): k for k, s in enumerate(labels.skeletons)}
    for s in labels.skeletons:
        data.skeletons.append(SkeletonData(
            name=s.name, node_names=list(s.node_names), edges=list(s.edge_inds),
            symmetries=list(s.symmetry_inds)))
    video_index = {id(v): k for k, v in enumerate(labels.videos)}
    data.videos = [_video_data(v) for v in labels.videos]
    track_index = {id(t): k for k, t in enumerate(labels.tracks)}
    data.tracks = [(0, t.name) for t in labels.tracks]
    data.suggestions = [(video_index[id(s.video)], int(s.frame_idx),
                         (s.metadata or {}).get("group")) for s in labels.suggestions]
    data.provenance = dict(labels.provenance)

    frame_video, frame_idx, counts = [], [], []
    kinds, skels, tracks, scores, tscores, points = [], [], [], [], [], []
    inst_pos: dict[int, int] = {}
    linked: list[Any] = []
    for lf in labels.labeled_frames:
        vk = video_index.get(id(lf.video))
        if vk is None:
            raise ValidationError(f"frame {lf.frame_idx} refers to a video that is not in "
                                  "the labels' videos")
        frame_video.append(vk)
        frame_idx.append(int(lf.frame_idx))
        counts.append(len(lf.instances))
        for inst in lf.instances:
            inst_pos[id(inst)] = len(kinds)
            pred = isinstance(inst, sio.PredictedInstance)
            kinds.append(PREDICTED if pred else USER)
            skels.append(skel_index[id(inst.skeleton)])
            tracks.append(-1 if inst.track is None else track_index[id(inst.track)])
            scores.append(float(inst.score) if pred else np.nan)
            ts = inst.tracking_score
            tscores.append(np.nan if ts is None else float(ts))
            linked.append(inst.from_predicted)
            points.append(inst.points)
    data.frame_video = np.asarray(frame_video, dtype=np.int64)
    data.frame_idx = np.asarray(frame_idx, dtype=np.int64)
    ends = np.cumsum(np.asarray(counts, dtype=np.int64))
    data.frame_inst_end = ends
    data.frame_inst_start = ends - np.asarray(counts, dtype=np.int64)
    n = len(kinds)
    data.inst_frame = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    data.inst_kind = np.asarray(kinds, dtype=np.uint8)
    data.inst_skeleton = np.asarray(skels, dtype=np.int64)
    data.inst_track = np.asarray(tracks, dtype=np.int64)
    data.inst_score = np.asarray(scores, dtype=np.float64)
    data.inst_tracking_score = np.asarray(tscores, dtype=np.float64)
    data.inst_from_predicted = np.asarray(
        [-1 if p is None else inst_pos.get(id(p), -1) for p in linked], dtype=np.int64)
    sizes = np.asarray([len(p) for p in points], dtype=np.int64)
    starts = np.zeros(n, dtype=np.int64)
    if n:
        np.cumsum(sizes[:-1], out=starts[1:])
    data.inst_pt_start = starts
    total = int(sizes.sum())
    data.point_x = np.full(total, np.nan)
    data.point_y = np.full(total, np.nan)
    data.point_visible = np.zeros(total, dtype=bool)
    data.point_complete = np.zeros(total, dtype=bool)
    data.point_score = np.zeros(total, dtype=np.float64)
    for k in (USER, PREDICTED):
        sel = np.flatnonzero(data.inst_kind == k)
        if not len(sel):
            continue
        block = np.concatenate([points[i] for i in sel.tolist()])
        idx = ranges_to_index(starts[sel], sizes[sel])
        data.point_x[idx] = block["xy"][:, 0]
        data.point_y[idx] = block["xy"][:, 1]
        data.point_visible[idx] = block["visible"]
        data.point_complete[idx] = block["complete"]
        if k == PREDICTED:
            data.point_score[idx] = block["score"]
    return data
