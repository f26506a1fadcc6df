"""What a review page shows, as plain data: the timeline, changed frames, conflicts.

Everything is read through `Project` (states at two versions, the records) and
`ledger.diffing` / `ledger.merging`, never by drawing code, so the page's numbers
are the ledger's numbers and the drawing and HTML modules stay dumb.

Costs, and why they stay small on a 50,000-frame project: the changed frames
come from one id-based comparison of two states (`ledger.diffing.compare`,
vectorised); only the frames that are drawn (``max_frames``) are then looked up
one by one. The timeline decodes each transaction's events once to count the
frames it touched (`ledger.merging.history.mentions`, numpy arrays).

Example::

    page = gather(project, since=1)
    page.frames_changed, len(page.frames), page.timeline[0].author
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core.ids import NO_ID
from ledger.core.state import State

if TYPE_CHECKING:
    from ledger.merging import MergeResult
    from ledger.project.project import Project

MAX_FRAMES = 60  # frames drawn per section by default: a page a person reads to the end
MAX_TIMELINE = 500  # newest transactions listed


@dataclass
class Pose:
    """One instance at one version: what the drawing needs, with names."""

    id: int
    index: int  # position in its frame, as SLEAP's GUI numbers instances
    kind: str  # "user" | "predicted"
    track: str | None
    nodes: list[str]
    edges: list[tuple[int, int]]  # node positions
    points: np.ndarray  # (n_nodes, 5): x, y, visible, complete, score

    @property
    def label(self) -> str:
        who = f" ({self.track})" if self.track else ""
        return f"#{self.index} {self.kind}{who}"

    def xy(self) -> np.ndarray:
        """(n, 2) coordinates, NaN where the point is missing or not visible."""
        out = self.points[:, :2].copy()
        out[self.points[:, 2] == 0] = np.nan
        return out


@dataclass
class NodeMove:
    node: str
    before: tuple[float, float] | None
    after: tuple[float, float] | None

    @property
    def displacement(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return float(np.hypot(self.after[0] - self.before[0], self.after[1] - self.before[1]))


@dataclass
class FrameChange:
    """One changed frame: the poses before and after, and what differs."""

    video: int
    video_name: str
    frame_idx: int
    before: list[Pose]
    after: list[Pose]
    moves: dict[int, list[NodeMove]] = field(default_factory=dict)  # instance id -> nodes
    track_changes: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def added(self) -> list[Pose]:
        ids = {p.id for p in self.before}
        return [p for p in self.after if p.id not in ids]

    @property
    def removed(self) -> list[Pose]:
        ids = {p.id for p in self.after}
        return [p for p in self.before if p.id not in ids]


@dataclass
class ConflictView:
    """One merge conflict, with the three versions of its frame (when it has one)."""

    conflict: Any  # ledger.merging.Conflict
    video_name: str | None
    base: list[Pose]
    ours: list[Pose]
    theirs: list[Pose]
    command: str


@dataclass
class Transaction:
    tx: int
    first_seq: int
    last_seq: int
    time: str
    author: str
    tx_kind: str
    message: str
    kinds: dict[str, int]
    frames_touched: int
    after_since: bool


@dataclass
class ReviewData:
    """Everything the page shows (see the module docstring)."""

    title: str
    head: int
    since: int
    timeline: list[Transaction]
    transactions: int  # all of them (the timeline may list fewer)
    frames_changed: int
    frames: list[FrameChange]
    max_frames: int
    summary: dict[str, int]
    conflicts: list[ConflictView] = field(default_factory=list)
    conflicts_total: int = 0
    merge_source: str | None = None
    videos: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> backend dict


# ----------------------------------------------------------------- states


def video_name(state: State, vid: int) -> str:
    v = state.videos.get(vid)
    return str(v.backend.get("filename", vid)) if v else str(vid)


def poses_at(state: State, vid: int, frame_idx: int) -> list[Pose]:
    """The instances of a frame in ``state`` (empty when the frame is not there)."""
    row = state.frames.row_of(vid, frame_idx)
    if row is None:
        return []
    cols = state.instances.cols.cols
    out = []
    for k, r in enumerate(state.frame_instance_rows(row)):
        skel = state.skeletons.get(int(cols["skeleton"][r]))
        nodes = [n.name for n in skel.nodes] if skel else []
        pos = {n.id: i for i, n in enumerate(skel.nodes)} if skel else {}
        edges = [(pos[a], pos[b]) for a, b in (skel.edges if skel else ()) if a in pos and b in pos]
        tid = int(cols["track"][r])
        track = state.tracks.get(tid)
        out.append(Pose(id=int(cols["id"][r]), index=k,
                        kind="predicted" if int(cols["kind"][r]) else "user",
                        track=(track.name if track else None) if tid != NO_ID else None,
                        nodes=nodes, edges=edges,
                        points=np.array(state.instances.points_of(r), dtype=float)))
    return out


def _point(p: np.ndarray) -> tuple[float, float] | None:
    if np.isnan(p[0]) or np.isnan(p[1]) or p[2] == 0:
        return None
    return (float(p[0]), float(p[1]))


def node_moves(before: Pose, after: Pose) -> list[NodeMove]:
    """Nodes whose labelled values differ, by name (visibility counts)."""
    moves = []
    index = {n: i for i, n in enumerate(before.nodes)}
    for j, name in enumerate(after.nodes):
        i = index.get(name)
        a = after.points[j]
        b = before.points[i] if i is not None else np.full(5, np.nan)
        same = np.array_equal(a, b, equal_nan=True)
        if not same:
            moves.append(NodeMove(name, _point(b), _point(a)))
    return moves


def changed_frame_keys(a: State, b: State, ch: Any = None) -> list[tuple[int, int]]:
    """(video id, frame index) of every frame that differs from ``a`` to ``b``, in
    the project's video order then frame order (``ch``: their `Changes`, when
    already computed)."""
    from ledger.diffing import compare
    from ledger.diffing import gather as g

    ch = compare(a, b) if ch is None else ch
    vids = [ch.pt_video, ch.added.video, ch.removed.video, ch.frames_added[0],
            ch.frames_removed[0]]
    fidx = [ch.pt_frame, ch.added.frame_idx, ch.removed.frame_idx, ch.frames_added[1],
            ch.frames_removed[1]]
    other = np.unique(np.concatenate([np.asarray(ch.tr_inst, np.int64),
                                      np.asarray(ch.at_inst, np.int64)]))
    if len(other):
        rows = g.rows_of(b, other)
        v, f = g.frame_keys_of_rows(b, np.maximum(rows, 0))
        vids.append(v[rows >= 0])
        fidx.append(f[rows >= 0])
    v = np.concatenate([np.asarray(x, np.int64) for x in vids])
    f = np.concatenate([np.asarray(x, np.int64) for x in fidx])
    keys = set(zip(v.tolist(), f.tolist(), strict=True))
    order = {vid: k for k, vid in enumerate(b.video_order + a.video_order)}
    return sorted(keys, key=lambda k: (order.get(k[0], len(order)), k[1]))


def frame_change(a: State, b: State, vid: int, frame_idx: int) -> FrameChange:
    before, after = poses_at(a, vid, frame_idx), poses_at(b, vid, frame_idx)
    change = FrameChange(vid, video_name(b if vid in b.videos else a, vid), frame_idx,
                         before, after)
    old = {p.id: p for p in before}
    for p in after:
        q = old.get(p.id)
        if q is None:
            continue
        moves = node_moves(q, p)
        if moves:
            change.moves[p.id] = moves
        if q.track != p.track:
            change.track_changes[p.id] = (q.track, p.track)
    return change


# ----------------------------------------------------------------- timeline


def timeline(project: Project, since: int, limit: int = MAX_TIMELINE
             ) -> tuple[list[Transaction], int]:
    """The newest ``limit`` transactions (newest first) and how many there are."""
    from ledger.merging.history import mentions

    state = project.state
    cols = state.instances.cols.cols
    fcols = state.frames.cols.cols
    txs: dict[int, Transaction] = {}
    touched: dict[int, set[tuple[int, int]]] = {}
    for rec in project.records():
        t = txs.get(rec.tx)
        if t is None:
            t = txs[rec.tx] = Transaction(rec.tx, rec.seq, rec.seq, rec.time, rec.author,
                                          rec.tx_kind, rec.message, {}, 0, rec.seq > since)
            touched[rec.tx] = set()
        t.last_seq = rec.seq
        t.kinds[rec.kind] = t.kinds.get(rec.kind, 0) + 1
        ids, vids, fidx = mentions(rec.event)
        keys = touched[rec.tx]
        keys.update(zip(vids.tolist(), fidx.tolist(), strict=True))
        if len(ids):
            rows = state.instances.index.get_many(ids)
            rows = rows[(rows >= 0) & (rows < state.instances.n)]
            frows = cols["frame"][rows]
            frows = frows[(frows >= 0) & (frows < state.frames.n)]
            keys.update(zip(fcols["video"][frows].tolist(), fcols["frame_idx"][frows].tolist(),
                            strict=True))
    for tx, t in txs.items():
        t.frames_touched = len(touched[tx])
    ordered = sorted(txs.values(), key=lambda t: -t.tx)
    return ordered[:limit], len(ordered)


# ----------------------------------------------------------------- conflicts


def conflict_views(result: MergeResult, ours: Project, theirs_state: State, ours_spec: str,
                   theirs_spec: str, limit: int) -> list[ConflictView]:
    """The first ``limit`` conflicts with their frame at base, ours and theirs."""
    base_state = ours.at(result.info["fork_seq"]) if result.info.get("fork_seq") else None
    ours_state = ours.state
    out = []
    for c in result.conflicts[:limit]:
        cid = getattr(c, "id", None)
        command = (f"ledger merge {ours_spec} {theirs_spec} --resolve {cid}=ours"
                   if cid else f"ledger merge {ours_spec} {theirs_spec} --prefer ours")
        base, ours_p, theirs_p = [], [], []
        name = None
        if c.video is not None and c.frame_idx is not None:
            name = video_name(ours_state if c.video in ours_state.videos else theirs_state,
                              c.video)
            base = poses_at(base_state, c.video, c.frame_idx) if base_state else []
            ours_p = poses_at(ours_state, c.video, c.frame_idx)
            theirs_p = poses_at(theirs_state, c.video, c.frame_idx)
        out.append(ConflictView(c, name, base, ours_p, theirs_p, command))
    return out


# ----------------------------------------------------------------- all of it


def gather(project: Project, since: int | str | None = None, max_frames: int = MAX_FRAMES,
           title: str = "") -> ReviewData:
    """The page's data for the changes after ``since`` (a seq or tag; default: the
    end of the first transaction, usually the import)."""
    from ledger.errors import ValidationError

    head = project.head
    if since is None:
        first = project.records(1, 1) if head else []
        since_seq = 0
        if first:
            tx = first[0].tx
            since_seq = max((r.seq for r in project.records(1, min(head, 4096))
                             if r.tx == tx), default=0)
    else:
        since_seq = project.resolve_version(since)
    if not 0 <= since_seq <= head:
        raise ValidationError(f"--since {since}: outside the history (0..{head})")
    if max_frames < 0:
        raise ValidationError("the frame cap must be zero or more")
    after = project.state
    before = project.at(since_seq)
    from ledger.diffing import Diff, compare

    ch = compare(before, after)
    keys = changed_frame_keys(before, after, ch)
    frames = [frame_change(before, after, v, f) for v, f in keys[:max_frames]]
    summary = {k: v for k, v in Diff(before, after, ch).summary().items() if v}
    txs, n_tx = timeline(project, since_seq)
    videos = {vid: dict(v.backend) for vid, v in after.videos.items()}
    videos.update({vid: dict(v.backend) for vid, v in before.videos.items()
                   if vid not in videos})
    return ReviewData(title=title, head=head, since=since_seq, timeline=txs, transactions=n_tx,
                      frames_changed=len(keys), frames=frames, max_frames=max_frames,
                      summary=summary, videos=videos)
