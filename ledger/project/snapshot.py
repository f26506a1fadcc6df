"""Snapshots: a projection and the ledger's bookkeeping, as bytes.

A snapshot is a cache of the state at some seq, never the truth: it is stored
with the hash of the record it was built from, and a ledger that finds the hash
does not match (or cannot decode the snapshot) ignores it, warns, and replays.
Columns travel as arrays kept aside by digest (`ledger.core.codec.Payload`): a
store writes each distinct array once, so columns still borrowed from an import
cost nothing to snapshot, and reading one back borrows the decoded arrays
(read-only, copied on first write) instead of copying them into place.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from ledger.core.codec import Payload, encode_payload
from ledger.core.events import SkeletonDef, SuggestionDef, TrackDef, VideoDef
from ledger.core.rangelist import RangeList
from ledger.core.state import State
from ledger.core.tables import Columns

SNAPSHOT_VERSION = 2


def _cols(columns: Columns) -> dict[str, np.ndarray]:
    return {name: columns.view(name) for name in columns.cols}


def _restore_cols(columns: Columns, data: dict[str, np.ndarray], borrow: bool) -> None:
    """Fill a table from a snapshot's columns. ``borrow``: keep them read-only and
    copy on first write -- only for tables whose writers copy first (the instance
    table and the point pool, which also borrow an import's columns); the frame
    table is small (one row per frame) and is copied."""
    n = len(next(iter(data.values()))) if data else 0
    if not n:
        return
    if borrow:
        columns.adopt(data)
        return
    columns.reserve(n, zero=False)
    for name, arr in data.items():
        columns.cols[name][:n] = arr


def _defs(values: list[Any]) -> list[bytes]:
    return [msgspec.msgpack.encode(v) for v in values]


def state_to_payload(state: State, head: int) -> Payload:
    """The state after ``head`` as a payload for `Store.save_snapshot`."""
    fr, inst = state.frames, state.instances
    occ_keys = np.array([k for k in state.occupancy], dtype=np.int64).reshape(-1, 2)
    occ_lens = np.array([len(rl.list) for rl in state.occupancy.values()], dtype=np.int64)
    occ_flat = np.array([x for rl in state.occupancy.values() for iv in rl.list for x in iv],
                        dtype=np.int64)
    extra_rows = np.array(list(fr.extra), dtype=np.int64)
    extra_lens = np.array([len(v) for v in fr.extra.values()], dtype=np.int64)
    extra_flat = np.array([r for v in fr.extra.values() for r in v], dtype=np.int64)
    single = inst.index.single
    payload = {
        "version": SNAPSHOT_VERSION,
        "head": head,
        "videos": _defs([state.videos[v] for v in state.video_order]),
        "skeletons": _defs([state.skeletons[s] for s in state.skeleton_order]),
        "tracks": _defs([state.tracks[t] for t in state.track_order]),
        "suggestions": _defs(state.suggestions),
        "anchors": [[v, [list(a) for a in lst]] for v, lst in state.anchors.items()],
        "provenance": state.provenance,  # msgpack keeps NaN (JSON would not)
        "counts": [[v, c] for v, c in state.counts.items()],
        "frames": _cols(fr.cols),
        "frame_order": np.array(fr.order(), dtype=np.int64),
        "extra": [extra_rows, extra_lens, extra_flat],
        "instances": _cols(inst.cols),
        "points": inst.points.to_segments(),
        "index_single": [np.array(list(single), np.int64), np.array(list(single.values()),
                                                                  np.int64)],
        "index_ranges": np.array(inst.index._ranges, dtype=np.int64).reshape(-1, 3),
        "occupancy": [occ_keys, occ_lens, occ_flat],
    }
    return encode_payload(payload)


def state_from_data(data: Any) -> State:
    """The state a decoded snapshot payload holds. Raises ValueError (or a decode
    error) for anything that is not a snapshot of this version."""
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        raise ValueError("not a snapshot of this version")
    st = State()
    for raw in data["videos"]:
        d = msgspec.msgpack.decode(raw, type=VideoDef)
        st.videos[d.id] = d
        st.video_order.append(d.id)
    for raw in data["skeletons"]:
        s = msgspec.msgpack.decode(raw, type=SkeletonDef)
        st.skeletons[s.id] = s
        st.skeleton_order.append(s.id)
    for raw in data["tracks"]:
        t = msgspec.msgpack.decode(raw, type=TrackDef)
        st.tracks[t.id] = t
        st.track_order.append(t.id)
    st.suggestions = [msgspec.msgpack.decode(raw, type=SuggestionDef)
                      for raw in data["suggestions"]]
    st.anchors = {int(v): [tuple(a) for a in lst] for v, lst in data["anchors"]}
    st.provenance = dict(data["provenance"])
    st.counts = {int(v): list(c) for v, c in data["counts"]}
    _restore_cols(st.frames.cols, data["frames"], borrow=False)
    st.frames._order = data["frame_order"].tolist()
    st.frames._key_index = None
    rows, lens, flat = data["extra"]
    pos = 0
    for r, n in zip(rows.tolist(), lens.tolist(), strict=True):
        st.frames.extra[r] = flat[pos:pos + n].tolist()
        pos += n
    _restore_cols(st.instances.cols, data["instances"], borrow=True)
    st.instances.points.from_segments(data["points"])
    ids, idx_rows = data["index_single"]
    st.instances.index.single = dict(zip(ids.tolist(), idx_rows.tolist(), strict=True))
    for first, end, row0 in data["index_ranges"].tolist():
        st.instances.index._starts.append(first)
        st.instances.index._ranges.append((first, end, row0))
    keys, lens, flat = data["occupancy"]
    pos = 0
    for (v, t), n in zip(keys.tolist(), lens.tolist(), strict=True):
        pairs = flat[pos:pos + 2 * n].reshape(-1, 2).tolist()
        st.occupancy[(v, t)] = RangeList([(a, b) for a, b in pairs])
        pos += 2 * n
    return st
