"""Import of file tables into a ledger (`ledger.io.project_convert`): one bulk event,
duplicate frames folded, mixed point layouts, and export back to the same tables."""

from __future__ import annotations

import numpy as np

from ledger import Labels
from ledger.core import events as ev
from ledger.core.ids import SequentialIds
from ledger.io.project_convert import export_project, import_events
from ledger.io.project_data import ProjectData, SkeletonData, VideoData


def _data(frames: list[tuple[int, int]], per_frame: int = 2) -> ProjectData:
    d = ProjectData()
    d.videos = [VideoData(backend={"filename": f"/v{k}.mp4"}) for k in range(2)]
    d.skeletons = [SkeletonData("s", ["a", "b"], [(0, 1)])]
    d.tracks = [(0, "t")]
    n = len(frames) * per_frame
    d.frame_video = np.array([v for v, _ in frames], np.int64)
    d.frame_idx = np.array([f for _, f in frames], np.int64)
    d.frame_inst_start = np.arange(len(frames), dtype=np.int64) * per_frame
    d.frame_inst_end = d.frame_inst_start + per_frame
    d.inst_frame = np.repeat(np.arange(len(frames)), per_frame)
    d.inst_kind = np.tile(np.array([0, 1], np.uint8), n // 2)
    d.inst_skeleton = np.zeros(n, np.int64)
    d.inst_track = np.where(d.inst_kind == 1, 0, -1).astype(np.int64)
    d.inst_from_predicted = np.where(d.inst_kind == 0, np.arange(n) + 1, -1).astype(np.int64)
    d.inst_score = np.where(d.inst_kind == 1, 0.5, np.nan)
    d.inst_tracking_score = np.where(d.inst_kind == 1, 0.25, np.nan)
    d.inst_pt_start = np.arange(n, dtype=np.int64) * 2
    d.point_x = np.arange(2 * n, dtype=np.float64)
    d.point_y = -np.arange(2 * n, dtype=np.float64)
    d.point_visible = np.ones(2 * n, bool)
    d.point_complete = np.zeros(2 * n, bool)
    d.point_score = np.where(np.repeat(d.inst_kind, 2) == 1, 0.9, 0.0)
    return d


def _load(data: ProjectData) -> Labels:
    labels = Labels(ids=SequentialIds())
    with labels.transaction("import"):
        for event in import_events(data, labels._ids):
            labels._ledger.emit(event)
    return labels


def test_import_is_one_bulk_frames_event_and_exports_back():
    data = _data([(0, 0), (0, 3), (1, 1)])
    labels = _load(data)
    kinds = [r.kind for r in labels.history]
    assert kinds.count("FramesAdded") == 1
    assert len({r.tx for r in labels.history}) == 1
    out = export_project(labels._state)
    for name in ("frame_video", "frame_idx", "inst_kind", "inst_track", "inst_from_predicted",
                 "point_x", "point_y", "point_score"):
        assert np.array_equal(getattr(out, name), getattr(data, name), equal_nan=True), name
    user = labels[0].user_instances[0]
    assert user.from_predicted is labels[0].predicted_instances[0]
    assert labels.get_track_occupancy(labels.videos[0])[labels.tracks[0]].list == [(0, 1), (3, 4)]


def test_duplicate_frames_in_a_file_are_folded_into_one():
    labels = _load(_data([(0, 5), (1, 2), (0, 5)]))
    assert len(labels) == 2
    frame = labels.find(labels.videos[0], 5)[0]
    assert len(frame.instances) == 4
    assert labels.get_labeled_frame_count(labels.videos[0]) == 1


def test_unsorted_frames_and_undo_of_the_import():
    labels = _load(_data([(1, 9), (0, 4), (0, 1)]))
    assert [(lf.video.filename, lf.frame_idx) for lf in labels] == [
        ("/v1.mp4", 9), ("/v0.mp4", 4), ("/v0.mp4", 1)]
    assert [lf.frame_idx for lf in labels.frames(labels.videos[0])] == [1, 4]
    labels.undo()
    assert len(labels) == 0 and labels.videos == []
    labels.redo()
    assert len(labels) == 3
    assert isinstance(labels.history[-1].event, ev.Event)
