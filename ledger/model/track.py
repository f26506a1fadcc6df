"""Track: an identity followed across frames. Compared by identity, as in SLEAP."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from ledger.core.values import check_int, check_text
from ledger.errors import ValidationError
from ledger.model.owned import OwnedByLabels

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


class Track(OwnedByLabels):
    """``Track(spawned_on=0, name="")``. ``matches`` compares by value."""

    __slots__ = ("_spawned_on", "_name", "_id", "_owner_ref", "__weakref__")

    def __init__(self, spawned_on: int = 0, name: str = "") -> None:
        # checked here as well as on commit: a value the ledger cannot store fails
        # where it is written, not later at an unrelated call
        self._spawned_on = _spawned_on_arg(spawned_on)
        self._name = check_text(str(name), "a track name")  # str(): SLEAP's converter
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
            self._name = check_text(str(value), "a track name")

    @property
    def spawned_on(self) -> int:
        return self._spawned_on

    @spawned_on.setter
    def spawned_on(self, value: int) -> None:
        if self._owner is not None:
            self._owner.set_track_spawned_on(self, _spawned_on_arg(value))
        else:
            self._spawned_on = _spawned_on_arg(value)

    def matches(self, other: Any) -> bool:
        return (isinstance(other, Track) and self.name == other.name
                and self.spawned_on == other.spawned_on)

    def __repr__(self) -> str:
        return f"Track(spawned_on={self.spawned_on}, name={self.name!r})"


def _spawned_on_arg(value: Any) -> int:
    """SLEAP's ``int`` converter (``Track("5")`` is frame 5), then the 64-bit range
    a ledger can store."""
    try:
        as_int = int(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"spawned_on must be an integer, not {value!r}") from exc
    if isinstance(value, float) and as_int != value:
        raise ValidationError(f"spawned_on must be a whole number, not {value!r}")
    return check_int(as_int, "spawned_on")
