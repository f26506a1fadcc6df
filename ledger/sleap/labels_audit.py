"""History-facing `Labels` methods: tags, blame, forks, refresh.

These read the ledger's records rather than the projection: who created an
instance and who last touched it are facts of the history, not of the state.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core import events as ev
from ledger.core.values import check_int
from ledger.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from ledger.core.record import Record
    from ledger.model.video import Video
    from ledger.sleap.labels import Labels

_CREATES = (ev.FramesAdded, ev.InstancesAdded, ev.VideoAdded)
_CHANGES = (ev.PointSet, ev.PointsSet, ev.TracksAssigned, ev.InstanceUpdated)


def _ids_in(event: ev.Event) -> set[int]:
    """Instance ids an event creates or changes."""
    if isinstance(event, ev.FramesAdded):
        return set(event.frames.instances.ids.tolist())
    if isinstance(event, ev.VideoAdded):
        return set(event.frames.instances.ids.tolist()) if event.frames is not None else set()
    if isinstance(event, ev.InstancesAdded):
        return set(event.instances.ids.tolist())
    if isinstance(event, ev.PointSet | ev.PointsSet | ev.InstanceUpdated):
        return {event.instance}
    if isinstance(event, ev.TracksAssigned):
        return set(event.instances)
    if isinstance(event, ev.NodeAdded | ev.NodeRemoved):
        return set(np.asarray(event.instances).tolist())
    return set()


def _who(rec: Record) -> dict[str, Any]:
    return {"seq": rec.seq, "tx": rec.tx, "author": rec.author, "time": rec.time,
            "message": rec.message, "kind": rec.kind}


class AuditMixin:
    """Tags, blame, fork and refresh (mixed into `Labels`)."""

    def tag(self: Labels, name: str, seq: int | None = None) -> int:
        """Name the current version (or ``seq``); needs a durable ledger."""
        store = self._ledger.store
        if not hasattr(store, "set_tag"):
            raise ValidationError("tags need a durable ledger (ledger.open)")
        seq = self._ledger.head if seq is None else int(seq)
        store.set_tag(name, seq)
        return seq

    def tags(self: Labels) -> dict[str, int]:
        store = self._ledger.store
        return dict(store.tags()) if hasattr(store, "tags") else {}

    def resolve_version(self: Labels, version: int | str) -> int:
        """A seq from a seq or a tag name."""
        if isinstance(version, str):
            store = self._ledger.store
            if version.isdigit():
                return int(version)
            if not hasattr(store, "tag_seq"):
                raise NotFoundError(f"no tag {version!r} (in-memory ledgers have no tags)")
            return int(store.tag_seq(version))
        return check_int(version, "a version (seq)")  # not None, 1.7 or True

    def blame(self: Labels, video: Video, frame_idx: int) -> list[dict[str, Any]]:
        """For each instance on a frame: the transaction that created it and the one
        that last changed it (seq, tx, author, time, message, kind)."""
        lf = self.find_first(video, frame_idx)
        if lf is None:
            raise NotFoundError(f"no labelled frame {frame_idx} in {video!r}")
        insts = list(lf.instances)
        wanted = {inst._id: k for k, inst in enumerate(insts)}
        created: dict[int, Record] = {}
        changed: dict[int, Record] = {}
        for rec in self._ledger.records():
            hit = _ids_in(rec.event) & wanted.keys()
            if not hit:
                continue
            for ident in hit:
                if isinstance(rec.event, _CREATES):
                    created[ident] = rec
                changed[ident] = rec
        out = []
        for inst in insts:
            c, m = created.get(inst._id), changed.get(inst._id)
            out.append({"instance": inst, "index": wanted[inst._id],
                        "kind": type(inst).__name__,
                        "track": None if inst.track is None else inst.track.name,
                        "created": None if c is None else _who(c),
                        "last_changed": None if m is None else _who(m)})
        return out

    def fork(self: Labels, path: str | os.PathLike[str]) -> Labels:
        """A new ledger file sharing this history (copying the file works too)."""
        from ledger.project.durable import fork

        return fork(self, path)

    def refresh(self: Labels) -> int:
        """Apply what other writers committed to the same ledger file since."""
        return self._ledger.refresh()
