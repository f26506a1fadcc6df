"""Video backends: shapes, random access, SLEAP conventions, dicts, missing files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import imageio
import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

from ledger.errors import ValidationError, VideoError
from ledger.io.video_backends import (
    FrameIndexError,
    HDF5Backend,
    ImageListBackend,
    ImgStoreBackend,
    MediaBackend,
    NumpyBackend,
    VideoNotFoundError,
    backend_class_for,
    backend_from_dict,
    backend_from_filename,
    find_video_path,
)

DATA = Path(__file__).resolve().parents[1] / "data"
VIDEOS = DATA / "videos"
SMALL_MP4 = VIDEOS / "small_robot_3_frame.mp4"
ROBOTS = [VIDEOS / f"robot{i}.jpg" for i in range(3)]
SHARED = Path("/work/shared/data/sleap")
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="shared SLEAP data not present")


def fresh_frame(path: Path | str, idx: int) -> np.ndarray:
    """Frame ``idx`` decoded by a brand-new imageio reader reading forward from 0."""
    with imageio.get_reader(os.fspath(path), "ffmpeg") as reader:
        for i, frame in enumerate(reader):
            if i == idx:
                return np.asarray(frame)
    raise IndexError(idx)


@pytest.fixture(scope="module")
def counter_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 flat grey frames whose brightness encodes the index (value = 20 + 5 * (i % 40)),
    so seeks backwards, short hops forward and long jumps (> 100 frames) are all used."""
    path = tmp_path_factory.mktemp("media") / "counter.mp4"
    frames = [np.full((48, 64, 3), 20 + 5 * (i % 40), dtype=np.uint8) for i in range(150)]
    iio.imwrite(path, np.stack(frames), fps=10, codec="libx264", macro_block_size=16)
    return path


# -- MediaBackend --------------------------------------------------------------------------


def test_media_shape_matches_imageio_metadata() -> None:
    backend = MediaBackend(SMALL_MP4)
    with imageio.get_reader(os.fspath(SMALL_MP4), "ffmpeg") as reader:
        width, height = reader.get_meta_data()["size"]
    n = imageio_ffmpeg.count_frames_and_secs(os.fspath(SMALL_MP4))[0]
    assert backend.shape == (n, height, width, 3) == (3, 320, 560, 3)
    assert (backend.frames, backend.height, backend.width, backend.channels) == backend.shape
    assert backend.dtype == np.uint8
    assert backend.last_frame_idx == 2
    assert backend.grayscale is False
    assert not backend.is_missing
    frame = backend.get_frame(1)
    assert frame.shape == (320, 560, 3) and frame.dtype == np.uint8
    assert np.array_equal(frame, fresh_frame(SMALL_MP4, 1))
    backend.close()


@needs_shared
@pytest.mark.parametrize(
    ("relpath", "shape"),
    [("videos/small_robot.mp4", (166, 320, 560, 3)), ("tracks/clip.mp4", (1500, 1024, 1024, 1))],
)
def test_media_shape_of_real_videos(relpath: str, shape: tuple[int, ...]) -> None:
    path = SHARED / relpath
    with imageio.get_reader(os.fspath(path), "ffmpeg") as reader:
        width, height = reader.get_meta_data()["size"]
    backend = MediaBackend(path)
    assert backend.shape == shape
    assert backend.shape[1:3] == (height, width)
    backend.close()


def test_media_random_access_equals_fresh_reads() -> None:
    backend = MediaBackend(SMALL_MP4)
    expected = [fresh_frame(SMALL_MP4, i) for i in range(3)]
    for idx in [2, 0, 1, 2, 1, 0, 0]:  # backwards, repeated and forward requests
        assert np.array_equal(backend.get_frame(idx), expected[idx]), idx
    backend.close()


@needs_shared
def test_media_random_access_on_real_video() -> None:
    path = SHARED / "videos" / "small_robot.mp4"
    backend = MediaBackend(path)
    later, earlier, jump = backend.get_frame(160), backend.get_frame(37), backend.get_frame(150)
    assert np.array_equal(earlier, fresh_frame(path, 37))
    assert np.array_equal(jump, fresh_frame(path, 150))
    assert np.array_equal(later, fresh_frame(path, 160))
    backend.close()


