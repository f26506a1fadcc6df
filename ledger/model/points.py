"""Point and PredictedPoint: SLEAP's per-node records, as small value objects.

Equality is by value, field by field, so two NaN points are *not* equal (as in
SLEAP). Points read from an instance that lives in a `Labels` are copies: change a
labelled point with ``instance[node] = Point(...)`` or `Labels.set_point`, which
record the edit in the ledger.
"""

from __future__ import annotations

import math

import numpy as np


class Point:
    """A user-placed point. ``x``/``y`` are pixels (midpixel convention)."""

    __slots__ = ("x", "y", "visible", "complete")

    def __init__(self, x: float = math.nan, y: float = math.nan, visible: bool = True,
                 complete: bool = False) -> None:
        self.x = float(x)
        self.y = float(y)
        self.visible = bool(visible)
        self.complete = bool(complete)

    @property
    def score(self) -> float:
        return 0.0

    def isnan(self) -> bool:
        return math.isnan(self.x) or math.isnan(self.y)

    def numpy(self) -> np.ndarray:
        return np.array([self.x, self.y], dtype=np.float64)

    def as_row(self) -> tuple[float, float, float, float, float]:
        return (self.x, self.y, float(self.visible), float(self.complete), self.score)

    def _fields(self) -> tuple:
        return (self.x, self.y, self.visible, self.complete)

    def __eq__(self, other: object) -> bool:
        # Field by field with ``==`` so that NaN != NaN, as in SLEAP (a tuple
        # comparison would call the same NaN object equal to itself).
        if type(other) is not type(self):
            return False
        return all(a == b for a, b in zip(self._fields(), other._fields(), strict=True))  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(x={self.x}, y={self.y}, visible={self.visible}, "
                f"complete={self.complete})")


class PredictedPoint(Point):
    """A predicted point with its confidence ``score``."""

    __slots__ = ("_score",)

    def __init__(self, x: float = math.nan, y: float = math.nan, visible: bool = True,
                 complete: bool = False, score: float = 0.0) -> None:
        super().__init__(x, y, visible, complete)
        self._score = float(score)

    @property
    def score(self) -> float:  # type: ignore[override]
        return self._score

    @score.setter
    def score(self, value: float) -> None:
        self._score = float(value)

    def _fields(self) -> tuple:
        return (self.x, self.y, self.visible, self.complete, self._score)

    @classmethod
    def from_point(cls, point: Point, score: float = 0.0) -> PredictedPoint:
        return cls(point.x, point.y, point.visible, point.complete, score)

    def __repr__(self) -> str:
        return (f"PredictedPoint(x={self.x}, y={self.y}, visible={self.visible}, "
                f"complete={self.complete}, score={self.score})")


def point_from_row(row: np.ndarray | tuple, predicted: bool) -> Point:
    x, y, vis, comp, score = (float(v) for v in row)
    if predicted:
        return PredictedPoint(x, y, bool(vis), bool(comp), score)
    return Point(x, y, bool(vis), bool(comp))
