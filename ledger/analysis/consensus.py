"""`consensus(sources, into)`: one set of labels from several annotators' versions.

For every frame that at least two annotators labelled, their instances are
clustered (annotator by annotator, each matched one-to-one to the clusters so
far by symmetric OKS, same track name when both are tracked, as in
`ledger.analysis.agreement`), and every cluster that ``min_votes`` annotators
support becomes one user instance in ``into``:

- ``method="medoid"``: the member most similar (summed OKS) to the others, so
  every point is one a person actually placed;
- ``method="median"``: the per-node median of the members' points, which
  averages out independent clicking noise.

Each consensus instance is scored ``votes / len(sources) × mean pairwise OKS``
of its members. All of it is ONE transaction in ``into`` (undo removes it
exactly): on each consensus frame ``into``'s own user instances are replaced by
the consensus ones. The transaction's metadata (``meta["consensus"]``) lists,
per instance, the frame, score, votes and which annotators agreed.

Example::

    result = ledger.consensus([alice, bob, carol], into=reviewed)
    result.info["instances"][0]["annotators"]      # ['alice', 'carol']
    reviewed.undo()                                 # all of it, exactly
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ledger.analysis.agreement import (
    Annotations,
    Kind,
    candidate_pairs,
    greedy_pairs,
    line_up,
    oks,
    pair_oks,
    state_of,
)
from ledger.core import events as ev
from ledger.core.ids import NO_ID
from ledger.core.state import State
from ledger.diffing.patch import Patch, events_for
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.merging.result import MergeResult
    from ledger.sleap.labels import Labels


def _name(source: Any, k: int) -> str:
    if isinstance(source, str | os.PathLike):
        return os.path.basename(os.fspath(source))
    author = getattr(source, "author", None)
    return str(author) if author else f"source{k}"


def _skeleton_of(target: State, sources: list[State]) -> int:
    names = {n.name for st in sources for s in st.skeletons.values() for n in s.nodes}
    best = max(target.skeleton_order, default=None,
               key=lambda s: len(names & {n.name for n in target.skeletons[s].nodes}))
    if best is None:
        raise LedgerError("consensus needs `into` to hold the skeleton (fork the project first)")
    return best


def cluster(anns: list[Annotations], sigma: float | np.ndarray = 0.025, min_oks: float = 0.0
            ) -> list[np.ndarray]:
    """Cluster id of every instance of every annotation (-1: its video is not in
    the reference). Each annotation is matched one-to-one to the clusters so far
    (their first member stands for them) by symmetric OKS.

    Example: ``ids_a, ids_b = cluster([a, b])``."""
    first = anns[0]
    ok = first.key >= 0
    out = [np.where(ok, np.cumsum(ok) - 1, -1)]
    rep = Annotations(first.ids[ok], first.video[ok], first.frame_idx[ok], first.key[ok],
                      first.track[ok], first.x[ok], first.y[ok])
    for b in anns[1:]:
        ia, ib = candidate_pairs(rep, b)
        score = (pair_oks(rep, b, ia, ib, sigma) + pair_oks(b, rep, ib, ia, sigma)) / 2
        keep = greedy_pairs(ia, ib, score, min_oks)
        cid = np.full(len(b), -1, dtype=np.int64)
        cid[ib[keep]] = ia[keep]
        new = (cid < 0) & (b.key >= 0)
        cid[new] = len(rep) + np.arange(int(new.sum()))
        rep = Annotations(*(np.concatenate([getattr(rep, f), getattr(b, f)[new]]) for f in (
            "ids", "video", "frame_idx", "key", "track", "x", "y")))
        out.append(cid)
    return out


def _members(anns: list[Annotations], cids: list[np.ndarray], n: int, k: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(points (n, S, K, 2), present (n, S), key (n,), track codes (n, S))."""
    s = len(anns)
    pts = np.full((n, s, k, 2), np.nan)
    present = np.zeros((n, s), dtype=bool)
    key = np.full(n, -1, dtype=np.int64)
    track = np.full((n, s), -1, dtype=np.int64)
    for j, (a, cid) in enumerate(zip(anns, cids, strict=True)):
        sel = cid >= 0
        pts[cid[sel], j] = a.points[sel]
        present[cid[sel], j] = True
        key[cid[sel]] = a.key[sel]
        track[cid[sel], j] = a.track[sel]
    return pts, present, key, track


def similarities(pts: np.ndarray, present: np.ndarray, sigma: float | np.ndarray = 0.025
                 ) -> np.ndarray:
    """(n, S, S) symmetric OKS between the members of each cluster (0 where either
    is absent, 1 on the diagonal). Example: ``similarities(pts, present)[:, 0, 1]``."""
    n, s = present.shape
    sim = np.zeros((n, s, s))
    for i in range(s):
        sim[:, i, i] = present[:, i]
        for j in range(i + 1, s):
            both = present[:, i] & present[:, j]
            v = (oks(pts[:, i], pts[:, j], sigma) + oks(pts[:, j], pts[:, i], sigma)) / 2
            sim[:, i, j] = sim[:, j, i] = np.where(both, v, 0.0)
    return sim


def combine(pts: np.ndarray, present: np.ndarray, sim: np.ndarray,
            method: Literal["medoid", "median"]) -> np.ndarray:
    """(n, K, 2) consensus points of each cluster.

    Example: ``combine(pts, present, similarities(pts, present), "median")``."""
    if method == "median":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(np.where(present[:, :, None, None], pts, np.nan), axis=1)
    if method != "medoid":
        raise ValueError(f"method is 'medoid' or 'median', not {method!r}")
    total = np.where(present, sim.sum(axis=2), -np.inf)
    best = total.argmax(axis=1)
    return pts[np.arange(len(pts)), best]


