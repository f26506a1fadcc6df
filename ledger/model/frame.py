"""LabeledFrame: the instances of one video frame.

Free frames hold their own list. A frame that lives in a `Labels` is a view keyed
by ``(video, frame_idx)``; its ``instances`` list routes ``append``/``remove`` (and
assignment) through the labels object, so every change is an event and the caches
follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core.values import check_frame_idx
from ledger.errors import ValidationError
from ledger.model.instance import Instance, PredictedInstance

if TYPE_CHECKING:
    from ledger.model.video import Video
    from ledger.sleap.labels import Labels


class FrameInstances:
    """The live instance list of a frame in a labels object."""

    __slots__ = ("_frame",)

    def __init__(self, frame: LabeledFrame) -> None:
        self._frame = frame

    def _list(self) -> list[Instance]:
        return self._frame._labels._frame_instances(self._frame._key)  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[Instance]:
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def __getitem__(self, i: Any) -> Any:
        return self._list()[i]

    def __contains__(self, inst: object) -> bool:
        return any(i is inst for i in self._list())

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Iterable) else NotImplemented

    def index(self, inst: Instance) -> int:
        for k, i in enumerate(self._list()):
            if i is inst:
                return k
        raise ValueError("instance is not in this frame")

    def append(self, inst: Instance) -> None:
        self._frame._labels.add_instance(self._frame, inst)  # type: ignore[union-attr]

    def extend(self, insts: Iterable[Instance]) -> None:
        labels = self._frame._labels
        with labels.transaction("add instances"):  # type: ignore[union-attr]
            for inst in insts:
                labels.add_instance(self._frame, inst)  # type: ignore[union-attr]

    def remove(self, inst: Instance) -> None:
        self._frame._labels.remove_instance(self._frame, inst)  # type: ignore[union-attr]

    def pop(self, i: int = -1) -> Instance:
        inst = self._list()[i]
        self.remove(inst)
        return inst

    def clear(self) -> None:
        labels = self._frame._labels
        with labels.transaction("clear frame"):  # type: ignore[union-attr]
            for inst in self._list():
                labels.remove_instance(self._frame, inst)  # type: ignore[union-attr]

    def __repr__(self) -> str:
        return repr(self._list())


class LabeledFrame:
    """``LabeledFrame(video, frame_idx, instances=None)``."""

    __slots__ = ("_labels", "_key", "_video", "_frame_idx", "_instances", "__weakref__")

    def __init__(self, video: Video, frame_idx: int, instances: Iterable[Instance] | None = None
                 ) -> None:
        self._labels: Labels | None = None
        self._key: tuple[int, int] | None = None
        self._video = video
        self._frame_idx = check_frame_idx(frame_idx)  # 0 <= idx < 2**40, whole numbers only
        self._instances: list[Instance] = []
        for inst in instances or []:
            self._adopt(inst)

    @classmethod
    def _attached(cls, labels: Labels, key: tuple[int, int]) -> LabeledFrame:
        obj = cls.__new__(cls)
        obj._labels = labels
        obj._key = key
        obj._video = None
        obj._frame_idx = key[1]
        obj._instances = []
        return obj

    def _adopt(self, inst: Instance) -> None:
        if not isinstance(inst, Instance):
            raise ValidationError(f"not an Instance: {inst!r}")
        if not inst.is_attached:
            inst._frame = self
        self._instances.append(inst)

    @property
    def is_attached(self) -> bool:
        return self._labels is not None

    @property
    def video(self) -> Video:
        if self._labels is None:
            return self._video
        return self._labels._video_by_id(self._key[0])  # type: ignore[index]

    @property
    def frame_idx(self) -> int:
        return self._frame_idx

    @property
    def instances(self) -> Any:
        if self._labels is None:
            return self._instances
        return FrameInstances(self)

    @instances.setter
    def instances(self, value: Iterable[Instance]) -> None:
        if self._labels is None:
            self._instances = []
            for inst in value:
                self._adopt(inst)
            return
        self._labels.set_frame_instances(self, list(value))

    def _list(self) -> list[Instance]:
        return list(self.instances)

    def __len__(self) -> int:
        return len(self.instances)

    def __iter__(self) -> Iterator[Instance]:
        return iter(self._list())

    def __getitem__(self, i: Any) -> Any:
        return self._list()[i]

    def index(self, inst: Instance) -> int:
        for k, i in enumerate(self._list()):
            if i is inst:
                return k
        raise ValueError("instance is not in this frame")

    def append(self, inst: Instance) -> None:
        if self._labels is None:
            self._adopt(inst)
        else:
            self._labels.add_instance(self, inst)

    def insert(self, index: int, inst: Instance) -> None:
        if self._labels is not None:
            raise ValidationError("frames in a Labels append instances (use add_instance)")
        self._adopt(inst)
        self._instances.insert(index, self._instances.pop())

    # ----------------------------------------------------------------- queries

    @property
    def user_instances(self) -> list[Instance]:
        return [i for i in self._list() if type(i) is Instance]

    @property
    def predicted_instances(self) -> list[PredictedInstance]:
        return [i for i in self._list() if type(i) is PredictedInstance]  # type: ignore[misc]

    @property
    def training_instances(self) -> list[Instance]:
        return [i for i in self.user_instances if len(i) > 0]

    @property
    def tracked_instances(self) -> list[PredictedInstance]:
        return [i for i in self.predicted_instances if i.track is not None]

    @property
    def has_user_instances(self) -> bool:
        return bool(self.user_instances)

    @property
    def has_predicted_instances(self) -> bool:
        return bool(self.predicted_instances)

    @property
    def has_tracked_instances(self) -> bool:
        return bool(self.tracked_instances)

    @property
    def n_user_instances(self) -> int:
        return len(self.user_instances)

    @property
    def n_predicted_instances(self) -> int:
        return len(self.predicted_instances)

    @property
    def n_tracked_instances(self) -> int:
        return len(self.tracked_instances)

    @property
    def unused_predictions(self) -> list[PredictedInstance]:
        """Predictions not covered by a user instance (by track when the frame has
        tracks, otherwise by ``from_predicted``)."""
        insts = self._list()
        users = [i for i in insts if type(i) is Instance]
        preds = [i for i in insts if type(i) is PredictedInstance]
        if any(i.track is not None for i in insts):
            used = {id(i.track) for i in users if i.track is not None}
            return [p for p in preds if p.track is None or id(p.track) not in used]
        linked = {id(u.from_predicted) for u in users if u.from_predicted is not None}
        return [p for p in preds if id(p) not in linked]  # type: ignore[misc]

    @property
    def instances_to_show(self) -> list[Instance]:
        shown = self.user_instances + self.unused_predictions
        return sorted(shown, key=lambda i: (i.track is None,
                                            i.track.spawned_on if i.track is not None else 0))

    def find(self, track: Any = -1, user: bool = False) -> list[Instance]:
        """Instances with ``track`` (-1: any, None: untracked); ``user``: exact
        `Instance` only."""
        out = []
        for inst in self._list():
            if user and type(inst) is not Instance:
                continue
            if isinstance(track, int) and track == -1:
                out.append(inst)
            elif inst.track is track:
                out.append(inst)
        return out

    def numpy(self) -> np.ndarray:
        insts = self._list()
        if not insts:
            return np.zeros((0, 0, 2))
        return np.stack([i.numpy() for i in insts])

    @property
    def image(self) -> np.ndarray:
        return self.video.get_frame(self.frame_idx)

    def remove_untracked(self) -> None:
        self.instances = [i for i in self._list() if i.track is not None]

    def remove_empty_instances(self) -> None:
        self.instances = [i for i in self._list() if len(i) > 0]

    def __repr__(self) -> str:
        return (f"LabeledFrame(video={self.video!r}, frame_idx={self.frame_idx}, "
                f"instances={len(self)})")
