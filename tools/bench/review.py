"""Benchmark of ``ledger review`` on M (50,000 frames × 3 instances × 20 nodes).

Builds M with `synthetic` (predictions; its video does not exist, so frames are
drawn on blank canvases — decoding a real video adds a few ms per drawn frame),
imports it into a ledger, then commits point edits (2 px) on 1,000 distinct
frames as two authors (one session and transaction each). Times the
whole command, ``ledger review M.ledger --out DIR`` (changes since the import,
default cap of drawn frames), in fresh processes, median of ``--runs`` (goal
≤ 10 s), and writes the ``review`` section of docs/benchmarks.md.

Usage: python tools/bench/review.py [--runs 3] [--changed 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from report import machine, table, write_section  # noqa: E402
from synthetic import synthetic  # noqa: E402

ENV = {**os.environ, "PYTHONWARNINGS": "ignore",
       "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
CLI = [sys.executable, "-c", "import sys; from ledger.cli.commands import main; "
       "sys.argv[0] = 'ledger'; main()"]
N_FRAMES, N_INST, N_NODES = 50_000, 3, 20


def build(folder: Path, changed: int) -> Path:
    """M as a ledger, with point edits on ``changed`` frames by two authors."""
    import ledger
    from ledger.core import events as ev
    from ledger.io.slp_write import write_slp
    from ledger.sleap.labels import Labels

    slp, path = folder / "M.slp", folder / "M.ledger"
    write_slp(synthetic(N_FRAMES, N_INST, N_NODES, 0, 7), slp)
    Labels.load_file(slp, author="ana").project.fork(path).close()
    rng = np.random.default_rng(11)
    frames = np.sort(rng.choice(N_FRAMES, changed, replace=False))
    for who, part in (("ana", frames[::2]), ("ben", frames[1::2])):
        labels = ledger.open(str(path), author=who)
        st = labels.project.state
        ids = st.instances.cols.cols["id"]
        nodes = [n.id for n in next(iter(st.skeletons.values())).nodes]
        with labels.transaction(f"{who} fixes {len(part)} frames"):
            for f in part.tolist():
                row = st.frame_instance_rows(st.frames.row_of(next(iter(st.videos)), f))[0]
                old = st.instances.points_of(row)[0]
                labels.project.emit(ev.PointSet(int(ids[row]), nodes[0], float(old[0]) + 2.0,
                                                float(old[1]), True, True, 1.0, *old[:2],
                                                True, False, float(old[4])))
        labels.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changed", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-review-") as tmp:
        folder = Path(tmp)
        path = build(folder, args.changed)
        times, line = [], ""
        for k in range(args.runs):
            t0 = time.perf_counter()
            out = subprocess.run([*CLI, "review", str(path), "--out", str(folder / f"r{k}")],
                                 env=ENV, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - t0)
            line = out.stdout.strip()
    med = statistics.median(times)
    print(f"median {med:.2f} s over {args.runs} runs: {line}")
    body = (
        "## Review page\n\n"
        f"`ledger review M.ledger --out DIR` on M ({N_FRAMES:,} frames × {N_INST} instances × "
        f"{N_NODES} nodes, synthetic predictions, video missing so frames are drawn on blank "
        f"canvases) after point edits on {args.changed:,} frames by two authors: the whole "
        f"command in a fresh process, median of {args.runs}. Measured by "
        "`python tools/bench/review.py`.\n\n"
        + table(["what", "time", "goal"],
                [[f"`ledger review` on M, {args.changed:,} changed frames (60 drawn)",
                  f"{med:.2f} s", "≤ 10 s"]])
        + f"\n\nOutput: `{line.split(': ', 1)[-1]}`. Machine: {machine()}.")
    write_section("review", body)


if __name__ == "__main__":
    main()
