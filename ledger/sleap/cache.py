"""`LabelsDataCache`: SLEAP's cache API, answered from the projection.

In SLEAP the cache is a separate structure that methods must remember to update,
and several forget (see docs/compat.md). Here the frame index, track occupancy and
frame counts are part of the state and are updated by every event, so they are
always right. The update hooks SLEAP code calls (``update``, ``add_instance``,
``remove_frame``...) therefore have nothing left to do; they are kept so that code
calling them keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ledger.core.ids import NO_ID
from ledger.core.rangelist import RangeList
from ledger.errors import ValidationError

if TYPE_CHECKING:
    from ledger.model.frame import LabeledFrame
    from ledger.model.track import Track
    from ledger.model.video import Video
    from ledger.sleap.labels import Labels

FILTERS = ("", "user", "predicted")


class LabelsDataCache:
    """SLEAP's cache API over a `Labels`: every query reads the ledger's own indexes,
    which every event keeps current, so unlike SLEAP's it never goes stale."""

    def __init__(self, labels: Labels) -> None:
        self.labels = labels

    # ----------------------------------------------------------------- queries

    def find_frames(self, video: Video, frame_idx: int | Iterable[int] | None = None
                    ) -> list[LabeledFrame] | None:
        """SLEAP's contract: None for an unknown video or a missing single frame."""
        if self.labels._vid(video) is None:
            return None
        found = self.labels.find(video, frame_idx)
        if frame_idx is not None and not isinstance(frame_idx, Iterable) and not found:
            return None
        return found

    def find_fancy_frame_idxs(self, video: Video, from_frame_idx: int, reverse: bool
                              ) -> list[int] | None:
        if self.labels._vid(video) is None:
            return None
        return [lf.frame_idx for lf in self.labels.frames(video, from_frame_idx, reverse)]

    def get_track_occupancy(self, video: Video, track: Track | None) -> RangeList:
        """A copy of the occupancy of ``track`` (None: untracked) in ``video``."""
        vid = self.labels._vid(video)
        tid = NO_ID if track is None else self.labels._tid(track)
        rl = self.labels._state.occupancy.get((vid, tid)) if vid is not None else None  # type: ignore[arg-type]
        return RangeList() if rl is None else rl.copy()

    def get_video_track_occupancy(self, video: Video) -> dict[Track | None, RangeList]:
        vid = self.labels._vid(video)
        if vid is None:
            return {}
        tracks = self.labels._registry.tracks
        out: dict[Any, RangeList] = {}
        for (v, t), rl in self.labels._state.occupancy.items():
            if v == vid and not rl.is_empty:
                out[None if t == NO_ID else tracks[t]] = rl.copy()
        return out

    def get_frame_count(self, video: Video | None = None, filter: str = "") -> int:
        """Frames of a video (all videos for None or an unknown video): all of them
        (``""``), with user instances, or with predictions."""
        if filter not in FILTERS:
            raise ValidationError(f"filter must be one of {FILTERS}, not {filter!r}")
        col = FILTERS.index(filter)
        counts = self.labels._state.counts
        vid = None if video is None else self.labels._vid(video)
        if vid is None:
            return sum(c[col] for c in counts.values())
        return counts.get(vid, [0, 0, 0])[col]

    def get_filtered_frame_idxs(self, video: Video | None = None, filter: str = ""
                                ) -> set[tuple[int, int]]:
        if filter not in FILTERS:
            raise ValidationError(f"filter must be one of {FILTERS}, not {filter!r}")
        st = self.labels._state
        vid = None if video is None else self.labels._vid(video)
        fc = st.frames.cols.cols
        out = set()
        for r in st.frames.order():
            v = int(fc["video"][r])
            if vid is not None and v != vid:
                continue
            if filter == "user" and fc["n_user"][r] == 0:
                continue
            if filter == "predicted" and fc["n_pred"][r] == 0:
                continue
            out.add((st.video_order.index(v), int(fc["frame_idx"][r])))
        return out

    # ----------------------------------------------------------------- SLEAP's hooks

    def update(self, new_frame: LabeledFrame | None = None) -> None:
        """Nothing to do: the projection is updated by every event."""

    def update_counts_for_frame(self, frame: LabeledFrame) -> None:
        """Nothing to do: counts are updated by every event."""

    def add_instance(self, frame: LabeledFrame, instance: Any) -> None:
        """Nothing to do: `Labels.add_instance` already updated the projection."""

    def remove_instance(self, frame: LabeledFrame, instance: Any) -> None:
        """Nothing to do: `Labels.remove_instance` already updated the projection."""

    def remove_frame(self, frame: LabeledFrame) -> None:
        """Nothing to do: `Labels.remove` already updated the projection."""

    def remove_video(self, video: Video) -> None:
        """Nothing to do: `Labels.remove_video` already updated the projection."""

    def add_track(self, video: Video, track: Track) -> None:
        """Nothing to do: occupancy is derived from the instances."""

    def track_swap(self, video: Video, new_track: Track, old_track: Any,
                   frame_range: tuple) -> None:
        """Nothing to do: `Labels.track_swap` already updated the projection."""
