"""Files holding both user and predicted instances: every way the reader lays their
points out in one instance-ordered pool gives the same project.

The reader has three paths (see ``ledger.io.slp._interleave``): HDF5 reads the
predicted points straight into their slots when the runs of predicted instances
are few; with many runs it reads chunks and scatters them; files whose point
tables are not in instance order are gathered by index. Each is forced here and
compared with the project that was written.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from iohelpers import assert_same, make_predictions

from ledger.io import slp
from ledger.io.project_data import USER, ProjectData
from ledger.io.slp import read_slp, write_slp


def _mixed(n_frames: int, user_every: int | None, seed: int = 0) -> ProjectData:
    """Predictions (2 per frame, 5 nodes) with the first instance of every
    ``user_every``-th frame turned into a user instance (None: predictions only)."""
    data = make_predictions(n_frames, 2, 5, seed=seed)
    user = np.zeros(data.n_instances, bool)
    if user_every is not None:
        user[np.arange(0, n_frames, user_every) * 2] = True
    data.inst_kind = np.where(user, USER, data.inst_kind).astype(np.uint8)
    data.inst_score[user] = np.nan
    data.inst_tracking_score[user] = np.nan
    user_pts = np.repeat(user, 5)
    data.point_score = np.where(user_pts, 0.0, data.point_score)
    data.point_complete = user_pts & data.point_visible
    return data


def _written_tables(data: ProjectData, path: Path, *names: str) -> list[np.ndarray]:
    """Write ``data`` to ``path`` and read back the named tables as stored."""
    write_slp(data, path)
    with h5py.File(path, "r") as f:
        return [f[name][()] for name in names]


def _replace_tables(path: Path, tables: dict[str, np.ndarray]) -> None:
    with h5py.File(path, "r+") as f:
        for name, table in tables.items():
            del f[name]
            f.create_dataset(name, data=table)


def _runs_of_predictions(data: ProjectData) -> int:
    pred = data.inst_kind != USER
    return int(np.count_nonzero(pred[1:] & ~pred[:-1]) + int(pred[0]))


def test_few_runs_are_read_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _mixed(400, 40)
    assert 1 < _runs_of_predictions(data) <= slp._MAX_UNION_RUNS
    path = tmp_path / "few.slp"
    write_slp(data, path)
    assert_same(read_slp(path), data)
    monkeypatch.setattr(slp, "_UNION_BATCH", 3)  # several reads, each a union of runs
    assert_same(read_slp(path), data)


def test_many_runs_are_scattered_chunk_by_chunk(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = _mixed(300, 1)
    path = tmp_path / "many.slp"
    write_slp(data, path)
    monkeypatch.setattr(slp, "_MAX_UNION_RUNS", 10)
    monkeypatch.setattr(slp, "_CHUNK", 97)  # chunks that end inside instances
    assert _runs_of_predictions(data) > slp._MAX_UNION_RUNS
    assert_same(read_slp(path), data)


def test_other_stored_dtypes_are_converted(tmp_path: Path) -> None:
    data = _mixed(200, 7)
    path = tmp_path / "f4.slp"
    (table,) = _written_tables(data, path, "pred_points")
    narrow = np.dtype([("x", "<f4"), ("y", "<f4"), ("visible", "u1"), ("complete", "u1"),
                       ("score", "<f4")])
    _replace_tables(path, {"pred_points": table.astype(narrow)})
    for name in ("point_x", "point_y", "point_score"):
        pred = np.repeat(data.inst_kind != USER, 5)
        column = getattr(data, name).copy()
        column[pred] = column[pred].astype(np.float32)
        setattr(data, name, column)
    got = read_slp(path)
    assert got.point_x.dtype == np.float64 and got.point_visible.dtype == np.bool_
    assert_same(got, data)


@pytest.mark.parametrize("user_every", [5, None])
def test_point_tables_out_of_instance_order_are_gathered(tmp_path: Path,
                                                         user_every: int | None) -> None:
    data = _mixed(120, user_every)
    path = tmp_path / "shuffled.slp"
    inst, pred = _written_tables(data, path, "instances", "pred_points")
    rows = np.flatnonzero(inst["instance_type"] == 1)
    # store the predicted blocks in reverse order; each instance keeps its own
    starts = inst["point_id_start"][rows].astype(np.int64)
    new_pred = np.empty_like(pred)
    at = 0
    for r, s in zip(rows[::-1], starts[::-1], strict=True):
        new_pred[at:at + 5] = pred[s:s + 5]
        inst["point_id_start"][r], inst["point_id_end"][r] = at, at + 5
        at += 5
    _replace_tables(path, {"instances": inst, "pred_points": new_pred})
    assert_same(read_slp(path), data)
