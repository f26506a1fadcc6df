"""Embedded images, frame-data files and training exports (reference §4.6, §6)."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import h5py
import imageio.v3 as iio
import numpy as np
import pytest

from ledger.errors import ValidationError, VideoError
from ledger.io.frame_export import (
    NoTrainingDataError,
    TrainingSample,
    encode_image,
    export_training_data,
    generate_training_data,
    save_frame_data_hdf5,
    save_frame_data_imgstore,
    write_embedded_video,
)
from ledger.io.video_backends import (
    HDF5Backend,
    MediaBackend,
    NumpyBackend,
    backend_from_dict,
)

SMALL_MP4 = Path(__file__).resolve().parents[1] / "data" / "videos" / "small_robot_3_frame.mp4"
SOURCE = {
    "backend": {
        "filename": "clip.mp4",
        "grayscale": False,
        "bgr": True,
        "dataset": "",
        "input_format": "",
    }
}


def rgb_frames(n: int, h: int = 9, w: int = 11, c: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)


# -- write_embedded_video ---------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 1])
def test_png_round_trip_is_exact(tmp_path: Path, channels: int) -> None:
    data = rgb_frames(3, c=channels)
    numbers = [2, 5, 11]
    path = tmp_path / "pkg.slp"
    d = write_embedded_video(path, "video0", zip(numbers, data, strict=True), SOURCE)
    assert d == {
        "filename": os.fspath(path),
        "dataset": "video0/video",
        "input_format": "channels_last",
        "convert_range": False,
    }
    backend = backend_from_dict(d)
    assert isinstance(backend, HDF5Backend)
    assert backend.shape == (3, 9, 11, channels)
    assert backend.embedded_frame_inds == numbers and backend.has_embedded_images
    assert backend.last_frame_idx == 11
    for n, frame in zip(numbers, data, strict=True):
        assert np.array_equal(backend.get_frame(n), frame)  # addressed by original index
    assert np.array_equal(backend.get_frames([11, 2]), data[[2, 0]])
    assert backend.source_video_dict == SOURCE
    backend.close()


def test_sleap_layout(tmp_path: Path) -> None:
    data = rgb_frames(2)
    path = tmp_path / "pkg.slp"
    write_embedded_video(path, "video3", [(4, data[0]), (1, data[1])], SOURCE)
    with h5py.File(path, "r") as f:
        ds = f["video3/video"]
        assert ds.dtype == np.int8 and ds.ndim == 2 and ds.shape[0] == 2
        assert ds.compression == "gzip"
        assert ds.attrs["format"] == "png"
        assert [int(ds.attrs[k]) for k in ("channels", "height", "width")] == [3, 9, 11]
        assert ds.attrs["channel_order"] == "BGR"
        numbers = f["video3/frame_numbers"]
        assert numbers.dtype == np.int64 and list(numbers[()]) == [4, 1]
        assert json.loads(f["video3/source_video"].attrs["json"]) == SOURCE
        row = ds[0].tobytes()
    assert row.rstrip(b"\0").endswith(b"IEND\xaeB`\x82")  # one PNG, zero padded


def test_sleap_colour_convention(tmp_path: Path) -> None:
    """A plain PNG decoder sees SLEAP's embedded bytes with the channels swapped."""
    data = rgb_frames(1, seed=4)
    path = tmp_path / "pkg.slp"
    write_embedded_video(path, "video0", [(0, data[0])], SOURCE)
    with h5py.File(path, "r") as f:
        plain = iio.imread(f["video0/video"][0].tobytes(), extension=".png")
    assert not np.array_equal(plain, data[0])
    assert np.array_equal(plain[..., ::-1], data[0])
    assert encode_image(data[0]) == iio.imwrite("<bytes>", data[0][..., ::-1], extension=".png")


def test_empty_selection(tmp_path: Path) -> None:
    path = tmp_path / "pkg.slp"
    d = write_embedded_video(path, "video1", [], SOURCE, frame_shape=(9, 11, 1))
    with h5py.File(path, "r") as f:
        ds = f["video1/video"]
        assert ds.shape == (0, 0) and ds.dtype == np.int8
        assert [int(ds.attrs[k]) for k in ("channels", "height", "width")] == [1, 9, 11]
        assert f["video1/frame_numbers"].shape == (0,)
        assert f["video1/frame_numbers"].dtype == np.int64
    backend = backend_from_dict(d)
    assert backend.shape == (0, 9, 11, 1)
    assert not backend.has_embedded_images and backend.embedded_frame_inds == []


