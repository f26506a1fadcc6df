"""`merge(ours, theirs)`: three-way merge of ledgers, with a state-based fallback.

With shared history the base is the state at the fork point (or at theirs' head
of a previous merge); both sides are compared to it, limited to the instances
and frames their events after the fork mention, and `Combiner` turns the two
change sets into a plan and conflicts.

Without shared history (two `.slp` files) theirs is first rewritten into ours'
id space by content (`ledger.diffing.matching.translate`); the comparison from
ours to that is then read as a two-way merge: theirs' unmatched frames,
instances, videos, tracks, skeletons and nodes are added, matched things keep
ours' values, and a frame where both sides have unmatched instances of the same
kind is a ``frame`` conflict (SLEAP's rule) with the same `MergeResult` API.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np

from ledger.core.state import State
from ledger.diffing import gather as g
from ledger.diffing.changes import Changes, Scope, compare
from ledger.diffing.matching import InstanceRule, translate
from ledger.errors import ValidationError
from ledger.merging.authored import Incoming
from ledger.merging.history import Mentions, attribute, find_base, scope_of
from ledger.merging.plan import Combiner
from ledger.merging.result import MergeResult

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


def merge(ours: Labels, theirs: Labels, dry_run: bool = False, *,
          tracks: Literal["name", "id"] = "name", instances: InstanceRule = "exact",
          tolerance: float = 0.0) -> MergeResult:
    """Merge ``theirs`` into ``ours``; nothing changes until ``result.commit()``.

    ``tracks``, ``instances`` and ``tolerance`` choose how the state-based
    fallback matches contents (they are unused when the ledgers share history).
    """
    from ledger.sleap.labels import Labels

    for side, value in (("ours", ours), ("theirs", theirs)):
        if not isinstance(value, Labels):
            raise ValidationError(f"merge needs two Labels; {side} is {type(value).__name__}")
    base, ours_after, theirs_after = find_base(ours, theirs)
    info = {"fork_seq": base.fork_seq, "ours_head": ours.project.head_hash(),
            "theirs_head": theirs.project.head_hash(), "theirs_seq": theirs.project.head}
    if base.fork_seq == 0 and not base.from_theirs:
        return _state_merge(ours, theirs, dry_run, info, tracks, instances, tolerance)
    info["mode"] = "three-way"
    t_start = o_start = 0
    if base.from_theirs:
        info["base"] = {"side": "theirs", "seq": base.theirs_seq}
        base_state = theirs.project.at(base.theirs_seq)
        t_start = base.theirs_seq - base.fork_seq
    else:
        info["base"] = {"side": "ours", "seq": base.ours_seq}
        base_state = ours.project.at(base.ours_seq)
        o_start = base.ours_seq - base.fork_seq
    m_o, m_t = Mentions.of(ours_after), Mentions.of(theirs_after)
    scope = scope_of(m_o, m_t)
    d_o = compare(base_state, ours.project.state, scope)
    d_t = (compare(base_state, theirs.project.state, scope) if len(theirs_after) > t_start
           else Changes())
    plan, conflicts = Combiner(ours.project.state, theirs.project.state, d_o, d_t).run()
    attribute(conflicts, "ours", m_o, o_start)
    attribute(conflicts, "theirs", m_t, t_start)
    return MergeResult(ours, plan, conflicts, dry_run=dry_run, info=info,
                       replay=Incoming(base, ours_after, theirs_after, scope))


def _state_merge(ours: Labels, theirs: Labels, dry_run: bool, info: dict,
                 tracks: Literal["name", "id"], instances: InstanceRule,
                 tolerance: float) -> MergeResult:
    info["mode"] = "state"
    so = ours.project.state
    st = translate(so, theirs.project.state, tracks=tracks, instances=instances,
                   tolerance=tolerance, ids=ours.project.ids)
    d_t = compare(so, st, _frames_scope(so, st))
    notes = _state_merge_notes(so, st, d_t)
    d_o = Changes()
    # ours' unmatched instances in shared frames count as "ours added" (frame rule)
    d_o.added = d_t.removed
    two_way(so, d_t)
    plan, conflicts = Combiner(so, st, d_o, d_t).run()
    result = MergeResult(ours, plan, conflicts, dry_run=dry_run, info=info)
    result.warnings = notes
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=3)
    return result


def _state_merge_notes(ours: State, theirs: State, d: Changes) -> list[str]:
    """What a history-less merge should say out loud (issue 11 item 7): that it
    is one, which videos and skeletons it adds, and which of theirs' changes to
    things both have it leaves out (ours wins: removals, moved points)."""
    notes = ["the two ledgers share no history: merging by content (matched videos, "
             "skeletons, tracks and instances keep ours' values)"]
    new_videos = [v.backend.get("filename", "?") for b, v in d.videos.values() if b is None]
    new_skels = [s.name for b, s in d.skeletons.values() if b is None]
    if new_videos:
        notes.append(f"adds {len(new_videos)} video(s): {', '.join(map(str, new_videos))}")
    if new_skels:
        notes.append(f"adds {len(new_skels)} skeleton(s): {', '.join(map(str, new_skels))}")
    removed = len(d.removed.ids) if d.removed is not None else 0
    if removed:
        notes.append(f"{removed} instance(s) of ours are not in theirs (removed there?); "
                     "kept")
    if len(d.pt_inst):
        notes.append(f"{len(np.unique(d.pt_inst))} matched instance(s) have points that "
                     f"differ within the tolerance ({len(d.pt_inst)} points); ours kept")
    return notes


def _frames_scope(ours: State, theirs: State) -> Scope:
    """Theirs' instances and frames, plus ours' instances in those frames."""
    t_ids, _ = g.live_ids(theirs)
    tv, tf = g.live_frame_keys(theirs)
    o_ids, o_rows = g.live_ids(ours)
    ov, of = g.frame_keys_of_rows(ours, o_rows)
    coder = g.KeyCoder(ours.video_order, theirs.video_order)
    shared = np.isin(coder.pack(ov, of), coder.pack(tv, tf))
    return Scope(np.concatenate([t_ids, o_ids[shared]]), tv, tf)


def two_way(ours: State, d: Changes) -> None:
    """Read ours→theirs' as "what theirs adds": keep additions, drop removals and
    value changes of matched things (ours wins), union containers."""
    import ledger.core.events as ev

    d.removed = ev.InstanceBatch.empty()
    d.frames_removed = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    for arr in ("pt_inst", "pt_node", "pt_video", "pt_frame", "tr_inst", "tr_before",
                "tr_after", "at_inst"):
        setattr(d, arr, np.zeros(0, np.int64))
    for arr in ("pt_before", "pt_after"):
        setattr(d, arr, np.zeros((0, 5)))
    d.at_before = d.at_after = np.zeros((0, 3))
    d.videos = {k: v for k, v in d.videos.items() if v[0] is None}
    d.tracks = {k: v for k, v in d.tracks.items() if v[0] is None}
    skeletons = {}
    for sid, (b, t) in d.skeletons.items():
        if b is None:
            skeletons[sid] = (b, t)
        elif t is not None:
            have = {n.id for n in b.nodes}
            extra = tuple(n for n in t.nodes if n.id not in have)
            if extra:
                skeletons[sid] = (b, ev.SkeletonDef(b.id, b.name, b.nodes + extra, b.edges,
                                                    b.symmetries))
    d.skeletons = skeletons
    key = lambda s: (s.video, s.frame_idx)  # noqa: E731
    have = {key(s) for s in ours.suggestions}
    before = tuple(ours.suggestions)
    d.suggestions = (before, before + tuple(s for s in d.suggestions[1] if key(s) not in have))
    anchors = {}
    for vid, (a, b) in d.anchors.items():
        extra = [x for x in b if tuple(x) not in {tuple(y) for y in a}]
        if extra:
            anchors[vid] = (a, list(a) + extra)
    d.anchors = anchors
    pb, pt = d.provenance
    d.provenance = (pb, {**pt, **pb})
