"""`labels.export()` / `labels.export_csv()` against what SLEAP 1.4.1 writes.

SLEAP itself cannot be installed here (TensorFlow, Qt), so its writer is transcribed
below from its code — talmolab/sleap v1.4.1, ``sleap/info/write_tracking_h5.py``
(``get_tracks_as_np_strings``, ``get_nodes_as_np_strings``,
``get_edges_as_np_strings``, ``get_occupancy_and_points_matrices``,
``remove_empty_tracks_from_matrices``, ``write_occupancy_file``, ``main``, and
``write_csv_file`` for ``Labels.export_csv``) — loop for loop, run on sleap-io
objects standing in for SLEAP's (same attribute names). Two SLEAP behaviours the
stand-ins lack are spelled out: ``PredictedInstance.scores`` is
``points_and_scores_array[:, 2]``, whose invisible rows are NaN, and ``np.string_``
is ``np.bytes_`` (numpy 2). The transcription writes its file with the same h5py
calls, and every dataset of ours must equal it: names, shapes, dtypes, values.
"""

from __future__ import annotations

import csv
import json
import warnings

import h5py
import numpy as np
import pytest
from sio_projects import REAL_SLP, random_project, single_instance_project

import ledger
from ledger.errors import ValidationError

# ------------------------------------------------------- SLEAP 1.4.1, transcribed


def _sleap_scores(inst):
    return np.where(inst.points["visible"], inst.points["score"], np.nan)


def sleap_matrices(labels, all_frames, video):
    track_count = len(labels.tracks) or 1
    node_count = len(labels.skeletons[0].nodes)
    labeled_frames = labels.find(video)
    frame_idxs = sorted(lf.frame_idx for lf in labeled_frames)
    first_frame_idx = 0 if all_frames else frame_idxs[0]
    frame_count = frame_idxs[-1] - first_frame_idx + 1
    occupancy_matrix = np.zeros((track_count, frame_count), dtype=np.uint8)
    locations_matrix = np.full((frame_count, node_count, 2, track_count), np.nan, dtype=float)
    point_scores = np.full((frame_count, node_count, track_count), np.nan, dtype=float)
    instance_scores = np.full((frame_count, track_count), np.nan, dtype=float)
    tracking_scores = np.full((frame_count, track_count), np.nan, dtype=float)
    tracks = labels.tracks or [None]
    lfs_instances = []
    for lf in labeled_frames:
        user_instances = lf.user_instances
        predicted_instances = lf.predicted_instances
        for track in tracks:
            track_instances = []
            user_track_instances = [inst for inst in user_instances if inst.track == track]
            if len(user_track_instances) > 0:
                track_instances = user_track_instances
            else:
                predicted_track_instances = [
                    inst for inst in predicted_instances if inst.track == track]
                if len(predicted_track_instances) > 0:
                    track_instances = predicted_track_instances
            lfs_instances.extend([(lf, inst) for inst in track_instances])
    for lf, inst in lfs_instances:
        frame_i = lf.frame_idx - first_frame_idx
        track_i = 0 if inst.track is None else labels.tracks.index(inst.track)
        occupancy_matrix[track_i, frame_i] = 1
        locations_matrix[frame_i, ..., track_i] = inst.numpy()
        if type(inst).__name__ == "PredictedInstance":
            point_scores[frame_i, ..., track_i] = _sleap_scores(inst)
            instance_scores[frame_i, ..., track_i] = inst.score
            tracking_scores[frame_i, ..., track_i] = inst.tracking_score
    return (occupancy_matrix, locations_matrix, point_scores, instance_scores,
            tracking_scores)


def sleap_edge_names(labels, path):
    """SLEAP's ``skeleton.edge_names``: body edges sorted by ``edge_insert_idx`` (the
    sleap-io stand-in keeps the file's link order, which is adjacency order)."""
    with h5py.File(path, "r") as f:
        meta = json.loads(f["metadata"].attrs["json"])
    names = [n["name"] for n in meta["nodes"]]
    graph = meta["skeletons"][0]
    graph = graph.get("nx_graph", graph)  # template skeletons wrap the graph
    order = {(names[link["source"]], names[link["target"]]): link["edge_insert_idx"]
             for link in graph["links"] if "edge_insert_idx" in link}
    edges = list(labels.skeletons[0].edge_names)
    return sorted(edges, key=lambda e: (order.get(tuple(e), len(order)), edges.index(e)))


def sleap_data_dict(labels, video, all_frames, video_path, provenance, path):
    track_names = [np.bytes_(track.name) for track in labels.tracks]
    occ, loc, ps, ins, trs = sleap_matrices(labels, all_frames, video)
    mask = np.sum(occ, axis=1) > 0
    if np.sum(~mask):
        occ, loc, ps, ins, trs = occ[mask], loc[..., mask], ps[..., mask], ins[..., mask], \
            trs[..., mask]
        track_names = [track_names[i] for i in range(len(track_names)) if mask[i]]
    skel = labels.skeletons[0]
    edge_names = sleap_edge_names(labels, path)
    return dict(
        track_names=track_names,
        node_names=[np.bytes_(node.name) for node in skel.nodes],
        edge_names=[(np.bytes_(s), np.bytes_(d)) for (s, d) in edge_names],
        edge_inds=[(skel.node_names.index(s), skel.node_names.index(d)) for s, d in edge_names],
        tracks=loc, track_occupancy=occ, point_scores=ps, instance_scores=ins,
        tracking_scores=trs,
        labels_path=str(None), video_path=video_path,
        video_ind=labels.videos.index(video), provenance=json.dumps(provenance))