def test_raw_mode(tmp_path: Path) -> None:
    data = rgb_frames(3)
    path = tmp_path / "raw.h5"
    d = write_embedded_video(path, "video0", zip([0, 3, 6], data, strict=True), None, format="")
    with h5py.File(path, "r") as f:
        ds = f["video0/video"]
        assert ds.dtype == np.uint8 and ds.shape == (3, 9, 11, 3)
        assert ds.compression == "gzip" and ds.compression_opts == 9
        assert "format" not in ds.attrs and "source_video" not in f["video0"]
    backend = backend_from_dict(d)
    assert np.array_equal(backend.get_frame(6), data[2])
    backend.close()  # HDF5 refuses to reopen a file for writing while it is open to read
    write_embedded_video(path, "video1", [], None, format="")
    with h5py.File(path, "r") as f:
        assert f["video1/video"].shape == (1, 1, 1, 1)
        assert f["video1/frame_numbers"].shape == (0,)


def test_jpeg_keeps_colour_order(tmp_path: Path) -> None:
    frame = np.zeros((32, 32, 3), np.uint8)
    frame[..., 0] = 220  # strongly red
    path = tmp_path / "pkg.slp"
    write_embedded_video(path, "video0", [(0, frame)], SOURCE, format="jpg")
    out = HDF5Backend(path, dataset="video0/video", convert_range=False).get_frame(0)
    assert np.abs(out.astype(int) - frame).max() < 8


def test_rewrite_group_and_open_file(tmp_path: Path) -> None:
    path = tmp_path / "pkg.slp"
    write_embedded_video(path, "video0", [(0, rgb_frames(1)[0])], SOURCE)
    with h5py.File(path, "a") as f:
        f["keep"] = 1
        d = write_embedded_video(f, "video0", [(9, rgb_frames(1, seed=1)[0])], SOURCE)
    assert d["filename"] == os.fspath(path)
    backend = backend_from_dict(d)
    assert backend.embedded_frame_inds == [9]
    assert np.array_equal(backend.get_frame(9), rgb_frames(1, seed=1)[0])
    with h5py.File(path, "r") as f:
        assert "keep" in f


@pytest.mark.parametrize(
    "frames",
    [
        [(0, np.zeros((4, 4, 3), np.uint8)), (0, np.zeros((4, 4, 3), np.uint8))],
        [(0, np.zeros((4, 4, 3), np.float32))],
        [(0, np.zeros((4, 4, 3), np.uint8)), (1, np.zeros((5, 4, 3), np.uint8))],
    ],
    ids=["duplicate", "dtype", "shape"],
)
def test_invalid_frames(tmp_path: Path, frames: list[tuple[int, np.ndarray]]) -> None:
    with pytest.raises(ValidationError):
        write_embedded_video(tmp_path / "x.slp", "video0", frames, SOURCE)


# -- save_frame_data_hdf5 ---------------------------------------------------------------------


def test_save_frame_data_hdf5(tmp_path: Path) -> None:
    media = MediaBackend(SMALL_MP4)
    data = rgb_frames(6, seed=5)
    raw = NumpyBackend(data)
    calls: list[tuple[int, int]] = []
    out = tmp_path / "labels.pkg.slp"
    dicts = save_frame_data_hdf5(
        [media, raw], [[2, 0, 2], []], out, progress_callback=lambda a, b: calls.append((a, b))
    )
    assert calls == [(1, 2), (2, 2)]
    assert [d["dataset"] for d in dicts] == ["video0/video", "video1/video"]
    assert all(d["filename"] == os.fspath(out) and d["convert_range"] is False for d in dicts)
    first, second = (backend_from_dict(d) for d in dicts)
    assert first.embedded_frame_inds == [0, 2]  # de-duplicated and sorted
    for n in (0, 2):
        assert np.array_equal(first.get_frame(n), media.get_frame(n))
    assert np.array_equal(first.get_frame(1), media.get_frame(1))  # from the source video
    assert first.source_video_dict == {"backend": media.to_dict()}
    assert second.shape == (0, 9, 11, 3)
    assert second.source_video_dict == {"backend": {"filename": "Raw Video Data"}}
    first.close()

    # Re-embedding an embedded video points at the original, not at the package.
    again = save_frame_data_hdf5([first], [[2]], tmp_path / "again.slp")
    assert backend_from_dict(again[0]).source_video_dict == {"backend": media.to_dict()}


