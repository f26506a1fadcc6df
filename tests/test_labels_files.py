"""`Labels`-level file behaviour: load, save, round trips and exports.

Everything here goes through the public `Labels` API (`Labels.load_file`,
`labels.save`, `Labels.save_file`, the exports) and is checked against sleap-io
0.9.5 as the independent reader/writer. Identity differs between loads, so the
comparisons use a content view (`content`) built from each library's objects:
per frame ``(video filename, frame_idx)`` the sorted instances' kind, points
(NaN-aware, with visibility and completeness), point scores, instance scores,
track name and the content of the linked ``from_predicted`` instance.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import sleap_io as sio

from ledger import (
    Instance,
    LabeledFrame,
    Labels,
    Point,
    PredictedInstance,
    Skeleton,
    Track,
    Video,
)
from ledger.errors import FormatError, LedgerError

DATA = Path(__file__).resolve().parent / "data"
SLP_FILES = sorted(DATA.glob("**/*.slp"))
LABELS_JSON = [DATA / "json_format_v2" / "minimal_instance.json"]
ALL_FILES = SLP_FILES + LABELS_JSON
SMALL_MP4 = DATA / "videos" / "small_robot_3_frame.mp4"


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(DATA)) for p in paths]


def load(path: Any, **kwargs: Any) -> Labels:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Labels.load_file(str(path), **kwargs)


def load_sio(path: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sio.load_slp(str(path), open_videos=False)


# ----------------------------------------------------------------- content views


def _f(v: Any) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _f32(v: Any) -> float | None:
    """Instance scores are float32 on disk."""
    v = float(v)
    return None if math.isnan(v) else float(np.float32(v))


def norm_path(p: Any) -> str:
    return str(p).replace("\\", "/")


def _video_name(backend: dict[str, Any] | None, filename: Any) -> Any:
    """SingleImageVideo files are known by their image list (what sleap-io shows)."""
    if backend and backend.get("filenames"):
        return tuple(norm_path(x) for x in backend["filenames"])
    if isinstance(filename, list | tuple):
        return tuple(norm_path(x) for x in filename)
    return norm_path(filename)


def _inst_ours(inst: Instance) -> tuple:
    rows = inst.point_rows()
    pred = isinstance(inst, PredictedInstance)
    pts = tuple((_f(r[0]), _f(r[1]), bool(r[2]), bool(r[3]), _f(r[4]) if pred else None)
                for r in rows)
    track = inst.track.name if inst.track is not None else None
    if pred:
        return ("pred", pts, track, _f32(inst.score), _f32(inst.tracking_score))
    return ("user", pts, track, None, None)


def _inst_sio(inst: Any) -> tuple:
    pts_arr = inst.points
    pred = type(inst).__name__ == "PredictedInstance"
    pts = tuple((_f(p["xy"][0]), _f(p["xy"][1]), bool(p["visible"]), bool(p["complete"]),
                 _f(p["score"]) if pred else None) for p in pts_arr)
    track = inst.track.name if inst.track is not None else None
    if pred:
        return ("pred", pts, track, _f32(inst.score), _f32(inst.tracking_score))
    return ("user", pts, track, None, None)


def _frame_view(instances: list[Any], one: Any) -> list[tuple]:
    out = []
    for inst in instances:
        fp = getattr(inst, "from_predicted", None)
        out.append((*one(inst), one(fp) if fp is not None else None))
    return sorted(out, key=repr)


def content(labels: Any, *, links: bool = True) -> dict[str, Any]:
    """A library-neutral view of a ledger `Labels` or a sleap-io `Labels`."""
    ours = isinstance(labels, Labels)
    one = _inst_ours if ours else _inst_sio
    videos = list(labels.videos)
    names = [_video_name(v.backend_dict() if ours else None, v.filename) for v in videos]

    def vname(video: Any) -> Any:
        return names[next(k for k, v in enumerate(videos) if v is video)]

    frames = []
    for lf in labels.labeled_frames:
        view = _frame_view(list(lf.instances), one)
        if not links:
            view = [v[:-1] for v in view]
        frames.append(((vname(lf.video), int(lf.frame_idx)), view))
    skeletons = []
    for s in labels.skeletons:
        skeletons.append({
            "nodes": list(s.node_names),
            "edges": sorted(tuple(e) for e in s.edge_names),
            "symmetries": sorted(tuple(sorted(p)) for p in s.symmetry_names),
        })
    if ours:
        suggestions = [(vname(s.video), int(s.frame_idx), s.group) for s in labels.suggestions]
    else:
        suggestions = [(vname(s.video), int(s.frame_idx), s.metadata.get("group"))
                       for s in labels.suggestions]
    return {
        "videos": names,
        "skeletons": skeletons,
        "tracks": [t.name for t in labels.tracks],
        "suggestions": suggestions,
        "frames": frames,
    }


def assert_content_equal(a: dict[str, Any], b: dict[str, Any]) -> None:
    for key in ("videos", "skeletons", "tracks", "suggestions"):
        assert a[key] == b[key], key
    assert [k for k, _ in a["frames"]] == [k for k, _ in b["frames"]], "frame keys/order"
    for (key, fa), (_, fb) in zip(a["frames"], b["frames"], strict=True):
        assert fa == fb, key


def _small_project() -> tuple[Labels, Video, Skeleton]:
    """The 3-frame robot video: user frames 0 and 2, a predicted-only frame 1,
    a suggestion on frame 1."""
    skel = Skeleton.from_names_and_edge_inds(["head", "tail"], [(0, 1)], name="robot")
    video = Video.from_filename(str(SMALL_MP4))
    track = Track(0, "r")
    pred0 = PredictedInstance.from_numpy([[10.0, 20.0], [30.0, 40.0]], [0.9, 0.8], 0.7, skel,
                                         track=track)
    labels = Labels()
    labels.append(LabeledFrame(video, 0, [
        pred0,
        Instance(skel, {"head": Point(11, 21), "tail": Point(31, 41, visible=False)},
                 track=track, from_predicted=pred0)]))
    labels.append(LabeledFrame(video, 1, [
        PredictedInstance.from_numpy([[1.0, 2.0], [np.nan, np.nan]], [0.5, 0.0], 0.4, skel)]))
    labels.append(LabeledFrame(video, 2, [Instance(skel, {"head": Point(5, 6)})]))
    labels.add_suggestion(video, 1, group=3)
    return labels, video, skel


# --------------------------------------------------------------- real files load


@pytest.mark.parametrize("path", SLP_FILES, ids=_ids(SLP_FILES))
def test_real_slp_loads_like_sleap_io(path: Path) -> None:
    ours = load(path)
    theirs = load_sio(path)
    assert len(ours) == len(theirs) > 0
    assert_content_equal(content(ours), content(theirs))
    # Counts through the SLEAP API agree too.
    assert len(ours.user_instances) == sum(len(lf.user_instances) for lf in theirs)
    assert len(ours.predicted_instances) == sum(len(lf.predicted_instances) for lf in theirs)


def test_real_json_loads_like_its_slp_twin() -> None:
    """`minimal_instance.json` and `.slp` hold the same project (SLEAP's test data);
    sleap-io cannot read SLEAP JSON, so the `.slp` read by sleap-io is the oracle."""
    ours = load(DATA / "json_format_v2" / "minimal_instance.json")
    theirs = load_sio(DATA / "slp_hdf5" / "minimal_instance.slp")
    a, b = content(ours), content(theirs)
    for key in ("videos", "skeletons", "tracks", "suggestions"):
        assert a[key] == b[key], key
    # Points are compared by coordinates and presence; the JSON stores only labelled
    # nodes, so visibility/completeness of missing nodes is not defined by the file.
    def xy(view: dict[str, Any]) -> list[Any]:
        return [(k, [(i[0], [(p[0], p[1]) for p in i[1]], i[2]) for i in f])
                for k, f in view["frames"]]
    assert xy(a) == xy(b)


def test_standalone_skeleton_json_is_not_a_labels_file() -> None:
    with pytest.raises(FormatError):
        Labels.load_file(str(DATA / "skeleton" / "fly_skeleton_legs.json"))


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_import_is_one_transaction_with_one_frames_event(path: Path) -> None:
    labels = load(path)
    history = labels.history
    assert history, "loading must record the import"
    assert len({r.tx for r in history}) == 1
    kinds = [r.kind for r in history]
    assert kinds.count("FramesAdded") == 1
    assert labels.can_undo and not labels.can_redo
    n = len(labels)
    assert labels.undo()
    assert len(labels) == 0 and not labels.videos and not labels.skeletons
    assert labels.redo()
    assert len(labels) == n


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_loaded_labels_are_editable(path: Path) -> None:
    labels = load(path)
    lf = next(lf for lf in labels if len(lf.instances))
    inst = lf.instances[0]
    before = inst.point_rows().copy()
    node = inst.skeleton.nodes[0]
    labels.set_point(inst, node, 123.5, 456.25)
    assert inst.numpy()[0].tolist() == [123.5, 456.25]
    labels.undo()
    np.testing.assert_array_equal(inst.point_rows(), before)


# -------------------------------------------------------------------- round trips


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
@pytest.mark.parametrize("suffix", [".slp", ".json", ".json.zip"])
def test_load_save_load_keeps_content(path: Path, suffix: str, tmp_path: Path) -> None:
    first = load(path)
    out = tmp_path / f"copy{suffix}"
    first.save(str(out))
    second = load(out)
    # SLEAP JSON embeds from_predicted as a copy, so links only survive .slp.
    links = suffix == ".slp" and path.suffix == ".slp"
    assert_content_equal(content(first, links=links), content(second, links=links))
    assert second.provenance == first.provenance


@pytest.mark.parametrize("path", SLP_FILES, ids=_ids(SLP_FILES))
def test_canonical_survives_slp_round_trip_up_to_ids(path: Path, tmp_path: Path) -> None:
    """Saving twice gives byte-identical tables: the writer is deterministic."""
    first = load(path)
    a, b = tmp_path / "a.slp", tmp_path / "b.slp"
    first.save(str(a))
    load(a).save(str(b))
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for name in ("frames", "instances", "points", "pred_points"):
            ta, tb = fa[name][()], fb[name][()]
            assert ta.dtype == tb.dtype, name
            assert ta.tobytes() == tb.tobytes(), name
        for name in ("videos_json", "tracks_json", "suggestions_json"):
            assert fa[name][()].tolist() == fb[name][()].tolist(), name


@pytest.mark.parametrize("path", SLP_FILES, ids=_ids(SLP_FILES))
def test_our_save_loads_in_sleap_io(path: Path, tmp_path: Path) -> None:
    ours = load(path)
    out = tmp_path / "ours.slp"
    ours.save(str(out))
    assert_content_equal(content(load_sio(out)), content(load_sio(path)))
    assert_content_equal(content(load_sio(out)), content(ours))


@pytest.mark.parametrize("path", SLP_FILES, ids=_ids(SLP_FILES))
def test_sleap_io_save_loads_in_ours(path: Path, tmp_path: Path) -> None:
    theirs = load_sio(path)
    out = tmp_path / "sio.slp"
    sio.save_slp(theirs, str(out), verbose=False)
    assert_content_equal(content(load(out)), content(load_sio(out)))


def test_hand_built_project_round_trips_both_ways(tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    out = tmp_path / "small.slp"
    labels.save(str(out))
    assert_content_equal(content(load(out)), content(labels))
    assert_content_equal(content(load_sio(out)), content(labels))
    again = tmp_path / "sio.slp"
    sio.save_slp(load_sio(out), str(again), verbose=False)
    assert_content_equal(content(load(again)), content(labels))


def test_save_file_and_default_suffix(tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    Labels.save_file(labels, str(tmp_path / "x"), default_suffix="slp")
    assert (tmp_path / "x.slp").exists()
    labels.save(str(tmp_path / "y"))
    assert (tmp_path / "y.slp").exists()
    assert_content_equal(content(load(tmp_path / "y.slp")), content(labels))
    with pytest.raises(FormatError):
        Labels.save_file(labels, str(tmp_path / "z.txt"))
    assert not (tmp_path / "z.txt").exists()


# -------------------------------------------------------------------- video search


def _labels_with_missing_video(tmp_path: Path) -> tuple[Path, Path]:
    """A labels file whose video path does not exist; a folder that holds it."""
    labels, _, _ = _small_project()
    moved = tmp_path / "elsewhere" / "gone" / SMALL_MP4.name
    out = tmp_path / "proj" / "labels.slp"
    out.parent.mkdir()
    labels.save(str(out))
    with h5py.File(out, "r+") as f:
        rows = [json.loads(r) for r in f["videos_json"][()]]
        rows[0]["backend"]["filename"] = str(moved)
        del f["videos_json"]
        enc = [json.dumps(r).encode() for r in rows]
        f.create_dataset("videos_json", data=np.array(enc, dtype=f"S{max(map(len, enc))}"),
                         maxshape=(None,))
    found = tmp_path / "search"
    found.mkdir()
    shutil.copy(SMALL_MP4, found / SMALL_MP4.name)
    return out, found


def test_load_without_video_search_keeps_missing_path(tmp_path: Path) -> None:
    out, _ = _labels_with_missing_video(tmp_path)
    labels = load(out)
    assert "gone" in labels.videos[0].filename
    assert labels.videos[0].is_missing


def test_video_search_folder_repoints_missing_video(tmp_path: Path) -> None:
    out, folder = _labels_with_missing_video(tmp_path)
    labels = load(out, video_search=str(folder))
    assert os.path.samefile(labels.videos[0].filename, folder / SMALL_MP4.name)
    assert not labels.videos[0].is_missing
    assert labels.videos[0].get_frame(0).shape[:2] == (320, 560)
    # A list of folders works too, and the content is otherwise untouched.
    labels2 = load(out, video_search=[str(tmp_path / "nowhere"), str(folder)])
    assert os.path.samefile(labels2.videos[0].filename, folder / SMALL_MP4.name)
    # A file path in the search list counts as its folder.
    (folder / "notes.txt").write_text("x")
    labels3 = load(out, video_search=[str(folder / "notes.txt")])
    assert os.path.samefile(labels3.videos[0].filename, folder / SMALL_MP4.name)


def test_video_search_full_paths_replace_missing_videos_by_position(tmp_path: Path) -> None:
    """One search path per video with matching extensions: used positionally,
    even when the basename differs (SLEAP's non-GUI callback, step 5)."""
    out, folder = _labels_with_missing_video(tmp_path)
    renamed = folder / "renamed_clip.mp4"
    shutil.copy(SMALL_MP4, renamed)
    (folder / SMALL_MP4.name).unlink()
    labels = load(out, video_search=[str(renamed)])
    assert os.path.samefile(labels.videos[0].filename, renamed)


def test_video_search_repoints_every_video_found_once_one_is_missing(tmp_path: Path) -> None:
    """Reference §2.3 make_video_callback step 3: when any video is missing, every
    filename (existing ones too) is looked up in the search paths."""
    skel = Skeleton.from_names_and_edge_inds(["a"], [])
    here = tmp_path / "here"
    here.mkdir()
    shutil.copy(SMALL_MP4, here / "a.mp4")
    labels = Labels()
    labels.append(LabeledFrame(Video.from_filename(str(here / "a.mp4")), 0,
                               [Instance(skel, {"a": Point(1, 2)})]))
    labels.append(LabeledFrame(Video.from_filename(str(tmp_path / "gone" / "b.mp4")), 0,
                               [Instance(skel, {"a": Point(3, 4)})]))
    out = tmp_path / "two.slp"
    labels.save(str(out))
    search = tmp_path / "search"
    search.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(SMALL_MP4, search / name)
    again = load(out, video_search=str(search))
    assert [Path(v.filename).parent.name for v in again.videos] == ["search", "search"]
    a, b = content(labels), content(again)
    assert [(k, v) for (_, k), v in a["frames"]] == [(k, v) for (_, k), v in b["frames"]]


def test_video_search_callback_is_called_and_applied(tmp_path: Path) -> None:
    out, folder = _labels_with_missing_video(tmp_path)
    seen: list[list[dict]] = []

    def callback(dicts: list[dict]) -> bool:
        seen.append([json.loads(json.dumps(d)) for d in dicts])
        for d in dicts:
            d["backend"]["filename"] = str(folder / SMALL_MP4.name)
        return False

    labels = load(out, video_search=callback)
    assert len(seen) == 1 and len(seen[0]) == 1
    assert "gone" in seen[0][0]["backend"]["filename"]
    assert labels.videos[0].filename == str(folder / SMALL_MP4.name)
    # The callback made by make_video_callback does the same.
    cb = Labels.make_video_callback([str(folder)])
    labels2 = load(out, video_search=cb)
    assert os.path.samefile(labels2.videos[0].filename, folder / SMALL_MP4.name)


# ---------------------------------------------------------------- embedded images


def _source_frames() -> list[np.ndarray]:
    video = Video.from_filename(str(SMALL_MP4))
    return [np.asarray(video.get_frame(i)) for i in range(3)]


@pytest.mark.parametrize("kwargs, expected", [
    ({}, [0, 2]),
    ({"embed_all_labeled": True}, [0, 1, 2]),
    ({"embed_suggested": True}, [0, 1, 2]),
])
def test_save_with_images_embeds_user_frames(kwargs: dict, expected: list[int],
                                             tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    out = tmp_path / "small.pkg.slp"
    labels.save(str(out), with_images=True, **kwargs)
    with h5py.File(out, "r") as f:
        assert f["video0/frame_numbers"][()].tolist() == expected
        assert f["video0/video"].shape[0] == len(expected)
        row = json.loads(f["videos_json"][0])
        assert row["backend"]["filename"] == "."
        assert row["backend"]["dataset"] == "video0/video"
        source = json.loads(f["video0/source_video"].attrs["json"])
        assert norm_path(source["backend"]["filename"]) == norm_path(SMALL_MP4)
    src = _source_frames()
    again = load(out)
    video = again.videos[0]
    for i in expected:
        np.testing.assert_array_equal(np.asarray(video.get_frame(i)), src[i])
    assert_content_equal(
        {**content(again), "videos": None},
        {**content(labels), "videos": None,
         "frames": [((content(again)["videos"][0], k[1]), v)
                    for k, v in content(labels)["frames"]],
         "suggestions": [(content(again)["videos"][0], f, g)
                         for _, f, g in content(labels)["suggestions"]]})
    # sleap-io reads the package with the same pixels (format < 1.4 means BGR-coded PNGs).
    theirs = sio.load_slp(str(out))
    for i in expected:
        np.testing.assert_array_equal(np.asarray(theirs.videos[0][i]), src[i])


@pytest.mark.parametrize("in_place", [False, True])
def test_package_can_be_re_embedded(in_place: bool, tmp_path: Path) -> None:
    """A loaded package saved again with images (to a new path, or over itself)
    keeps the pixels: frames are read from the old file while the new one is built."""
    labels, _, _ = _small_project()
    pkg = tmp_path / "small.pkg.slp"
    labels.save(str(pkg), with_images=True)
    out = pkg if in_place else tmp_path / "again.pkg.slp"
    load(pkg).save(str(out), with_images=True)
    src = _source_frames()
    again = load(out)
    with h5py.File(out, "r") as f:
        assert f["video0/frame_numbers"][()].tolist() == [0, 2]
        source = json.loads(f["video0/source_video"].attrs["json"])
        assert norm_path(source["backend"]["filename"]) == norm_path(SMALL_MP4)
    for i in (0, 2):
        np.testing.assert_array_equal(np.asarray(again.videos[0].get_frame(i)), src[i])


def test_sleap_io_package_loads_with_the_right_pixels(tmp_path: Path) -> None:
    """sleap-io embeds standard RGB PNGs (``channel_order="RGB"``, format 1.4)."""
    labels, _, _ = _small_project()
    plain = tmp_path / "small.slp"
    labels.save(str(plain))
    pkg = tmp_path / "sio.pkg.slp"
    sio.save_slp(load_sio(plain), str(pkg), embed="user", verbose=False)
    ours = load(pkg)
    src = _source_frames()
    for i in (0, 2):
        np.testing.assert_array_equal(np.asarray(ours.videos[0].get_frame(i)), src[i])


def test_renamed_package_reads_its_own_frames(tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    pkg = tmp_path / "small.pkg.slp"
    labels.save(str(pkg), with_images=True)
    moved = tmp_path / "sub" / "renamed.slp"
    moved.parent.mkdir()
    shutil.move(pkg, moved)
    again = load(moved)
    assert os.path.samefile(again.videos[0].filename, moved)
    np.testing.assert_array_equal(np.asarray(again.videos[0].get_frame(2)), _source_frames()[2])


def test_package_saved_without_images_restores_source_video(tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    pkg = tmp_path / "small.pkg.slp"
    labels.save(str(pkg), with_images=True)
    plain = tmp_path / "plain.slp"
    load(pkg).save(str(plain))
    assert norm_path(load(plain).videos[0].filename) == norm_path(SMALL_MP4)


# ---------------------------------------------------------------- frame exports


def test_save_frame_data_hdf5_through_labels(tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    out = tmp_path / "frames.h5"
    videos = labels.save_frame_data_hdf5(str(out), user_labeled=True)
    assert len(videos) == 1
    with h5py.File(out, "r") as f:
        assert f["video0/frame_numbers"][()].tolist() == [0, 2]
    src = _source_frames()
    for i in (0, 2):
        np.testing.assert_array_equal(np.asarray(videos[0].get_frame(i)), src[i])
    out2 = tmp_path / "frames_all.h5"
    labels.save_frame_data_hdf5(str(out2), all_labeled=True, suggested=True)
    with h5py.File(out2, "r") as f:
        assert f["video0/frame_numbers"][()].tolist() == [0, 1, 2]


def test_generate_training_data_through_labels() -> None:
    labels, _, _ = _small_project()
    imgs, points = labels.generate_training_data()
    src = _source_frames()
    assert np.asarray(imgs).shape == (2, *src[0].shape)
    np.testing.assert_array_equal(np.asarray(imgs)[0], src[0])
    np.testing.assert_array_equal(np.asarray(imgs)[1], src[2])
    assert [p.shape for p in points] == [(1, 2, 2), (1, 2, 2)]
    # Invisible points become NaN (SLEAP's points_array).
    np.testing.assert_array_equal(points[0][0], [[11, 21], [np.nan, np.nan]])
    np.testing.assert_array_equal(points[1][0], [[5, 6], [np.nan, np.nan]])


def test_export_training_data_through_labels(tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    out = tmp_path / "train.h5"
    labels.export_training_data(str(out))
    with h5py.File(out, "r") as f:
        assert [n.decode() for n in f["skeleton/node_names"][()]] == ["head", "tail"]
        assert int(f["skeleton/n_nodes"][()]) == 2
        assert f["skeleton/edges"][()].tolist() == [[0, 1]]
        assert norm_path(f["videos/filepath"][0].decode()) == norm_path(SMALL_MP4)
        assert f["peaks/xy"].shape[1] == 2
        assert "imgs" in f


def test_training_exports_need_user_frames() -> None:
    skel = Skeleton.from_names_and_edge_inds(["a"], [])
    labels = Labels()
    labels.append(LabeledFrame(Video.from_filename(str(SMALL_MP4)), 0,
                               [PredictedInstance.from_numpy([[1.0, 1.0]], [1.0], 1.0, skel)]))
    with pytest.raises(IndexError):
        labels.generate_training_data()


# -------------------------------------------------------------------- failed saves


def test_save_into_path_whose_parent_is_a_file_raises_ledger_error(tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    blocker = tmp_path / "not_a_dir"
    blocker.write_bytes(b"x")
    with pytest.raises(LedgerError):
        labels.save(str(blocker / "labels.slp"))
    assert blocker.read_bytes() == b"x"


def test_save_onto_a_directory_raises_and_leaves_it(tmp_path: Path) -> None:
    labels, _, _ = _small_project()
    target = tmp_path / "dir.slp"
    target.mkdir()
    (target / "keep").write_bytes(b"k")
    with pytest.raises(LedgerError):
        labels.save(str(target))
    assert (target / "keep").read_bytes() == b"k"
    assert os.listdir(tmp_path) == ["dir.slp"]


@pytest.mark.parametrize("failing", ["mkstemp", "replace"])
def test_save_into_read_only_directory_keeps_existing_file(tmp_path: Path, monkeypatch,
                                                           failing: str) -> None:
    """A folder that refuses writes (EROFS/EACCES; simulated, since root ignores
    permissions) makes the save fail with a ledger error; the existing file stays
    byte-identical and no temporary file is left."""
    import errno

    import ledger.io.atomic as atomic

    labels, _, _ = _small_project()
    target = tmp_path / "labels.slp"
    labels.save(str(target))
    before = target.read_bytes()
    labels.append(LabeledFrame(labels.videos[0], 9, []))

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    if failing == "mkstemp":
        monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    else:
        monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(LedgerError):
        labels.save(str(target))
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["labels.slp"]


def test_failed_embedding_save_keeps_existing_file(tmp_path: Path) -> None:
    """The frames of a missing video cannot be embedded: the save fails and the
    previous file stays byte-identical, with no temporary file left behind."""
    skel = Skeleton.from_names_and_edge_inds(["a"], [])
    labels = Labels()
    labels.append(LabeledFrame(Video.from_filename(str(tmp_path / "missing.mp4")), 0,
                               [Instance(skel, {"a": Point(1, 2)})]))
    target = tmp_path / "labels.slp"
    labels.save(str(target))
    before = target.read_bytes()
    with pytest.raises(LedgerError):
        labels.save(str(target), with_images=True)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["labels.slp"]


# ---------------------------------------------------------------------- bad inputs


def test_non_hdf5_file_raises_format_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.slp"
    bad.write_text("this is not an HDF5 file\n")
    with pytest.raises(FormatError):
        Labels.load_file(str(bad))


@pytest.mark.parametrize("path", SLP_FILES, ids=_ids(SLP_FILES))
def test_truncated_copy_raises_format_error(path: Path, tmp_path: Path) -> None:
    raw = path.read_bytes()
    for fraction in (0.5, 0.9):
        bad = tmp_path / f"trunc_{fraction}.slp"
        bad.write_bytes(raw[: int(len(raw) * fraction)])
        with pytest.raises(FormatError):
            Labels.load_file(str(bad))


def test_bad_json_and_unknown_suffix_raise_format_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(FormatError):
        Labels.load_file(str(bad))
    with pytest.raises(FormatError):
        Labels.load_file(str(tmp_path / "labels.txt"))
    with pytest.raises(FormatError):
        Labels.load_file(str(tmp_path / "does_not_exist.slp"))


def test_hdf5_without_labels_raises_format_error(tmp_path: Path) -> None:
    other = tmp_path / "other.slp"
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    with pytest.raises(FormatError):
        Labels.load_file(str(other))


# ------------------------------------------------------------------ to_dict / json


def test_to_dict_shape() -> None:
    labels, _, _ = _small_project()
    d = labels.to_dict()
    assert list(d) == ["version", "skeletons", "nodes", "videos", "tracks", "suggestions",
                       "negative_anchors", "provenance", "labels"]
    assert d["version"] == "2.0.0"
    assert [n["name"] for n in d["nodes"]] == ["head", "tail"]
    assert d["tracks"] == [[0, "r"]]
    assert d["suggestions"] == [{"video": "0", "frame_idx": 1, "group": 3}]
    assert [lf["frame_idx"] for lf in d["labels"]] == [0, 1, 2]
    assert all(lf["video"] == "0" for lf in d["labels"])
    f0 = d["labels"][0]["_instances"]
    assert len(f0) == 2
    pred, user = f0
    assert "score" in pred and "score" not in user
    assert user["track"] == "0" and user["skeleton"] == "0"
    assert user["from_predicted"]["score"] == pytest.approx(0.7)
    # Only labelled nodes are listed, keyed by global node index strings.
    f1 = d["labels"][1]["_instances"][0]
    assert list(f1["_points"]) == ["0"]
    assert f1["track"] is None
    assert set(f1["_points"]["0"]) == {"x", "y", "visible", "complete", "score"}
    assert set(user["_points"]["1"]) == {"x", "y", "visible", "complete"}
    assert user["_points"]["1"]["visible"] is False
    skip = labels.to_dict(skip_labels=True)
    assert "labels" not in skip and list(skip) == list(d)[:-1]


def test_to_json_matches_to_dict() -> None:
    labels, _, _ = _small_project()
    text = labels.to_json()
    assert isinstance(text, str)
    assert json.loads(text) == json.loads(json.dumps(labels.to_dict()))
    assert ": " not in text and ", " not in text


def test_to_dict_of_empty_labels() -> None:
    d = Labels().to_dict()
    assert d["labels"] == [] and d["videos"] == [] and d["skeletons"] == []
