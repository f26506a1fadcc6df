"""Benchmark of agreement and diff between two versions of M (issue 11).

M is 50,000 frames × 3 tracked instances × 20 nodes (`synthetic.py`); version B
has 1% of its instances moved by 1.5 px. Timed, each in a fresh process (``--runs``
times, median reported):
- ``ledger.agreement(a, b, kind="all")`` (goal ≤ 0.5 s);
- ``diff(a, b)`` plus its summary (goal ≤ 0.2 s).

Usage: python tools/bench/agreement.py [--runs 3]
Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, median, table, write_section  # noqa: E402
from synthetic import synthetic  # noqa: E402


def one_run() -> dict[str, float]:
    import ledger
    from ledger import Labels
    from ledger.core import events as ev
    from ledger.diffing import diff
    from ledger.io.slp_write import write_slp
    from ledger.merging import fork_in_memory

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "M.slp"
        write_slp(synthetic(50_000, 3, 20, 0, 4), path)
        a = Labels.load_file(path)
    b = fork_in_memory(a)
    st = b.project.state
    rows = st.live_instance_rows()
    rng = np.random.default_rng(5)
    picks = rng.choice(len(rows), len(rows) // 100, replace=False)
    with b.transaction("edit 1%"):
        for r in rows[picks].tolist():
            old = st.instances.points_of(r)
            new = old.copy()
            new[:, :2] += 1.5
            b.project.emit(ev.PointsSet(int(st.instances.cols.cols["id"][r]), new, old))
    t0 = time.perf_counter()
    ag = ledger.agreement(a, b, kind="all")
    t_agree = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = diff(a, b).summary()
    t_diff = time.perf_counter() - t0
    assert ag.matched == 150_000, ag
    return {"agreement": t_agree, "diff": t_diff, "matched": ag.matched,
            "mean_oks": ag.mean_oks, "instances_changed": s["instances_changed"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run()))
        return
    runs = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, __file__, "--one"], check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(runs[-1], flush=True)
    agree = median([r["agreement"] for r in runs])
    dt = median([r["diff"] for r in runs])
    r0 = runs[0]
    rows = [[f"agreement of two versions of M ({r0['matched']:,} matched instances, "
             f"mean OKS {r0['mean_oks']:.3f})", f"{agree:.3f} s", "≤ 0.5 s"],
            [f"diff M vs M with 1% of instances edited ({r0['instances_changed']:,} instances)",
             f"{dt:.3f} s", "≤ 0.2 s"]]
    body = ("## Agreement and diff of versions (`tools/bench/agreement.py`)\n\n" + machine()
            + f"\n\nMedian of {len(runs)} fresh-process runs (each: "
            + ", ".join(f"{r['agreement']:.3f}/{r['diff']:.3f} s" for r in runs)
            + " agreement/diff).\n\n" + table(["what", "ledger", "goal"], rows)
            + "\n\nM: 50,000 frames × 3 tracked instances × 20 nodes (`synthetic.py`); "
            "version B moves 1% of the instances by 1.5 px. Agreement: `ledger.agreement(a, b, "
            "kind=\"all\")` (matching by frame and track, OKS, per-node percentiles and PCK). "
            "Diff: `diff(a, b).summary()`.")
    write_section("agreement", body)


if __name__ == "__main__":
    main()
