"""Benchmark of the event core (issue: the event-sourced core).

Measures, on one machine in one run:
- building a 50,000-frame, 3-instance, 20-node project through the Labels API;
- ``find(video, idx)`` and track-occupancy lookups per second;
- replay throughput of small events (point edits) from an empty state;
- undo of a point edit as the history grows to 1,000,000 events (should be flat).

Usage: python tools/bench/core.py [--frames 50000] [--history 1000000]
Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, median, table, write_section  # noqa: E402

from ledger import LabeledFrame, Labels, PredictedInstance, Skeleton, Track, Video  # noqa: E402
from ledger.core import events as ev  # noqa: E402
from ledger.core.apply import apply_event  # noqa: E402
from ledger.core.state import State  # noqa: E402


def build(n_frames: int) -> tuple[Labels, Video, list[Track], float]:
    skel = Skeleton.from_names_and_edge_inds([f"n{i}" for i in range(20)],
                                             [(i, i + 1) for i in range(19)])
    video = Video.from_filename("/bench/missing.mp4")
    tracks = [Track(0, f"t{k}") for k in range(3)]
    rng = np.random.default_rng(0)
    labels = Labels()
    pts = rng.random((n_frames, 3, 20, 2)) * 500
    t0 = time.perf_counter()
    with labels.transaction("build"):
        for f in range(n_frames):
            labels.append(LabeledFrame(video, f, [
                PredictedInstance.from_numpy(pts[f, k], np.ones(20), 0.9, skel, track=tracks[k])
                for k in range(3)]))
    return labels, video, tracks, time.perf_counter() - t0


def per_second(fn, n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t0)


def point_events(labels: Labels, n: int) -> list[ev.Event]:
    inst = labels[0].instances[0]
    node = inst.skeleton.nodes[3]._id
    return [ev.PointSet(inst._id, node, float(i), float(i), True, True, 0.0,
                        float(i - 1), float(i - 1), True, True, 0.0) for i in range(n)]


def undo_latency(labels: Labels, history: int) -> list[tuple[int, float]]:
    """Grow the history with point edits; time undo of one edit at checkpoints."""
    inst = labels[0].instances[0]
    node = inst.skeleton.nodes[5]._id
    led = labels.project.ledger
    st = labels.project.state
    x, y, vis, comp, score = st.instances.points_of(st.instances.row_of(inst._id))[5].tolist()
    prev = (x, y, bool(vis), bool(comp), score)  # each edit names the value it replaces
    out = []
    checkpoints = [c for c in (10_000, 100_000, 1_000_000) if c <= history]
    i = 0
    for target in checkpoints:
        while led.head < target:
            with led.transaction("grow"):
                for _ in range(min(5000, target - led.head)):
                    new = (float(i), 1.0, True, True, prev[4])
                    led.emit(ev.PointSet(inst._id, node, *new, *prev))
                    prev = new
                    i += 1
        samples = []
        for _ in range(50):
            labels.set_point(inst, "n7", 1.0, 2.0)
            t0 = time.perf_counter()
            labels.undo()
            samples.append(time.perf_counter() - t0)
        out.append((led.head, median(samples)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    args = parser.parse_args()

    labels, video, tracks, t_build = build(args.frames)
    n_inst = args.frames * 3
    find_rate = per_second(lambda i: labels.find(video, i % args.frames), 100_000)
    occ_rate = per_second(lambda i: labels.cache.get_track_occupancy(video, tracks[i % 3]),
                          100_000)
    frames_rate = per_second(lambda i: labels.get_track_occupancy(video), 2_000)

    events = point_events(labels, 300_000)
    state = State()
    for rec in labels.history:
        apply_event(state, rec.event)
    t0 = time.perf_counter()
    for e in events:
        apply_event(state, e)
    replay_rate = len(events) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    fresh = State()
    for rec in labels.history:
        apply_event(fresh, rec.event)
    replay_build = time.perf_counter() - t0

    undo = undo_latency(labels, args.history)

    rows = [
        [f"build {args.frames:,} frames × 3 instances × 20 nodes via Labels.append",
         f"{t_build:.1f} s", f"{args.frames / t_build:,.0f} frames/s, {n_inst / t_build:,.0f} "
         "instances/s", ""],
        ["replay that build's history from empty", f"{replay_build:.2f} s",
         f"{args.frames / replay_build:,.0f} frame events/s", ""],
        ["`find(video, frame_idx)`", "", f"{find_rate:,.0f} /s", ""],
        ["`cache.get_track_occupancy(video, track)`", "", f"{occ_rate:,.0f} /s", ""],
        ["`get_track_occupancy(video)` (all tracks)", "", f"{frames_rate:,.0f} /s", ""],
        ["replay of small events (`PointSet`)", "", f"{replay_rate:,.0f} events/s",
         "goal ≥ 300,000/s"],
    ]
    rows += [[f"undo of a point edit, history of {h:,} events", f"{t * 1e3:.3f} ms", "",
              "goal: flat in history length"] for h, t in undo]
    body = (f"## Event core (`tools/bench/core.py`)\n\n{machine()}\n\n"
            + table(["what", "time", "rate", "note"], rows))
    write_section("core", body)
    print(body)


if __name__ == "__main__":
    main()
