"""Random projects built with sleap-io (the oracle's own model), for the analysis
and interop tests: tracked or untracked, user instances next to predictions, some
made from a prediction, some sharing its track, some invisible points."""

from __future__ import annotations

import glob
import os

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
REAL_SLP = sorted(glob.glob(os.path.join(DATA, "**", "*.slp"), recursive=True))


def random_project(seed: int, tracked: bool, n_frames: int = 40, max_inst: int = 3,
                   n_nodes: int = 4, video_name: str = "clip.mp4"):
    import sleap_io as sio

    rng = np.random.default_rng(seed)
    names = [f"n{i}" for i in range(n_nodes)]
    skel = sio.Skeleton(names, edges=[(names[i], names[i + 1]) for i in range(n_nodes - 1)],
                        symmetries=[(names[0], names[1])], name="s")
    video = sio.Video(filename=video_name, open_backend=False)
    tracks = [sio.Track(name=f"t{k}") for k in range(max_inst)] if tracked else []
    frames = []
    frame_ids = np.sort(rng.choice(np.arange(3, 3 * n_frames), n_frames, replace=False))
    for f in frame_ids.tolist():
        insts = []
        for _ in range(int(rng.integers(0, max_inst + 1))):
            pts = rng.random((n_nodes, 2)) * 100
            pts[rng.random(n_nodes) < 0.15] = np.nan
            track = tracks[int(rng.integers(len(tracks)))] if tracks and rng.random() < 0.9 \
                else None
            pred = sio.PredictedInstance.from_numpy(
                pts, skel, point_scores=rng.random(n_nodes), score=float(rng.random()),
                track=track, tracking_score=float(rng.random()))
            if rng.random() < 0.2:
                pred.points["visible"][0] = False  # placed but occluded
            insts.append(pred)
            r = rng.random()
            if r < 0.3:  # a user instance made from this prediction
                insts.append(sio.Instance.from_numpy(pts + 1, skel, track=track,
                                                     from_predicted=pred))
            elif r < 0.45:  # an independent user instance (maybe on the same track)
                insts.append(sio.Instance.from_numpy(pts - 1, skel, track=track))
        rng.shuffle(insts)
        frames.append(sio.LabeledFrame(video=video, frame_idx=f, instances=insts))
    return sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skel], tracks=tracks)


def single_instance_project(seed: int, n_frames: int = 30):
    """One instance per frame, no tracks: user where labelled, else a prediction."""
    import sleap_io as sio

    rng = np.random.default_rng(seed)
    skel = sio.Skeleton(["a", "b", "c"], name="single")
    video = sio.Video(filename="single.mp4", open_backend=False)
    frames = []
    for f in range(0, 2 * n_frames, 2):
        pts = rng.random((3, 2)) * 50
        if rng.random() < 0.3:
            inst = sio.Instance.from_numpy(pts, skel)
        else:
            inst = sio.PredictedInstance.from_numpy(pts, skel, point_scores=rng.random(3),
                                                    score=0.5, tracking_score=0.0)
        frames.append(sio.LabeledFrame(video=video, frame_idx=f, instances=[inst]))
    return sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skel])