def test_media_index_is_frame_accurate(counter_video: Path) -> None:
    backend = MediaBackend(counter_video)
    assert backend.shape == (150, 48, 64, 1)  # flat grey frames are detected as grayscale
    for idx in [30, 3, 139, 2, 17, 16, 18, 0, 149, 35, 5, 120, 121, 81]:
        expected = 20 + 5 * (idx % 40)
        assert abs(float(backend.get_frame(idx).mean()) - expected) < 2.5, idx
    later_then_earlier = [backend.get_frame(25), backend.get_frame(7)]
    backend.close()
    assert np.array_equal(later_then_earlier[1], MediaBackend(counter_video).get_frame(7))


def test_media_get_frames_keeps_requested_order(counter_video: Path) -> None:
    backend = MediaBackend(counter_video)
    stack = backend.get_frames([12, 3, 12, 0])
    assert stack.shape == (4, 48, 64, 1)
    assert np.array_equal(stack[0], stack[2])
    means = [float(f.mean()) for f in stack]
    assert [round((m - 20) / 5) for m in means] == [12, 3, 12, 0]
    assert backend.last_frame_idx == 149
    assert backend.get_frames(5).shape == (1, 48, 64, 1)
    assert backend.get_frames([]).shape == (0, 48, 64, 1)


def test_media_frames_are_owned_copies() -> None:
    backend = MediaBackend(SMALL_MP4)
    first = backend.get_frame(0)
    first[:] = 0
    assert backend.get_frame(0).any()


def test_media_grayscale_and_bgr_flags() -> None:
    rgb = MediaBackend(SMALL_MP4).get_frame(0)
    assert np.array_equal(MediaBackend(SMALL_MP4, bgr=False).get_frame(0), rgb[..., ::-1])
    gray = MediaBackend(SMALL_MP4, grayscale=True)
    assert gray.get_frame(0).shape == (320, 560, 1)
    assert np.array_equal(gray.get_frame(0)[..., 0], rgb[..., 0])
    assert gray.channels == 1


@needs_shared
def test_media_grayscale_detected_on_centered_pair() -> None:
    backend = MediaBackend(SHARED / "videos" / "centered_pair_small.mp4")
    assert backend.grayscale is True
    frame = backend.get_frame(0)
    assert frame.shape == (384, 384, 1)
    assert backend.to_dict()["grayscale"] is True
    forced = MediaBackend(SHARED / "videos" / "centered_pair_small.mp4", grayscale=False)
    assert forced.get_frame(0).shape == (384, 384, 3)


def test_media_out_of_range_and_bad_indices() -> None:
    backend = MediaBackend(SMALL_MP4)
    with pytest.raises(FrameIndexError) as info:
        backend.get_frame(3)
    assert isinstance(info.value, IndexError) and isinstance(info.value, VideoError)
    assert "small_robot_3_frame.mp4" in str(info.value) and "3" in str(info.value)
    with pytest.raises(IndexError):
        backend.get_frame(-1)
    with pytest.raises(TypeError):
        backend.get_frame(1.5)  # type: ignore[arg-type]
    assert backend.get_frame(np.int64(2)).shape == (320, 560, 3)  # reader recovers


def test_media_undecodable_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video" * 50)
    backend = MediaBackend(bad)
    assert not backend.is_missing
    assert backend.shape == (None, None, None, None)
    with pytest.raises(VideoError, match="broken.mp4.*frame 0|broken.mp4"):
        backend.get_frame(0)


def test_media_to_dict_and_matches() -> None:
    d = {"filename": "clip.mp4", "grayscale": True, "bgr": True, "dataset": "", "input_format": ""}
    backend = backend_from_dict(d)
    assert isinstance(backend, MediaBackend)
    assert backend.to_dict() == d and list(backend.to_dict()) == list(d)
    assert backend.matches(backend_from_dict(dict(d)))
    assert not backend.matches(backend_from_dict({**d, "grayscale": False}))
    assert not backend.matches(NumpyBackend(np.zeros((1, 2, 2, 1), np.uint8)))


