"""History-facing `Labels` methods: tags, blame, forks, refresh.

These read the ledger's records rather than the projection: who created an
instance and who last touched it are facts of the history, not of the state.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core import events as ev
from ledger.errors import NotFoundError

if TYPE_CHECKING:
    from ledger.core.record import Record
    from ledger.merging.result import MergeResult
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


def _removed_batch(event: ev.Event) -> ev.InstanceBatch | None:
    if isinstance(event, ev.InstancesRemoved):
        return event.instances
    if isinstance(event, ev.FramesRemoved):
        return event.frames.instances
    if isinstance(event, ev.VideoRemoved) and event.frames is not None:
        return event.frames.instances
    return None


def _who(rec: Record) -> dict[str, Any]:
    return {"seq": rec.seq, "tx": rec.tx, "author": rec.author, "time": rec.time,
            "message": rec.message, "kind": rec.kind}


class AuditMixin:
    """Tags, blame, fork and refresh (mixed into `Labels`)."""

    def tag(self: Labels, name: str, seq: int | None = None, *, move: bool = False) -> int:
        """Name the current version (or ``seq``); an existing tag moves only with
        ``move=True``."""
        return self.project.tag(name, seq, move=move)

    def tags(self: Labels) -> dict[str, int]:
        """The named versions: tag name -> seq."""
        return self.project.tags()

    def resolve_version(self: Labels, version: int | str) -> int:
        """A seq from a seq or a tag name."""
        return self.project.resolve_version(version)

    def find_video(self: Labels, spec: int | str | Video) -> Video:
        """A video by index, by file name (full path, then base name) or itself.

        Example: ``labels.find_video("clip.mp4")``, ``labels.find_video(0)``."""
        if not isinstance(spec, int | str):
            return spec
        videos = self.videos
        if isinstance(spec, int) or spec.lstrip("-").isdigit():
            k = int(spec)
            if not 0 <= k < len(videos):
                raise NotFoundError(f"no video {k} (has {len(videos)})")
            return videos[k]
        for rule in (lambda f: f == spec, lambda f: os.path.basename(f.replace("\\", "/"))
                     == os.path.basename(spec.replace("\\", "/"))):
            hits = [v for v in videos if rule(str(v.filename))]
            if len(hits) == 1:
                return hits[0]
            if hits:
                raise NotFoundError(f"{spec!r} names {len(hits)} videos; give the full path")
        raise NotFoundError(f"no video {spec!r} (videos: "
                            f"{', '.join(os.path.basename(str(v.filename)) for v in videos)})")

    def blame(self: Labels, video: Video | int | str, frame_idx: int) -> list[dict[str, Any]]:
        """For each instance on a frame: the transaction that created it and the one
        that last changed it (seq, tx, author, time, message, kind); instances
        removed since are listed after the live ones with ``index`` None and
        ``removed`` (who removed them). ``video`` is a `Video`, index or file name.

        Example: ``[r["last_changed"]["author"] for r in labels.blame("clip.mp4", 12)]``."""
        video = self.find_video(video)
        vid = self._vid(video)
        lf = self.find_first(video, frame_idx)
        insts = list(lf.instances) if lf is not None else []
        wanted = {inst._id: k for k, inst in enumerate(insts)}
        removed: dict[int, tuple[Record, int, int]] = {}  # id -> (record, kind, track)
        for rec in self.project.history:
            batch = _removed_batch(rec.event)
            if batch is None:
                continue
            on = (batch.video == vid) & (batch.frame_idx == frame_idx)
            for ident, kind, track in zip(batch.ids[on].tolist(), batch.kind[on].tolist(),
                                          batch.track[on].tolist(), strict=True):
                removed[ident] = (rec, kind, track)
        gone = {i: v for i, v in removed.items() if i not in wanted}
        if lf is None and not gone:
            raise NotFoundError(f"no labelled frame {frame_idx} in {video!r}")
        created: dict[int, Record] = {}
        changed: dict[int, Record] = {}
        keys = wanted.keys() | gone.keys()
        for rec in self.project.history:
            hit = _ids_in(rec.event) & keys
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
                        "last_changed": None if m is None else _who(m), "removed": None})
        tracks = self.project.state.tracks
        for ident, (rec, kind, track) in gone.items():
            c, m = created.get(ident), changed.get(ident)
            out.append({"instance": ident, "index": None,
                        "kind": "PredictedInstance" if kind else "Instance",
                        "track": tracks[track].name if track in tracks else None,
                        "created": None if c is None else _who(c),
                        "last_changed": None if m is None else _who(m), "removed": _who(rec)})
        return out

    def fork(self: Labels, path: str | os.PathLike[str], author: str | None = None) -> Labels:
        """A new ledger file sharing this history (copying the file works too)."""
        from ledger.project.durable import fork

        return fork(self, path, author)

    def refresh(self: Labels) -> int:
        """Apply what other writers committed to the same ledger since; returns
        how many records. After a `ConcurrencyError`: refresh, then retry."""
        return self.project.refresh()

    # ----------------------------------------------------------------- teams

    def wait_for_changes(self: Labels, timeout: float) -> bool:
        """Block until another writer commits (announced by the server on an
        online ledger) or ``timeout`` seconds pass; then `refresh`.

        Example: ``if labels.wait_for_changes(5): labels.refresh()``."""
        from ledger.project.online import wait_for_changes

        return wait_for_changes(self.project, timeout)

    def retrying(self: Labels, edit: Callable[[], Any], attempts: int = 5) -> Any:
        """Run ``edit()``; if another writer committed first, refresh and run it
        again unless they touched the same things (`ledger.project.online.retrying`).

        Example: ``labels.retrying(lambda: labels.set_point(inst, "nose", 10, 20))``."""
        from ledger.project.online import retrying

        return retrying(self, edit, attempts=attempts)

    def pull(self: Labels) -> MergeResult:
        """A replica fetches its origin's new transactions and replays its own on
        top (`ledger.project.replica`); conflicts come back as a `MergeResult`.

        Example: ``result = labels.pull(); result.resolve_all("theirs"); result.commit()``."""
        from ledger.project.replica import pull

        return pull(self)

    def push(self: Labels) -> int:
        """Send a replica's unpushed transactions to its origin; returns how many.

        Example: ``labels.push()`` (``ConcurrencyError``: pull first)."""
        from ledger.project.replica import push

        return push(self)

    def sync(self: Labels) -> MergeResult:
        """`pull`, then `push` when nothing is left to resolve.

        Example: ``labels.sync().info["pushed"]``."""
        from ledger.project.replica import sync

        return sync(self)

    def remote(self: Labels) -> dict[str, Any]:
        """A replica's origin (no password) and how many records it is ahead and
        behind. Example: ``labels.remote()["behind"]``."""
        from ledger.project.replica import remote

        return remote(self)