def test_save_frame_data_hdf5_stops_on_false(tmp_path: Path) -> None:
    videos = [NumpyBackend(rgb_frames(2)), NumpyBackend(rgb_frames(2, seed=1))]
    out = tmp_path / "p.slp"
    assert save_frame_data_hdf5(videos, [[0], [1]], out, progress_callback=lambda a, b: False) == []
    with h5py.File(out, "r") as f:
        assert "video0" in f and "video1" not in f
    with pytest.raises(ValidationError):
        save_frame_data_hdf5(videos, [[0]], out)


def test_save_frame_data_hdf5_missing_video(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="nowhere.mp4"):
        save_frame_data_hdf5([MediaBackend("/nowhere.mp4")], [[0]], tmp_path / "p.slp")


# -- save_frame_data_imgstore -----------------------------------------------------------------


class FakeStore:
    """Records what `save_frame_data_imgstore` asks of an imgstore."""

    created: list[FakeStore] = []

    def __init__(self, fmt: str, **kwargs: Any) -> None:
        self.fmt, self.kwargs = fmt, kwargs
        self.extra: dict[str, Any] = {}
        self.images: list[tuple[np.ndarray, int]] = []
        self.closed = False
        os.makedirs(kwargs["basedir"], exist_ok=True)
        FakeStore.created.append(self)

    def add_extra_data(self, **kwargs: Any) -> None:
        self.extra.update(kwargs)

    def add_image(self, image: np.ndarray, frame_number: int, timestamp: float) -> None:
        self.images.append((image, frame_number))

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_imgstore(monkeypatch: pytest.MonkeyPatch) -> type[FakeStore]:
    module = types.ModuleType("imgstore")
    module.new_for_format = FakeStore  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "imgstore", module)
    FakeStore.created = []
    return FakeStore


def test_save_frame_data_imgstore(tmp_path: Path, fake_imgstore: type[FakeStore]) -> None:
    data = rgb_frames(4, seed=2)
    videos = [NumpyBackend(data), NumpyBackend(data)]
    (tmp_path / "frame_data_vid0").mkdir()
    (tmp_path / "frame_data_vid0" / "stale.txt").write_text("old")
    calls: list[tuple[int, int]] = []
    dicts = save_frame_data_imgstore(
        videos, [[3, 1, 3], []], tmp_path, progress_callback=lambda a, b: calls.append((a, b))
    )
    assert calls == [(0, 2), (1, 2)]
    assert dicts == [
        {
            "filename": os.path.abspath(tmp_path / f"frame_data_vid{i}" / "metadata.yaml"),
            "index_by_original": True,
        }
        for i in range(2)
    ]
    assert not (tmp_path / "frame_data_vid0" / "stale.txt").exists()
    first, second = fake_imgstore.created
    assert first.fmt == "png" and first.kwargs["imgshape"] == (9, 11, 3)
    assert first.kwargs["chunksize"] == 1000 and first.kwargs["mode"] == "w"
    assert [n for _, n in first.images] == [1, 3]
    assert np.array_equal(first.images[1][0], data[3])
    assert first.extra == {"source_sleap_video_obj": {"backend": {"filename": "Raw Video Data"}}}
    assert [n for _, n in second.images] == [0] and not second.images[0][0].any()
    assert first.closed and second.closed
    stopped = save_frame_data_imgstore(
        videos, [[0], [0]], tmp_path, progress_callback=lambda *a: False
    )
    assert stopped == []


def test_save_frame_data_imgstore_needs_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "imgstore", None)  # makes `import imgstore` fail
    with pytest.raises(VideoError, match="imgstore"):
        save_frame_data_imgstore([NumpyBackend(rgb_frames(1))], [[0]], tmp_path)


# -- training data ------------------------------------------------------------------------------


def _samples() -> tuple[list[TrainingSample], list[NumpyBackend], np.ndarray, np.ndarray]:
    a, b = rgb_frames(5, seed=7), rgb_frames(5, seed=8)
    va, vb = NumpyBackend(a), NumpyBackend(b)
    p0 = np.array([[[1, 2], [3, 4], [np.nan, np.nan]], [[5, 6], [7, 8], [9, 10]]], float)
    p1 = np.array([[[11, 12], [np.nan, np.nan], [13, 14]]], float)
    samples = [TrainingSample(vb, 4, p0, [1, None]), TrainingSample(va, 2, p1)]
    return samples, [va, vb], a, b


