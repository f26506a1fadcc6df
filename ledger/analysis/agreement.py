"""`agreement(a, b)`: how closely two annotators labelled the same frames.

SLEAP evaluates a model by matching its predictions to ground truth with the
object keypoint similarity (OKS) and reporting node distances and PCK
(`sleap/nn/evals.py`). The same figures between two people tell a lab whether
its labels are consistent enough to train on, and which nodes are ambiguous.

Matching, frame by frame (vectorised over the whole project):

- instances of ``a`` and ``b`` on the same frame (videos lined up by file path,
  nodes by name, so two ledgers, two versions or two `.slp` files all work) are
  candidate pairs; when both instances of a pair are tracked, only pairs with the
  same track name are candidates;
- each candidate pair gets SLEAP's OKS with ``a`` as the reference: per node
  ``exp(-d² / (2 · (2σ)² · area))`` where ``area`` is the bounding-box area of the
  ``a`` instance's visible points, 0 for a node missing on either side, averaged
  over the nodes ``a`` has;
- pairs are taken greedily, best OKS first, one-to-one (SLEAP orders by the
  prediction's score; between people there is no score, so OKS decides).

Per node, over matched pairs: distance percentiles (nodes visible on both
sides) and PCK at each threshold in pixels (a node visible on only one side is
a miss; invisible on both is not counted).

Example::

    import ledger
    ag = ledger.agreement(ledger.load_file("alice.slp"), ledger.load_file("bob.slp"))
    ag.matched, ag.mean_oks, ag.nodes["head"]["p95"], ag.nodes["head"]["pck"][5]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ledger.core.columns import ranges_to_index
from ledger.core.state import State
from ledger.diffing import gather as g
from ledger.diffing.matching import match_videos

Kind = Literal["user", "predicted", "all"]
_CHUNK = 200_000


def bbox_area(points: np.ndarray) -> np.ndarray:
    """Area of the bounding box of each instance's non-NaN points, (..., K, 2) -> (...);
    0 when fewer than two distinct points (as SLEAP's ``compute_instance_area``).

    Example: ``bbox_area(np.array([[[0, 0], [4, 3]]]))`` is ``array([12.])``."""
    pts = np.asarray(points, dtype=np.float64)
    x, y = pts[..., 0], pts[..., 1]
    area = ((np.fmax.reduce(x, axis=-1) - np.fmin.reduce(x, axis=-1))
            * (np.fmax.reduce(y, axis=-1) - np.fmin.reduce(y, axis=-1)))
    return np.where(np.isfinite(area), area, 0.0)


def oks(ref: np.ndarray, other: np.ndarray, sigma: float | np.ndarray = 0.025,
        scale: np.ndarray | None = None) -> np.ndarray:
    """OKS of paired instances, ``ref`` and ``other`` of shape (..., K, 2), NaN for a
    missing point; ``scale`` defaults to ``ref``'s bounding-box area and ``sigma``
    is one value or one per node. Instances with no ``ref`` points score 0.

    Example: ``oks(np.array([[[0., 0], [10, 10]]]), np.array([[[0., 0], [10, 10]]]))``
    is ``array([1.])``."""
    ref = np.asarray(ref, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64)
    if scale is None:
        scale = bbox_area(ref)
    k = ref.shape[-2]
    spread = (2 * np.broadcast_to(np.asarray(sigma, dtype=np.float64), (k,))) ** 2
    d2 = ((ref - other) ** 2).sum(axis=-1)
    norm = spread * 2 * (np.asarray(scale, dtype=np.float64)[..., None] + np.spacing(1))
    ks = np.exp(-d2 / norm)
    miss_ref = np.isnan(ref).any(axis=-1)
    ks[miss_ref | np.isnan(other).any(axis=-1)] = 0.0
    n = (~miss_ref).sum(axis=-1)
    return np.where(n > 0, ks.sum(axis=-1) / np.maximum(n, 1), 0.0)


@dataclass
class Annotations:
    """One project's instances laid out for matching: one row per instance.

    ``key`` packs (video code, frame index) in the reference project's video
    order (-1 where the video is not in it); ``track`` codes track names (-1
    untracked); ``x`` and ``y`` are (n, K) by node name, NaN where not visible
    (views of the state's columns when nothing needs masking).

    Example: ``Annotations.of(state, ["head", "tail"], {vid: 0}, {}).x.shape``."""

    ids: np.ndarray
    video: np.ndarray
    frame_idx: np.ndarray
    key: np.ndarray
    track: np.ndarray
    x: np.ndarray
    y: np.ndarray
    frame_row: np.ndarray | None = None

    @property
    def points(self) -> np.ndarray:
        """(n, K, 2) x and y together (a copy)."""
        return np.stack((self.x, self.y), axis=-1)

    @classmethod
    def of(cls, state: State, nodes: list[str], video_code: dict[int, int],
           track_code: dict[str, int], kind: Kind = "user") -> Annotations:
        rows = state.live_instance_rows()
        c = state.instances.cols.cols
        if kind != "all":
            rows = rows[c["kind"][rows] == (0 if kind == "user" else 1)]
        video, frame_idx = g.frame_keys_of_rows(state, rows)
        codes = _lookup(video_code, video, -1)
        key = np.where(codes >= 0, (codes << g.VIDEO_SHIFT) | frame_idx, -1)
        names = {t: track_code[d.name] for t, d in state.tracks.items() if d.name in track_code}
        track = _lookup(names, c["track"][rows], -1)
        skel = c["skeleton"][rows]
        where = {n: j for j, n in enumerate(nodes)}
        sids = np.unique(skel).tolist()
        x = y = None
        for sid in sids:
            sel = np.flatnonzero(skel == sid) if len(sids) > 1 else slice(None)
            own = [n.name for n in state.skeletons[sid].nodes]
            cols = g.point_columns(state, rows[sel], len(own))
            bx = cols["x"].astype(np.float64, copy=False)
            by = cols["y"].astype(np.float64, copy=False)
            hidden = cols["visible"] == 0
            if hidden.any():
                bx, by = np.where(hidden, np.nan, bx), np.where(hidden, np.nan, by)
            if len(sids) == 1 and own == nodes:
                x, y = bx, by
                break
            if x is None:
                x, y = np.full((len(rows), len(nodes)), np.nan), \
                    np.full((len(rows), len(nodes)), np.nan)
            for k, name in enumerate(own):
                if name in where:
                    x[sel, where[name]] = bx[:, k]
                    y[sel, where[name]] = by[:, k]
        if x is None or y is None:
            x, y = np.full((len(rows), len(nodes)), np.nan), \
                np.full((len(rows), len(nodes)), np.nan)
        return cls(c["id"][rows].copy(), video, frame_idx, key, track, x, y,
                   c["frame"][rows].copy())

    def __len__(self) -> int:
        return len(self.ids)


def _lookup(mapping: dict[int, int], values: np.ndarray, default: int) -> np.ndarray:
    out = np.full(len(values), default, dtype=np.int64)
    if not mapping or not len(values):
        return out
    keys = np.fromiter(mapping, np.int64, len(mapping))
    vals = np.fromiter(mapping.values(), np.int64, len(mapping))
    order = np.argsort(keys)
    pos = np.clip(np.searchsorted(keys[order], values), 0, len(keys) - 1)
    hit = keys[order][pos] == values
    out[hit] = vals[order][pos[hit]]
    return out


def candidate_pairs(a: Annotations, b: Annotations) -> tuple[np.ndarray, np.ndarray]:
    """(rows of a, rows of b) on the same frame; tracked on both sides means same track.

    Example: ``ia, ib = candidate_pairs(a, b)``."""
    order = np.argsort(a.key, kind="stable")
    sk = a.key[order]
    start = np.searchsorted(sk, b.key, "left")
    cnt = np.searchsorted(sk, b.key, "right") - start
    cnt[b.key < 0] = 0
    ib = np.repeat(np.arange(len(b), dtype=np.int64), cnt)
    ia = order[ranges_to_index(start, cnt)] if cnt.sum() else np.zeros(0, np.int64)
    ta, tb = a.track[ia], b.track[ib]
    keep = (ta < 0) | (tb < 0) | (ta == tb)
    return ia[keep], ib[keep]


def pair_oks(a: Annotations, b: Annotations, ia: np.ndarray, ib: np.ndarray,
             sigma: float | np.ndarray = 0.025) -> np.ndarray:
    """OKS of each candidate pair, ``a`` as reference (in chunks, to bound memory).

    Example: ``pair_oks(a, b, *candidate_pairs(a, b))``."""
    return pair_scores(a, b, ia, ib, sigma)[0]


def pair_scores(a: Annotations, b: Annotations, ia: np.ndarray, ib: np.ndarray,
                sigma: float | np.ndarray = 0.025) -> tuple[np.ndarray, np.ndarray]:
    """(OKS, squared distances (pairs × nodes, inf where either side lacks the
    node)) of candidate pairs, ``a`` as reference; the same formula as `oks`.

    Example: ``score, d2 = pair_scores(a, b, *candidate_pairs(a, b))``."""
    k = a.x.shape[1]
    spread = (2 * np.broadcast_to(np.asarray(sigma, dtype=np.float64), (k,))) ** 2
    area = ((np.fmax.reduce(a.x, axis=1) - np.fmin.reduce(a.x, axis=1))
            * (np.fmax.reduce(a.y, axis=1) - np.fmin.reduce(a.y, axis=1)))
    scale = 2 * (np.where(np.isfinite(area), area, 0.0) + np.spacing(1))
    n_ref = (~np.isnan(a.x)).sum(axis=1)
    score = np.zeros(len(ia))
    d2 = np.empty((len(ia), k))
    for s in range(0, len(ia), _CHUNK):
        ja, jb = ia[s:s + _CHUNK], ib[s:s + _CHUNK]
        part = np.square(a.x[ja] - b.x[jb])
        part += np.square(a.y[ja] - b.y[jb])
        np.nan_to_num(part, copy=False, nan=np.inf)
        d2[s:s + _CHUNK] = part
        part /= -(scale[ja][:, None] * spread)
        np.exp(part, out=part)
        n = n_ref[ja]
        score[s:s + _CHUNK] = np.where(n > 0, part.sum(axis=1) / np.maximum(n, 1), 0.0)
    return score, d2


def greedy_pairs(ia: np.ndarray, ib: np.ndarray, score: np.ndarray, min_score: float = 0.0
                 ) -> np.ndarray:
    """Indices of the pairs a greedy one-to-one matching keeps (best score first,
    ties by pair order), among pairs scoring above ``min_score``. Done in rounds of
    mutually best pairs, which picks exactly what the sequential greedy picks.

    Example: ``greedy_pairs(np.array([0, 0]), np.array([0, 1]), np.array([.5, .9]))``
    is ``array([1])``."""
    n = len(score)
    order = np.lexsort((np.arange(n), -score))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    alive = score > min_score
    na = int(ia.max()) + 1 if n else 0
    nb = int(ib.max()) + 1 if n else 0
    kept: list[np.ndarray] = []
    big = np.iinfo(np.int64).max
    while alive.any():
        idx = np.flatnonzero(alive)
        r = rank[idx]
        best_a = np.full(na, big)
        best_b = np.full(nb, big)
        np.minimum.at(best_a, ia[idx], r)
        np.minimum.at(best_b, ib[idx], r)
        win = idx[(best_a[ia[idx]] == r) & (best_b[ib[idx]] == r)]
        kept.append(win)
        used_a = np.zeros(na, dtype=bool)
        used_b = np.zeros(nb, dtype=bool)
        used_a[ia[win]] = True
        used_b[ib[win]] = True
        alive[idx] &= ~(used_a[ia[idx]] | used_b[ib[idx]])
    return np.sort(np.concatenate(kept)) if kept else np.zeros(0, np.int64)


@dataclass
class Agreement:
    """Agreement of two annotations (see the module docstring).

    ``oks`` and ``distances`` (matched pairs × nodes, NaN where a node is missing
    on either side) keep the detail, ``pairs`` the matched instance ids, video
    ids, frame indices and ``a``'s track ids; ``nodes`` holds the per-node figures.

    Example: ``ag.to_dict()["nodes"]["head"]["pck"]["5"]``."""

    node_names: list[str]
    thresholds: tuple[float, ...]
    sigma: float | list[float]
    frames_a: int
    frames_b: int
    frames_both: int
    instances_a: int
    instances_b: int
    oks: np.ndarray
    distances: np.ndarray
    visible_a: np.ndarray
    visible_b: np.ndarray
    pairs: dict[str, np.ndarray] = field(repr=False)
    names: dict[str, dict[int, str]] = field(default_factory=dict, repr=False)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def matched(self) -> int:
        return len(self.oks)

    @property
    def only_in_a(self) -> int:
        return self.instances_a - self.matched

    @property
    def only_in_b(self) -> int:
        return self.instances_b - self.matched

    @property
    def mean_oks(self) -> float:
        return float(self.oks.mean()) if len(self.oks) else float("nan")

    def pck(self, threshold: float) -> float:
        """Fraction of (matched pair, node) within ``threshold`` px, over nodes
        visible on either side. Example: ``ag.pck(5)``."""
        either = self.visible_a | self.visible_b
        n = int(either.sum())
        return float((self.distances[either] < threshold).sum() / n) if n else float("nan")

    def worst(self, n: int = 10) -> list[dict[str, Any]]:
        """The ``n`` matched pairs that agree least (lowest OKS), named by video
        file, frame, track and instance ids. Example: ``ag.worst(3)[0]["oks"]``."""
        order = np.argsort(self.oks, kind="stable")[:n]
        p = self.pairs
        return [{"video": self.names["video"].get(int(p["video"][k]), str(p["video"][k])),
                 "frame_idx": int(p["frame_idx"][k]),
                 "track": self.names["track"].get(int(p["track"][k])),
                 "oks": float(self.oks[k]),
                 "a_instance": int(p["a"][k]), "b_instance": int(p["b"][k])}
                for k in order.tolist()]

    def summary(self) -> dict[str, Any]:
        return {"frames_a": self.frames_a, "frames_b": self.frames_b,
                "frames_both": self.frames_both, "instances_a": self.instances_a,
                "instances_b": self.instances_b, "matched": self.matched,
                "only_in_a": self.only_in_a, "only_in_b": self.only_in_b,
                "mean_oks": _num(self.mean_oks),
                "pck": {_key(t): _num(self.pck(t)) for t in self.thresholds}}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: summary, per-node figures and the least agreeing pairs."""
        return {**self.summary(), "sigma": self.sigma,
                "nodes": {k: {**v, "pck": {_key(t): _num(x) for t, x in v["pck"].items()},
                              **{q: _num(v[q]) for q in ("mean", "p50", "p90", "p95", "p99")}}
                          for k, v in self.nodes.items()},
                "worst": self.worst(10)}

    def __repr__(self) -> str:
        return (f"Agreement(matched={self.matched}, only_in_a={self.only_in_a}, "
                f"only_in_b={self.only_in_b}, mean_oks={self.mean_oks:.3f})")


def _num(x: float) -> float | None:
    return None if x != x else round(float(x), 6)


def _key(t: float) -> str:
    return str(int(t)) if float(t).is_integer() else str(t)


def node_figures(dist: np.ndarray, vis_a: np.ndarray, vis_b: np.ndarray,
                 thresholds: tuple[float, ...], names: list[str]) -> dict[str, dict[str, Any]]:
    """Per node, over matched pairs (rows of ``dist``, one column per node):
    distance mean and percentiles where both sides have the node, PCK where
    either has it.

    Example: ``node_figures(np.array([[1.], [3.]]), ok, ok, (2,), ["head"])``."""
    both = vis_a & vis_b
    either = vis_a | vis_b
    n_both, n_either = both.sum(axis=0), either.sum(axis=0)
    hits = {t: ((dist < t) & either).sum(axis=0) for t in thresholds}
    dist_t, both_t = np.ascontiguousarray(dist.T), np.ascontiguousarray(both.T)
    out = {}
    for j, name in enumerate(names):
        d = dist_t[j][both_t[j]]
        pct = np.percentile(d, [50, 90, 95, 99]) if len(d) else np.full(4, np.nan)
        out[name] = {
            "n": int(n_both[j]), "visible_only_a": int((vis_a[:, j] & ~vis_b[:, j]).sum()),
            "visible_only_b": int((vis_b[:, j] & ~vis_a[:, j]).sum()),
            "mean": float(d.mean()) if len(d) else float("nan"),
            "p50": float(pct[0]), "p90": float(pct[1]), "p95": float(pct[2]),
            "p99": float(pct[3]),
            "pck": {t: float(hits[t][j] / n_either[j]) if n_either[j] else float("nan")
                    for t in thresholds}}
    return out


def _n_frames(ann: Annotations) -> int:
    if not len(ann):
        return 0
    if ann.frame_row is not None:
        return len(np.unique(ann.frame_row))
    return len(np.unique(np.stack([ann.video, ann.frame_idx], axis=1), axis=0))


def state_of(x: Any) -> tuple[State, Any]:
    """(state, thing to close) of a `Labels`, `State`, `.slp`/JSON file or ledger path.

    Example: ``state, closer = state_of("labels.slp")``."""
    if isinstance(x, State):
        return x, None
    if hasattr(x, "project"):
        return x.project.state, None
    from ledger.sleap.labels import Labels

    path = os.fspath(x)
    if path.lower().endswith((".slp", ".h5", ".hdf5", ".json", ".json.zip")):
        return Labels.load_file(path).project.state, None
    from ledger.project.durable import open as open_ledger

    opened = open_ledger(path, create=False, read_only=True)
    return opened.project.state, opened


def node_order(*states: State) -> list[str]:
    """Node names of all skeletons, first seen first. Example: ``node_order(sa, sb)``."""
    out: dict[str, None] = {}
    for st in states:
        for sid in st.skeleton_order:
            for n in st.skeletons[sid].nodes:
                out.setdefault(n.name, None)
    return list(out)


def line_up(ref: State, others: list[State], kind: Kind = "user", nodes: list[str] | None = None
            ) -> list[Annotations]:
    """`Annotations` of ``ref`` and each of ``others``, in ``ref``'s video order.

    Example: ``a, b = line_up(sa, [sb])``."""
    nodes = nodes or node_order(ref, *others)
    track_code: dict[str, int] = {}
    for st in (ref, *others):
        for t in st.track_order:
            track_code.setdefault(st.tracks[t].name, len(track_code))
    ref_codes = {v: k for k, v in enumerate(ref.video_order)}
    out = [Annotations.of(ref, nodes, ref_codes, track_code, kind)]
    for st in others:
        vmap = match_videos(ref, st)
        out.append(Annotations.of(st, nodes, {tv: ref_codes[ov] for tv, ov in vmap.items()},
                                  track_code, kind))
    return out


def agreement(a: Any, b: Any, sigma: float | list[float] = 0.025,
              pck: tuple[float, ...] = (1, 2, 5, 10), *, kind: Kind = "user",
              min_oks: float = 0.0) -> Agreement:
    """How two annotations of the same frames agree (see the module docstring).

    ``a`` and ``b`` are `Labels` (ledgers, versions from ``labels.at(seq)``),
    states, or paths to `.slp` files or ledgers. ``sigma`` is SLEAP's OKS spread,
    one value or one per node (in the order of ``Agreement.node_names``);
    ``kind`` picks user instances (default), predictions or all; pairs must
    score above ``min_oks`` to match.

    Example: ``ledger.agreement(alice, bob).nodes["thorax"]["p95"]``."""
    sa, close_a = state_of(a)
    sb, close_b = state_of(b)
    try:
        nodes = node_order(sa, sb)
        ann_a, ann_b = line_up(sa, [sb], kind, nodes)
        sig = np.asarray(sigma, dtype=np.float64)
        if sig.ndim and len(sig) != len(nodes):
            raise ValueError(f"sigma has {len(sig)} values for {len(nodes)} nodes {nodes}")
        ia, ib = candidate_pairs(ann_a, ann_b)
        score, d2 = pair_scores(ann_a, ann_b, ia, ib, sig)
        keep = greedy_pairs(ia, ib, score, min_oks)
        ia, ib, score = ia[keep], ib[keep], score[keep]
        vis_a, vis_b = ~np.isnan(ann_a.x[ia]), ~np.isnan(ann_b.x[ib])
        dist = np.sqrt(d2[keep])
        dist[np.isinf(dist)] = np.nan
        labels = {"video": {v: os.path.basename(str(sa.videos[v].backend.get("filename", v)))
                            for v in sa.video_order},
                  "track": {t: sa.tracks[t].name for t in sa.track_order}}
        rows_a = sa.instances.cols.cols  # track ids of a's instances, by row
        track_ids = rows_a["track"][g.rows_of(sa, ann_a.ids[ia])] if len(ia) else \
            np.zeros(0, np.int64)
        pairs = {"a": ann_a.ids[ia], "b": ann_b.ids[ib], "video": ann_a.video[ia],
                 "frame_idx": ann_a.frame_idx[ia], "track": track_ids}
        keys_a = np.unique(ann_a.key[ann_a.key >= 0])
        keys_b = np.unique(ann_b.key[ann_b.key >= 0])
        out = Agreement(
            node_names=nodes, thresholds=tuple(pck),
            sigma=sig.tolist() if sig.ndim else float(sig),
            frames_a=_n_frames(ann_a), frames_b=_n_frames(ann_b),
            frames_both=len(np.intersect1d(keys_a, keys_b, assume_unique=True)),
            instances_a=len(ann_a), instances_b=len(ann_b), oks=score, distances=dist,
            visible_a=vis_a, visible_b=vis_b, pairs=pairs, names=labels)
        out.nodes = node_figures(dist, vis_a, vis_b, tuple(pck), nodes)
        return out
    finally:
        for c in (close_a, close_b):
            if c is not None:
                c.close()
