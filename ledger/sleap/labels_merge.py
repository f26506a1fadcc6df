"""SLEAP's merge operations on `Labels`, each one undoable transaction.

Frames are unique per (video, frame_idx) here, so merging never creates duplicate
frames and never deletes empty frames of other videos (SLEAP's
``merge_matching_frames`` did both); see docs/compat.md. Matching follows SLEAP:
instances by `Instance.matches`, videos by path (or the last three path parts),
skeletons by structure or, one skeleton each, by node name. Tracks are never
unified (as in SLEAP).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.model.frame import LabeledFrame
from ledger.model.instance import Instance, PredictedInstance, empty_rows
from ledger.model.skeleton import Skeleton
from ledger.model.suggestion import SuggestionFrame
from ledger.model.video import Video

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


def weak_filename_match(a: str, b: str) -> bool:
    """SLEAP's loose path match: the last three components, with slashes and
    temporary-directory prefixes normalised."""
    def norm(p: str) -> list[str]:
        p = re.sub(r"/tmp_\d+_", "tmp_", p.replace("\\", "/"))
        return p.split("/")[-3:]
    return norm(a) == norm(b)


class Unifier:
    """Maps another labels object's videos and skeletons onto ``base``'s."""

    def __init__(self, base: Labels, other_videos: list[Video],
                 other_skeletons: list[Skeleton], unify: bool) -> None:
        self.base = base
        self.videos: dict[int, Video] = {}
        self.skeletons: dict[int, Skeleton] = {}
        if not unify:
            return
        for v in other_videos:
            for bv in base.videos:
                names = {bv.filename, (bv.source_video or {}).get("backend", {}).get("filename")}
                if v.filename in names or weak_filename_match(v.filename, bv.filename):
                    self.videos[id(v)] = bv
                    break
        base_skels = base.skeletons
        if len(base_skels) == 1 and len(other_skeletons) == 1:
            target = base_skels[0]
            for name in other_skeletons[0].node_names:
                if not target.has_node(name):
                    base.add_node(target, name)  # SLEAP's unify adds missing nodes
            self.skeletons[id(other_skeletons[0])] = target
            return
        for s in other_skeletons:
            for bs in base_skels:
                if s.matches(bs):
                    self.skeletons[id(s)] = bs
                    break

    def video(self, v: Video) -> Video:
        return self.videos.get(id(v), v)

    def copy_instance(self, inst: Instance) -> Instance:
        skel = self.skeletons.get(id(inst.skeleton), inst.skeleton)
        rows = inst.point_rows()
        if skel is not inst.skeleton:
            mapped = empty_rows(len(skel.nodes))
            for k, name in enumerate(inst.skeleton.node_names):
                if skel.has_node(name):
                    mapped[skel.node_to_index(name)] = rows[k]
            rows = mapped
        if isinstance(inst, PredictedInstance):
            return PredictedInstance(skel, rows, score=inst.score,
                                     tracking_score=inst.tracking_score, track=inst.track)
        return Instance(skel, rows, track=inst.track)

    def copy_frame(self, lf: LabeledFrame) -> LabeledFrame:
        insts = list(lf.instances)
        copies = [self.copy_instance(i) for i in insts]
        by_obj = {id(o): c for o, c in zip(insts, copies, strict=True)}
        for orig, copy in zip(insts, copies, strict=True):
            fp = orig.from_predicted
            if fp is not None and id(fp) in by_obj:
                copy._from_predicted = by_obj[id(fp)]
        return LabeledFrame(self.video(lf.video), lf.frame_idx, copies)


def _frames_of(source: Labels | Iterable[LabeledFrame]) -> list[LabeledFrame]:
    return list(source.labeled_frames if hasattr(source, "labeled_frames") else source)


def _add_new_instances(base: Labels, target: LabeledFrame, insts: list[Instance]) -> list[Instance]:
    """Add the instances that match nothing already in ``target``; return them."""
    present = list(target.instances)
    added = []
    for inst in insts:
        if any(p.matches(inst) for p in present):
            continue
        base.add_instance(target, inst)
        present.append(inst)
        added.append(inst)
    return added


class MergeMixin:
    """The merging half of `Labels` (mixed into it)."""

    @classmethod
    def complex_merge_between(cls, base_labels: Labels, new_labels: Labels,
                              unify: bool = True) -> tuple[dict, list[LabeledFrame],
                                                           list[LabeledFrame]]:
        """Merge what merges cleanly; return ``(merged, extra_base, extra_new)``.

        A frame conflicts when both sides have instances the other lacks, and
        both sides' extras include user instances or both include predictions.
        The conflicting base frame keeps only the instances both sides agree on
        until `finish_complex_merge` adds the chosen side back.
        """
        merged: dict[Video, dict[int, list[Instance]]] = {}
        extra_base: list[LabeledFrame] = []
        extra_new: list[LabeledFrame] = []
        with base_labels.transaction("complex merge"):
            uni = Unifier(base_labels, new_labels.videos, new_labels.skeletons, unify)
            for lf in new_labels.labeled_frames:
                copy = uni.copy_frame(lf)
                base_lf = base_labels.find_first(copy.video, copy.frame_idx)
                if base_lf is None:
                    base_labels.append(copy)
                    if len(copy.instances):
                        merged.setdefault(copy.video, {})[copy.frame_idx] = list(copy.instances)
                    continue
                base_insts = list(base_lf.instances)
                new_insts = list(copy.instances)
                b_extra = [b for b in base_insts if not any(n.matches(b) for n in new_insts)]
                n_extra = [n for n in new_insts if not any(b.matches(n) for b in base_insts)]
                conflict = bool(b_extra) and bool(n_extra) and (
                    (_has_kind(b_extra, True) and _has_kind(n_extra, True))
                    or (_has_kind(b_extra, False) and _has_kind(n_extra, False)))
                if conflict:
                    for inst in b_extra:
                        base_labels.remove_instance(base_lf, inst)
                    extra_base.append(LabeledFrame(base_lf.video, base_lf.frame_idx, b_extra))
                    extra_new.append(LabeledFrame(base_lf.video, base_lf.frame_idx, n_extra))
                    continue
                added = _add_new_instances(base_labels, base_lf, n_extra)
                if added:
                    merged.setdefault(base_lf.video, {})[base_lf.frame_idx] = added
            new_suggestions = [
                SuggestionFrame(uni.video(s.video), s.frame_idx, s.group)
                for s in new_labels.suggestions
                if base_labels.find_suggestion(uni.video(s.video), s.frame_idx) is None]
            if new_suggestions:
                base_labels.append_suggestions(new_suggestions)
            for video, anchors in new_labels.negative_anchors.items():
                have = base_labels.negative_anchors.get(uni.video(video), [])
                for a in anchors:
                    if tuple(a) not in {tuple(h) for h in have}:
                        base_labels.add_negative_anchor(uni.video(video), a[0], (a[1], a[2]))
        return merged, extra_base, extra_new

    @staticmethod
    def finish_complex_merge(base_labels: Labels, resolved_frames: list[LabeledFrame]) -> None:
        """Add the chosen conflicting instances back into the base frames."""
        with base_labels.transaction("finish complex merge"):
            base_labels.extend_from(list(resolved_frames))

    def merge_matching_frames(self: Labels, video: Video | None = None) -> None:
        """Frames are unique per (video, frame_idx) in a ledger, so there are never
        two frames to merge; SLEAP's side effect of deleting every empty frame is
        not reproduced (use `remove_empty_frames`)."""
        if video is not None:
            self._require_vid(video)

    def extend_from(self: Labels, new_frames: Labels | list[LabeledFrame],
                    unify: bool = False) -> bool:
        """Add frames (or their missing instances, for frames already labelled)."""
        frames = _frames_of(new_frames)
        if not frames or not isinstance(frames[0], LabeledFrame):
            return False
        with self.transaction("extend_from"):
            videos = list({id(lf.video): lf.video for lf in frames}.values())
            skels = list({id(i.skeleton): i.skeleton for lf in frames
                          for i in lf.instances}.values())
            uni = Unifier(self, videos, skels, unify)
            for lf in frames:
                copy = uni.copy_frame(lf) if (unify or lf._labels is not None) else lf
                base_lf = self.find_first(copy.video, copy.frame_idx)
                if base_lf is None:
                    self.append(copy)
                else:
                    _add_new_instances(self, base_lf, list(copy.instances))
        return True

    @staticmethod
    def merge_container_dicts(dict_a: dict, dict_b: dict) -> dict:
        """Merge ``dict_b``'s lists into ``dict_a``'s, without duplicates (SLEAP kept
        duplicates and could raise on list entries)."""
        for key, values in dict_b.items():
            current = dict_a.setdefault(key, [])
            seen = {_freeze(v) for v in current}
            for v in values:
                if _freeze(v) not in seen:
                    current.append(v)
                    seen.add(_freeze(v))
        return dict_a


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple | np.ndarray):
        return tuple(_freeze(v) for v in value)
    return value


def _has_kind(insts: list[Instance], predicted: bool) -> bool:
    return any(isinstance(i, PredictedInstance) == predicted for i in insts)