# -- missing files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        MediaBackend("/no/such/dir/clip.mp4", grayscale=True),
        HDF5Backend("/no/such/dir/movie.h5", dataset="/movie"),
        ImageListBackend(filenames=["/no/such/dir/a.png", "/no/such/dir/b.png"]),
        NumpyBackend("/no/such/dir/video.npy"),
    ],
    ids=lambda b: type(b).__name__,
)
def test_missing_file_loads_and_reports(backend: object) -> None:
    assert backend.is_missing  # type: ignore[attr-defined]
    assert backend.shape == (None, None, None, None)  # type: ignore[attr-defined]
    assert backend.frames is None and backend.last_frame_idx is None  # type: ignore[attr-defined]
    assert backend.to_dict()["filename"].startswith("/no/such/dir/")  # type: ignore[attr-defined]
    with pytest.raises(VideoNotFoundError) as info:
        backend.get_frame(0)  # type: ignore[attr-defined]
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, VideoError)
    assert "/no/such/dir/" in str(info.value)


# -- backend selection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("a.mp4", MediaBackend),
        ("A.MP4", MediaBackend),
        ("a.avi", MediaBackend),
        ("a.Mov", MediaBackend),
        ("a.mj2", MediaBackend),
        ("a.MKV", MediaBackend),
        ("a.h5", HDF5Backend),
        ("a.HDF5", HDF5Backend),
        ("labels.pkg.SLP", HDF5Backend),
        ("a.jpg", ImageListBackend),
        ("a.JPEG", ImageListBackend),
        ("a.png", ImageListBackend),
        ("a.tif", ImageListBackend),
        ("a.TIFF", ImageListBackend),
        ("a.npy", NumpyBackend),
        ("a.npz", NumpyBackend),
        ("store/metadata.yaml", ImgStoreBackend),
    ],
)
def test_backend_class_by_extension(name: str, cls: type) -> None:
    assert backend_class_for(name) is cls


@pytest.mark.parametrize("name", ["a.NPY", "a.Npz", "a.txt", "a", "a.mp4.bak"])
def test_undetectable_backend(name: str) -> None:
    with pytest.raises(VideoError, match="Could not detect backend"):
        backend_from_filename(name)


def test_directory_means_imgstore(tmp_path: Path) -> None:
    assert backend_class_for(os.fspath(tmp_path)) is ImgStoreBackend


def test_imgstore_needs_optional_package(tmp_path: Path) -> None:
    try:
        import imgstore  # noqa: F401
    except ImportError:
        with pytest.raises(VideoError, match="imgstore"):
            backend_from_filename(os.fspath(tmp_path))
    else:  # pragma: no cover - only where the extra is installed
        backend = backend_from_filename(os.fspath(tmp_path))
        assert backend.filename.endswith("metadata.yaml")


def test_unknown_keys_are_dropped() -> None:
    sleap_io_style = {
        "type": "MediaVideo",
        "shape": [3, 320, 560, 3],
        "fps": 10.0,
        "filename": os.fspath(SMALL_MP4),
        "grayscale": False,
        "bgr": True,
        "dataset": "",
        "input_format": "",
        "has_embedded_images": False,
    }
    backend = backend_from_dict(sleap_io_style)
    assert isinstance(backend, MediaBackend)
    assert list(backend.to_dict()) == ["filename", "grayscale", "bgr", "dataset", "input_format"]
    assert backend_from_filename(os.fspath(SMALL_MP4), fps=3, grayscale=True).grayscale is True


def test_backend_from_outer_video_dict() -> None:
    backend = backend_from_dict({"backend": {"filename": "x.mp4", "grayscale": True}})
    assert backend.to_dict()["filename"] == "x.mp4"
    sio = backend_from_dict({"filename": ["a.png", "b.png"], "backend": {"type": "ImageVideo"}})
    assert isinstance(sio, ImageListBackend) and sio.filenames == ["a.png", "b.png"]
    old = backend_from_dict({"file": "movie.h5", "dataset": "/box"})
    assert isinstance(old, HDF5Backend) and old.filename == "movie.h5"
    with pytest.raises(VideoError, match="no filename"):
        backend_from_dict({"grayscale": True})


