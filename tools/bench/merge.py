"""Benchmark of merge and diff (issue: merge and diff).

In one run, side by side with sleap-io's ``Labels.merge``:
- merge the second half of the M (50,000 frames × 3 instances × 20 nodes,
  predictions, tracked) and L (300,000 × 4 × 24) files into the first half
  (no shared history: the state-based merge); goals ≤ 0.2 s and ≤ 2 s;
- three-way merge of two forks of M with 10,000 point edits each (goal ≤ 1 s);
- diff of M against M with 1% of instances edited (goal ≤ 0.2 s).

Realistic transactions (issue 11): forks of the whole M with 10,000 single-edit
transactions per side (each `PointSet` its own transaction, as an annotator's
session makes them; 1% of them on the same points, resolved "ours"), in memory
and durable (SQLite forks): plan (``merge``) ≤ 0.5 s and commit (theirs'
transactions replayed one by one with their authors, then the merge
transaction) ≤ 0.5 s, each the median of 3 runs in fresh processes.

Usage: python tools/bench/merge.py [--sizes M,L] [--edits 10000] [--only txs]
Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402
from synthetic import synthetic  # noqa: E402

from ledger import Labels  # noqa: E402
from ledger.diffing import diff  # noqa: E402
from ledger.io.slp_write import write_slp  # noqa: E402
from ledger.merging import fork_in_memory, merge  # noqa: E402

SIZES = {"M": (50_000, 3, 20), "L": (300_000, 4, 24)}


def halves(size: str, folder: Path) -> tuple[Path, Path]:
    n, k, nodes = SIZES[size]
    a, b = folder / f"{size}_first.slp", folder / f"{size}_second.slp"
    write_slp(synthetic(n // 2, k, nodes, 0, 1), a)
    write_slp(synthetic(n - n // 2, k, nodes, n // 2, 2), b)
    return a, b


def bench_halves(size: str, folder: Path) -> list[list[object]]:
    import sleap_io as sio

    a, b = halves(size, folder)
    sa, sb = sio.load_slp(str(a)), sio.load_slp(str(b))
    t0 = time.perf_counter()
    sa.merge(sb)
    t_sio = time.perf_counter() - t0
    la, lb = Labels.load_file(a), Labels.load_file(b)
    t0 = time.perf_counter()
    result = merge(la, lb)
    t_plan = time.perf_counter() - t0
    result.commit("merge halves")
    t_ours = time.perf_counter() - t0
    assert len(la) == SIZES[size][0], len(la)
    goal = {"M": 0.2, "L": 2.0}[size]
    return [[f"merge 2nd half of {size} into 1st ({SIZES[size][0]:,} frames)",
             f"{t_ours:.2f} s (plan {t_plan:.2f} s)", f"{t_sio:.2f} s",
             f"{t_sio / t_ours:.1f}×", f"≤ {goal} s"]]


def bench_three_way(folder: Path, n_edits: int) -> list[list[object]]:
    a, _ = halves("M", folder)
    base = Labels.load_file(a)
    base._ledger.records()  # hashes are computed once, when history is first shared
    ours, theirs = fork_in_memory(base), fork_in_memory(base)
    rng = np.random.default_rng(3)
    for side in (ours, theirs):
        insts = side._state.live_instance_rows()
        ids = side._state.instances.cols.cols["id"][insts]
        skel = side.skeleton
        nodes = [n._id for n in skel.nodes]
        from ledger.core import events as ev

        picks = rng.choice(len(ids), n_edits, replace=False)
        with side.transaction("edits"):
            for p in picks.tolist():
                node = nodes[int(rng.integers(len(nodes)))]
                side._ledger.emit(ev.PointSet(int(ids[p]), node, float(rng.random()), 1.0, True,
                                              True, 0.0, 0.0, 0.0, True, False, 0.0))
    t0 = time.perf_counter()
    result = merge(ours, theirs)
    t_plan = time.perf_counter() - t0
    result.resolve_all("ours")
    result.commit("three-way")
    total = time.perf_counter() - t0
    return [[f"three-way merge, forks of M half with {n_edits:,} point edits each "
             f"({len(result.conflicts)} conflicts)", f"{total:.2f} s (plan {t_plan:.2f} s)",
             "n/a", "", "≤ 1 s"]]


def bench_diff(folder: Path) -> list[list[object]]:
    n, k, nodes = SIZES["M"]
    path = folder / "M_full.slp"
    write_slp(synthetic(n, k, nodes, 0, 4), path)
    a = Labels.load_file(path)
    b = fork_in_memory(a)
    st = b._state
    rows = st.live_instance_rows()
    rng = np.random.default_rng(5)
    picks = rng.choice(len(rows), len(rows) // 100, replace=False)
    from ledger.core import events as ev

    with b.transaction("edit 1%"):
        for r in rows[picks].tolist():
            old = st.instances.points_of(r)
            new = old.copy()
            new[:, :2] += 1.5
            b._ledger.emit(ev.PointsSet(int(st.instances.cols.cols["id"][r]), new, old))
    t0 = time.perf_counter()
    d = diff(a, b)
    s = d.summary()
    t_diff = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = d.events
    t_events = time.perf_counter() - t0
    return [[f"diff M vs M with 1% of instances edited ({s['instances_changed']:,} instances, "
             f"{s['points_changed']:,} points)", f"{t_diff:.3f} s (+{t_events:.3f} s for events)",
             "n/a", "", "≤ 0.2 s"]]


def build_tx_forks(folder: Path, n_edits: int) -> None:
    """Write base (whole M), ours and theirs (durable), each side with
    ``n_edits`` single-edit transactions."""
    n, k, nodes = SIZES["M"]
    path = folder / "M_full.slp"
    if not path.exists():
        write_slp(synthetic(n, k, nodes, 0, 4), path)
    base = Labels.load_file(path)
    total = len(base._state.live_instance_rows())
    shared = np.random.default_rng(9).choice(total, n_edits // 100, replace=False)
    for name, seed, author in (("ours", 1, "ana"), ("theirs", 2, "bob")):
        side = base.fork(folder / f"{name}.ledger", author=author)
        own = np.setdiff1d(np.arange(total), shared)
        _single_edits_from(side, n_edits, seed, shared, own)
        side.close()


def _single_edits_from(labels: Labels, n: int, seed: int, shared: np.ndarray,
                       pool: np.ndarray) -> None:
    rng = np.random.default_rng(seed)
    picks = np.concatenate([shared, rng.choice(pool, n - len(shared), replace=False)])
    from ledger.core import events as ev

    st = labels._state
    rows = st.live_instance_rows()
    nodes = [nd._id for nd in labels.skeleton.nodes]
    cols = st.instances.cols.cols
    for k, p in enumerate(picks.tolist()):
        row = int(rows[p])
        pos = k % len(nodes) if k >= len(shared) else 0
        old = st.instances.points.get(int(cols["pt_start"][row]) + pos)
        labels._ledger.emit(ev.PointSet(int(cols["id"][row]), nodes[pos], float(seed + k),
                                        1.0, True, True, 0.0, *old))


def one_tx_run(folder: Path, durable: bool) -> dict[str, float]:
    """One timed run (meant for a fresh process): plan and commit of theirs into
    a copy of ours."""
    import ledger

    work = folder / f"run-{time.time_ns()}"
    work.mkdir()
    shutil.copy(folder / "ours.ledger", work / "ours.ledger")
    ours = ledger.open(str(work / "ours.ledger"), author="ana")
    theirs = ledger.open(str(folder / "theirs.ledger"), author="bob")
    if not durable:
        ours, theirs = fork_in_memory(ours), fork_in_memory(theirs)
    _ = ours._state, theirs._state  # opening costs are not the merge's
    t0 = time.perf_counter()
    result = merge(ours, theirs)
    t_plan = time.perf_counter() - t0
    result.resolve_all("ours")
    t0 = time.perf_counter()
    result.commit("merge bob")
    t_commit = time.perf_counter() - t0
    out = {"plan": t_plan, "commit": t_commit, "conflicts": len(result.conflicts),
           "replayed": len(result.transactions) - 1}
    shutil.rmtree(work)
    return out


def bench_transactions(folder: Path, n_edits: int, runs: int = 3) -> list[list[object]]:
    build_tx_forks(folder, n_edits)
    rows: list[list[object]] = []
    for durable in (False, True):
        got = []
        for _ in range(runs):
            proc = subprocess.run([sys.executable, __file__, "--one-tx-run", str(folder),
                                   "--durable" if durable else "--memory"],
                                  capture_output=True, text=True)
            if proc.returncode:
                raise RuntimeError(proc.stderr)
            got.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        plan = statistics.median(g["plan"] for g in got)
        commit = statistics.median(g["commit"] for g in got)
        rows.append([f"three-way merge, forks of M with {n_edits:,} single-edit transactions "
                     f"per side, {'durable' if durable else 'in memory'} "
                     f"({got[0]['conflicts']} conflicts, {got[0]['replayed']:,} transactions "
                     "replayed with their authors)",
                     f"plan {plan:.3f} s, commit {commit:.3f} s (median of {runs})", "n/a", "",
                     "plan ≤ 0.5 s, commit ≤ 0.5 s"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="M,L")
    parser.add_argument("--edits", type=int, default=10_000)
    parser.add_argument("--only", default="")
    parser.add_argument("--one-tx-run", default="")
    parser.add_argument("--durable", action="store_true")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    if args.one_tx_run:
        print(json.dumps(one_tx_run(Path(args.one_tx_run), args.durable)))
        return
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only == "txs":
            rows += bench_transactions(folder, args.edits)
            print(rows, flush=True)
            write_section("merge-transactions", "## Merge of realistic transactions "
                          "(`tools/bench/merge.py --only txs`)\n\n" + machine() + "\n\n"
                          + table(["what", "ledger", "sleap-io", "", "goal"], rows))
            return
        for size in args.sizes.split(","):
            rows += bench_halves(size, folder)
            print(rows[-1], flush=True)
        rows += bench_three_way(folder, args.edits)
        print(rows[-1], flush=True)
        rows += bench_diff(folder)
        print(rows[-1], flush=True)
    body = ("## Merge and diff (`tools/bench/merge.py`)\n\n" + machine() + "\n\n"
            + table(["what", "ledger", "sleap-io", "speed-up", "goal"], rows)
            + "\n\nsleap-io: `load_slp` both halves (not timed), then `Labels.merge`. ledger: "
            "`merge(first, second)` (state-based: no shared history) + `commit`.")
    write_section("merge", body)


if __name__ == "__main__":
    main()