def _meta_scores(sim: np.ndarray, present: np.ndarray) -> np.ndarray:
    votes = present.sum(axis=1)
    pairs = votes * (votes - 1) / 2
    off = (sim.sum(axis=(1, 2)) - votes) / 2
    return np.where(pairs > 0, off / np.maximum(pairs, 1), 0.0)


def consensus(sources: list[Any], into: Labels, method: Literal["medoid", "median"] = "medoid",
              *, sigma: float | list[float] = 0.025, min_votes: int = 2,
              kind: Kind = "user", names: list[str] | None = None,
              message: str = "consensus", author: str | None = None) -> MergeResult:
    """Consensus of several annotators' labels into ``into`` as one transaction
    (see the module docstring); returns the committed `MergeResult` whose
    ``info`` holds the per-instance scores and annotators.

    ``sources`` are `Labels`, states or paths; ``names`` name the annotators
    (default: each source's author or file name).

    Example: ``ledger.consensus([a, b, c], into=target, method="median")``."""
    from ledger.merging.plan import Plan
    from ledger.merging.result import MergeResult

    if len(sources) < 2:
        raise LedgerError("consensus needs at least two sources")
    names = list(names) if names is not None else [_name(s, k) for k, s in enumerate(sources)]
    opened = [state_of(s) for s in sources]
    try:
        states = [st for st, _ in opened]
        target = into.project.state
        sid = _skeleton_of(target, states)
        nodes = [n.name for n in target.skeletons[sid].nodes]
        own, *anns = line_up(target, states, kind, nodes)
        cids = cluster(anns, sigma)
        n = max((int(c.max()) + 1 for c in cids if len(c)), default=0)
        pts, present, key, track = _members(anns, cids, n, len(nodes))
    finally:
        for _, closer in opened:
            if closer is not None:
                closer.close()
    # frames at least two annotators labelled
    frame_votes: dict[int, set[int]] = {}
    for j, a in enumerate(anns):
        for k in np.unique(a.key[a.key >= 0]).tolist():
            frame_votes.setdefault(k, set()).add(j)
    shared = np.array(sorted(k for k, v in frame_votes.items() if len(v) >= 2), dtype=np.int64)
    votes = present.sum(axis=1)
    keep = np.isin(key, shared) & (votes >= min_votes)
    pts, present, key, track = pts[keep], present[keep], key[keep], track[keep]
    sig = np.asarray(sigma, dtype=np.float64)
    sim = similarities(pts, present, sig)
    points = combine(pts, present, sim, method)
    score = present.sum(axis=1) / len(sources) * _meta_scores(sim, present)
    patch, new_ids = _patch(into, target, sid, own, shared, key, track, points, states)
    info: dict[str, Any] = {
        "mode": "consensus", "method": method, "annotators": names, "min_votes": min_votes,
        "frames": len(shared), "instances": [
            {"instance": int(i), "video": _video_name(target, int(k)),
             "frame_idx": int(k & ((1 << 40) - 1)), "score": round(float(sc), 6),
             "votes": int(p.sum()), "annotators": [names[j] for j in np.flatnonzero(p)]}
            for i, k, sc, p in zip(new_ids.tolist(), key.tolist(), score.tolist(), present,
                                   strict=True)]}
    events = events_for(target, patch)
    plan = Plan()
    plan.add(patch)
    result = MergeResult(into, plan, [], dry_run=False, info=info)
    result.committed_tx = into.project.commit(
        events, message, meta={"consensus": info}, author=author) if events else 0
    return result


def _video_name(state: State, key: int) -> str:
    vid = state.video_order[key >> 40]
    return os.path.basename(str(state.videos[vid].backend.get("filename", vid)))


def _patch(into: Labels, target: State, sid: int, own: Annotations, shared: np.ndarray,
           key: np.ndarray, track: np.ndarray, points: np.ndarray, states: list[State]
           ) -> tuple[Patch, np.ndarray]:
    """Replace ``into``'s instances on the shared frames by the consensus ones."""
    ids = into.project.ids
    patch = Patch()
    patch.remove = own.ids[np.isin(own.key, shared)]
    track_names = {}
    for st in (target, *states):
        for t in st.track_order:
            track_names.setdefault(st.tracks[t].name, len(track_names))
    by_code = {code: name for name, code in track_names.items()}
    ours = {target.tracks[t].name: t for t in target.track_order}
    track_ids = []
    for row in track.tolist():
        codes = [c for c in row if c >= 0]
        if not codes:
            track_ids.append(NO_ID)
            continue
        name = by_code[max(set(codes), key=codes.count)]
        if name not in ours:
            ours[name] = ids.new_id()
            patch.tracks[ours[name]] = ev.TrackDef(ours[name], name, 0)
        track_ids.append(ours[name])
    n, k = len(key), points.shape[1]
    new_ids = (ids.new_block(max(n, 1)) + np.arange(n, dtype=np.int64))
    video = np.array([target.video_order[c] for c in (key >> 40).tolist()], dtype=np.int64)
    visible = ~np.isnan(points[..., 0])
    f8 = np.full(n, np.nan)
    patch.add = ev.InstanceBatch(
        new_ids, video, key & ((1 << 40) - 1), np.full(n, sid, np.int64),
        np.asarray(track_ids, dtype=np.int64), np.zeros(n, np.uint8), f8, f8.copy(),
        np.full(n, NO_ID, np.int64), np.full(n, k, np.int64), points[..., 0].ravel().copy(),
        points[..., 1].ravel().copy(), visible.ravel(), visible.ravel().copy(),
        np.zeros(n * k))
    patch.layouts[sid] = tuple(nd.id for nd in target.skeletons[sid].nodes)
    return patch, new_ids
