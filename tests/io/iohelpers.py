"""Shared helpers for the file-format tests: comparisons and the sleap-io oracle views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ledger.io.project_data import PREDICTED, ProjectData

DATA = Path(__file__).resolve().parent.parent / "data"
SLP_FILES = sorted(DATA.glob("**/*.slp"))


def instance_points(data: ProjectData, i: int) -> dict[str, np.ndarray]:
    n = len(data.skeletons[int(data.inst_skeleton[i])].node_names)
    s = int(data.inst_pt_start[i])
    sl = slice(s, s + n)
    return {
        "x": np.asarray(data.point_x[sl], float),
        "y": np.asarray(data.point_y[sl], float),
        "visible": np.asarray(data.point_visible[sl], bool),
        "complete": np.asarray(data.point_complete[sl], bool),
        "score": np.asarray(data.point_score[sl], float),
    }


def _gather(data: ProjectData) -> dict[str, np.ndarray]:
    """Points in instance order, so pools laid out differently compare equal."""
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("x", "y", "visible", "complete", "score")}
    for i in range(data.n_instances):
        for k, v in instance_points(data, i).items():
            out[k].append(v)
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}


def assert_same(a: ProjectData, b: ProjectData, *, provenance: bool = True) -> None:
    """Every column and list equal, NaN-aware; point pools compared per instance."""
    assert a.videos == b.videos
    assert a.skeletons == b.skeletons
    assert a.tracks == b.tracks
    assert a.suggestions == b.suggestions
    assert a.negative_anchors == b.negative_anchors
    if provenance:
        assert a.provenance == b.provenance
    for name in ("frame_video", "frame_idx", "frame_inst_start", "frame_inst_end"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in (
        "inst_frame",
        "inst_kind",
        "inst_skeleton",
        "inst_track",
        "inst_from_predicted",
        "inst_score",
        "inst_tracking_score",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    pa, pb = _gather(a), _gather(b)
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k], err_msg=f"points {k}")


def norm_path(p: Any) -> Any:
    if isinstance(p, list):
        return [norm_path(x) for x in p]
    return str(p).replace("\\", "/")


def view_ours(data: ProjectData, *, drop_fp_to_empty: bool = False) -> dict[str, Any]:
    """A library-neutral description of a project, comparable with `view_sio`."""
    frames = []
    for f in range(data.n_frames):
        insts = []
        for i in range(int(data.frame_inst_start[f]), int(data.frame_inst_end[f])):
            p = instance_points(data, i)
            pred = int(data.inst_kind[i]) == PREDICTED
            track = int(data.inst_track[i])
            fp = int(data.inst_from_predicted[i])
            insts.append(
                {
                    "pred": pred,
                    "xy": np.stack([p["x"], p["y"]], 1),
                    "visible": p["visible"],
                    "point_score": p["score"] if pred else None,
                    "score": float(data.inst_score[i]) if pred else None,
                    "tracking_score": float(data.inst_tracking_score[i]) if pred else None,
                    "track": None if track < 0 else data.tracks[track][1],
                    "skeleton": int(data.inst_skeleton[i]),
                    "fp": None if fp < 0 else fp - int(data.frame_inst_start[f]),
                }
            )
        frames.append((int(data.frame_video[f]), int(data.frame_idx[f]), insts))
    return {
        "frames": frames,
        "skeletons": [_skel_view(s.node_names, s.edges, s.symmetries) for s in data.skeletons],
        "suggestions": [(v, f) for v, f, _ in data.suggestions],
        "videos": [norm_path(v.backend.get("filenames") or v.filename) for v in data.videos],
        "tracks": [name for _, name in data.tracks],
    }


def _skel_view(names: list[str], edges: Any, syms: Any) -> dict[str, Any]:
    return {
        "nodes": list(names),
        "edges": {(names[s], names[d]) for s, d in edges},
        "symmetries": {frozenset((names[s], names[d])) for s, d in syms},
    }


def view_sio(labels: Any) -> dict[str, Any]:
    """The same description built from a sleap-io `Labels`."""
    videos = list(labels.videos)
    skeletons = list(labels.skeletons)
    frames = []
    for lf in labels.labeled_frames:
        insts = []
        for inst in lf.instances:
            pred = type(inst).__name__ == "PredictedInstance"
            pts = inst.points
            fp = None
            if not pred and inst.from_predicted is not None:
                fp = next(k for k, o in enumerate(lf.instances) if o is inst.from_predicted)
            insts.append(
                {
                    "pred": pred,
                    "xy": np.asarray(pts["xy"], float),
                    "visible": np.asarray(pts["visible"], bool),
                    "point_score": np.asarray(pts["score"], float) if pred else None,
                    "score": float(inst.score) if pred else None,
                    "tracking_score": float(inst.tracking_score) if pred else None,
                    "track": None if inst.track is None else inst.track.name,
                    "skeleton": next(k for k, s in enumerate(skeletons) if s is inst.skeleton),
                    "fp": fp,
                }
            )
        vidx = next(k for k, v in enumerate(videos) if v is lf.video)
        frames.append((vidx, int(lf.frame_idx), insts))
    return {
        "frames": frames,
        "skeletons": [
            _skel_view(
                [n.name for n in s.nodes],
                [(s.nodes.index(e.source), s.nodes.index(e.destination)) for e in s.edges],
                [tuple(s.nodes.index(n) for n in sym.nodes) for sym in s.symmetries],
            )
            for s in skeletons
        ],
        "suggestions": [
            (next(k for k, v in enumerate(videos) if v is sf.video), int(sf.frame_idx))
            for sf in labels.suggestions
        ],
        "videos": [norm_path(v.filename) for v in videos],
        "tracks": [t.name for t in labels.tracks],
    }


def assert_views_equal(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert ours["skeletons"] == theirs["skeletons"]
    assert ours["suggestions"] == theirs["suggestions"]
    assert ours["videos"] == theirs["videos"]
    assert ours["tracks"] == theirs["tracks"]
    assert len(ours["frames"]) == len(theirs["frames"])
    for fo, ft in zip(ours["frames"], theirs["frames"], strict=True):
        assert fo[:2] == ft[:2]
        assert len(fo[2]) == len(ft[2]), fo[:2]
        for io_, it in zip(fo[2], ft[2], strict=True):
            for key in ("pred", "track", "skeleton", "fp"):
                assert io_[key] == it[key], (fo[:2], key, io_[key], it[key])
            np.testing.assert_array_equal(io_["xy"], it["xy"])
            np.testing.assert_array_equal(io_["visible"], it["visible"])
            if io_["pred"]:
                np.testing.assert_array_equal(io_["point_score"], it["point_score"])
                np.testing.assert_array_equal(io_["score"], it["score"])
                np.testing.assert_array_equal(io_["tracking_score"], it["tracking_score"])


def make_predictions(n_frames: int, n_inst: int, n_nodes: int, seed: int = 0) -> ProjectData:
    """A large prediction-only project (the shape inference produces)."""
    from ledger.io.project_data import SkeletonData, VideoData

    rng = np.random.default_rng(seed)
    ni = n_frames * n_inst
    npts = ni * n_nodes
    x = rng.random(npts) * 1000
    y = rng.random(npts) * 1000
    x[rng.random(npts) < 0.05] = np.nan
    names = [f"n{k}" for k in range(n_nodes)]
    return ProjectData(
        videos=[
            VideoData(
                backend={
                    "filename": "big.mp4",
                    "grayscale": False,
                    "bgr": True,
                    "dataset": "",
                    "input_format": "",
                }
            )
        ],
        skeletons=[SkeletonData("big", names, [(k, k + 1) for k in range(n_nodes - 1)])],
        tracks=[(0, f"t{k}") for k in range(n_inst)],
        frame_video=np.zeros(n_frames, np.int64),
        frame_idx=np.arange(n_frames, dtype=np.int64),
        frame_inst_start=np.arange(n_frames, dtype=np.int64) * n_inst,
        frame_inst_end=np.arange(1, n_frames + 1, dtype=np.int64) * n_inst,
        inst_frame=np.repeat(np.arange(n_frames, dtype=np.int64), n_inst),
        inst_kind=np.ones(ni, np.uint8),
        inst_skeleton=np.zeros(ni, np.int64),
        inst_track=np.tile(np.arange(n_inst, dtype=np.int64), n_frames),
        inst_from_predicted=np.full(ni, -1, np.int64),
        inst_score=rng.random(ni).astype(np.float32).astype(np.float64),
        inst_tracking_score=rng.random(ni).astype(np.float32).astype(np.float64),
        inst_pt_start=np.arange(ni, dtype=np.int64) * n_nodes,
        point_x=x,
        point_y=y,
        point_visible=~np.isnan(x),
        point_complete=np.zeros(npts, bool),
        point_score=rng.random(npts),
    )


def random_project(draw: Any) -> ProjectData:
    """Draw a random, valid ProjectData (use inside a hypothesis ``@st.composite``)."""
    from hypothesis import strategies as st

    from ledger.io.project_data import SkeletonData, VideoData

    ints = st.integers
    n_videos = draw(ints(1, 3))
    videos = [
        VideoData(
            backend={
                "filename": f"dir/v{k}.mp4",
                "grayscale": draw(st.booleans()),
                "bgr": True,
                "dataset": "",
                "input_format": "",
            }
        )
        for k in range(n_videos)
    ]
    skeletons = []
    for s in range(draw(ints(1, 2))):
        n = draw(ints(1, 5))
        stems = st.sampled_from(["head", "tail", "n\u00e9", "x"])
        names = [f"{draw(stems)}{k}" for k in range(n)]
        pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
        edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=4)) if pairs else []
        syms = [(0, 1)] if n >= 2 and draw(st.booleans()) else []
        skeletons.append(SkeletonData(f"sk{s}", names, edges, syms))
    tracks = [(draw(ints(0, 50)), f"track{k}") for k in range(draw(ints(0, 3)))]
    rng = np.random.default_rng(draw(ints(0, 2**32 - 1)))

    frames = draw(st.lists(st.tuples(ints(0, n_videos - 1), ints(0, 40)), unique=True, max_size=6))
    f_start, f_end, kinds, skels, trk, fps, inst_frame = [], [], [], [], [], [], []
    for f, _ in enumerate(frames):
        f_start.append(len(kinds))
        n_inst = draw(ints(0, 3))
        for _k in range(n_inst):
            kinds.append(draw(ints(0, 1)))
            skels.append(draw(ints(0, len(skeletons) - 1)))
            trk.append(draw(ints(-1, len(tracks) - 1)))
            inst_frame.append(f)
        preds = [i for i in range(f_start[-1], len(kinds)) if kinds[i] == 1]
        for i in range(f_start[-1], len(kinds)):
            fps.append(
                draw(st.sampled_from(preds))
                if kinds[i] == 0 and preds and draw(st.booleans())
                else -1
            )
        f_end.append(len(kinds))
    ni = len(kinds)
    kind = np.array(kinds, np.uint8)
    sizes = np.array([len(skeletons[s].node_names) for s in skels], np.int64)
    # Lay instance point blocks out in a random order to exercise gathering.
    order = rng.permutation(ni)
    starts = np.zeros(ni, np.int64)
    starts[order] = np.concatenate([[0], np.cumsum(sizes[order])[:-1]]).astype(np.int64)[:ni]
    npts = int(sizes.sum())
    x = np.round(rng.uniform(-10, 1000, npts), 3)
    y = np.round(rng.uniform(-10, 1000, npts), 3)
    nan = rng.random(npts) < 0.25
    x[nan] = np.nan
    y[nan & (rng.random(npts) < 0.8)] = np.nan
    y[np.isnan(x)] = np.nan
    score = rng.random(npts)
    owner_kind = np.zeros(npts, np.uint8)
    for i in range(ni):
        owner_kind[starts[i] : starts[i] + sizes[i]] = kind[i]
    score[owner_kind == 0] = 0.0
    inst_score = rng.random(ni).astype(np.float32).astype(np.float64)
    t_score = rng.random(ni).astype(np.float32).astype(np.float64)
    inst_score[kind == 0] = np.nan
    t_score[kind == 0] = np.nan
    i64 = np.int64
    return ProjectData(
        videos=videos,
        skeletons=skeletons,
        tracks=tracks,
        suggestions=[
            (draw(ints(0, n_videos - 1)), draw(ints(0, 99)), draw(st.one_of(st.none(), ints(0, 3))))
            for _ in range(draw(ints(0, 3)))
        ],
        negative_anchors={
            v: [(draw(ints(0, 9)), 1.5, 2.25)]
            for v in draw(st.lists(ints(0, n_videos - 1), unique=True, max_size=2))
        },
        provenance=draw(
            st.dictionaries(
                st.sampled_from(["a", "b", "sleap_version"]),
                st.one_of(st.integers(-5, 5), st.text(max_size=4), st.booleans()),
                max_size=3,
            )
        ),
        frame_video=np.array([v for v, _ in frames], i64),
        frame_idx=np.array([f for _, f in frames], i64),
        frame_inst_start=np.array(f_start, i64),
        frame_inst_end=np.array(f_end, i64),
        inst_frame=np.array(inst_frame, i64),
        inst_kind=kind,
        inst_skeleton=np.array(skels, i64),
        inst_track=np.array(trk, i64),
        inst_from_predicted=np.array(fps, i64),
        inst_score=inst_score,
        inst_tracking_score=t_score,
        inst_pt_start=starts,
        point_x=x,
        point_y=y,
        point_visible=rng.random(npts) < 0.8,
        point_complete=rng.random(npts) < 0.5,
        point_score=score,
    )


def drop_falsy_links(data: ProjectData) -> ProjectData:
    """What SLEAP keeps: links to predictions with at least one visible point."""
    import copy

    out = copy.copy(data)
    fp = data.inst_from_predicted.copy()
    for i in np.flatnonzero(fp >= 0):
        p = instance_points(data, int(fp[i]))
        if not np.any(p["visible"] & ~np.isnan(p["x"]) & ~np.isnan(p["y"])):
            fp[i] = -1
    out.inst_from_predicted = fp
    return out


def to_sio(data: ProjectData) -> Any:
    """Build the equivalent sleap-io `Labels` (for sleap-io-save -> ledger-read tests)."""
    import sleap_io as sio

    videos = [sio.Video(filename=v.filename, open_backend=False) for v in data.videos]
    skeletons = []
    for s in data.skeletons:
        nodes = [sio.Node(n) for n in s.node_names]
        skeletons.append(
            sio.Skeleton(
                nodes=nodes,
                edges=[sio.Edge(nodes[a], nodes[b]) for a, b in s.edges],
                symmetries=[sio.Symmetry({nodes[a], nodes[b]}) for a, b in s.symmetries],
                name=s.name,
            )
        )
    tracks = [sio.Track(name) for _, name in data.tracks]
    objs: dict[int, Any] = {}
    order = np.argsort(data.inst_kind[: data.n_instances] == 0, kind="stable")
    for i in order:  # predictions first, so user links can refer to them
        i = int(i)
        p = instance_points(data, i)
        sk = skeletons[int(data.inst_skeleton[i])]
        t = int(data.inst_track[i])
        xy = np.stack([p["x"], p["y"]], 1)
        if data.inst_kind[i] == PREDICTED:
            inst = sio.PredictedInstance.from_numpy(
                xy,
                sk,
                point_scores=p["score"],
                score=float(data.inst_score[i]),
                track=tracks[t] if t >= 0 else None,
                tracking_score=float(data.inst_tracking_score[i]),
            )
        else:
            fp = int(data.inst_from_predicted[i])
            inst = sio.Instance.from_numpy(
                xy,
                sk,
                track=tracks[t] if t >= 0 else None,
                from_predicted=objs[fp] if fp >= 0 else None,
            )
        inst.points["visible"] = p["visible"]
        inst.points["complete"] = p["complete"]
        objs[i] = inst
    frames = [
        sio.LabeledFrame(
            video=videos[int(data.frame_video[f])],
            frame_idx=int(data.frame_idx[f]),
            instances=[
                objs[i] for i in range(int(data.frame_inst_start[f]), int(data.frame_inst_end[f]))
            ],
        )
        for f in range(data.n_frames)
    ]
    return sio.Labels(
        labeled_frames=frames,
        videos=videos,
        skeletons=skeletons,
        tracks=tracks,
        suggestions=[
            sio.SuggestionFrame(videos[v], f, {"group": g}) for v, f, g in data.suggestions
        ],
        provenance=dict(data.provenance),
    )
