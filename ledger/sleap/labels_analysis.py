"""Analysis-facing `Labels` methods: ``numpy()``, analysis exports, sleap-io interop.

Every analysis script starts from a dense ``(frames, tracks, nodes, 2)`` array or
from SLEAP's analysis HDF5/CSV; these methods produce them straight from the
columnar state (`ledger.io.pose_arrays`), never by walking instance objects.
``from_sleap_io``/``to_sleap_io`` move a whole project to and from sleap-io in
memory (sleap-io is imported only when they are called).

Example::

    labels = ledger.load_file("predictions.slp")
    trx = labels.numpy()                 # (n_frames, n_tracks, n_nodes, 2) float32
    labels.export("predictions.analysis.h5")
    labels.export_csv("predictions.csv")
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from ledger.io.pose_arrays import AnalysisMatrices
    from ledger.model.video import Video
    from ledger.sleap.labels import Labels


def _known_length(video: Video) -> int:
    """The video's frame count, or 0 when it cannot be read. A missing file is not
    opened at all (opening would import the video backends for nothing)."""
    backend = video.backend_dict()
    name = backend.get("filename")
    if name and not backend.get("filenames") and not os.path.exists(str(name)):
        return 0
    try:
        return int(video.frames or 0)
    except Exception:  # noqa: BLE001 - an unreadable video has no known length
        return 0


class AnalysisMixin:
    """Arrays and analysis exports (mixed into `Labels`)."""

    def _analysis_video(self: Labels, video: Video | int | None) -> tuple[Video, int]:
        videos = self.videos
        if not videos:
            raise ValidationError("the labels have no videos")
        if video is None:
            return videos[0], self._state.video_order[0]
        if isinstance(video, bool):
            raise ValidationError(f"video must be a Video or an index, not {video!r}")
        if isinstance(video, int | np.integer):
            k = int(video)
            if not -len(videos) <= k < len(videos):
                raise NotFoundError(f"video index {k} is out of range "
                                    f"(the labels have {len(videos)} videos)")
            return videos[k], self._state.video_order[k]
        from ledger.model.video import Video

        if not isinstance(video, Video):
            raise ValidationError(f"video must be a Video or an index, not {video!r}")
        return video, self._require_vid(video)

    def numpy(self: Labels, video: Video | int | None = None, all_frames: bool = True,
              untracked: bool = False, return_confidence: bool = False) -> np.ndarray:
        """The video's poses as one ``(n_frames, n_tracks, n_nodes, 2)`` float32
        array (``3`` channels with the point scores when ``return_confidence``;
        user points score 1.0). Missing or invisible points are NaN.

        Frames run from 0 (or from the first labelled frame when ``all_frames`` is
        False) to the last labelled frame, or to the video's last frame when its
        length is known. Tracks are the labels' tracks, in order, with a user
        instance preferred over a prediction of the same track; with
        ``untracked`` (or one instance per frame) the columns are each frame's
        instances instead: user instances, then predictions not already
        represented by one. These are sleap-io 0.9.5's semantics (SLEAP 1.4.1 used
        predictions only; see docs/compat.md). ``video`` is a `Video` or an index
        (default: the first video); the array uses the last skeleton's nodes.

        Example::

            trx = labels.numpy()
            n_frames, n_tracks, n_nodes, _ = trx.shape
        """
        from ledger.io.pose_arrays import numpy_array

        v, vid = self._analysis_video(video)
        skeletons = self.skeletons
        if not skeletons:
            raise ValidationError("the labels have no skeleton")
        n_video = _known_length(v) if all_frames else 0
        return numpy_array(self._state, vid, len(skeletons[-1].nodes), all_frames=all_frames,
                           untracked=bool(untracked),
                           return_confidence=bool(return_confidence), n_video_frames=n_video)

    def _analysis(self: Labels, video: Video | int | None, all_frames: bool
                  ) -> tuple[AnalysisMatrices, Video, int]:
        from ledger.io.pose_arrays import analysis_matrices

        v, vid = self._analysis_video(video)
        if not self.skeletons:
            raise ValidationError("the labels have no skeleton")
        m = analysis_matrices(self._state, vid, len(self.skeletons[0].nodes),
                              all_frames=bool(all_frames))
        return m, v, self._state.video_order.index(vid)

    def export(self: Labels, filename: str | os.PathLike[str], all_frames: bool = True,
               video: Video | int | None = None,
               labels_path: str | os.PathLike[str] | None = None) -> None:
        """Write SLEAP's analysis HDF5 for one video (default: the first), exactly
        as SLEAP 1.4.1's ``Labels.export`` does: ``tracks`` ``(tracks, 2, nodes,
        frames)``, ``track_occupancy`` ``(frames, tracks)``, ``point_scores``,
        ``instance_scores``, ``tracking_scores``, ``node_names``, ``edge_names``,
        ``edge_inds``, ``track_names``, ``video_path``, ``video_ind``,
        ``labels_path``, ``provenance``. Per track the user instances win over
        predictions; tracks never occupied are left out. A video without labelled
        frames raises `ValidationError` (SLEAP silently wrote nothing).

        Example::

            labels.export("clip.analysis.h5")
            h5py.File("clip.analysis.h5")["tracks"].shape   # (tracks, 2, nodes, frames)
        """
        from ledger.io.analysis_h5 import write_analysis_h5

        m, v, video_ind = self._analysis(video, all_frames)
        skel = self.skeletons[0]
        write_analysis_h5(
            filename, m, node_names=list(skel.node_names),
            edges=list(skel.edge_names), edge_inds=list(skel.edge_inds),
            labels_path=None if labels_path is None else os.fspath(labels_path),
            video_path=v.filename, video_ind=video_ind, provenance=self.provenance)

    def export_csv(self: Labels, filename: str | os.PathLike[str],
                   video: Video | int | None = None) -> None:
        """Write SLEAP's analysis CSV for one video (default: the first): one row per
        tracked instance and frame, columns ``track, frame_idx, instance.score`` and
        ``<node>.x, <node>.y, <node>.score`` per node (SLEAP 1.4.1's layout).

        Example::

            labels.export_csv("clip.csv")
        """
        from ledger.io.csv_export import write_analysis_csv

        m, _, _ = self._analysis(video, True)
        write_analysis_csv(filename, m, list(self.skeletons[0].node_names))

    # ----------------------------------------------------------------- sleap-io

    @classmethod
    def from_sleap_io(cls, sio_labels: Any, *, author: str | None = None) -> Labels:
        """A new `Labels` with the content of a sleap-io ``Labels`` (one import
        transaction, like `load_file`). sleap-io does not model a track's
        ``spawned_on``, so it is 0 here.

        Example::

            import sleap_io as sio
            labels = Labels.from_sleap_io(sio.load_slp("predictions.slp"))
        """
        from ledger.io.project_convert import import_events
        from ledger.io.sleap_io_interop import from_sleap_io

        data = from_sleap_io(sio_labels)
        labels = cls(author=author)  # type: ignore[call-arg]
        events = import_events(data, labels._ids)
        del data
        with labels.transaction("import from sleap-io"):
            for event in events:
                labels._ledger.emit(event)
        return labels  # type: ignore[return-value]

    def to_sleap_io(self: Labels) -> Any:
        """The project as a sleap-io ``Labels`` (videos, skeletons, tracks, frames,
        instances with their ``from_predicted`` links, suggestions, provenance).

        Example::

            sio_labels = labels.to_sleap_io()
            sio_labels.save("copy.slp")
        """
        from ledger.io.project_convert import export_project
        from ledger.io.sleap_io_interop import to_sleap_io

        return to_sleap_io(export_project(self._state))
