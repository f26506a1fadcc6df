"""SLEAP's analysis HDF5 (``*.analysis.h5``), as SLEAP 1.4.1 writes it.

MATLAB and most lab scripts read this file, not the labels file, so the layout is
SLEAP's exactly (``sleap/info/write_tracking_h5.py``): every numpy matrix is stored
transposed (column-major for MATLAB) with gzip level 9, so ``tracks`` is
``(tracks, 2, nodes, frames)`` and ``track_occupancy`` is ``(frames, tracks)``;
name lists are fixed-length byte strings (an empty list becomes a float64 ``(0,)``
dataset, as h5py makes it from SLEAP's ``[]``); ``edge_inds`` is ``(edges, 2)``
int64; ``labels_path``, ``video_path`` and ``provenance`` (JSON) are scalar
strings and ``video_ind`` a scalar int.

The file is written atomically: a temporary file beside the target, then
``os.replace``.

Example::

    m = analysis_matrices(state, vid, n_nodes)
    write_analysis_h5("clip.analysis.h5", m, node_names=["head", "tail"],
                      edges=[("head", "tail")], edge_inds=[(0, 1)], labels_path=None,
                      video_path="clip.mp4", video_ind=0, provenance={})
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ledger.errors import FormatError
from ledger.io.atomic import hdf5_image, save_hdf5_image
from ledger.io.pose_arrays import AnalysisMatrices


def _names(values: list[str]) -> list[Any]:
    return [np.bytes_(v.encode("utf-8")) for v in values]


def analysis_datasets(m: AnalysisMatrices, *, node_names: list[str],
                      edges: list[tuple[str, str]], edge_inds: list[tuple[int, int]],
                      labels_path: str | None, video_path: str, video_ind: int,
                      provenance: dict[str, Any]) -> dict[str, Any]:
    """SLEAP's ``data_dict``: what each dataset is made from, in SLEAP's order."""
    return {
        "track_names": _names(m.track_names),
        "node_names": _names(node_names),
        "edge_names": [(np.bytes_(a.encode("utf-8")), np.bytes_(b.encode("utf-8")))
                       for a, b in edges],
        "edge_inds": [(int(a), int(b)) for a, b in edge_inds],
        "tracks": m.locations,
        "track_occupancy": m.occupancy,
        "point_scores": m.point_scores,
        "instance_scores": m.instance_scores,
        "tracking_scores": m.tracking_scores,
        "labels_path": str(labels_path),  # SLEAP writes "None" when there is none
        "video_path": video_path,
        "video_ind": int(video_ind),
        "provenance": json.dumps(provenance),
    }


def write_analysis_h5(path: str | os.PathLike[str], m: AnalysisMatrices, **meta: Any) -> None:
    """Write the analysis file at ``path`` (see `analysis_datasets` for ``meta``)."""
    target = os.path.abspath(os.fspath(path))
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
    except OSError as exc:
        raise FormatError(target, f"cannot write: {exc}") from exc
    # Built in memory, written with plain file I/O (`ledger.io.atomic.hdf5_image`):
    # a full disk is a clean FormatError, never an h5py crash.
    f = hdf5_image()
    try:
        for key, val in analysis_datasets(m, **meta).items():
            if isinstance(val, np.ndarray):
                f.create_dataset(key, data=np.transpose(val), compression="gzip",
                                 compression_opts=9)
            else:
                f.create_dataset(key, data=val)
    except BaseException:
        f.close()
        raise
    save_hdf5_image(f, target)
