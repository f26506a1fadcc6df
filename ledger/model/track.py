"""Track: an identity followed across frames. Compared by identity, as in SLEAP."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from ledger.model.owned import OwnedByLabels

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


class Track(OwnedByLabels):
    """``Track(spawned_on=0, name="")``. ``matches`` compares by value."""

    __slots__ = ("_spawned_on", "_name", "_id", "_owner_ref", "__weakref__")

    def __init__(self, spawned_on: int = 0, name: str = "") -> None:
        self._spawned_on = int(spawned_on)
        self._name = str(name)
        self._id: int | None = None
        self._owner_ref: weakref.ref[Labels] | None = None

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        if self._owner is not None:
            self._owner.rename_track(self, str(value))
        else:
            self._name = str(value)

    @property
    def spawned_on(self) -> int:
        return self._spawned_on

    @spawned_on.setter
    def spawned_on(self, value: int) -> None:
        if self._owner is not None:
            self._owner.set_track_spawned_on(self, int(value))
        else:
            self._spawned_on = int(value)

    def matches(self, other: Any) -> bool:
        return (isinstance(other, Track) and self.name == other.name
                and self.spawned_on == other.spawned_on)

    def __repr__(self) -> str:
        return f"Track(spawned_on={self.spawned_on}, name={self.name!r})"
