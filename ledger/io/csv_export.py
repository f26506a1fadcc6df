"""SLEAP's analysis CSV (``Labels.export_csv``): one row per tracked instance.

SLEAP 1.4.1 builds the CSV from the same matrices as the analysis HDF5
(``sleap/info/write_tracking_h5.py``, ``write_csv_file``): for every frame where
some track is occupied, one row per track whose points are not all missing, with
columns ``track, frame_idx, instance.score`` and then ``<node>.x, <node>.y,
<node>.score`` per node in skeleton order. Missing values are empty cells; the
track cell is empty when the project has no tracks. Floats are written as
pandas writes them (shortest repr), lines end with ``\\n``.

Rows are selected with numpy; only the text formatting walks the values.

Example::

    write_analysis_csv("clip.csv", analysis_matrices(state, vid, n_nodes), ["head"])
"""

from __future__ import annotations

import csv
import os
import tempfile

import numpy as np

from ledger.errors import FormatError, ValidationError
from ledger.io.pose_arrays import AnalysisMatrices


def _cells(values: np.ndarray) -> list[str]:
    return ["" if v != v else repr(v) for v in values.tolist()]


def csv_rows(m: AnalysisMatrices, node_names: list[str]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of SLEAP's CSV for these matrices."""
    if m.locations.shape[-1] == 0:
        raise ValidationError("no tracks to export (SLEAP skips the CSV in this case)")
    header = ["track", "frame_idx", "instance.score"]
    for name in node_names:
        header += [f"{name}.x", f"{name}.y", f"{name}.score"]
    occupied_frames = m.occupancy.T.astype(bool).any(axis=1)  # (frames,)
    present = ~np.isnan(m.locations).all(axis=(1, 2))  # (frames, tracks)
    frame_i, track_i = np.nonzero(present & occupied_frames[:, None])
    n_nodes = m.locations.shape[1]
    block = np.empty((len(frame_i), n_nodes, 3), dtype=np.float64)
    block[:, :, :2] = m.locations[frame_i, :, :, track_i]
    block[:, :, 2] = m.point_scores[frame_i, :, track_i]
    names = m.track_names
    tracks = [names[t] for t in track_i.tolist()] if names else [""] * len(track_i)
    scores = _cells(m.instance_scores[frame_i, track_i])
    values = block.reshape(len(frame_i), n_nodes * 3)
    rows = [[tr, str(fi), sc, *_cells(vals)]
            for tr, fi, sc, vals in zip(tracks, frame_i.tolist(), scores, values, strict=True)]
    return header, rows


def write_analysis_csv(path: str | os.PathLike[str], m: AnalysisMatrices,
                       node_names: list[str]) -> None:
    """Write the CSV atomically (temporary file, then ``os.replace``)."""
    header, rows = csv_rows(m, node_names)
    target = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(target)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".analysis-", suffix=".csv", dir=folder)
    except OSError as exc:
        raise FormatError(target, f"cannot write: {exc}") from exc
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
