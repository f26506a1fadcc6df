"""SuggestionFrame: a frame proposed for labelling. Equal by value, unhashable."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.model.video import Video


class SuggestionFrame:
    """A frame suggested for labelling: ``video``, ``frame_idx`` and ``group`` (as SLEAP)."""

    __slots__ = ("video", "frame_idx", "group")

    def __init__(self, video: Video, frame_idx: int, group: int | None = None) -> None:
        self.video = video
        self.frame_idx = int(frame_idx)
        self.group = None if group is None else int(group)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SuggestionFrame) and self.video is other.video
                and self.frame_idx == other.frame_idx and self.group == other.group)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"SuggestionFrame(video={self.video!r}, frame_idx={self.frame_idx}, "
                f"group={self.group})")