# -- round trips of the real dicts (reference §4.4) ---------------------------------------------

REAL_DICTS = [
    {"filename": "clip.mp4", "grayscale": True, "bgr": True, "dataset": "", "input_format": ""},
    {
        "filename": "/home/talmolab/projects/sleap_hackathon/sleap/tests/data/videos/dance.mp4",
        "grayscale": False,
        "bgr": True,
        "dataset": "",
        "input_format": "channels_last",
    },
    {
        "filename": "D:/tmp/test_grid/grid_2x2.h5",
        "dataset": "/movie",
        "input_format": "channels_last",
        "convert_range": True,
    },
    {
        "filename": "labels.pkg.slp",
        "dataset": "video0/video",
        "input_format": "channels_last",
        "convert_range": False,
    },
    {
        "filename": "tests/data/videos/robot0.jpg",
        "filenames": [
            "D:/sleap/tests/data/videos\\robot0.jpg",
            "D:/sleap/tests/data/videos\\robot1.jpg",
            "D:/sleap/tests/data/videos\\robot2.jpg",
        ],
        "height_": 320,
        "width_": 560,
        "channels_": 3,
        "grayscale": False,
    },
]


@pytest.mark.parametrize("d", REAL_DICTS, ids=lambda d: d["filename"].rsplit("/", 1)[-1])
def test_real_dict_round_trip(d: dict) -> None:
    out = backend_from_dict(d).to_dict()
    assert out == d
    assert list(out) == list(d)
    assert json.loads(json.dumps(out)) == d


def test_real_files_video_dicts_round_trip() -> None:
    """Every ``videos_json`` row of the real files comes back, minus unknown keys."""
    seen = 0
    for path in sorted(DATA.rglob("*.slp")):
        with h5py.File(path, "r") as f:
            for row in f["videos_json"][:]:
                d = json.loads(row)["backend"]
                out = backend_from_dict(d).to_dict()
                expected = {k: v for k, v in d.items() if k != "caching"}
                if "filenames" in d:  # siv_format_v1 has no grayscale key
                    expected.setdefault("grayscale", out["grayscale"])
                    assert list(out) == [
                        "filename",
                        "filenames",
                        "height_",
                        "width_",
                        "channels_",
                        "grayscale",
                    ]
                assert out == expected, path
                seen += 1
    assert seen >= 7


# -- ImageListBackend ---------------------------------------------------------------------------


def test_image_list_reads_images() -> None:
    backend = ImageListBackend(filenames=[os.fspath(p) for p in ROBOTS])
    assert backend.filename == os.fspath(ROBOTS[0])
    assert backend.shape == (3, 320, 560, 3)
    assert backend.grayscale is False
    for i, path in enumerate(ROBOTS):
        assert np.array_equal(backend.get_frame(i), iio.imread(path))
    with pytest.raises(FrameIndexError):
        backend.get_frame(3)
    d = backend.to_dict()
    assert (d["height_"], d["width_"], d["channels_"], d["grayscale"]) == (320, 560, 3, False)


def test_image_list_finds_moved_files_by_basename() -> None:
    listed = [f"D:/elsewhere/videos\\robot{i}.jpg" for i in range(3)]
    backend = ImageListBackend(filename=os.fspath(ROBOTS[0]), filenames=listed)
    assert not backend.is_missing
    assert backend.resolve(listed[2]) == os.path.join(os.fspath(VIDEOS), "robot2.jpg")
    assert np.array_equal(backend.get_frame(2), iio.imread(ROBOTS[2]))
    assert backend.to_dict()["filenames"] == listed  # paths are stored as given


def test_image_list_single_filename_and_grayscale(tmp_path: Path) -> None:
    gray = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    iio.imwrite(tmp_path / "g.png", gray)
    backend = ImageListBackend(os.fspath(tmp_path / "g.png"))
    assert backend.filenames == [os.fspath(tmp_path / "g.png")]
    assert backend.grayscale is True
    assert backend.shape == (1, 12, 10, 1)
    assert np.array_equal(backend.get_frame(0)[..., 0], gray)
    as_color = ImageListBackend(os.fspath(tmp_path / "g.png"), grayscale=False)
    assert as_color.get_frame(0).shape == (12, 10, 3)
    with pytest.raises(ValidationError):
        ImageListBackend()


