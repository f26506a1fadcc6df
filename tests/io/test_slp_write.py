"""Writing `.slp`: SLEAP 1.4.1's exact layout, round trips, packages, atomic saves."""

from __future__ import annotations

import copy
import errno
import os
import tempfile
from pathlib import Path

import h5py
import imageio.v3 as iio
import numpy as np
import pytest
import sleap_io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iohelpers import (
    DATA,
    SLP_FILES,
    assert_same,
    assert_views_equal,
    drop_falsy_links,
    random_project,
    to_sio,
    view_ours,
    view_sio,
)

from ledger.errors import FormatError, LedgerError
from ledger.io.project_data import ProjectData
from ledger.io.slp import read_slp, write_slp
from ledger.io.slp_write import FRAMES_DTYPE, INSTANCES_DTYPE, POINTS_DTYPE, PRED_POINTS_DTYPE

SLEAP_12 = [p for p in SLP_FILES if "siv" in p.name or "dance" in p.name or "2node" in p.name]


@pytest.mark.parametrize("path", SLP_FILES, ids=lambda p: p.name)
def test_read_write_read_identity(tmp_path: Path, path: Path) -> None:
    data = read_slp(path)
    out = tmp_path / "out.slp"
    write_slp(data, out)
    again = read_slp(out)
    assert_same(data, again)
    assert again.format_id == pytest.approx(1.2)


