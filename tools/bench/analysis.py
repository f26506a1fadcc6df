"""Benchmark of the analysis API: ``labels.numpy()`` and sleap-io interop.

Uses the synthetic prediction files of ``tools/bench/slp.py`` (generated with
sleap-io and cached in ``--data-dir``, default ``/tmp/ledger-bench``): M is 50,000
frames x 3 instances x 20 nodes, L is 300,000 x 4 x 24; tracked, ~2% NaN points,
user instances linked to a prediction in 1% of the frames.

Every measured operation runs in a fresh subprocess; the loading it needs is done
first and not timed. Operations run in interleaved rounds (``--rounds``, default 5)
and each reports the median of its rounds:

* ``raw``: h5py reads the points tables (``points`` and ``pred_points``) with
  ``ds[()]`` — the floor the goal is measured against;
* ``ours_numpy``: ``labels.numpy()`` after ``Labels.load_file``;
* ``sio_numpy``: sleap-io's ``labels.numpy()`` after an eager ``load_slp`` (M only:
  the eager load of L takes minutes) and ``sio_lazy_numpy`` after ``lazy=True``
  (sleap-io's fast path);
* ``to_sio``: ``labels.to_sleap_io()``; ``from_sio``: ``Labels.from_sleap_io`` of
  an eager sleap-io load; ``sio_load``: sleap-io's own eager ``load_slp`` (M only).

Goals (issue 12): ``ours_numpy`` <= 2x ``raw``; ``to_sio`` and ``from_sio`` <=
``sio_load``.

Usage: python tools/bench/analysis.py [--sizes M,L] [--rounds N]
Writes the ``analysis`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402
from slp import SIZES, ensure  # noqa: E402

OPS_BY_SIZE = {
    "M": ("raw", "ours_numpy", "sio_numpy", "sio_lazy_numpy", "to_sio", "from_sio", "sio_load"),
    "L": ("raw", "ours_numpy", "sio_lazy_numpy"),
}
GOAL_NUMPY_VS_RAW = 2.0


def worker(op: str, path: str) -> dict[str, object]:
    """Prepare (untimed), then time one operation, in this fresh process."""
    import h5py
    import numpy as np
    import sleap_io as sio

    from ledger import Labels

    warnings.simplefilter("ignore")
    subject = None
    if op in ("ours_numpy", "to_sio"):
        subject = Labels.load_file(path)
    elif op in ("sio_numpy", "from_sio"):
        subject = sio.load_slp(path)
    elif op == "sio_lazy_numpy":
        subject = sio.load_slp(path, lazy=True)
    t0 = time.perf_counter()
    if op == "raw":
        with h5py.File(path, "r") as f:
            value: object = [f[name][()] for name in ("points", "pred_points")]
    elif op in ("ours_numpy", "sio_numpy", "sio_lazy_numpy"):
        value = subject.numpy()  # type: ignore[union-attr]
    elif op == "to_sio":
        value = subject.to_sleap_io()  # type: ignore[union-attr]
    elif op == "from_sio":
        value = Labels.from_sleap_io(subject)
    elif op == "sio_load":
        value = sio.load_slp(path)
    else:
        raise SystemExit(f"unknown op {op}")
    seconds = time.perf_counter() - t0
    out: dict[str, object] = {"op": op, "seconds": seconds}
    if isinstance(value, np.ndarray):
        out["shape"] = list(value.shape)
        out["checksum"] = float(np.nansum(value[::97]))
    return out


def run_worker(op: str, path: Path) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--worker", op, "--path", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"op": op, "error": proc.stderr.strip()[-300:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def render(results: dict[str, dict[str, list[dict[str, object]]]], rounds: int) -> str:
    rows = []
    notes = []
    for size, ops in results.items():
        med = {op: statistics.median(float(r["seconds"]) for r in rs if "seconds" in r)
               for op, rs in ops.items() if any("seconds" in r for r in rs)}
        raw = med.get("raw")
        for op, sec in med.items():
            vs_raw = f"{sec / raw:.2f}x" if raw else "-"
            rows.append([size, op, f"{sec:.3f}", vs_raw])
        shapes = {op: rs[0].get("shape") for op, rs in ops.items() if rs and "shape" in rs[0]}
        sums = {op: rs[0].get("checksum") for op, rs in ops.items() if rs and "checksum" in rs[0]}
        if len({json.dumps(s) for s in shapes.values()}) > 1 or len(set(sums.values())) > 1:
            notes.append(f"{size}: numpy results differ between libraries: {shapes} {sums}")
        if raw and "ours_numpy" in med:
            ok = med["ours_numpy"] <= GOAL_NUMPY_VS_RAW * raw
            notes.append(f"{size}: numpy() {med['ours_numpy']:.3f} s vs raw points read "
                         f"{raw:.3f} s = {med['ours_numpy'] / raw:.2f}x "
                         f"(goal <= {GOAL_NUMPY_VS_RAW}x: {'met' if ok else 'NOT met'})")
        if "sio_load" in med:
            for op in ("to_sio", "from_sio"):
                if op in med:
                    ok = med[op] <= med["sio_load"]
                    notes.append(f"{size}: {op} {med[op]:.3f} s vs sleap-io eager load "
                                 f"{med['sio_load']:.3f} s (goal <=: {'met' if ok else 'NOT met'})")
    head = (f"`python tools/bench/analysis.py` — {machine()}; median of {rounds} interleaved "
            "rounds, each operation in a fresh process, its preparation untimed.\n\n")
    return head + table(["size", "operation", "seconds", "vs raw"], rows) + "\n\n" + \
        "\n".join(f"- {n}" for n in notes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="M,L")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--data-dir", default="/tmp/ledger-bench")
    ap.add_argument("--worker")
    ap.add_argument("--path")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.path)))
        return
    sizes = [s for s in args.sizes.split(",") if s]
    paths = {s: ensure(Path(args.data_dir), s) for s in sizes}
    results: dict[str, dict[str, list[dict[str, object]]]] = {
        s: {op: [] for op in OPS_BY_SIZE.get(s, OPS_BY_SIZE["M"])} for s in sizes}
    for k in range(args.rounds):
        for s in sizes:
            for op in results[s]:
                r = run_worker(op, paths[s])
                results[s][op].append(r)
                print(f"round {k + 1} {s} {op}: {r.get('seconds', r.get('error'))}", flush=True)
    body = render(results, args.rounds)
    print(body)
    write_section("analysis", f"## Analysis API (`numpy()`, sleap-io interop)\n\n{body}\n\n"
                  f"Sizes: {', '.join(f'{s} = {SIZES[s]}' for s in sizes)} "
                  "(frames, instances, nodes).")


if __name__ == "__main__":
    main()
