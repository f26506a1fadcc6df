"""`Labels`: SLEAP's dataset API over an event ledger.

Reading methods look at the projection (`State`); every change is built as events
by the editing methods (`ledger.sleap.labels_edit`) and committed through the ledger, so
history, undo/redo and time travel come for free. Merge methods live in
`ledger.sleap.labels_merge` and file methods in `ledger.sleap.labels_files`.

Example::

    labels = Labels()
    labels.append(LabeledFrame(video, 0, [Instance(skel, {"head": Point(1, 2)})]))
    labels.undo()
    len(labels)   # 0
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ledger.core.ids import NO_ID, IdSource
from ledger.core.rangelist import RangeList
from ledger.core.state import State, canonical
from ledger.errors import NotFoundError, ReadOnlyError, ValidationError
from ledger.model.frame import LabeledFrame
from ledger.model.instance import Instance, PredictedInstance
from ledger.model.skeleton import Node, Skeleton
from ledger.model.suggestion import SuggestionFrame
from ledger.model.track import Track
from ledger.model.video import Video
from ledger.project.project import History, Project
from ledger.sleap.cache import LabelsDataCache
from ledger.sleap.labels_analysis import AnalysisMixin
from ledger.sleap.labels_audit import AuditMixin
from ledger.sleap.labels_defs import DefinitionsMixin
from ledger.sleap.labels_edit import EditingMixin, int_arg
from ledger.sleap.labels_files import FilesMixin
from ledger.sleap.labels_merge import MergeMixin
from ledger.sleap.registry import InstanceRecord, Registry
from ledger.store.base import Store
from ledger.store.memory import MemoryStore


class Labels(EditingMixin, DefinitionsMixin, MergeMixin, FilesMixin, AuditMixin, AnalysisMixin):
    """A SLEAP project whose every change is an event in a ledger."""

    def __init__(self, labeled_frames: Iterable[LabeledFrame] | None = None,
                 videos: Iterable[Video] | None = None,
                 skeletons: Iterable[Skeleton] | None = None,
                 nodes: Iterable[Node] | None = None,
                 tracks: Iterable[Track] | None = None,
                 suggestions: Iterable[SuggestionFrame] | None = None,
                 negative_anchors: dict[Video, list] | None = None,
                 provenance: dict[str, Any] | None = None, *,
                 author: str | None = None, ids: IdSource | None = None,
                 store: Store | None = None, project: Project | None = None) -> None:
        self.project: Project = project if project is not None else Project(
            store, author, ids=ids)
        self._ids: IdSource = self.project.ids
        self._registry = Registry(self)
        self._ledger = self.project.ledger
        self._ledger.add_listener(self._registry.on_event)
        self._sync_all()
        self.cache = LabelsDataCache(self)
        initial = [labeled_frames, videos, skeletons, tracks, suggestions, negative_anchors,
                   provenance]
        if any(x for x in initial):
            self._populate(list(labeled_frames or []), list(videos or []),
                           list(skeletons or []), list(tracks or []),
                           list(suggestions or []), dict(negative_anchors or {}),
                           dict(provenance or {}))
        del nodes  # nodes are always those of the skeletons (see docs/compat.md)

    def _sync_all(self) -> None:
        """Make facade objects for definitions already in the state (reopen, at())."""
        st = self._ledger.state
        for sid in st.skeleton_order:
            self._registry.sync_skeleton(st.skeletons[sid])
        for tid in st.track_order:
            self._registry.sync_track(st.tracks[tid])
        for vid in st.video_order:
            self._registry.sync_video(st.videos[vid])

    def _populate(self, frames: list[LabeledFrame], videos: list[Video],
                  skeletons: list[Skeleton], tracks: list[Track],
                  suggestions: list[SuggestionFrame], anchors: dict[Video, list],
                  provenance: dict[str, Any]) -> None:
        with self.transaction("create labels"):
            for video in videos:
                self.add_video(video)
            for skeleton in skeletons:
                self._register_skeleton(skeleton)
            for track in tracks:
                self._register_track(track)
            new_tracks: dict[int, Track] = {}
            for lf in frames:
                for inst in lf.instances:
                    for t in (inst.track, getattr(inst.from_predicted, "track", None)):
                        if t is not None and self._tid(t) is None:
                            new_tracks[id(t)] = t
            for t in sorted(new_tracks.values(), key=lambda t: (t.spawned_on, t.name)):
                self._register_track(t)
            for lf in frames:
                self.append(lf)
            if suggestions:
                self.set_suggestions(suggestions)
            for video, entries in anchors.items():
                for frame_idx, x, y in entries:
                    self.add_negative_anchor(video, frame_idx, (x, y))
            if provenance:
                self.provenance = provenance

    # ----------------------------------------------------------------- plumbing

    @property
    def _state(self) -> State:
        return self._ledger.state

    def _video_by_id(self, vid: int) -> Video:
        return self._registry.videos[vid]

    def _vid(self, video: Video) -> int | None:
        """The id of a video that is in these labels (or was copied in), else None."""
        vid = self._registry.def_id(video, self._registry.videos)
        return vid if vid is not None and vid in self._state.videos else None

    def _require_vid(self, video: Video) -> int:
        vid = self._vid(video)
        if vid is None:
            raise NotFoundError(f"video {video!r} is not in the labels")
        return vid

    def _frame_row(self, frame: LabeledFrame) -> int | None:
        if frame._labels is not self:
            return None
        return self._state.frames.row_of(*frame._key)  # type: ignore[misc]

    def _instance_record(self, ident: int) -> InstanceRecord:
        st = self._state
        row = st.instances.row_of(ident)
        if row is None:
            raise NotFoundError(f"instance {ident} is no longer in the labels")
        c = st.instances.cols.cols
        track = int(c["track"][row])
        link = int(c["from_predicted"][row])
        f_row = int(c["frame"][row])
        fp = None
        if link != NO_ID:
            link_row = st.instances.row_of(link)
            fp = (self._registry.instance_view(link, int(c["kind"][link_row]))
                  if link_row is not None else None)
        return InstanceRecord(
            skeleton=self._registry.skeletons[int(c["skeleton"][row])],
            track=None if track == NO_ID else self._registry.tracks[track],
            from_predicted=fp,
            frame=self._registry.frame_view(st.frame_key(f_row)),
            score=float(c["score"][row]),
            tracking_score=float(c["tracking_score"][row]),
        )

    def _instance_rows(self, ident: int) -> np.ndarray:
        st = self._state
        row = st.instances.row_of(ident)
        if row is None:
            raise NotFoundError(f"instance {ident} is no longer in the labels")
        return st.instances.points_of(row)

    def _frame_instances(self, key: tuple[int, int]) -> list[Instance]:
        st = self._state
        row = st.frames.row_of(*key)
        if row is None:
            return []
        c = st.instances.cols.cols
        return [self._registry.instance_view(int(c["id"][r]), int(c["kind"][r]))
                for r in st.frame_instance_rows(row)]

    def _frame_at_row(self, row: int) -> LabeledFrame:
        return self._registry.frame_view(self._state.frame_key(row))

    def _rows_of_video(self, vid: int) -> list[int]:
        """Live frame rows of a video, in list order."""
        st = self._state
        video_col = st.frames.cols.cols["video"]
        return [r for r in st.frames.order() if video_col[r] == vid]

    # ----------------------------------------------------------------- containers

    @property
    def labeled_frames(self) -> list[LabeledFrame]:
        """All labelled frames, in the labels' order (SLEAP's list; views over the state, not
        copies)."""
        return [self._frame_at_row(r) for r in self._state.frames.order()]

    @property
    def labels(self) -> list[LabeledFrame]:
        """Alias of `labeled_frames`, as in SLEAP."""
        return self.labeled_frames

    @property
    def videos(self) -> list[Video]:
        """The videos, in order (`Video` objects attached to these labels)."""
        return [self._registry.videos[v] for v in self._state.video_order]

    @property
    def skeletons(self) -> list[Skeleton]:
        """The skeletons, in order."""
        return [self._registry.skeletons[s] for s in self._state.skeleton_order]

    @property
    def nodes(self) -> list[Node]:
        """Every node of every skeleton, in order."""
        seen: dict[int, Node] = {}
        for skel in self.skeletons:
            for node in skel.nodes:
                seen.setdefault(id(node), node)
        return list(seen.values())

    @property
    def tracks(self) -> list[Track]:
        """The tracks, in order."""
        return [self._registry.tracks[t] for t in self._state.track_order]

    @property
    def suggestions(self) -> list[SuggestionFrame]:
        """The suggested frames (`SuggestionFrame`), in order; assigning replaces them
        (one undoable event)."""
        return [SuggestionFrame(self._registry.videos[s.video], s.frame_idx, s.group)
                for s in self._state.suggestions]

    @suggestions.setter
    def suggestions(self, value: Iterable[SuggestionFrame]) -> None:
        self.set_suggestions(list(value))

    @property
    def negative_anchors(self) -> dict[Video, list[tuple[int, float, float]]]:
        """Per video, the negative anchors as (frame_idx, x, y), as SLEAP keeps them."""
        return {self._registry.videos[v]: [tuple(a) for a in lst]  # type: ignore[misc]
                for v, lst in self._state.anchors.items() if lst}

    @property
    def provenance(self) -> dict[str, Any]:
        """The provenance dict (a copy); assigning replaces it as one undoable event."""
        return dict(self._state.provenance)

    @provenance.setter
    def provenance(self, value: dict[str, Any]) -> None:
        self.set_provenance(dict(value))

    @property
    def skeleton(self) -> Skeleton:
        """The only skeleton; raises when there is not exactly one (as SLEAP does)."""
        skels = self.skeletons
        if len(skels) != 1:
            raise ValueError(f"labels have {len(skels)} skeletons, not exactly one")
        return skels[0]

    @property
    def video(self) -> Video:
        """The only video; raises when there is not exactly one (as SLEAP does)."""
        vids = self.videos
        if len(vids) != 1:
            raise ValueError(f"labels have {len(vids)} videos, not exactly one")
        return vids[0]

    def __len__(self) -> int:
        return len(self._state.frames.order())

    def __iter__(self) -> Iterator[LabeledFrame]:
        for r in list(self._state.frames.order()):
            yield self._frame_at_row(r)

    def __getitem__(self, key: Any) -> Any:
        """Like `get`, but an unknown key raises `NotFoundError` (a ``KeyError``),
        as SLEAP's ``__getitem__`` does."""
        return self.get(key, raise_errors=True)

    def get(self, key: Any, *secondary: Any, use_cache: bool = False,
            raise_errors: bool = False) -> Any:
        """SLEAP's lookup: int/slice/list → frames by position; Video → its frames;
        (Video, int) → that frame; (Video, list) → those frames. Unknown keys give
        None unless ``raise_errors``."""
        if secondary:
            key = (key, *secondary)
        order = self._state.frames.order()
        try:
            if isinstance(key, int | np.integer) and not isinstance(key, bool):
                return self._frame_at_row(order[int(key)])
            if isinstance(key, slice):
                return [self._frame_at_row(r) for r in order[key]]
            if isinstance(key, range | list | np.ndarray):
                return [self._frame_at_row(order[int(i)]) for i in key]
            if isinstance(key, Video):
                self._require_vid(key)
                return self.find(key)
            if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], Video):
                self._require_vid(key[0])
                if isinstance(key[1], int | np.integer):
                    found = self.find_first(key[0], int(key[1]))
                    if found is None:
                        raise NotFoundError(f"no frame {key[1]} in {key[0]!r}")
                    return found
                return self.find(key[0], key[1])
            raise NotFoundError(f"unsupported key {key!r}")
        except KeyError:
            if raise_errors:
                raise
            return None

    def __contains__(self, item: Any) -> bool:
        if isinstance(item, LabeledFrame):
            return self._frame_row(item) is not None
        if isinstance(item, Video):
            return self._vid(item) is not None
        if isinstance(item, Skeleton):
            return any(s is item for s in self.skeletons)
        if isinstance(item, Node):
            return any(n is item for n in self.nodes)
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Video) and \
                isinstance(item[1], int | np.integer) and not isinstance(item[1], bool):
            return self.find_first(item[0], int(item[1])) is not None
        raise ValueError(f"cannot test membership of {item!r}")

    def index(self, value: LabeledFrame) -> int:
        """Position of a labelled frame in `labeled_frames` (ValueError when absent)."""
        row = self._frame_row(value)
        if row is None:
            raise ValueError("frame is not in the labels")
        return self._state.frames.order().index(row)

    # ----------------------------------------------------------------- finding

    def find(self, video: Video, frame_idx: int | Iterable[int] | None = None,
             return_new: bool = False) -> list[LabeledFrame]:
        """Frames of ``video``: all (list order), one index, or several (in request
        order, missing ones skipped, or made new when ``return_new``)."""
        vid = self._vid(video)
        if frame_idx is None:
            return [] if vid is None else [self._frame_at_row(r) for r in self._rows_of_video(vid)]
        single = isinstance(frame_idx, int | np.integer) and not isinstance(frame_idx, bool)
        if not single and (isinstance(frame_idx, str | bytes | float | bool | np.floating)
                           or not isinstance(frame_idx, Iterable)):
            raise ValidationError(f"frame_idx must be an int or a list of ints, not {frame_idx!r}")
        wanted = [int_arg(i, "frame_idx") for i in  # type: ignore[union-attr]
                  ([frame_idx] if single else frame_idx)]
        out = []
        for f in wanted:
            row = None if vid is None else self._state.frames.row_of(vid, f)
            if row is not None:
                out.append(self._frame_at_row(row))
            elif return_new:
                out.append(LabeledFrame(video, f))
        return out

    def find_first(self, video: Video, frame_idx: int | None = None,
                   use_cache: bool = False) -> LabeledFrame | None:
        """The first labelled frame of ``video`` (at ``frame_idx`` when given), or None."""
        vid = self._vid(video)
        if vid is None:
            return None
        if frame_idx is not None:
            row = self._state.frames.row_of(vid, int_arg(frame_idx, "frame_idx"))
            return None if row is None else self._frame_at_row(row)
        rows = self._rows_of_video(vid)
        return self._frame_at_row(rows[0]) if rows else None

    def find_last(self, video: Video, frame_idx: int | None = None) -> LabeledFrame | None:
        """The last labelled frame of ``video`` (at ``frame_idx`` when given), or None."""
        if frame_idx is not None:
            return self.find_first(video, frame_idx)
        vid = self._vid(video)
        if vid is None:
            return None
        rows = self._rows_of_video(vid)
        return self._frame_at_row(rows[-1]) if rows else None

    def has_frame(self, lf: LabeledFrame | None = None, video: Video | None = None,
                  frame_idx: int | None = None, use_cache: bool = True) -> bool:
        """Whether a frame (a `LabeledFrame`, or ``video`` and ``frame_idx``) is labelled."""
        if lf is not None:
            video, frame_idx = lf.video, lf.frame_idx
        if video is None or frame_idx is None:
            raise ValidationError("has_frame needs a frame, or a video and a frame index")
        return self.find_first(video, frame_idx) is not None

    def frames(self, video: Video, from_frame_idx: int = -1,
               reverse: bool = False) -> Iterator[LabeledFrame]:
        """Frames of a video by frame index, starting after ``from_frame_idx`` (before
        it when ``reverse``, then descending) and wrapping around once."""
        vid = self._require_vid(video)
        fc = self._state.frames.cols.cols
        rows = self._rows_of_video(vid)
        rows.sort(key=lambda r: int(fc["frame_idx"][r]))
        idxs = [int(fc["frame_idx"][r]) for r in rows]
        if not rows:
            return
        if reverse:
            start = max((k for k, f in enumerate(idxs) if f < from_frame_idx),
                        default=len(idxs) - 1)
            ordered = [rows[(start - k) % len(rows)] for k in range(len(rows))]
        else:
            start = min((k for k, f in enumerate(idxs) if f > from_frame_idx), default=0)
            ordered = [rows[(start + k) % len(rows)] for k in range(len(rows))]
        for r in ordered:
            yield self._frame_at_row(r)

    def instances(self, video: Video | None = None,
                  skeleton: Skeleton | None = None) -> Iterator[Instance]:
        """Instances of ``video`` and/or ``skeleton`` (all when None), frame by frame."""
        for lf in self:
            if video is not None and lf.video is not video:
                continue
            for inst in lf.instances:
                if skeleton is None or inst.skeleton is skeleton:
                    yield inst

    @property
    def all_instances(self) -> list[Instance]:
        """Every instance, user and predicted, in frame order."""
        return list(self.instances())

    @property
    def user_instances(self) -> list[Instance]:
        """Every user (hand-labelled) instance, in frame order."""
        return [i for i in self.instances() if type(i) is Instance]

    @property
    def predicted_instances(self) -> list[PredictedInstance]:
        """Every predicted instance, in frame order."""
        return [i for i in self.instances() if type(i) is PredictedInstance]  # type: ignore[misc]

    @property
    def user_labeled_frames(self) -> list[LabeledFrame]:
        """The frames that have at least one user instance."""
        fc = self._state.frames.cols.cols
        return [self._frame_at_row(r) for r in self._state.frames.order() if fc["n_user"][r] > 0]

    def instance_count(self, video: Video, frame_idx: int) -> int:
        """Instances (user and predicted, as SLEAP ≥ 1.0.9) on a frame."""
        lf = self.find_first(video, frame_idx)
        return 0 if lf is None else len(lf.instances)

    def get_labeled_frame_count(self, video: Video | None = None, filter: str = "") -> int:
        """How many frames are labelled (in ``video``, or all), with ``filter`` "user" or
        "predicted" as SLEAP; read from counters, not by scanning."""
        return self.cache.get_frame_count(video, filter)

    def update_cache(self) -> None:
        """Caches are projections kept right by every event; nothing to rebuild."""

    # ----------------------------------------------------------------- tracks

    def get_track_occupancy(self, video: Video) -> dict[Track | None, RangeList]:
        """The frames ``track`` (or each track) occupies in ``video``, as a `RangeList` (SLEAP's
        API)."""
        return self.cache.get_video_track_occupancy(video)

    def get_track_count(self, video: Video) -> int:
        """Number of real tracks occupied in the video (untracked instances do not
        count as a track; see docs/compat.md)."""
        return sum(1 for t in self.get_track_occupancy(video) if t is not None)

    def find_track_occupancy(self, video: Video, track: Track | int | None,
                             frame_range: tuple[int, int] | range | None = None
                             ) -> list[Instance]:
        """Instances on ``track`` in ``video`` within ``frame_range`` (all frames when None)."""
        if isinstance(frame_range, tuple):
            frame_range = range(*frame_range)

        def matches(inst: Instance, k: int) -> bool:
            if isinstance(track, Track):
                return inst.track is track
            if isinstance(track, int) and not isinstance(track, bool):
                return k == track and inst.track is None
            return False

        out = []
        for lf in self.find(video):
            if frame_range is not None and lf.frame_idx not in frame_range:
                continue
            out.extend(inst for k, inst in enumerate(lf.instances) if matches(inst, k))
        return out

    # ----------------------------------------------------------------- suggestions

    def get_suggestions(self) -> list[SuggestionFrame]:
        """All suggested frames (a list, as SLEAP returns)."""
        return self.suggestions

    def get_video_suggestions(self, video: Video, user_labeled: bool = True) -> list[int]:
        """The suggested frame indices of ``video`` (labelled ones too unless ``user_labeled`` is
        False)."""
        vid = self._vid(video)
        out = []
        for s in self._state.suggestions:
            if s.video != vid:
                continue
            if not user_labeled:
                row = self._state.frames.row_of(s.video, s.frame_idx)
                if row is not None and self._state.frames.cols.cols["n_user"][row] > 0:
                    continue
            out.append(s.frame_idx)
        return out

    def find_suggestion(self, video: Video, frame_idx: int) -> SuggestionFrame | None:
        """The suggestion for ``video`` at ``frame_idx``, or None."""
        vid = self._vid(video)
        for s in self._state.suggestions:
            if s.video == vid and s.frame_idx == frame_idx:
                return SuggestionFrame(video, s.frame_idx, s.group)
        return None

    def get_next_suggestion(self, video: Video, frame_idx: int,
                            seek_direction: int = 1) -> SuggestionFrame | None:
        """SLEAP's seek: next/previous in list order when on a suggestion, else the
        nearest suggested frame in that direction, else the next video's first
        (or last), wrapping."""
        if seek_direction not in (-1, 1):
            raise ValidationError("seek_direction must be 1 or -1")
        vid = self._vid(video)
        if vid is None:
            return None
        suggs = self._state.suggestions
        vids = self._registry.videos
        for k, s in enumerate(suggs):
            if s.video == vid and s.frame_idx == frame_idx:
                n = suggs[(k + seek_direction) % len(suggs)]
                return SuggestionFrame(vids[n.video], n.frame_idx, n.group)
        frames = [s.frame_idx for s in suggs if s.video == vid]
        if seek_direction > 0:
            after = [f for f in frames if f > frame_idx]
            if after:
                return self.find_suggestion(video, min(after))
        else:
            before = [f for f in frames if f < frame_idx]
            if before:
                return self.find_suggestion(video, max(before))
        order = self._state.video_order
        nxt = order[(order.index(vid) + seek_direction) % len(order)]
        frames = [s.frame_idx for s in suggs if s.video == nxt]
        if not frames:
            return None
        pick = min(frames) if seek_direction > 0 else max(frames)
        return self.find_suggestion(vids[nxt], pick)

    def unlabeled_suggestions(self) -> list[SuggestionFrame]:
        """Suggestions whose frame has no user instance yet (what a labeller does next)."""
        out = []
        for s in self.suggestions:
            lf = self.find_first(s.video, s.frame_idx)
            if lf is None or not lf.has_user_instances:
                out.append(s)
        return out

    # ----------------------------------------------------------------- ledger

    @property
    def history(self) -> History:
        """The committed records, a lazy sequence (``history[-1]`` reads one)."""
        return self.project.history

    def transaction(self, message: str = "") -> Any:
        """A context manager grouping every change inside it into one undoable, all-or-nothing
        transaction with ``message``."""
        return self._ledger.transaction(message)

    def undo(self, author: str | None = None) -> bool:
        """Undo the newest transaction (of ``author`` when given, even with others' work after it);
        False when there is nothing to undo."""
        return self._ledger.undo(author)

    def redo(self) -> bool:
        """Redo the newest undone transaction; False when there is none."""
        return self._ledger.redo()

    @property
    def can_undo(self) -> bool:
        """Whether `undo` would change something."""
        return self._ledger.can_undo

    @property
    def can_redo(self) -> bool:
        """Whether `redo` would change something."""
        return self._ledger.can_redo

    @property
    def author(self) -> str:
        """Who the changes made through these labels are recorded as."""
        return self._ledger.author

    def at(self, version: int | str) -> Labels:
        """A read-only `Labels` as it was right after event ``seq`` (or a tag)."""
        state = self.project.at(version)
        view = Project(MemoryStore(), self.author, read_only=True, ids=self._ids, state=state)
        return Labels(project=view)

    def verify(self, *, deep: bool = False, receipt: Any = None,
               keys: dict[str, str] | None = None) -> int:
        """Re-hash the whole chain and check signatures (see `Project.verify`);
        `IntegrityError` on any tampering it can detect (docs/audit.md)."""
        return self.project.verify(deep=deep, receipt=receipt, keys=keys)

    def receipt(self, author: str | None = None) -> dict[str, Any]:
        """A signed attestation of the head to keep elsewhere (`Project.receipt`)."""
        return self.project.receipt(author)

    def head_hash(self) -> str:
        """The hash of the newest event: names this exact version (it covers the whole chain)."""
        return self.project.head_hash()

    def canonical(self) -> dict[str, Any]:
        """Everything observable, as plain comparable data (see `ledger.core.state.canonical`)."""
        return canonical(self._state)

    def close(self) -> None:
        """Close the project (a durable one may write a snapshot first)."""
        self.project.close()

    def __enter__(self) -> Labels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_writable(self) -> None:
        if self._ledger.read_only:
            raise ReadOnlyError("this labels object is read-only (a historical view)")

    def __repr__(self) -> str:
        return (f"Labels(labeled_frames={len(self)}, videos={len(self._state.video_order)}, "
                f"skeletons={len(self._state.skeleton_order)}, "
                f"tracks={len(self._state.track_order)})")
