"""Benchmark of the durable ledger as a user meets it: whole commands, fresh processes.

For each file (sleap-io-written prediction files, generated once by
``tools/bench/slp.py``'s generator and cached in ``--data-dir``):

* M: 50,000 frames × 3 instances × 20 nodes;
* L: 300,000 frames × 4 instances × 24 nodes;

every step below runs as its own process, ``--runs`` times (default 3), and the
table shows the median (peak memory: the highest). Side by side, in the same run:

* floors: ``python -c 'Labels.load_file(slp)'`` (our in-memory load, whole
  process) and the in-memory load plus writing the ledger's bytes once with fsync;
  ``ledger --help`` (the interpreter and CLI start-up every verb pays); ``cp`` of
  the ledger file;
* ``ledger import``; ``ledger log``, ``stats``, ``tag --list``, ``show 1``;
  ``ledger undo`` and ``redo`` of a point edit; a session that opens the ledger,
  moves one point and closes it; ``ledger fork``; ``ledger verify``;
* file sizes: after the import, and after 10 one-edit sessions.

Peak memory of a process is its own ``ru_maxrss`` (from ``wait4`` when it exits;
file pages a ledger maps for reading count too); "arrays" is the ``nbytes`` of
the four tables h5py reads from the file.
Bytecode is compiled before timing (as after any install), so start-up is not
charged for compiling.

Usage: python tools/bench/durable.py [--sizes M,L] [--runs 3] [--data-dir DIR]
Writes the ``durable`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from report import machine, table, write_section  # noqa: E402
from slp import data_path, generate  # noqa: E402

PY = sys.executable
_SCRIPT = Path(PY).with_name("ledger")
LEDGER = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-m", "ledger.cli.commands"]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [ENV.get("PYTHONPATH")])])
ENV["PYTHONWARNINGS"] = "ignore"

SESSION = """
import sys, ledger
labels = ledger.open(sys.argv[1], author="bench")
inst = labels[int(sys.argv[2])].instances[0]
labels.set_point(inst, inst.skeleton.nodes[0].name, 11.0 + int(sys.argv[2]), 12.0)
labels.close()
"""
LOAD = "import sys; from ledger import Labels; Labels.load_file(sys.argv[1])"
FLOOR_IMPORT = """
import os, sys
from ledger import Labels
Labels.load_file(sys.argv[1])
size = int(sys.argv[3])
with open(sys.argv[2], "wb") as fh:
    block = bytes(8 << 20)
    left = size
    while left > 0:
        fh.write(block[:min(left, len(block))])
        left -= len(block)
    fh.flush()
    os.fsync(fh.fileno())
"""


FORK_INPROC = """
import os, shutil, sys, time
from ledger.project.project import Project
src, a, b = sys.argv[1:4]
t0 = time.perf_counter()
shutil.copyfile(src, a)
fd = os.open(a, os.O_RDONLY); os.fsync(fd); os.close(fd)
t1 = time.perf_counter()
with Project.open(src, create=False) as project:
    t2 = time.perf_counter()
    project.fork(b).close()
    t3 = time.perf_counter()
