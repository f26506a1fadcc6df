"""Mutated real files may only raise FormatError (and accepted ones must be valid).

The mutation engine lives in ``tools/fuzz/fuzz_slp.py`` (run it with ``--cases N``
for long campaigns); this test runs 500 deterministic cases in a few seconds.
"""

from __future__ import annotations

import faulthandler
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from iohelpers import DATA

TOOL = Path(__file__).resolve().parents[2] / "tools" / "fuzz" / "fuzz_slp.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_slp", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fuzzed_files_raise_only_format_error() -> None:
    faulthandler.dump_traceback_later(120, exit=True)  # a hang fails loudly, not forever
    try:
        stats = _tool().run_cases(500, seed=20240501, data_dir=DATA)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert stats["format_error"] > 100 and stats["ok"] > 10, stats


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", range(4))
def test_fuzz_long(seed: int) -> None:
    _tool().run_cases(5000, seed=seed, data_dir=DATA)
