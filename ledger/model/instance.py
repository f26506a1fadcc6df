"""Instance and PredictedInstance, SLEAP 1.x constructors and semantics.

An instance is either *free* (made by user code, not yet in a `Labels`: it holds
its own data) or *attached* (it lives in a labels object, and every read goes to
that ledger's columnar state, so there is one copy of the truth). Attaching and
detaching keep the Python object, so SLEAP code that compares with ``is`` works.

Writes to an attached instance (``instance.track = t``, ``instance[node] = point``)
are routed through its labels object and recorded as events.

Points are stored as rows ``(x, y, visible, complete, score)`` in node order; a
missing point is NaN with ``visible=True`` (SLEAP's convention).

Example::

    inst = Instance(skeleton, points={"head": Point(10, 20)})
    inst.numpy()          # (n_nodes, 2), NaN where missing or invisible
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.errors import NotFoundError, SkeletonMismatchError, ValidationError
from ledger.model.points import Point, PredictedPoint, point_from_row
from ledger.model.skeleton import Node, Skeleton
from ledger.model.track import Track

if TYPE_CHECKING:
    from ledger.model.frame import LabeledFrame
    from ledger.model.video import Video
    from ledger.sleap.labels import Labels

MISSING_ROW = (math.nan, math.nan, 1.0, 0.0, 0.0)


def empty_rows(n: int) -> np.ndarray:
    rows = np.empty((n, 5), dtype=np.float64)
    rows[:] = MISSING_ROW
    return rows


def rows_from_points(points: Any, skeleton: Skeleton, predicted: bool) -> np.ndarray:
    """Turn SLEAP's accepted point arguments into (n_nodes, 5) rows."""
    n = len(skeleton.nodes)
    rows = empty_rows(n)
    if points is None:
        return rows
    if isinstance(points, Mapping):
        for key, point in points.items():
            if isinstance(key, Node):
                if key not in skeleton:
                    continue  # SLEAP ignores nodes of other skeletons
                pos = skeleton.node_to_index(key)
            else:
                node = skeleton.find_node(key)
                if node is None:
                    raise NotFoundError(f"node {key!r} is not in skeleton {skeleton.name!r}")
                pos = skeleton.node_to_index(node)
            rows[pos] = _row_of(point, predicted)
        return rows
    if isinstance(points, list | tuple) and points and isinstance(points[0], Point):
        if len(points) != n:
            raise SkeletonMismatchError(
                f"{len(points)} points given for skeleton {skeleton.name!r} with {n} nodes")
        for pos, point in enumerate(points):
            rows[pos] = _row_of(point, predicted)
        return rows
    arr = _float_array(points)
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] not in (2, 4, 5):
        raise SkeletonMismatchError(
            f"points of shape {arr.shape} do not fit skeleton {skeleton.name!r} with {n} "
            "nodes (expected (n_nodes, 2), (n_nodes, 4) or (n_nodes, 5))")
    rows[:, : arr.shape[1]] = arr
    if not predicted:
        rows[:, 4] = 0.0
    return rows


