"""Drawing review images with Pillow: the frame, cropped to the instances, with poses.

Why these choices:

* Pillow is already installed with imageio (its image plugin), is maintained by a
  large team, and draws lines, ellipses, polygons and text on an RGB image with no
  GUI toolkit (see ``docs/dependencies.md``).
* Each image is cropped to the instances that matter (changed, added, removed or
  in conflict) with a margin, then scaled so the crop is ``TARGET`` pixels across:
  a point moved by 2 px on a 1024 px frame becomes a visible arrow, not a pixel.
* Before/after are overlaid on one image (not side by side), so a small move is
  the distance between two marks the eye sees at once, and an arrow joins them.
* A missing video is not an error: the frame becomes a dark canvas of the video's
  size (or large enough for the points) with a note, and the poses are still drawn.

Example::

    frames = FrameSource(data.videos, [Path("project folder")])
    draw_change(change, frames, Path("out/frame_0001.png"))
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ledger.review.gather import ConflictView, FrameChange, Pose

TARGET = 420  # pixels across the longer side of a drawn crop
MAX_SCALE = 8.0
BLUE = (70, 150, 255)  # before / ours
ORANGE = (255, 150, 20)  # after / theirs
GREY = (190, 190, 190)  # base / unchanged
RED = (255, 50, 50)  # arrows and conflicting nodes
GREEN = (60, 210, 80)  # added
MAGENTA = (230, 60, 220)  # removed
BLANK = (38, 38, 44)


class FrameSource:
    """Video frames for drawing: each video opened once; None when it is missing
    (then `size` still tells the canvas size when the backend dict knows it)."""

    def __init__(self, videos: dict[int, dict[str, Any]], search: Sequence[Path] = ()) -> None:
        self._backends = videos
        self._search = list(search)
        self._open: dict[int, Any] = {}

    def _video(self, vid: int) -> Any:
        if vid in self._open:
            return self._open[vid]
        from ledger.model.video import Video

        video = None
        backend = self._backends.get(vid)
        if backend and backend.get("filename"):
            candidates = [str(backend["filename"])]
            base = str(backend["filename"]).replace("\\", "/").rsplit("/", 1)[-1]
            candidates += [os.path.join(str(d), base) for d in self._search]
            for name in candidates:
                if os.path.exists(name):
                    try:
                        opts = {k: v for k, v in backend.items() if k != "filename"}
                        video = Video.from_dict({"backend": {**opts, "filename": name}})
                        if video.is_missing:
                            video = None
                    except Exception:  # noqa: BLE001 - an unreadable video is a missing one
                        video = None
                    if video is not None:
                        break
        self._open[vid] = video
        return video

    def image(self, vid: int, frame_idx: int) -> Image.Image | None:
        video = self._video(vid)
        if video is None:
            return None
        try:
            arr = np.asarray(video.get_frame(frame_idx))
        except Exception:  # noqa: BLE001 - a frame past the end, a broken file: no picture
            return None
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        if arr.dtype != np.uint8:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
        return Image.fromarray(arr).convert("RGB")

    def size(self, vid: int) -> tuple[int, int] | None:
        video = self._video(vid)
        shape = video.shape if video is not None else None
        if shape and shape[1] and shape[2]:
            return int(shape[2]), int(shape[1])
        return None

    def canvas(self, vid: int, frame_idx: int, focus: np.ndarray) -> Canvas:
        """The frame cropped to ``focus``; asks for the video's size only when the
        frame is missing (counting a video's frames can take seconds)."""
        image = self.image(vid, frame_idx)
        return Canvas(image, self.size(vid) if image is None else None, focus)

    def close(self) -> None:
        for video in self._open.values():
            if video is not None:
                try:
                    video.close()
                except Exception:  # noqa: BLE001, S110 - closing is best effort
                    pass
        self._open.clear()


class Canvas:
    """A crop of a frame scaled up, with drawing in frame coordinates."""

    def __init__(self, background: Image.Image | None, size: tuple[int, int] | None,
                 focus: np.ndarray) -> None:
        pts = focus[~np.isnan(focus).any(axis=1)] if len(focus) else focus
        if background is not None:
            width, height = background.size
        elif size is not None:
            width, height = size
        else:
            far = pts.max(axis=0) if len(pts) else np.array([256.0, 256.0])
            width, height = int(far[0]) + 64, int(far[1]) + 64
        if len(pts):
            lo, hi = pts.min(axis=0), pts.max(axis=0)
        else:
            lo, hi = np.array([0.0, 0.0]), np.array([width, height], float)
        span = max(float((hi - lo).max()), 32.0)
        margin = max(16.0, 0.25 * span)
        cx, cy = (lo + hi) / 2
        half = span / 2 + margin
        x0, y0 = math.floor(cx - half), math.floor(cy - half)
        x1, y1 = math.ceil(cx + half), math.ceil(cy + half)
        self.origin = (x0, y0)
        side = max(x1 - x0, y1 - y0)
        self.scale = min(TARGET / side, MAX_SCALE)
        out = (max(1, round((x1 - x0) * self.scale)), max(1, round((y1 - y0) * self.scale)))
        if background is None:
            self.image = Image.new("RGB", out, BLANK)
            self.missing = True
        else:
            crop = background.crop((x0, y0, x1, y1))  # outside the frame: black
            self.image = crop.resize(out, Image.Resampling.BILINEAR)
            self.missing = False
        self.draw = ImageDraw.Draw(self.image)
        self.font = ImageFont.load_default()
        if self.missing:
            self.draw.text((6, 6), "video not found: blank canvas", fill=(220, 220, 220),
                           font=self.font)

    def at(self, x: float, y: float) -> tuple[float, float]:
        return ((x - self.origin[0]) * self.scale, (y - self.origin[1]) * self.scale)

    def pose(self, pose: Pose, color: tuple[int, int, int], width: int = 2, radius: float = 3.5,
             dashed: bool = False) -> None:
        xy = pose.xy()
        for a, b in pose.edges:
            if not (np.isnan(xy[a]).any() or np.isnan(xy[b]).any()):
                p, q = self.at(*xy[a]), self.at(*xy[b])
                if dashed:
                    self._dashed(p, q, color, width)
                else:
                    self.draw.line([p, q], fill=color, width=width)
        for x, y in xy:
            if not (np.isnan(x) or np.isnan(y)):
                px, py = self.at(x, y)
                self.draw.ellipse([px - radius, py - radius, px + radius, py + radius],
                                  fill=color, outline=(0, 0, 0))

    def _dashed(self, p: tuple[float, float], q: tuple[float, float],
                color: tuple[int, int, int], width: int, dash: float = 6.0) -> None:
        length = math.hypot(q[0] - p[0], q[1] - p[1])
        steps = max(int(length // dash), 1)
        for k in range(0, steps, 2):
            t0, t1 = k / steps, min((k + 1) / steps, 1.0)
            self.draw.line([(p[0] + (q[0] - p[0]) * t0, p[1] + (q[1] - p[1]) * t0),
                            (p[0] + (q[0] - p[0]) * t1, p[1] + (q[1] - p[1]) * t1)],
                           fill=color, width=width)

    def arrow(self, a: tuple[float, float], b: tuple[float, float],
              color: tuple[int, int, int] = RED) -> None:
        """From frame point ``a`` to ``b``, with a head; a ring marks ``b`` too, so
        a move shorter than the head still shows."""
        p, q = self.at(*a), self.at(*b)
        self.draw.line([p, q], fill=color, width=2)
        length = math.hypot(q[0] - p[0], q[1] - p[1])
        if length > 0:
            ux, uy = (q[0] - p[0]) / length, (q[1] - p[1]) / length
            head = min(9.0, max(length * 0.6, 5.0))
            left = (q[0] - head * ux + head * 0.5 * uy, q[1] - head * uy - head * 0.5 * ux)
            right = (q[0] - head * ux - head * 0.5 * uy, q[1] - head * uy + head * 0.5 * ux)
            self.draw.polygon([q, left, right], fill=color)
        self.ring(b, color)

    def ring(self, a: tuple[float, float], color: tuple[int, int, int], radius: float = 8) -> None:
        px, py = self.at(*a)
        self.draw.ellipse([px - radius, py - radius, px + radius, py + radius], outline=color,
                          width=2)

    def label(self, pose: Pose, text: str, color: tuple[int, int, int]) -> None:
        xy = pose.xy()
        ok = ~np.isnan(xy).any(axis=1)
        if ok.any():
            x, y = self.at(float(xy[ok, 0].min()), float(xy[ok, 1].min()))
            self.draw.text((x, max(y - 14, 0)), text, fill=color, font=self.font,
                           stroke_width=1, stroke_fill=(0, 0, 0))

    def save(self, path: Path) -> None:
        self.image.save(path, format="PNG", compress_level=3)


def _focus(poses: Iterable[Pose]) -> np.ndarray:
    arrays = [p.xy() for p in poses]
    return np.concatenate(arrays) if arrays else np.zeros((0, 2))


def draw_change(change: FrameChange, frames: FrameSource, path: Path) -> None:
    """Before (blue) and after (orange) of the changed instances, arrows for moved
    points, added instances green, removed ones magenta and dashed; unchanged
    instances thin grey for context."""
    changed = set(change.moves) | set(change.track_changes)
    added, removed = change.added, change.removed
    before = {p.id: p for p in change.before}
    focus = _focus([p for p in change.after if p.id in changed] +
                   [before[i] for i in changed if i in before] + added + removed)
    if not len(focus):
        focus = _focus(change.after + change.before)
    canvas = frames.canvas(change.video, change.frame_idx, focus)
    for p in change.after:
        if p.id not in changed and p not in added:
            canvas.pose(p, GREY, width=1, radius=2)
    for p in removed:
        canvas.pose(p, MAGENTA, dashed=True)
        canvas.label(p, f"removed {p.label}", MAGENTA)
    for p in added:
        canvas.pose(p, GREEN)
        canvas.label(p, f"added {p.label}", GREEN)
    for p in change.after:
        if p.id in changed and p.id in before:
            canvas.pose(before[p.id], BLUE, width=1, radius=3)
            canvas.pose(p, ORANGE)
            for move in change.moves.get(p.id, []):
                if move.before and move.after:
                    canvas.arrow(move.before, move.after)
                elif move.after:
                    canvas.ring(move.after, GREEN)
                elif move.before:
                    canvas.ring(move.before, MAGENTA)
    canvas.save(path)


def draw_conflict(view: ConflictView, frames: FrameSource, path: Path) -> bool:
    """Base (grey, dashed), ours (blue) and theirs (orange) on the same frame; the
    conflicting node ringed red. False when the conflict has no frame to draw."""
    c = view.conflict
    if c.video is None or c.frame_idx is None:
        return False
    focus_ids = {c.instance} if c.instance is not None else None

    def pick(poses: list[Pose]) -> list[Pose]:
        return [p for p in poses if focus_ids is None or p.id in focus_ids]

    chosen = pick(view.base) + pick(view.ours) + pick(view.theirs)
    focus = _focus(chosen or view.base + view.ours + view.theirs)
    if not len(focus) or np.isnan(focus).all():
        focus = _focus(view.base + view.ours + view.theirs)
    canvas = frames.canvas(c.video, c.frame_idx, focus)
    for poses, color, dashed in ((view.base, GREY, True), (view.ours, BLUE, False),
                                 (view.theirs, ORANGE, False)):
        for p in pick(poses) or poses:
            canvas.pose(p, color, dashed=dashed)
    if c.kind == "point" and c.node_name is not None:
        for value, color in ((c.base, GREY), (c.ours, BLUE), (c.theirs, ORANGE)):
            xy = _xy(value)
            if xy is not None:
                canvas.ring(xy, color, radius=10)
                canvas.ring(xy, RED, radius=13)
    canvas.save(path)
    return True


def _xy(value: Any) -> tuple[float, float] | None:
    try:
        x, y = float(value[0]), float(value[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return None if math.isnan(x) or math.isnan(y) else (x, y)
