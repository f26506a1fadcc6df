"""Files holding both user and predicted instances: every way the reader lays their
points out in one instance-ordered pool gives the same project.

The reader has four paths (see ``ledger.io.slp_points``): ``spread`` (one read
into the pool's tail, then one pass moving rows into their slots), ``runs`` (HDF5
reads each run of predicted instances straight into its slots), ``scatter`` (other
stored types, converted chunk by chunk) and ``gather`` (tables out of instance
order). Each is forced here on small files, with chunks, union batches and user
blocks small enough that every step repeats many times (random projects with
several skeletons make the spread work point by point rather than instance by
instance), and compared with the project that was written and with sleap-io's
reading of the same file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import sleap_io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iohelpers import (
    assert_same,
    assert_views_equal,
    drop_falsy_links,
    make_predictions,
    random_project,
    view_ours,
    view_sio,
)

from ledger.io import slp_points
from ledger.io.project_data import USER, ProjectData
from ledger.io.slp import read_slp, write_slp

IN_ORDER_PATHS = ("spread", "runs", "scatter")


def _mixed(n_frames: int, user: Callable[[int], bool] | None, seed: int = 0) -> ProjectData:
    """Predictions (2 per frame, 5 nodes) with the first instance of every frame
    ``f`` where ``user(f)`` turned into a user instance (None: predictions only)."""
    data = make_predictions(n_frames, 2, 5, seed=seed)
    is_user = np.zeros(data.n_instances, bool)
    if user is not None:
        is_user[[2 * f for f in range(n_frames) if user(f)]] = True
    data.inst_kind = np.where(is_user, USER, data.inst_kind).astype(np.uint8)
    data.inst_score[is_user] = np.nan
    data.inst_tracking_score[is_user] = np.nan
    user_pts = np.repeat(is_user, 5)
    data.point_score = np.where(user_pts, 0.0, data.point_score)
    data.point_complete = user_pts & data.point_visible
    return data


LAYOUTS: dict[str, Callable[[int], bool] | None] = {
    "sparse": lambda f: f % 40 == 3,
    "every frame": lambda f: True,
    "users first": lambda f: f < 30,
    "users last": lambda f: f >= 270,
    "one at the end": lambda f: f == 299,
    "one at the start": lambda f: f == 0,
    "blocks": lambda f: (f // 25) % 2 == 1,
    "random": lambda f: (f * 7919) % 13 < 3,
}


@pytest.fixture
def force(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[str]]:
    """Force one path of the point layout; returns the paths the reader would have
    taken, so a test can tell which file it forced off its usual path."""

    usual = slp_points.choose_path

    def apply(path: str) -> list[str]:
        chosen: list[str] = []

        def forced(*args: object) -> str:
            chosen.append(usual(*args))  # type: ignore[arg-type]
            return path

        monkeypatch.setattr(slp_points, "choose_path", forced)
        monkeypatch.setattr(slp_points, "_CHUNK", 97)  # chunks end inside instances
        monkeypatch.setattr(slp_points, "_UNION_BATCH", 3)  # several unions per read
        monkeypatch.setattr(slp_points, "_USER_BLOCK", 31)  # several user blocks
        return chosen

    return apply


@pytest.mark.parametrize("path", IN_ORDER_PATHS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_path_lays_out_every_mix(tmp_path: Path, force: Callable[[str], list[str]],
                                       path: str, layout: str) -> None:
    data = _mixed(300, LAYOUTS[layout])
    file = tmp_path / "mixed.slp"
    write_slp(data, file)
    chosen = force(path)
    got = read_slp(file)
    assert chosen, "the mixed-kind layout was not used"
    assert_same(got, data)


@pytest.mark.parametrize("path", IN_ORDER_PATHS)
def test_extra_rows_past_the_last_instance_are_ignored(
        tmp_path: Path, force: Callable[[str], list[str]], path: str) -> None:
    data = _mixed(60, LAYOUTS["random"])
    file = tmp_path / "long.slp"
    write_slp(data, file)
    with h5py.File(file, "r+") as f:
        for name in ("points", "pred_points"):
            table = f[name][()]
            del f[name]
            f.create_dataset(name, data=np.concatenate([table, table[:7]]))  # contiguous
    force(path)
    assert_same(read_slp(file), data)


def test_usual_choice_follows_run_length() -> None:
    """Runs read in place only when they are few and long; the spread otherwise."""
    with h5py.File("choice.h5", "w", driver="core", backing_store=False) as f:
        ds = f.create_dataset("p", shape=(10,), dtype=slp_points.POOL_DTYPE)
        long_rows = slp_points._MIN_ROWS_PER_RUN
        assert slp_points.choose_path(ds, True, 3, 3 * long_rows) == "runs"
        assert slp_points.choose_path(ds, True, 3, 3 * long_rows - 1) == "spread"
        many = slp_points._MAX_UNION_RUNS + 1
        assert slp_points.choose_path(ds, True, many, many * long_rows * 2) == "spread"
        assert slp_points.choose_path(ds, False, 3, 10) == "gather"
        narrow = f.create_dataset("q", shape=(10,), dtype=[("x", "<f4")])
        assert slp_points.choose_path(narrow, True, 3, 3 * long_rows) == "scatter"
        assert slp_points.choose_path({"x": np.zeros(3)}, True, 1, 3) == "scatter"


def test_other_stored_dtypes_are_converted(tmp_path: Path) -> None:
    data = _mixed(200, lambda f: f % 7 == 0)
    path = tmp_path / "f4.slp"
    write_slp(data, path)
    with h5py.File(path, "r+") as f:
        table = f["pred_points"][()]
        narrow = np.dtype([("x", "<f4"), ("y", "<f4"), ("visible", "u1"), ("complete", "u1"),
                           ("score", "<f4")])
        del f["pred_points"]
        f.create_dataset("pred_points", data=table.astype(narrow))
    pred = np.repeat(data.inst_kind != USER, 5)
    for name in ("point_x", "point_y", "point_score"):
        column = getattr(data, name).copy()
        column[pred] = column[pred].astype(np.float32)
        setattr(data, name, column)
    got = read_slp(path)
    assert got.point_x.dtype == np.float64 and got.point_visible.dtype == np.bool_
    assert_same(got, data)


@pytest.mark.parametrize("user_every", [5, None])
def test_point_tables_out_of_instance_order_are_gathered(tmp_path: Path,
                                                         user_every: int | None) -> None:
    data = _mixed(120, None if user_every is None else (lambda f: f % user_every == 0))
    path = tmp_path / "shuffled.slp"
    write_slp(data, path)
    with h5py.File(path, "r+") as f:
        inst, pred = f["instances"][()], f["pred_points"][()]
        rows = np.flatnonzero(inst["instance_type"] == 1)
        # store the predicted blocks in reverse order; each instance keeps its own
        starts = inst["point_id_start"][rows].astype(np.int64)
        new_pred = np.empty_like(pred)
        at = 0
        for r, s in zip(rows[::-1], starts[::-1], strict=True):
            new_pred[at:at + 5] = pred[s:s + 5]
            inst["point_id_start"][r], inst["point_id_end"][r] = at, at + 5
            at += 5
        for name, table in (("instances", inst), ("pred_points", new_pred)):
            del f[name]
            f.create_dataset(name, data=table)
    assert_same(read_slp(path), data)


def _proofread_with_sleap_io(path: Path, n_frames: int, fraction: float, seed: int) -> None:
    """A tracked prediction file in which every instance of some frames was copied
    to a user instance with small corrections, as a human proofreads; written by
    sleap-io (the shape ``tools/bench/slp.py`` measures, small)."""
    rng = np.random.default_rng(seed)
    names = [f"n{k}" for k in range(4)]
    skeleton = sio.Skeleton(names, edges=[(names[0], names[1])])
    video = sio.Video(filename="proofread.mp4", open_backend=False)
    tracks = [sio.Track(name=f"t{k}") for k in range(3)]
    proofread = rng.random(n_frames) < fraction
    proofread[n_frames // 2] = True  # both kinds, whatever the draw
    frames = []
    for f in range(n_frames):
        pts = rng.random((3, 4, 2)) * 100
        pts[rng.random((3, 4)) < 0.1] = np.nan
        insts = [sio.PredictedInstance.from_numpy(
            pts[k], skeleton, point_scores=rng.random(4), score=float(rng.random()),
            track=tracks[k], tracking_score=float(rng.random())) for k in range(3)]
        if proofread[f]:
            users = [sio.Instance.from_numpy(pts[k] + rng.normal(0, 1, (4, 2)), skeleton,
                                             track=tracks[k], from_predicted=insts[k])
                     for k in range(3)]
            insts = users + insts if f % 2 else insts + users
        frames.append(sio.LabeledFrame(video=video, frame_idx=f, instances=insts))
    labels = sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skeleton],
                        tracks=tracks)
    sio.save_slp(labels, str(path), verbose=False)


@pytest.mark.parametrize("path", IN_ORDER_PATHS)
@pytest.mark.parametrize("fraction", [0.01, 0.05, 0.2, 0.5, 1.0])
def test_proofread_files_written_by_sleap_io_read_as_sleap_io_reads_them(
        tmp_path: Path, force: Callable[[str], list[str]], path: str, fraction: float) -> None:
    file = tmp_path / "proofread.slp"
    _proofread_with_sleap_io(file, 150, fraction, seed=int(fraction * 100))
    chosen = force(path)
    data = read_slp(file)
    assert chosen, "the mixed-kind layout was not used"
    assert_views_equal(view_ours(data), view_sio(sio.load_slp(str(file))))


@st.composite
def _projects(draw: st.DrawFn) -> tuple[ProjectData, str]:
    return random_project(draw), draw(st.sampled_from(IN_ORDER_PATHS))


@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_projects())
def test_random_projects_read_alike_on_every_path(
        tmp_path: Path, force: Callable[[str], list[str]], case: tuple[ProjectData, str]) -> None:
    data, path = case
    file = tmp_path / f"random_{path}.slp"
    write_slp(data, file)
    force(path)
    assert_same(read_slp(file), drop_falsy_links(data))


@pytest.mark.parametrize("path", IN_ORDER_PATHS)
@pytest.mark.parametrize("change", ["narrow user table", "format 1.0"])
def test_user_tables_not_read_in_blocks_still_interleave(
        tmp_path: Path, force: Callable[[str], list[str]], path: str, change: str) -> None:
    """The spread reads the user table in blocks only when stored as SLEAP
    stores it; other user tables (and 1.0 files, whose user points are shifted by
    -0.5) are read whole first, on every path."""
    data = _mixed(120, LAYOUTS["random"])
    file = tmp_path / "user.slp"
    write_slp(data, file)
    user = np.repeat(data.inst_kind == USER, 5)
    with h5py.File(file, "r+") as f:
        if change == "format 1.0":
            f["metadata"].attrs["format_id"] = 1.0
            for name in ("point_x", "point_y"):
                setattr(data, name, np.where(user, getattr(data, name) - 0.5,
                                             getattr(data, name)))
        else:
            table = f["points"][()]
            narrow = np.dtype([("x", "<f4"), ("y", "<f4"), ("visible", "u1"),
                               ("complete", "u1")])
            del f["points"]
            f.create_dataset("points", data=table.astype(narrow))
            for name in ("point_x", "point_y"):
                column = getattr(data, name).copy()
                column[user] = column[user].astype(np.float32)
                setattr(data, name, column)
    force(path)
    assert_same(read_slp(file), data)


def test_truncated_plain_table_is_a_format_error(tmp_path: Path) -> None:
    from ledger.errors import FormatError

    file = tmp_path / "cut.slp"
    _proofread_with_sleap_io(file, 60, 0.2, seed=3)
    with h5py.File(file, "r") as f:
        offset = f["pred_points"].id.get_offset()  # sleap-io stores it contiguously
        assert offset is not None
        end = offset + f["pred_points"].id.get_storage_size()
    with open(file, "r+b") as fh:  # cut inside the predicted points
        fh.truncate(end - 100)
    with pytest.raises(FormatError):
        read_slp(file)
