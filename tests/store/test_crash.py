"""Kill a committing process with SIGKILL at random instants: every acknowledged
transaction survives whole, no partial transaction appears, the chain verifies.

The machinery lives in ``tools/stress/crash.py`` (``--rounds N`` for long runs);
this runs 25 rounds.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ledger.core.record import Record
from ledger.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def _crash_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_stress",
                                                  ROOT / "tools" / "stress" / "crash.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


crash = _crash_tool()


def test_sigkill_at_random_instants_loses_nothing_acknowledged(tmp_path: Path) -> None:
    seed = int(os.environ.get("LEDGER_CRASH_SEED", random.randrange(2 ** 32)))
    results = crash.run(tmp_path / "crash.ledger", rounds=25, seed=seed, max_delay=0.25)
    failed = [(r.round_no, r.problems) for r in results if not r.ok]
    assert not failed, f"seed {seed}: {failed}"
    assert sum(r.acked for r in results) > 0, "no round got as far as a commit"
    with SqliteStore(tmp_path / "crash.ledger", create=False) as store:
        assert store.verify() == results[-1].events


def test_checker_reports_lost_and_partial_transactions(tmp_path: Path) -> None:
    """The checker itself must be able to fail: an acknowledged transaction that is
    missing, and one that lost an event, are both reported."""
    path = tmp_path / "c.ledger"
    with SqliteStore(path) as store:
        seq = 0
        for i in range(3):
            events = crash.events_of(0, i, {})
            if i == 2:
                events = events[:-1]  # a partial transaction
            recs = [Record(seq=seq + k + 1, tx=i + 1, author="crash", time="t",
                           message=crash.message(0, i), tool_version="t", tx_kind="do",
                           ref=0, event=e) for k, e in enumerate(events)]
            store.append(recs, seq)
            seq += len(recs)
    _, _, problems = crash.check_round(path, 0, [0, 1, 2, 3, 4], expected_tracks=0)
    text = " ".join(problems)
    assert "acknowledged" in text and "transaction 2 is incomplete" in text