def sleap_write_occupancy_file(output_path, data_dict):
    with h5py.File(output_path, "w") as f:
        for key, val in data_dict.items():
            if isinstance(val, np.ndarray):
                f.create_dataset(key, data=np.transpose(val), compression="gzip",
                                 compression_opts=9)
            else:
                f.create_dataset(key, data=val)


def sleap_write_csv_file(output_path, data_dict):
    import pandas as pd

    if data_dict["tracks"].shape[-1] == 0:
        return
    data_dict["node_names"] = [s.decode() for s in data_dict["node_names"]]
    data_dict["track_names"] = [s.decode() for s in data_dict["track_names"]]
    data_dict["track_occupancy"] = np.transpose(data_dict["track_occupancy"]).astype(bool)
    valid_frame_idxs = np.argwhere(data_dict["track_occupancy"].any(axis=1)).flatten()
    tracks = []
    for frame_idx in valid_frame_idxs:
        frame_tracks = data_dict["tracks"][frame_idx]
        for i in range(frame_tracks.shape[-1]):
            pts = frame_tracks[..., i]
            conf_scores = data_dict["point_scores"][frame_idx][..., i]
            if np.isnan(pts).all():
                continue
            track = data_dict["track_names"][i] if data_dict["track_names"] else None
            detection = {"track": track, "frame_idx": frame_idx,
                         "instance.score": data_dict["instance_scores"][frame_idx][i]}
            for node_name, score, (x, y) in zip(data_dict["node_names"], conf_scores, pts,
                                                strict=False):
                detection[f"{node_name}.x"] = x
                detection[f"{node_name}.y"] = y
                detection[f"{node_name}.score"] = score
            tracks.append(detection)
    pd.DataFrame(tracks).to_csv(output_path, index=False)


# ------------------------------------------------------------------------ tests


def _load(path):
    import sleap_io as sio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ledger.load_file(path), sio.load_slp(str(path), open_videos=False), path


def _reference(ours, theirs, path, all_frames=True):
    provenance = {k: v for k, v in theirs.provenance.items() if k != "filename"}
    assert provenance == ours.provenance  # sleap-io adds "filename" when it reads
    return sleap_data_dict(theirs, theirs.videos[0], all_frames, ours.video.filename,
                           provenance, path)


def assert_same_h5(ours_path, ref_path):
    with h5py.File(ours_path, "r") as a, h5py.File(ref_path, "r") as b:
        assert sorted(a.keys()) == sorted(b.keys())
        for key in b:
            da, db = a[key], b[key]
            assert da.shape == db.shape, key
            assert da.dtype == db.dtype, key
            assert da.compression == db.compression, key
            va, vb = da[()], db[()]
            if np.asarray(vb).dtype.kind == "f":
                np.testing.assert_array_equal(va, vb, err_msg=key)
            else:
                assert np.array_equal(np.asarray(va), np.asarray(vb)), key


def _cases():
    return [(p, None) for p in REAL_SLP] + [
        (None, ("tracked", 0)), (None, ("tracked", 1)), (None, ("untracked", 2)),
        (None, ("single", 3))]


@pytest.fixture(params=_cases(), ids=lambda c: (c[0] or "").split("data/")[-1] or
                "-".join(map(str, c[1])))
def project(request, tmp_path):
    path, gen = request.param
    if gen is not None:
        kind, seed = gen
        sio_labels = single_instance_project(seed) if kind == "single" else \
            random_project(seed, tracked=(kind == "tracked"))
        path = tmp_path / "gen.slp"
        sio_labels.save(str(path))
    return _load(path)


@pytest.mark.parametrize("all_frames", [True, False])
def test_export_equals_sleap_141_analysis_h5(project, tmp_path, all_frames):
    ours, theirs, path = project
    ref = tmp_path / "sleap.analysis.h5"
    sleap_write_occupancy_file(ref, _reference(ours, theirs, path, all_frames))
    out = tmp_path / "ours.analysis.h5"
    ours.export(out, all_frames=all_frames)
    assert_same_h5(out, ref)


def test_export_csv_equals_sleap_141_csv(project, tmp_path):
    ours, theirs, path = project
    ref = tmp_path / "sleap.csv"
    data = _reference(ours, theirs, path)
    sleap_write_csv_file(ref, data)
    out = tmp_path / "ours.csv"
    if not ref.exists():  # SLEAP skips a file without tracks; we say so
        with pytest.raises(ValidationError):
            ours.export_csv(out)
        return
    ours.export_csv(out)
    assert out.read_text() == ref.read_text()
    with open(out, newline="") as fh:
        header = next(csv.reader(fh))
    assert header[:3] == ["track", "frame_idx", "instance.score"]


def test_export_axis_order_is_matlab_column_major(tmp_path):
    path = tmp_path / "gen.slp"
    random_project(5, tracked=True, n_frames=10, n_nodes=3).save(str(path))
    ours, _, _ = _load(path)
    ours.export(tmp_path / "a.h5")
    arr = ours.numpy()  # (frames, tracks, nodes, 2) with user instances preferred
    with h5py.File(tmp_path / "a.h5", "r") as f:
        n_tracks, two, n_nodes, n_frames = f["tracks"].shape
        assert (two, n_nodes) == (2, 3) and f["track_occupancy"].shape == (n_frames, n_tracks)
        assert f["tracks"].dtype == np.float64 and f["track_occupancy"].dtype == np.uint8
        assert n_frames == arr.shape[0]
        assert f["labels_path"][()] == b"None" and f["video_ind"][()] == 0


def test_export_without_labelled_frames_is_refused(tmp_path):
    labels = ledger.Labels()
    labels.add_video(ledger.Video.from_filename(str(tmp_path / "v.mp4")))
    labels.add_skeleton(ledger.Skeleton.from_names_and_edge_inds(["a"], []))
    with pytest.raises(ValidationError):
        labels.export(tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()