print(t1 - t0, t3 - t2)
"""


def run(cmd: list[str]) -> tuple[float, float]:
    """Seconds and peak resident MB of one process (its own ``ru_maxrss``, from
    ``wait4``: the parent's RUSAGE_CHILDREN would report the largest child so far)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()}")
    return dt, usage.ru_maxrss / 1024


def arrays_mb(slp: Path) -> float:
    import h5py

    with h5py.File(slp, "r") as f:
        return sum(f[name].size * f[name].dtype.itemsize
                   for name in ("frames", "instances", "points", "pred_points")) / 2**20


def measure(slp: Path, work: Path, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        out.setdefault(name, []).append(value)

    led = work / "p.ledger"
    for r in range(runs):
        for leftover in work.glob("*"):
            leftover.unlink()
        dt, peak = run([*LEDGER, "import", str(slp), str(led)])
        add("import", dt)
        add("import_peak", peak)
        size = led.stat().st_size
        add("size_import", size)
        add("load", run([PY, "-c", LOAD, str(slp)])[0])
        add("floor_import", run([PY, "-c", FLOOR_IMPORT, str(slp), str(work / "floor.bin"),
                                 str(size)])[0])
        add("help", run([*LEDGER, "--help"])[0])
        for verb in (["log"], ["stats"], ["tag", "--list"], ["show", "1"]):
            add(" ".join(verb), run([*LEDGER, verb[0], str(led), *verb[1:]])[0])
        add("session", run([PY, "-c", SESSION, str(led), str(r + 1)])[0])
        add("undo", run([*LEDGER, "undo", str(led)])[0])
        add("redo", run([*LEDGER, "redo", str(led)])[0])
        add("cp", run(["cp", str(led), str(work / "copy.ledger")])[0])
        add("fork", run([*LEDGER, "fork", str(led), str(work / "fork.ledger")])[0])
        times = subprocess.run([PY, "-c", FORK_INPROC, str(led), str(work / "copy2.ledger"),
                                str(work / "fork2.ledger")], env=ENV, capture_output=True,
                               check=True, text=True).stdout.split()
        add("copy_inproc", float(times[0]))
        add("fork_inproc", float(times[1]))
        add("verify", run([*LEDGER, "verify", str(led)])[0])
        if r == 0:
            for k in range(9):
                run([PY, "-c", SESSION, str(led), str(k + 10)])
            add("size_10", sum(p.stat().st_size for p in work.glob("p.ledger*")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="M,L")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "ledger-bench"))
    args = parser.parse_args()
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "ledger")], env=ENV, check=True)
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    rows, notes = [], []
    for size in args.sizes.split(","):
        slp = data_path(data, size)
        if not slp.exists():
            print(f"generating {slp.name} with sleap-io ...", flush=True)
            generate(slp, size)
        work = Path(tempfile.mkdtemp(prefix=f"ledger-durable-{size}-"))
        try:
            m = measure(slp, work, args.runs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        med = {k: statistics.median(v) for k, v in m.items()}
        slp_mb = slp.stat().st_size / 1e6
        arr = arrays_mb(slp)

        def s(key: str, med: dict[str, float] = med) -> str:
            return f"{med[key]:.2f} s"

        rows += [
            [size, "`ledger import`", s("import"),
             f"floor {s('floor_import')} (load + write once + fsync); "
             f"peak {max(m['import_peak']):,.0f} MB = {max(m['import_peak']) / arr:.2f}× arrays"],
            [size, "`ledger --help`", s("help"), "start-up every verb pays"],
            *[[size, f"`ledger {verb}`", s(verb), f"{med[verb] / med['help']:.2f}× --help"]
              for verb in ("log", "stats", "tag --list", "show 1")],
            [size, "`ledger undo` / `redo` of a point edit",
             f"{med['undo']:.2f} s / {med['redo']:.2f} s", ""],
            [size, "open, move one point, close", s("session"),
             f"{med['session'] / med['load']:.2f}× `Labels.load_file` ({s('load')})"],
            [size, "`ledger fork`", s("fork"),
             f"{med['fork'] / med['cp']:.2f}× `cp` ({s('cp')}), both whole processes"],
            [size, "`Project.fork` in a running process", s("fork_inproc"),
             f"{med['fork_inproc'] / med['copy_inproc']:.2f}× copying the file with fsync "
             f"({s('copy_inproc')}) in the same process"],
            [size, "`ledger verify`", s("verify"), "re-hashes every record and array"],
            [size, "file size", f"{med['size_import'] / 1e6:,.1f} MB",
             f"{med['size_import'] / 1e6 / slp_mb:.2f}× the .slp ({slp_mb:,.1f} MB) after "
             f"import; {m['size_10'][0] / 1e6 / slp_mb:.2f}× after 10 one-edit sessions"],
        ]
        notes.append(f"{size}: {slp.name}, arrays {arr:,.0f} MB")
        print(table(["file", "command (whole process)", "median", "beside"], rows), flush=True)
    body = (f"## Durable ledger, whole commands (`tools/bench/durable.py`)\n\n{machine()}; "
            f"median of {args.runs} fresh-process runs each; "
            + "; ".join(notes) + ".\n\n"
            + table(["file", "command (whole process)", "median", "beside"], rows))
    write_section("durable", body)
    print(body)


if __name__ == "__main__":
    main()
