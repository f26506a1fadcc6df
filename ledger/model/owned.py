"""The link from a definition object (skeleton, track, video) to its labels."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


class OwnedByLabels:
    """Mixin: ``_owner`` is the `Labels` this object belongs to, held weakly so that
    an object kept by user code does not keep a whole project alive."""

    __slots__ = ()
    _owner_ref: weakref.ref[Labels] | None

    @property
    def _owner(self) -> Labels | None:
        ref = self._owner_ref
        return None if ref is None else ref()

    @_owner.setter
    def _owner(self, labels: Labels | None) -> None:
        self._owner_ref = None if labels is None else weakref.ref(labels)