def test_export_training_data(tmp_path: Path) -> None:
    samples, videos, a, b = _samples()
    out = tmp_path / "train.h5"
    export_training_data(samples, ["head", "thorax", "tail"], [(0, 1), (1, 2)], out, videos=videos)
    assert sorted(os.listdir(tmp_path)) == ["train.h5"]  # no temporary file left behind
    with h5py.File(out, "r") as f:
        assert [n.decode() for n in f["skeleton/node_names"][()]] == ["head", "thorax", "tail"]
        assert f["skeleton/n_nodes"][()] == 3
        assert f["skeleton/edges"][()].tolist() == [[0, 1], [1, 2]]
        assert [p.decode() for p in f["videos/filepath"][()]] == ["Raw Video Data"] * 2
        assert f["videos/shape"][()].tolist() == [[5, 9, 11, 3]] * 2
        assert [x.decode() for x in f["videos/dataset"][()]] == ["", ""]
        assert [x.decode() for x in f["videos/image_data_format"][()]] == ["", ""]
        imgs = f["imgs"]
        assert imgs.shape == (2, 9, 11, 3) and imgs.compression_opts == 1
        assert imgs.chunks == (1, 9, 11, 3)
        assert np.array_equal(imgs[0], b[4]) and np.array_equal(imgs[1], a[2])
        xy = f["peaks/xy"][()]
        assert xy.dtype == np.float32 and xy.shape == (9, 2)
        assert np.isnan(xy[2]).all() and xy[3].tolist() == [5, 6]
        assert f["peaks/sample"][()].tolist() == [0] * 6 + [1] * 3
        assert f["peaks/instance"][()].tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0]
        assert f["peaks/channel"][()].tolist() == [0, 1, 2] * 3
        assert f["peaks/track"][()].tolist() == [1, 1, 1, -1, -1, -1, -1, -1, -1]
        assert f["peaks/video_ind"][()].tolist() == [1] * 6 + [0] * 3
        assert f["peaks/frame_ind"][()].tolist() == [4] * 6 + [2] * 3
        assert all(f[f"peaks/{k}"].dtype == np.int32 for k in ("sample", "instance", "track"))


def test_export_training_data_errors(tmp_path: Path) -> None:
    samples, videos, _, _ = _samples()
    with pytest.raises(IndexError):
        export_training_data([], ["a"], [], tmp_path / "x.h5")
    with pytest.raises(ValidationError, match="points"):
        export_training_data(samples, ["a", "b"], [], tmp_path / "x.h5")
    with pytest.raises(ValidationError, match="not in videos"):
        export_training_data(samples, ["a", "b", "c"], [], tmp_path / "x.h5", videos=videos[:1])
    mixed = [samples[0], TrainingSample(NumpyBackend(rgb_frames(1, h=4)), 0, np.zeros((0, 3, 2)))]
    with pytest.raises(ValidationError, match="imgs"):
        export_training_data(mixed, ["a", "b", "c"], [], tmp_path / "x.h5")
    assert os.listdir(tmp_path) == []
    # Plain tuples work and the default video order is first appearance.
    export_training_data([(videos[1], 0, np.zeros((1, 3, 2)))], "abc", [], tmp_path / "t.h5")
    with h5py.File(tmp_path / "t.h5", "r") as f:
        assert f["peaks/video_ind"][()].tolist() == [0, 0, 0]


def test_generate_training_data() -> None:
    samples, _, a, b = _samples()
    imgs, points = generate_training_data(samples)
    assert isinstance(imgs, np.ndarray) and imgs.shape == (2, 9, 11, 3)
    assert np.array_equal(imgs[0], b[4])
    assert [p.shape for p in points] == [(2, 3, 2), (1, 3, 2)]
    small = TrainingSample(NumpyBackend(rgb_frames(1, h=4)), 0, np.zeros((1, 3, 2)))
    imgs, _ = generate_training_data([*samples, small])
    assert isinstance(imgs, list) and imgs[2].shape == (4, 11, 3)
    with pytest.raises(IndexError):
        generate_training_data([])
    assert issubclass(NoTrainingDataError, IndexError)