def _float_array(value: Any) -> np.ndarray:
    """Numbers as a float array, or `ValidationError` (strings, ragged rows)."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"points must be numbers in rows of equal length, not "
                              f"{value!r:.80} ({exc})") from None


def _row_of(point: Any, predicted: bool) -> tuple[float, float, float, float, float]:
    if isinstance(point, Point):
        x, y, vis, comp, score = point.as_row()
        return (x, y, vis, comp, score if predicted else 0.0)
    arr = _float_array(point).reshape(-1)
    if arr.shape[0] < 2:
        raise ValidationError(f"cannot read a point from {point!r}")
    return (arr[0], arr[1], 1.0, 0.0, 0.0)


class Instance:
    """A user-labelled instance: ``Instance(skeleton, points=None, track=None,
    from_predicted=None)``."""

    __slots__ = ("_labels", "_id", "_skeleton", "_track", "_from_predicted", "_rows",
                 "_nodes", "_frame", "_score", "_tracking_score", "__weakref__")
    _kind = 0

    def __init__(self, skeleton: Skeleton, points: Any = None, track: Track | None = None,
                 from_predicted: PredictedInstance | None = None,
                 frame: LabeledFrame | None = None) -> None:
        if skeleton is None or not isinstance(skeleton, Skeleton):
            raise ValidationError("an instance needs a Skeleton")
        if from_predicted is not None and type(from_predicted) is not PredictedInstance:
            raise TypeError("from_predicted must be a PredictedInstance or None")
        if track is not None and not isinstance(track, Track):
            raise ValidationError(f"track must be a Track or None, not {type(track).__name__}")
        self._labels: Labels | None = None
        self._id: int | None = None
        self._skeleton = skeleton
        self._track = track
        self._from_predicted = from_predicted
        self._rows = rows_from_points(points, skeleton, predicted=self._kind == 1)
        self._nodes = list(skeleton._nodes)
        self._frame = frame
        self._score = math.nan
        self._tracking_score = math.nan

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_numpy(cls, points: Any, skeleton: Skeleton, track: Track | None = None) -> Instance:
        """From an (n_nodes, 2) array; NaN rows are missing points."""
        return cls(skeleton=skeleton, points=np.asarray(points, dtype=np.float64), track=track)

    @classmethod
    def _attached(cls, labels: Labels, ident: int) -> Instance:
        obj = cls.__new__(cls)
        obj._labels = labels
        obj._id = ident
        obj._skeleton = obj._track = obj._from_predicted = obj._frame = None
        obj._rows = None
        obj._nodes = None
        obj._score = obj._tracking_score = math.nan
        return obj

    def _fixed_rows(self) -> np.ndarray:
        """A free instance's rows, following later changes to its skeleton's nodes
        (matched by node identity, as SLEAP's ``_fix_array`` does)."""
        current = self._skeleton._nodes
        if self._nodes is None or len(current) != len(self._nodes) or any(
                a is not b for a, b in zip(current, self._nodes, strict=True)):
            old = {id(n): k for k, n in enumerate(self._nodes or [])}
            rows = empty_rows(len(current))
            for k, node in enumerate(current):
                j = old.get(id(node))
                if j is not None and j < len(self._rows):
                    rows[k] = self._rows[j]
            self._rows = rows
            self._nodes = list(current)
        return self._rows

    # ----------------------------------------------------------------- state access

    @property
    def is_attached(self) -> bool:
        return self._labels is not None

    def _data(self) -> Any:
        return self._labels._instance_record(self._id)  # type: ignore[union-attr]

    def point_rows(self) -> np.ndarray:
        """(n_nodes, 5) float rows: x, y, visible, complete, score (a copy)."""
        if self._labels is None:
            return self._fixed_rows().copy()
        return self._labels._instance_rows(self._id)

    @property
    def skeleton(self) -> Skeleton:
        if self._labels is None:
            return self._skeleton
        return self._data().skeleton

    @property
    def track(self) -> Track | None:
        if self._labels is None:
            return self._track
        return self._data().track

    @track.setter
    def track(self, value: Track | None) -> None:
        if self._labels is None:
            self._track = value
        else:
            self._labels.track_set_instance(self.frame, self, value)

    @property
    def from_predicted(self) -> PredictedInstance | None:
        if self._labels is None:
            return self._from_predicted
        return self._data().from_predicted

    @from_predicted.setter
    def from_predicted(self, value: PredictedInstance | None) -> None:
        if value is not None and type(value) is not PredictedInstance:
            raise TypeError("from_predicted must be a PredictedInstance or None")
        if self._labels is not None:
            self._labels.set_from_predicted(self, value)
        else:
            self._from_predicted = value

    @property
    def frame(self) -> LabeledFrame | None:
        if self._labels is None:
            return self._frame
        return self._data().frame

    @frame.setter
    def frame(self, value: LabeledFrame | None) -> None:
        if self._labels is not None:
            raise ValidationError("an instance in a Labels moves only through Labels methods")
        self._frame = value

    @property
    def frame_idx(self) -> int | None:
        frame = self.frame
        return None if frame is None else frame.frame_idx

    @property
    def video(self) -> Video | None:
        frame = self.frame
        return None if frame is None else frame.video

    # ----------------------------------------------------------------- points

    def numpy(self) -> np.ndarray:
        """(n_nodes, 2) xy; NaN for missing or invisible points."""
        rows = self.point_rows()
        out = rows[:, :2].copy()
        out[rows[:, 2] == 0] = np.nan
        return out

    @property
    def points_array(self) -> np.ndarray:
        return self.numpy()

    def get_points_array(self, copy: bool = True, invisible_as_nan: bool = False,
                         full: bool = False) -> np.ndarray:
        rows = self.point_rows()
        if full:
            return rows
        out = rows[:, :2].copy()
        if invisible_as_nan:
            out[rows[:, 2] == 0] = np.nan
        return out

    def _point(self, row: np.ndarray) -> Point:
        return point_from_row(row, predicted=self._kind == 1)

    @property
    def points(self) -> list[Point]:
        """Labelled (non-NaN) points, in node order."""
        rows = self.point_rows()
        return [self._point(r) for r in rows if not (np.isnan(r[0]) or np.isnan(r[1]))]

    @property
    def nodes(self) -> list[Node]:
        rows = self.point_rows()
        nodes = self.skeleton.nodes
        return [nodes[i] for i, r in enumerate(rows) if not (np.isnan(r[0]) or np.isnan(r[1]))]

    @property
    def nodes_points(self) -> list[tuple[Node, Point]]:
        return list(zip(self.nodes, self.points, strict=True))

    def __getitem__(self, node: Node | str | int) -> Point:
        pos = self.skeleton.node_to_index(node)
        return self._point(self.point_rows()[pos])

    def __setitem__(self, node: Node | str | int, point: Point | Any) -> None:
        skeleton = self.skeleton
        pos = skeleton.node_to_index(node)
        row = _row_of(point, predicted=self._kind == 1)
        if self._labels is not None:
            self._labels.set_point(self, skeleton.nodes[pos], row[0], row[1],
                                   visible=bool(row[2]), complete=bool(row[3]),
                                   score=row[4])
        else:
            self._fixed_rows()[pos] = row

    def __contains__(self, node: object) -> bool:
        skeleton = self.skeleton
        if not skeleton.has_node(node):  # type: ignore[arg-type]
            return False
        row = self.point_rows()[skeleton.node_to_index(node)]  # type: ignore[arg-type]
        return not (np.isnan(row[0]) or np.isnan(row[1]))

    def __len__(self) -> int:
        """Visible, non-NaN points; an instance without any is falsy (as in SLEAP)."""
        rows = self.point_rows()
        return int(np.sum((rows[:, 2] != 0) & ~np.isnan(rows[:, 0]) & ~np.isnan(rows[:, 1])))

    @property
    def n_visible_points(self) -> int:
        return len(self)

    # ----------------------------------------------------------------- comparison

    def matches(self, other: Any) -> bool:
        """SLEAP's perfect match: same class, equal non-NaN points in sequence,
        matching skeletons and tracks, same frame index."""
        if type(other) is not type(self):
            return False
        mine, theirs = self._present_rows(), other._present_rows()
        if mine.shape != theirs.shape or not np.array_equal(mine, theirs):
            return False
        if not self.skeleton.matches(other.skeleton):
            return False
        a, b = self.track, other.track
        if (a is None) != (b is None) or (a is not None and not a.matches(b)):
            return False
        return self.frame_idx == other.frame_idx

    def _present_rows(self) -> np.ndarray:
        rows = self.point_rows()
        keep = ~(np.isnan(rows[:, 0]) | np.isnan(rows[:, 1]))
        cols = 5 if self._kind == 1 else 4
        return rows[keep][:, :cols]

    def __repr__(self) -> str:
        track = self.track
        return (f"{type(self).__name__}(video={self.video!r}, frame_idx={self.frame_idx}, "
                f"points={self.numpy().tolist()}, track={track!r})")


class PredictedInstance(Instance):
    """``PredictedInstance(skeleton, points, score=0.0, tracking_score=0.0, track=None)``."""

    __slots__ = ()
    _kind = 1

    def __init__(self, skeleton: Skeleton, points: Any = None, score: float = 0.0,
                 tracking_score: float = 0.0, track: Track | None = None,
                 frame: LabeledFrame | None = None, from_predicted: Any = None) -> None:
        if from_predicted is not None:
            raise ValidationError("a PredictedInstance cannot have from_predicted")
        super().__init__(skeleton, points=points, track=track, frame=frame)
        self._score = float(score)
        self._tracking_score = float(tracking_score)

    @classmethod
    def from_numpy(cls, points: Any, point_confidences: Any, instance_score: float,  # type: ignore[override]
                   skeleton: Skeleton, tracking_score: float = 0.0,
                   track: Track | None = None) -> PredictedInstance:
        pts = np.asarray(points, dtype=np.float64)
        rows = empty_rows(len(skeleton.nodes))
        if pts.shape != (len(skeleton.nodes), 2):
            raise SkeletonMismatchError(
                f"points of shape {pts.shape} do not fit skeleton {skeleton.name!r}")
        rows[:, :2] = pts
        rows[:, 4] = np.asarray(point_confidences, dtype=np.float64).reshape(-1)
        return cls(skeleton, rows, score=instance_score, tracking_score=tracking_score,
                   track=track)

    @classmethod
    def from_instance(cls, instance: Instance, score: float) -> PredictedInstance:
        rows = instance.point_rows()
        return cls(instance.skeleton, rows, score=score, track=instance.track)

    @property
    def from_predicted(self) -> None:  # type: ignore[override]
        return None

    @from_predicted.setter
    def from_predicted(self, value: Any) -> None:
        if value is not None:
            raise ValidationError("a PredictedInstance cannot have from_predicted")

    @property
    def score(self) -> float:
        if self._labels is None:
            return self._score
        return self._data().score

    @property
    def tracking_score(self) -> float:
        if self._labels is None:
            return self._tracking_score
        return self._data().tracking_score

    @property
    def scores(self) -> np.ndarray:
        return self.point_rows()[:, 4].copy()


def instance_class(kind: int) -> type[Instance]:
    return PredictedInstance if kind == 1 else Instance


_ = PredictedPoint  # re-exported for callers building predicted points