# -- NumpyBackend -------------------------------------------------------------------------------


def test_numpy_in_memory_and_files(tmp_path: Path) -> None:
    data = np.random.default_rng(0).integers(0, 255, (4, 6, 5, 3), dtype=np.uint8)
    raw = NumpyBackend(data)
    assert raw.filename == "Raw Video Data" and not raw.is_missing
    assert raw.to_dict() == {"filename": "Raw Video Data"}
    assert raw.shape == (4, 6, 5, 3)
    assert np.array_equal(raw.get_frames([3, 1]), data[[3, 1]])
    with pytest.raises(FrameIndexError):
        raw.get_frame(4)
    np.save(tmp_path / "v.npy", data)
    np.savez(tmp_path / "v.npz", frames=data[..., 0])
    npy = backend_from_filename(os.fspath(tmp_path / "v.npy"))
    assert isinstance(npy, NumpyBackend) and np.array_equal(npy.get_frame(2), data[2])
    npz = backend_from_dict({"filename": os.fspath(tmp_path / "v.npz")})
    assert npz.shape == (4, 6, 5, 1)
    assert np.array_equal(npz.get_frame(1)[..., 0], data[1, ..., 0])
    assert npz.to_dict() == {"filename": os.fspath(tmp_path / "v.npz")}


# -- HDF5Backend --------------------------------------------------------------------------------


def test_hdf5_channels_last_and_first(tmp_path: Path) -> None:
    data = np.random.default_rng(1).integers(0, 255, (3, 7, 9, 3), dtype=np.uint8)  # (n,H,W,C)
    path = tmp_path / "movie.h5"
    with h5py.File(path, "w") as f:
        f["last"] = data
        f["first"] = np.transpose(data, (0, 3, 2, 1))  # (n, C, W, H), LEAP/MATLAB layout
    last = HDF5Backend(path, dataset="last")
    first = HDF5Backend(path, dataset="/first", input_format="channels_first")
    assert last.shape == first.shape == (3, 7, 9, 3)
    for i in range(3):
        assert np.array_equal(last.get_frame(i), data[i])
        assert np.array_equal(first.get_frame(i), data[i])
    assert not last.has_embedded_images and last.embedded_frame_inds == []
    assert last.last_frame_idx == 2
    with pytest.raises(FrameIndexError):
        last.get_frame(3)
    last.close()
    first.close()
    with pytest.raises(ValidationError):
        HDF5Backend(path, dataset="last", input_format="nchw")


def test_hdf5_convert_range(tmp_path: Path) -> None:
    path = tmp_path / "float.h5"
    unit = np.linspace(0, 1, 2 * 3 * 4).reshape(1, 2, 3, 4)
    with h5py.File(path, "w") as f:
        f["x"] = unit
        f["bright"] = unit * 200
    scaled = HDF5Backend(path, dataset="x").get_frame(0)
    assert scaled.dtype == np.uint8 and scaled.max() == 255
    assert np.array_equal(scaled, (unit[0] * 255).astype(int).astype(np.uint8))
    assert HDF5Backend(path, dataset="x", convert_range=False).get_frame(0).max() == 1
    assert np.array_equal(
        HDF5Backend(path, dataset="bright").get_frame(0), (unit[0] * 200).astype(np.uint8)
    )


def _write_rgb_png_package(path: Path, frames: dict[int, np.ndarray], order: str | None) -> None:
    """An embedded group written like sleap-io: standard PNG bytes, optional channel_order."""
    blobs = [iio.imwrite("<bytes>", f, extension=".png") for f in frames.values()]
    width = max(len(b) for b in blobs)
    rows = np.zeros((len(blobs), width), np.int8)
    for i, b in enumerate(blobs):
        rows[i, : len(b)] = np.frombuffer(b, np.int8)
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("video0/video", data=rows)
        ds.attrs["format"] = "png"
        if order is not None:
            ds.attrs["channel_order"] = order
        f["video0/frame_numbers"] = np.array(list(frames), np.int64)


