"""Reading and writing SLEAP files from `Labels`, and SLEAP's frame exports.

Loading a file makes a ledger whose history starts with one import transaction
(one bulk event for all frames); saving writes the current state atomically.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core.ids import IdSource
from ledger.errors import FormatError, MissingFileError, ValidationError
from ledger.io.failures import format_errors
from ledger.io.project_convert import export_project, import_events

if TYPE_CHECKING:
    from ledger.model.video import Video
    from ledger.project.project import Project
    from ledger.sleap.labels import Labels

HDF5_SUFFIXES = (".slp", ".h5", ".hdf5")
JSON_SUFFIXES = (".json", ".json.zip")

VideoSearch = str | os.PathLike[str] | list | Callable[[list[dict]], Any] | None


def _suffix_kind(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(HDF5_SUFFIXES):
        return "slp"
    if lower.endswith(JSON_SUFFIXES):
        return "json"
    return None


def make_video_callback(search_paths: Iterable[Any] | None = None) -> Callable[[list[dict]], bool]:
    """A callback that repoints moved videos, as SLEAP's does: once any video is
    missing, every video's basename is looked up in the search paths (a file path
    counts as its folder) and each hit replaces the filename; then, with exactly one
    search path per video and matching extensions, the search paths replace the
    entries still missing, in order. Returns False ("do not abort")."""
    from ledger.io.video_backends import find_video_path

    paths = [os.fspath(p) for p in (search_paths or [])]

    def filename(item: dict) -> str:
        return str(item.setdefault("backend", {}).get("filename", ""))

    def callback(video_dicts: list[dict]) -> bool:
        if not any(not os.path.exists(filename(d)) for d in video_dicts):
            return False
        for item in video_dicts:
            found = find_video_path(filename(item), paths) if filename(item) else None
            if found is not None:
                item["backend"]["filename"] = found
        missing = [i for i, d in enumerate(video_dicts) if not os.path.exists(filename(d))]
        if missing and len(paths) == len(video_dicts):
            same_ext = all(os.path.splitext(p)[1].lower() == os.path.splitext(filename(d))[1]
                           .lower() for p, d in zip(paths, video_dicts, strict=True))
            if same_ext:
                for i in missing:
                    video_dicts[i]["backend"]["filename"] = paths[i]
        return False

    return callback


class FilesMixin:
    """The file half of `Labels` (mixed into it)."""

    @classmethod
    def load_file(cls, filename: str | os.PathLike[str], video_search: VideoSearch = None,
                  *args: Any, author: str | None = None, ids: IdSource | None = None,
                  project: Project | None = None,
                  **kwargs: Any) -> Labels:
        """Load a `.slp` or SLEAP JSON file into a new in-memory ledger, or into
        ``project`` (an empty one). Missing videos are looked for next to the file,
        then in ``video_search`` (see `ledger.io.video_search`); a missing file
        raises `MissingFileError`, which is also a ``FileNotFoundError``."""
        from ledger.io.sleap_json import read_sleap_json
        from ledger.io.slp import read_slp
        from ledger.io.video_search import search_videos

        if kwargs.get("match_to") is not None:
            raise ValidationError("load_file(match_to=...) is not supported; load, then use "
                                  "extend_from(..., unify=True)")
        path = os.fspath(filename)
        if not os.path.exists(path):
            raise MissingFileError(path)
        kind = _suffix_kind(path)
        if kind is None:
            raise FormatError(path, "no file format adaptor could read this file "
                              "(expected .slp, .h5, .hdf5, .json or .json.zip)")
        data = read_slp(path) if kind == "slp" else read_sleap_json(path)
        for message in data.warnings:
            warnings.warn(f"{path}: {message}", stacklevel=2)
        dicts = [{"backend": v.backend} for v in data.videos]
        search_videos(path, dicts, video_search)  # SLEAP's rule: the file's folder first
        for v, d in zip(data.videos, dicts, strict=True):
            v.backend = d["backend"]
        if project is not None and project.head:
            raise ValidationError(f"{project.describe()}: not empty; import into a new ledger")
        labels = cls(author=author, ids=ids, project=project)  # type: ignore[call-arg]
        with format_errors(path, "cannot import the file's content"):  # MemoryError too
            events = import_events(data, labels.project.ids)
        del data  # what the events do not share is freed before they are applied
        labels.project.commit(events, f"import {os.path.basename(path)}")
        return labels  # type: ignore[return-value]

    @classmethod
    def make_video_callback(cls, search_paths: list | None = None, use_gui: bool = False,
                            context: dict | None = None) -> Callable[[list[dict]], bool]:
        """SLEAP's video-search callback for ``search_paths`` (finds moved videos by file name)."""
        if use_gui:
            raise ValidationError("ledger has no GUI; pass search_paths instead")
        return make_video_callback(search_paths)

    @classmethod
    def save_file(cls, labels: Labels, filename: str | os.PathLike[str],
                  default_suffix: str = "", *args: Any, **kwargs: Any) -> None:
        """Save by extension: `.slp`/`.h5`/`.hdf5` or `.json`/`.json.zip`. A name
        without a known extension gets ``default_suffix`` when one is given."""
        path = os.path.abspath(os.fspath(filename))
        kind = _suffix_kind(path)
        if kind is None and default_suffix:
            path = f"{path}.{default_suffix.lstrip('.')}"
            kind = _suffix_kind(path)
        if kind is None:
            raise FormatError(path, "no file format adaptor could write this file")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as exc:
            raise FormatError(path, f"cannot write: cannot create its folder ({exc})") from exc
        labels._write(path, kind, **kwargs)

    def save(self: Labels, filename: str | os.PathLike[str], with_images: bool = False,
             embed_all_labeled: bool = False, embed_suggested: bool = False) -> None:
        """Write these labels to ``filename`` (.slp or SLEAP JSON, chosen by extension),
        atomically; SLEAP and sleap-io open the result."""
        path = os.fspath(filename)
        if _suffix_kind(path) is None:
            path += ".slp"
        type(self).save_file(self, path, save_frame_data=with_images,
                             all_labeled=embed_all_labeled, suggested=embed_suggested)

    def _write(self: Labels, path: str, kind: str, save_frame_data: bool = False,
               all_labeled: bool = False, suggested: bool = False, compress: bool = False,
               **_: Any) -> None:
        from ledger.io.sleap_json import write_sleap_json
        from ledger.io.slp_write import write_slp

        data = export_project(self._state)
        if kind == "json":
            if save_frame_data:
                raise ValidationError("embedding frames in SLEAP JSON (imgstore) is not "
                                      "supported; save as .slp with with_images=True")
            write_sleap_json(data, path, compress=compress)
            return
        if not save_frame_data:
            write_slp(data, path)
            return
        embed = {k: self._frames_to_export(v, True, all_labeled, suggested)
                 for k, v in enumerate(self.videos)}
        videos = self.videos
        write_slp(data, path, embed=embed,
                  frame_source=lambda k, f: videos[k].get_frame(f))

    # ----------------------------------------------------------------- dict / json

    def to_dict(self: Labels, skip_labels: bool = False) -> dict[str, Any]:
        """The labels as SLEAP's JSON dict (what `save_file` writes to .json)."""
        from ledger.io.sleap_json import project_to_dict

        out = project_to_dict(export_project(self._state))
        if skip_labels:
            out.pop("labels", None)
        return out

    def to_json(self: Labels) -> str:
        """The labels as SLEAP's JSON text."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    # ----------------------------------------------------------------- exports

    def _frames_to_export(self: Labels, video: Video, user_labeled: bool, all_labeled: bool,
                          suggested: bool) -> list[int]:
        frames = set()
        for lf in self.find(video):
            if all_labeled or (user_labeled and lf.has_user_instances):
                frames.add(lf.frame_idx)
        if suggested:
            frames.update(self.get_video_suggestions(video))
        return sorted(frames)

    def save_frame_data_hdf5(self: Labels, output_path: str, format: str = "png",
                             user_labeled: bool = True, all_labeled: bool = False,
                             suggested: bool = False,
                             progress_callback: Callable | None = None) -> list[Video]:
        """Write the labelled frames' images into HDF5 files (one per video) and return their
        videos, as SLEAP does."""
        from ledger.io.frame_export import save_frame_data_hdf5
        from ledger.model.video import Video

        videos = self.videos
        frames = [self._frames_to_export(v, user_labeled, all_labeled, suggested) for v in videos]
        dicts = save_frame_data_hdf5([v.backend for v in videos], frames, output_path,
                                     format=format, progress_callback=progress_callback)
        return [Video(d) for d in dicts]

    def save_frame_data_imgstore(self: Labels, output_dir: str = "./", format: str = "png",
                                 all_labeled: bool = False, suggested: bool = False,
                                 progress_callback: Callable | None = None) -> list[Video]:
        """Write the labelled frames' images into imgstores (needs the imgstore extra), as SLEAP
        does."""
        from ledger.io.frame_export import save_frame_data_imgstore
        from ledger.model.video import Video

        videos = self.videos
        frames = [self._frames_to_export(v, True, all_labeled, suggested) for v in videos]
        dicts = save_frame_data_imgstore([v.backend for v in videos], frames, output_dir,
                                         format=format, progress_callback=progress_callback)
        return [Video(d) for d in dicts]

    def _training_samples(self: Labels) -> list[Any]:
        from ledger.io.frame_export import TrainingSample

        samples = []
        tracks = self.tracks
        for lf in self.user_labeled_frames:
            users = lf.user_instances
            points = np.stack([i.numpy() for i in users])
            track_idx = [next((k for k, t in enumerate(tracks) if t is i.track), -1)
                         for i in users]
            samples.append(TrainingSample(lf.video.backend, lf.frame_idx, points, track_idx))
        return samples

    def generate_training_data(self: Labels) -> tuple[Any, list[np.ndarray]]:
        """``(imgs, points)`` for every frame with user instances (SLEAP ≤ 1.0.8)."""
        from ledger.io.frame_export import generate_training_data

        return generate_training_data(self._training_samples())

    def export_training_data(self: Labels, save_path: str) -> None:
        """SLEAP ≤ 1.0.8's minimal training HDF5 (first skeleton, user frames)."""
        from ledger.io.frame_export import export_training_data

        skeleton = self.skeletons[0]
        export_training_data(self._training_samples(), skeleton.node_names,
                             skeleton.edge_inds, save_path,
                             videos=[v.backend for v in self.videos])