@pytest.mark.parametrize("path", SLP_FILES, ids=lambda p: p.name)
def test_written_file_reads_identically_in_sleap_io(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "out.slp"
    write_slp(read_slp(path), out)
    assert_views_equal(view_ours(read_slp(out)), view_sio(sio.load_slp(str(out))))


@pytest.mark.parametrize("path", SLP_FILES, ids=lambda p: p.name)
def test_sleap_io_saved_file_reads_identically(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "sio.slp"
    sio.save_slp(sio.load_slp(str(path)), str(out))
    ours = read_slp(out)
    assert_views_equal(view_ours(ours), view_sio(sio.load_slp(str(out))))
    assert "filename" in ours.provenance  # merged from provenance_json / attribute


@pytest.mark.parametrize("path", SLEAP_12, ids=lambda p: p.name)
def test_tables_byte_identical_to_sleap_files(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "out.slp"
    write_slp(read_slp(path), out)
    with h5py.File(path) as a, h5py.File(out) as b:
        for name in ("frames", "instances", "points", "pred_points", "videos_json", "tracks_json"):
            assert a[name].dtype == b[name].dtype, name
            assert a[name][()].tobytes() == b[name][()].tobytes(), name


def test_metadata_identical_to_sleap_when_node_order_agrees(tmp_path: Path) -> None:
    path = DATA / "siv_format_v1" / "small_robot_siv.slp"
    out = tmp_path / "out.slp"
    write_slp(read_slp(path), out)
    with h5py.File(path) as a, h5py.File(out) as b:
        assert a["metadata"].attrs["json"] == b["metadata"].attrs["json"]


def test_layout_details(tmp_path: Path) -> None:
    out = tmp_path / "out.slp"
    data = read_slp(DATA / "tracks" / "clip.slp")
    data.suggestions = [(0, 3, None), (0, 9, 1)]
    data.negative_anchors = {0: [(1, 2.5, 3.5)]}
    data.provenance = {"note": "caf\u00e9", "nan": float("nan")}
    write_slp(data, out)
    with h5py.File(out) as f:
        assert dict(f.attrs) == {}
        fid = f["metadata"].attrs["format_id"]
        assert fid.dtype == np.float64 and fid == 1.2
        raw = f["metadata"].attrs["json"]
        assert isinstance(raw, np.bytes_)
        text = raw.decode()
        assert text.startswith('{"version":"2.0.0","skeletons":')
        assert (
            '"videos":[],"tracks":[],"suggestions":[],"negative_anchors":{"0":[[1,2.5,3.5]]}'
            in text
        )
        assert '"caf\\u00E9"' in text and '"nan":NaN' in text
        for name, dtype in (
            ("frames", FRAMES_DTYPE),
            ("instances", INSTANCES_DTYPE),
            ("points", POINTS_DTYPE),
            ("pred_points", PRED_POINTS_DTYPE),
        ):
            assert f[name].dtype == dtype and f[name].maxshape == (None,)
        for name in ("videos_json", "tracks_json", "suggestions_json"):
            assert f[name].dtype.kind == "S" and f[name].maxshape == (None,)
        assert f["suggestions_json"][1] == b'{"video":"0","frame_idx":9,"group":1}'
        inst = f["instances"][()]
        assert np.isnan(inst["score"]).all() and np.isnan(inst["tracking_score"]).all()
    back = read_slp(out)
    assert back.suggestions == data.suggestions and back.negative_anchors == data.negative_anchors
    assert back.provenance["note"] == "caf\u00e9"


def test_empty_lists_are_float64_datasets(tmp_path: Path) -> None:
    out = tmp_path / "empty.slp"
    write_slp(ProjectData(), out)
    with h5py.File(out) as f:
        for name in ("videos_json", "tracks_json", "suggestions_json"):
            assert f[name].dtype == np.float64 and f[name].shape == (0,)
            assert f[name].maxshape == (None,)
        assert f["frames"].shape == (0,) and f["frames"].dtype == FRAMES_DTYPE
    assert read_slp(out).n_frames == 0


def test_from_predicted_dropped_when_target_has_no_visible_point(tmp_path: Path) -> None:
    data = read_slp(DATA / "slp_hdf5" / "dance.mp4.labels.slp")
    target = int(data.inst_from_predicted[1])
    start = int(data.inst_pt_start[target])
    data.point_visible = data.point_visible.copy()
    data.point_visible[start : start + 17] = False
    out = tmp_path / "out.slp"
    write_slp(data, out)
    again = read_slp(out)
    assert again.inst_from_predicted[1] == -1
    assert again.inst_from_predicted[3] == data.inst_from_predicted[3]


def test_out_of_order_frames_are_written_contiguously(tmp_path: Path) -> None:
    data = read_slp(DATA / "slp_hdf5" / "dance.mp4.labels.slp")
    perm = np.arange(data.n_frames)[::-1].copy()
    data.frame_video, data.frame_idx = data.frame_video[perm], data.frame_idx[perm]
    data.frame_inst_start = data.frame_inst_start[perm]
    data.frame_inst_end = data.frame_inst_end[perm]
    out = tmp_path / "out.slp"
    write_slp(data, out)
    again = read_slp(out)
    assert again.frame_idx.tolist() == data.frame_idx.tolist()
    assert_views_equal(view_ours(again), view_ours(data))


@pytest.mark.parametrize(
    "field,value",
    [("frame_video", 5), ("inst_skeleton", 3), ("inst_track", -2), ("inst_pt_start", 10**9)],
)
def test_invalid_project_data_is_refused_before_writing(
    tmp_path: Path, field: str, value: int
) -> None:
    data = read_slp(DATA / "slp_hdf5" / "minimal_instance.slp")
    arr = getattr(data, field).copy()
    arr[0] = value
    setattr(data, field, arr)
    out = tmp_path / "out.slp"
    with pytest.raises(FormatError):
        write_slp(data, out)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------- packages


def _frames() -> list[np.ndarray]:
    return [iio.imread(DATA / "videos" / "small_robot_3_frame.mp4", index=i) for i in range(3)]


def test_embedded_package_layout_and_colours(tmp_path: Path) -> None:
    imgs = _frames()
    data = read_slp(DATA / "slp_hdf5" / "small_robot_minimal.slp")
    data.videos.append(copy.deepcopy(data.videos[0]))
    original_rows = [{"backend": v.backend} for v in data.videos]
    out = tmp_path / "labels.pkg.slp"
    write_slp(data, out, embed={0: [2, 0, 2]}, frame_source=lambda v, i: imgs[i])
    with h5py.File(out) as f:
        ds = f["video0/video"]
        assert ds.dtype == np.int8 and ds.compression == "gzip" and ds.shape[0] == 2
        assert ds.attrs["format"] == "png" and ds.attrs["channel_order"] == "BGR"
        assert (ds.attrs["height"], ds.attrs["width"], ds.attrs["channels"]) == (320, 560, 3)
        assert f["video0/frame_numbers"][()].tolist() == [0, 2]
        assert f["video1/video"].shape == (0, 0) and f["video1/frame_numbers"].shape == (0,)
        png = ds[1].view(np.uint8).tobytes()
        np.testing.assert_array_equal(iio.imread(png, extension=".png")[..., ::-1], imgs[2])
        assert f["videos_json"][0] == (
            b'{"backend":{"filename":".","dataset":"video0/video",'
            b'"input_format":"channels_last","convert_range":false}}'
        )
    back = read_slp(out)
    assert back.videos[0].filename == str(out)
    assert back.videos[0].backend["dataset"] == "video0/video"
    assert [v.source_video for v in back.videos] == original_rows
    labels = sio.load_slp(str(out))
    assert np.abs(labels.videos[0][2].astype(int) - imgs[2]).max() == 0

    plain = tmp_path / "plain.slp"
    write_slp(back, plain)  # a loaded package saved without images restores sources
    assert [{"backend": v.backend} for v in read_slp(plain).videos] == original_rows


def test_embed_needs_frame_source(tmp_path: Path) -> None:
    data = read_slp(DATA / "slp_hdf5" / "small_robot_minimal.slp")
    with pytest.raises(FormatError):
        write_slp(data, tmp_path / "x.slp", embed={0: [0]})


# ------------------------------------------------------------------ atomic saves


def test_failure_leaves_existing_file_untouched(tmp_path: Path) -> None:
    data = read_slp(DATA / "slp_hdf5" / "small_robot_minimal.slp")
    out = tmp_path / "labels.slp"
    write_slp(data, out)
    before = out.read_bytes()

    def broken(video: int, frame: int) -> np.ndarray:
        raise RuntimeError("decoder exploded")

    with pytest.raises(LedgerError, match="decoder exploded"):
        write_slp(data, out, embed={0: [0]}, frame_source=broken)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.slp"]


def test_disk_full_and_read_only_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = read_slp(DATA / "slp_hdf5" / "small_robot_minimal.slp")
    out = tmp_path / "labels.slp"
    write_slp(data, out)
    before = out.read_bytes()

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(h5py.Group, "create_dataset", full)
    with pytest.raises(FormatError, match="no space left"):
        write_slp(data, out)
    monkeypatch.undo()
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.slp"]

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(FormatError, match="read-only"):
        write_slp(data, out)
    with pytest.raises(FormatError):
        write_slp(data, tmp_path / "no" / "such" / "dir.slp")


def test_permissions_follow_umask_or_existing_file(tmp_path: Path) -> None:
    data = ProjectData()
    out = tmp_path / "a.slp"
    write_slp(data, out)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask
    out.chmod(0o640)
    write_slp(data, out)
    assert out.stat().st_mode & 0o777 == 0o640


# ------------------------------------------------------------- property tests


@st.composite
def projects(draw: st.DrawFn) -> ProjectData:
    return random_project(draw)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects())
def test_property_round_trips(data: ProjectData) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "ours.slp"
        write_slp(data, ours)
        back = read_slp(ours)
        expected = drop_falsy_links(data)
        assert_same(expected, back)
        assert_views_equal(view_ours(back), view_sio(sio.load_slp(str(ours))))

        labels = to_sio(data)
        theirs = Path(tmp) / "sio.slp"
        sio.save_slp(labels, str(theirs))
        assert_views_equal(view_ours(read_slp(theirs)), view_sio(labels))
