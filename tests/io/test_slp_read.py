"""Reading `.slp` files: every real file against sleap-io, every format_id, every error."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import sleap_io as sio
from iohelpers import DATA, SLP_FILES, assert_views_equal, make_predictions, view_ours, view_sio

from ledger.errors import FormatError
from ledger.io.slp import read_slp, write_slp

MINIMAL = DATA / "slp_hdf5" / "minimal_instance.slp"
DANCE = DATA / "slp_hdf5" / "dance.mp4.labels.slp"
CLIP = DATA / "tracks" / "clip.slp"


@pytest.mark.parametrize("path", SLP_FILES, ids=lambda p: p.name)
def test_real_file_matches_sleap_io(path: Path) -> None:
    data = read_slp(path)
    assert_views_equal(view_ours(data), view_sio(sio.load_slp(str(path))))


def test_known_facts_of_real_files() -> None:
    clip = read_slp(CLIP)
    nan = np.isnan(clip.point_x)
    assert int(nan.sum()) == 637 and clip.point_visible[nan].all()
    assert clip.tracks == [(0, "female"), (0, "male")] and clip.format_id == pytest.approx(1.1)
    assert np.isnan(clip.inst_tracking_score).all()  # user instances only

    dance = read_slp(DANCE)
    users = np.flatnonzero(dance.inst_kind == 0)
    assert dance.inst_from_predicted[users].tolist() == [0, 2, 4]
    assert dance.skeletons[0].node_names[0] == "nose"
    assert len(dance.skeletons[0].edges) == 15

    two = read_slp(DATA / "tracks" / "clip.2node.slp")
    assert two.skeletons[0].node_names == ["head", "thorax"]
    assert two.skeletons[0].template == {"description": None, "preview_image": None}
    siv = read_slp(DATA / "siv_format_v2" / "small_robot_siv_caching.slp")
    assert any("sessions_json" in w for w in siv.warnings)


# ----------------------------------------------------------------- synthetic variants


def _variant(tmp_path: Path, edit: Callable[[h5py.File], None], src: Path = MINIMAL) -> Path:
    out = tmp_path / f"variant_{time.monotonic_ns()}.slp"
    shutil.copy(src, out)
    out.chmod(0o644)
    with h5py.File(out, "r+") as f:
        edit(f)
    return out


def _meta(f: h5py.File) -> dict:
    return json.loads(f["metadata"].attrs["json"])


def _set_meta(f: h5py.File, meta: dict) -> None:
    f["metadata"].attrs["json"] = np.bytes_(json.dumps(meta).encode())


def _with_prediction(f: h5py.File) -> None:
    """Turn the second user instance of minimal_instance into a prediction."""
    inst = f["instances"][()]
    pts = f["points"][()]
    pred = np.zeros(2, f["pred_points"].dtype)
    for k in ("x", "y", "visible", "complete"):
        pred[k] = pts[k][2:]
    pred["score"] = [0.5, 0.25]
    inst["instance_type"][1] = 1
    inst["point_id_start"][1], inst["point_id_end"][1] = 0, 2
    inst["score"][1] = 0.75
    for name, arr in (("instances", inst), ("points", pts[:2]), ("pred_points", pred)):
        del f[name]
        f.create_dataset(name, data=arr, maxshape=(None,))


def test_format_1_1_predicted_tracking_score_is_zero(tmp_path: Path) -> None:
    data = read_slp(_variant(tmp_path, _with_prediction))
    assert data.format_id == pytest.approx(1.1)
    assert data.inst_kind.tolist() == [0, 1]
    assert data.inst_tracking_score[1] == 0.0 and np.isnan(data.inst_tracking_score[0])
    assert data.inst_score[1] == pytest.approx(0.75) and np.isnan(data.inst_score[0])


@pytest.mark.parametrize("fmt", [None, 1, 1.0])
def test_gridline_formats_shift_user_points_only(tmp_path: Path, fmt: float | None) -> None:
    def edit(f: h5py.File) -> None:
        _with_prediction(f)
        if fmt is None:
            del f["metadata"].attrs["format_id"]
        elif isinstance(fmt, int):
            f["metadata"].attrs["format_id"] = np.int32(fmt)
        else:
            f["metadata"].attrs["format_id"] = np.float64(fmt)

    path = _variant(tmp_path, edit)
    data = read_slp(path)
    with h5py.File(path) as f:
        raw_u, raw_p = f["points"][()], f["pred_points"][()]
    user = np.flatnonzero(data.inst_kind == 0)[0]
    pred = np.flatnonzero(data.inst_kind == 1)[0]
    us, ps = data.inst_pt_start[user], data.inst_pt_start[pred]
    np.testing.assert_array_equal(data.point_x[us : us + 2], raw_u["x"] - 0.5)
    np.testing.assert_array_equal(data.point_y[us : us + 2], raw_u["y"] - 0.5)
    np.testing.assert_array_equal(data.point_x[ps : ps + 2], raw_p["x"])
    assert data.format_id == (None if fmt is None else 1.0)


def test_sleap_io_style_variants(tmp_path: Path) -> None:
    def edit(f: h5py.File) -> None:
        f["metadata"].attrs["format_id"] = 1.5
        meta = _meta(f)
        meta["provenance"] = {"a": 1}
        meta["sessions"] = [{"x": 1}]
        _set_meta(f, meta)
        f.create_dataset("provenance_json", data=np.bytes_(b'{"a": 2, "b": 3}'))
        f.create_dataset(
            "negative_frames", data=np.zeros(2, [("video_id", "u4"), ("frame_idx", "u8")])
        )
        vids = [json.loads(v) for v in f["videos_json"][()]]
        del f["videos_json"]
        strs = h5py.string_dtype()
        f.create_dataset(
            "videos_json", data=np.array([json.dumps(v) for v in vids], dtype=object), dtype=strs
        )
        del f["tracks_json"]
        f.create_dataset("tracks_json", data=np.array(['[3, "x"]'], dtype=object), dtype=strs)
        del f["suggestions_json"]
        f.create_dataset(
            "suggestions_json", data=np.array([b'{"video": "0", "frame_idx": 4, "group": 1}'])
        )

    data = read_slp(_variant(tmp_path, edit))
    assert data.provenance == {"a": 1, "b": 3}
    assert data.tracks == [(3, "x")]
    assert data.suggestions == [(0, 4, 1)]
    joined = " ".join(data.warnings)
    assert "negative_frames" in joined and "provenance_json" in joined and "sessions" in joined


def test_format_2_warns_and_3_refuses(tmp_path: Path) -> None:
    def two(f: h5py.File) -> None:
        f["metadata"].attrs["format_id"] = 2.3

    assert any("2.3" in w for w in read_slp(_variant(tmp_path, two)).warnings)

    def three(f: h5py.File) -> None:
        f["metadata"].attrs["format_id"] = 3.0

    with pytest.raises(FormatError, match="newer"):
        read_slp(_variant(tmp_path, three))


def test_attribute_only_lists_and_old_forms(tmp_path: Path) -> None:
    def edit(f: h5py.File) -> None:
        meta = _meta(f)
        meta["videos"] = [{"backend": {"filename": ".", "dataset": "video0/video"}}]
        meta["tracks"] = [{"spawned_on": 2, "name": "b"}, [1, "a"]]
        meta["suggestions"] = {"0": [5, 6]}
        meta["provenance"] = {"value": float("nan")}
        for name in ("videos_json", "tracks_json", "suggestions_json"):
            del f[name]
        f["metadata"].attrs["json"] = json.dumps(meta)  # a str attribute, NaN token

    path = _variant(tmp_path, edit)
    data = read_slp(path)
    assert data.videos[0].filename == str(path)
    assert data.tracks == [(2, "b"), (1, "a")]
    assert data.suggestions == [(0, 5, None), (0, 6, None)]
    assert np.isnan(data.provenance["value"])


def test_plain_2d_tables_are_cast(tmp_path: Path) -> None:
    def edit(f: h5py.File) -> None:
        for name in ("frames", "instances", "points", "pred_points"):
            arr = f[name][()]
            plain = (
                np.stack([arr[k].astype(np.float64) for k in arr.dtype.names], 1)
                if len(arr)
                else np.zeros((0, len(arr.dtype.names)))
            )
            del f[name]
            f.create_dataset(name, data=plain)

    a, b = read_slp(MINIMAL), read_slp(_variant(tmp_path, edit))
    np.testing.assert_array_equal(a.point_x, b.point_x)
    assert a.inst_kind.tolist() == b.inst_kind.tolist()
    assert b.point_visible.dtype == np.bool_


def test_unused_global_nodes_map_in_skeleton_order() -> None:
    data = read_slp(DATA / "slp_hdf5" / "small_robot_minimal.slp")
    assert data.skeletons[0].node_names == ["A", "B"]  # global table lists B, A
    assert data.skeletons[0].edges == [(0, 1)]


# ----------------------------------------------------------------------- errors


def _fp_out_of_range(f: h5py.File) -> None:
    inst = f["instances"][()]
    inst["from_predicted"][0] = 7
    f["instances"][...] = inst


def _set_field(table: str, field: str, value: int, row: int = 0) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        arr = f[table][()]
        arr[field][row] = value
        f[table][...] = arr

    return edit


def _replace(name: str, data: object) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        del f[name]
        f.create_dataset(name, data=data)

    return edit


def _meta_edit(change: Callable[[dict], None]) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        meta = _meta(f)
        change(meta)
        _set_meta(f, meta)

    return edit


def _bad_tag(meta: dict) -> None:
    meta["skeletons"][0]["links"][0]["type"] = {"py/function": "os.system"}


def _bad_object(meta: dict) -> None:
    meta["skeletons"][0]["links"][0]["type"] = {"py/object": "subprocess.Popen"}


BAD_EDITS: dict[str, Callable[[h5py.File], None]] = {
    "no metadata": lambda f: f.__delitem__("metadata"),
    "no json attr": lambda f: f["metadata"].attrs.__delitem__("json"),
    "no frames": lambda f: f.__delitem__("frames"),
    "no points": lambda f: f.__delitem__("points"),
    "bad json": lambda f: f["metadata"].attrs.__setitem__("json", np.bytes_(b"{nope")),
    "json list": lambda f: f["metadata"].attrs.__setitem__("json", np.bytes_(b"[]")),
    "string frames": _replace("frames", np.array([b"abc"])),
    "missing field": _replace("points", np.zeros(4, [("x", "f8"), ("y", "f8")])),
    "video index": _set_field("frames", "video", 3),
    "range gap": _set_field("frames", "instance_id_end", 1),
    "range beyond": _set_field("frames", "instance_id_end", 5),
    "skeleton index": _set_field("instances", "skeleton", 2),
    "track -2": _set_field("instances", "track", -2),
    "track high": _set_field("instances", "track", 0),
    "instance type": _set_field("instances", "instance_type", 3),
    "point range length": _set_field("instances", "point_id_end", 1),
    "point range beyond": _set_field("instances", "point_id_start", 3, row=1),
    "from_predicted range": _fp_out_of_range,
    "videos_json garbage": _replace("videos_json", np.array([b"{]"])),
    "videos_json float": _replace("videos_json", np.array([1.0])),
    "unknown tag": _meta_edit(_bad_tag),
    "unknown class": _meta_edit(_bad_object),
    "node index": _meta_edit(lambda m: m["skeletons"][0]["nodes"].append({"id": 9})),
    "format_id text": lambda f: f["metadata"].attrs.__setitem__("format_id", "1.2"),
    "suggestion video": _replace("suggestions_json", np.array([b'{"video": "4", "frame_idx": 1}'])),
}


@pytest.mark.parametrize("name", list(BAD_EDITS))
def test_damaged_files_raise_format_error(tmp_path: Path, name: str) -> None:
    path = _variant(tmp_path, BAD_EDITS[name])
    with pytest.raises(FormatError) as info:
        read_slp(path)
    assert str(path) in str(info.value)


def _shorten(name: str, rows: int) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        table = f[name][()][:rows]
        del f[name]
        f.create_dataset(name, data=table, maxshape=(None,))
    return edit


@pytest.mark.parametrize("edit", [_shorten("points", 3), _with_prediction])
def test_point_table_too_short_for_ordered_ranges(tmp_path: Path, edit: Callable) -> None:
    # ranges in instance order (the fast check) that run past the end of their table
    def damage(f: h5py.File) -> None:
        edit(f)
        _shorten("points", 1)(f)
    with pytest.raises(FormatError, match="outside its point table"):
        read_slp(_variant(tmp_path, damage))


def test_non_hdf5_truncated_and_missing(tmp_path: Path) -> None:
    text = tmp_path / "a.slp"
    text.write_text("hello")
    truncated = tmp_path / "t.slp"
    truncated.write_bytes(CLIP.read_bytes()[:50_000])
    for path in (text, truncated, tmp_path / "missing.slp", tmp_path):
        with pytest.raises(FormatError):
            read_slp(path)


def test_from_predicted_to_user_instance_is_dropped_with_warning(tmp_path: Path) -> None:
    data = read_slp(_variant(tmp_path, _set_field("instances", "from_predicted", 1)))
    assert data.inst_from_predicted.tolist() == [-1, -1]
    assert any("from_predicted" in w for w in data.warnings)


# ------------------------------------------------------------------ layout
# (speed is measured by tools/bench/slp.py, never asserted in tests)


def test_prediction_only_files_are_read_without_copying_points(tmp_path: Path) -> None:
    path = tmp_path / "big.slp"
    write_slp(make_predictions(3_000, 4, 24), path)
    data = read_slp(path)
    assert data.n_points == 3_000 * 4 * 24
    # Prediction-only files use the pred_points columns without copying them.
    assert not data.point_x.flags.owndata