def test_hdf5_embedded_channel_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frames = {7: rng.integers(0, 255, (5, 6, 3), dtype=np.uint8)}
    _write_rgb_png_package(tmp_path / "rgb.slp", frames, "RGB")
    _write_rgb_png_package(tmp_path / "bgr.slp", frames, "BGR")
    _write_rgb_png_package(tmp_path / "none.slp", frames, None)
    rgb = HDF5Backend(tmp_path / "rgb.slp", dataset="video0", convert_range=False)
    assert rgb.shape == (1, 5, 6, 3)  # no size attributes: read from the first image
    assert np.array_equal(rgb.get_frame(7), frames[7])
    for name in ("bgr.slp", "none.slp"):  # SLEAP's convention: stored bytes are swapped
        backend = HDF5Backend(tmp_path / name, dataset="video0/video", convert_range=False)
        assert np.array_equal(backend.get_frame(7), frames[7][..., ::-1])


def test_hdf5_embedded_without_source(tmp_path: Path) -> None:
    _write_rgb_png_package(tmp_path / "p.slp", {4: np.zeros((2, 2, 3), np.uint8)}, "RGB")
    backend = HDF5Backend(tmp_path / "p.slp", dataset="video0/video")
    assert backend.embedded_frame_inds == [4] and backend.has_embedded_images
    assert backend.last_frame_idx == 4
    assert backend.source_video is None
    with pytest.raises(IndexError, match="not embedded"):
        backend.get_frame(0)
    assert backend.get_frame(4).shape == (2, 2, 3)
    backend.close()
    assert backend.get_frame(4).shape == (2, 2, 3)  # reopened lazily


def test_hdf5_undecodable_row(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "bad.slp", "w") as f:
        ds = f.create_dataset("video0/video", data=np.ones((1, 30), np.int8))
        ds.attrs["format"] = "png"
        f["video0/frame_numbers"] = np.array([3], np.int64)
    backend = HDF5Backend(tmp_path / "bad.slp", dataset="video0/video")
    with pytest.raises(VideoError, match=r"bad\.slp.*row 0"):
        backend.get_frame(3)
    with pytest.raises(VideoError, match="no dataset"):
        HDF5Backend(tmp_path / "bad.slp", dataset="video9").get_frame(0)


# -- find_video_path ----------------------------------------------------------------------------


def test_find_video_path(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"")
    other = tmp_path / "labels.slp"
    other.write_bytes(b"")
    assert find_video_path("D:\\data\\clip.mp4", ["/nowhere", tmp_path]) == os.path.join(
        tmp_path, "clip.mp4"
    )
    assert find_video_path("/old/place/clip.mp4", [os.fspath(other)]) == os.path.join(
        tmp_path, "clip.mp4"
    )
    assert find_video_path("tests/data/tracks\\clip.mp4", [tmp_path]) is not None
    assert find_video_path("clip.avi", [tmp_path]) is None
    assert find_video_path("clip.mp4", []) is None


def test_hdf5_missing_source_frame_uses_source_video(tmp_path: Path) -> None:
    data = np.random.default_rng(3).integers(0, 255, (5, 4, 4, 3), dtype=np.uint8)
    np.save(tmp_path / "orig.npy", data)
    _write_rgb_png_package(tmp_path / "p.slp", {1: data[1]}, "RGB")
    with h5py.File(tmp_path / "p.slp", "a") as f:
        src = f.create_group("video0/source_video")
        src.attrs["json"] = json.dumps({"backend": {"filename": os.fspath(tmp_path / "orig.npy")}})
    backend = HDF5Backend(tmp_path / "p.slp", dataset="video0")
    assert isinstance(backend.source_video, NumpyBackend)
    assert np.array_equal(backend.get_frame(1), data[1])
    assert np.array_equal(backend.get_frame(3), data[3])  # not embedded: from the source
    off = HDF5Backend(tmp_path / "p.slp", dataset="video0", enable_source_video=False)
    with pytest.raises(FrameIndexError):
        off.get_frame(3)
