"""Video: a reference to frames on disk, compared by identity (as in SLEAP).

Only the backend's attribute dict is serialised (SLEAP's ``{"backend": {...}}``);
the backend object that decodes frames is opened on first use, so a missing file
is fine until a frame is asked for (`is_missing` says so).

Example::

    video = Video.from_filename("clip.mp4")
    video.shape            # (frames, height, width, channels), None when missing
"""

from __future__ import annotations

import copy
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core.values import check_text, plain_dict
from ledger.model.owned import OwnedByLabels

if TYPE_CHECKING:
    from ledger.io.video_base import VideoBackend
    from ledger.sleap.labels import Labels


class Video(OwnedByLabels):
    """``Video(backend)`` where backend is a backend object or its attribute dict;
    usually made with `Video.from_filename`."""

    def __init__(self, backend: Any = None, source_video: dict[str, Any] | None = None,
                 **backend_options: Any) -> None:
        if backend is None:
            backend = dict(backend_options)
        if isinstance(backend, dict):
            self._backend_dict: dict[str, Any] = dict(backend)
            self._backend: VideoBackend | None = None
        else:
            self._backend = backend
            self._backend_dict = dict(backend.to_dict())
            self._watch(backend)
        self._source_video = source_video
        self._id: int | None = None
        self._owner_ref: weakref.ref[Labels] | None = None

    @classmethod
    def from_filename(cls, filename: str, **options: Any) -> Video:
        """Backend chosen by extension, as SLEAP does; the file may be missing."""
        from ledger.io.video_backends import backend_from_filename

        return cls(backend_from_filename(str(filename), **options))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Video:
        """From a serialised video (``{"backend": {...}}``)."""
        return cls(dict(data.get("backend", data)))

    @property
    def backend(self) -> VideoBackend:
        if self._backend is None:
            from ledger.io.video_backends import backend_from_dict

            self._backend = backend_from_dict(self._backend_dict)
            self._watch(self._backend)
        return self._backend

    def _watch(self, backend: Any) -> None:
        """Route assignments to the backend's serialised fields through this video
        (``video.backend.filename = new`` is SLEAP's way to repoint a video; in a
        `Labels` it must be an event, not a change to this object alone)."""
        ref = weakref.ref(self)

        def on_set(name: str, value: Any) -> None:
            video = ref()
            if video is None:
                object.__setattr__(backend, name, value)
            else:
                video._set_backend_field(backend, name, value)

        object.__setattr__(backend, "_field_hook", on_set)

    def _set_backend_field(self, backend: Any, name: str, value: Any) -> None:
        from ledger.io.video_base import _plain

        after = dict(self._backend_dict)
        after[name] = _plain(value)
        owner = self._owner
        if owner is not None:
            owner.set_video_backend(self, after, self._source_video)  # validates, emits
        else:
            self._sync(plain_dict(after, "the video's backend"), self._source_video)
        # the object the caller holds reads back what it was given; the video opens
        # a fresh backend for the new attributes on next use
        object.__setattr__(backend, name, value)
        if self._backend is backend:
            backend.close()
            self._backend = None

    @property
    def filename(self) -> str:
        return str(self._backend_dict.get("filename", ""))

    @filename.setter
    def filename(self, value: str) -> None:
        """Repoint the video (an event when it is in a `Labels`)."""
        self._set_backend_field(self.backend, "filename", check_text(value, "a video filename"))

    @property
    def source_video(self) -> dict[str, Any] | None:
        """The serialised original of an embedded video (None for other videos)."""
        return self._source_video

    @source_video.setter
    def source_video(self, value: Any) -> None:
        if isinstance(value, Video):
            value = value.to_dict()
        if value is not None:
            value = plain_dict(value, "source_video")
        owner = self._owner
        if owner is not None:
            owner.set_video_backend(self, self._backend_dict, value)
        else:
            self._source_video = value

    def backend_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._backend_dict)

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend_dict()}

    def _sync(self, backend_dict: dict[str, Any], source_video: dict[str, Any] | None) -> None:
        if backend_dict != self._backend_dict:
            self._backend_dict = dict(backend_dict)
            if self._backend is not None:
                self._backend.close()
            self._backend = None
        self._source_video = source_video

    # ----------------------------------------------------------------- frames

    @property
    def is_missing(self) -> bool:
        return bool(self.backend.is_missing)

    @property
    def shape(self) -> tuple[Any, Any, Any, Any]:
        return self.backend.shape

    @property
    def frames(self) -> int | None:
        return self.backend.frames

    @property
    def num_frames(self) -> int | None:
        return self.frames

    @property
    def height(self) -> int | None:
        return self.backend.height

    @property
    def width(self) -> int | None:
        return self.backend.width

    @property
    def channels(self) -> int | None:
        return self.backend.channels

    @property
    def last_frame_idx(self) -> int | None:
        return self.backend.last_frame_idx

    def get_frame(self, idx: int) -> np.ndarray:
        return self.backend.get_frame(idx)

    def get_frames(self, idxs: Any) -> np.ndarray:
        return self.backend.get_frames(idxs)

    def __getitem__(self, idxs: Any) -> np.ndarray:
        return self.get_frames(idxs)

    def __len__(self) -> int:
        return int(self.frames or 0)

    def matches(self, other: Any) -> bool:
        return isinstance(other, Video) and self._backend_dict == other._backend_dict

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.backend, name)

    def __repr__(self) -> str:
        return f"Video(filename={self.filename!r})"
