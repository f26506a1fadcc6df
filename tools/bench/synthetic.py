"""A synthetic prediction project (tracked, one video) for benchmarks.

Built directly as `ProjectData` (columns), so making a 300,000-frame project takes
a second, not the minutes an object model would need.
"""

from __future__ import annotations

import numpy as np

from ledger.io.project_data import ProjectData, SkeletonData, VideoData


def synthetic(n_frames: int, n_inst: int, n_nodes: int, first_frame: int, seed: int
              ) -> ProjectData:
    """Tracked predictions on one video, frames ``first_frame ..``."""
    rng = np.random.default_rng(seed)
    d = ProjectData()
    d.videos = [VideoData(backend={"filename": "/bench/video.mp4"})]
    d.skeletons = [SkeletonData("fly", [f"n{i}" for i in range(n_nodes)],
                                [(i, i + 1) for i in range(n_nodes - 1)])]
    d.tracks = [(0, f"track_{k}") for k in range(n_inst)]
    ni = n_frames * n_inst
    d.frame_video = np.zeros(n_frames, np.int64)
    d.frame_idx = np.arange(first_frame, first_frame + n_frames, dtype=np.int64)
    d.frame_inst_start = np.arange(n_frames, dtype=np.int64) * n_inst
    d.frame_inst_end = d.frame_inst_start + n_inst
    d.inst_frame = np.repeat(np.arange(n_frames, dtype=np.int64), n_inst)
    d.inst_kind = np.ones(ni, np.uint8)
    d.inst_skeleton = np.zeros(ni, np.int64)
    d.inst_track = np.tile(np.arange(n_inst, dtype=np.int64), n_frames)
    d.inst_from_predicted = np.full(ni, -1, np.int64)
    d.inst_score = rng.random(ni)
    d.inst_tracking_score = rng.random(ni)
    d.inst_pt_start = np.arange(ni, dtype=np.int64) * n_nodes
    npt = ni * n_nodes
    d.point_x = rng.random(npt) * 1000
    d.point_y = rng.random(npt) * 1000
    d.point_visible = np.ones(npt, bool)
    d.point_complete = np.zeros(npt, bool)
    d.point_score = rng.random(npt)
    return d
