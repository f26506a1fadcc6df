"""The ``ledger`` command line: each verb, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

import ledger
from ledger.cli.commands import main

DATA = os.path.join(os.path.dirname(__file__), "data")
CLIP = os.path.join(DATA, "slp_hdf5", "minimal_instance.slp")


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def project(tmp_path, runner) -> str:
    path = str(tmp_path / "p.ledger")
    result = runner.invoke(main, ["import", CLIP, path, "--author", "ana"])
    assert result.exit_code == 0, result.output
    return path


def test_import_log_show_stats(runner, project):
    result = runner.invoke(main, ["log", project, "--json"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows[0]["seq"] == len(rows)  # newest first
    assert {r["author"] for r in rows} == {"ana"}
    assert any(r["kind"] == "FramesAdded" for r in rows)
    table = runner.invoke(main, ["log", project])
    assert table.exit_code == 0 and "FramesAdded" in table.output
    shown = runner.invoke(main, ["show", project, "1"])
    assert shown.exit_code == 0 and '"seq": 1' in shown.output
    stats = runner.invoke(main, ["stats", project])
    assert stats.exit_code == 0 and "frames" in stats.output


def test_undo_redo_verify_blame_tag(runner, project):
    labels = ledger.open(project, author="bob")
    labels.set_point(labels[0].instances[0], "A", 1.0, 2.0)
    labels.close()
    assert "undone" in runner.invoke(main, ["undo", project]).output
    assert "redone" in runner.invoke(main, ["redo", project]).output
    verified = runner.invoke(main, ["verify", project])
    assert verified.exit_code == 0 and verified.output.startswith("ok:")
    blame = runner.invoke(main, ["blame", project, "0", "0"])
    assert blame.exit_code == 0 and "ana" in blame.output
    tagged = runner.invoke(main, ["tag", project, "v1"])
    assert tagged.exit_code == 0
    assert ledger.open(project).tags()["v1"] > 0


def test_export_at_a_version(runner, project, tmp_path):
    out = str(tmp_path / "out.slp")
    result = runner.invoke(main, ["export", project, out])
    assert result.exit_code == 0 and os.path.exists(out)
    assert len(ledger.Labels.load_file(out)) == 1


@pytest.mark.parametrize("args", [
    ["log", "missing.ledger"],
    ["verify", "missing.ledger"],
    ["blame", "PROJECT", "7", "0"],
    ["show", "PROJECT", "999"],
    ["import", "no-such-file.slp", "NEW"],
])
def test_errors_are_one_line_and_non_zero(runner, project, tmp_path, args):
    args = [project if a == "PROJECT" else str(tmp_path / "n.ledger") if a == "NEW" else a
            for a in args]
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")


def test_demo_runs_end_to_end(runner, tmp_path):
    result = runner.invoke(main, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "verify:" in result.output
    assert os.path.exists(tmp_path / "dance.edited.slp")


def test_log_marks_merges_with_both_parents(runner, project, tmp_path):
    ours = ledger.open(project, author="ana")
    theirs = ours.fork(str(tmp_path / "bob.ledger"))
    theirs.set_point(theirs[0].instances[0], "A", 9.0, 9.0)
    result = ledger.merge(ours, theirs)
    result.commit("merge bob")
    from ledger.cli.commands import _parents

    heads = ours.history[-1].meta["merge"]
    assert _parents(ours.history[-1]) == (
        f" [merge {heads['ours_head'][:8]} + {heads['theirs_head'][:8]}]")
    ours.close()
    theirs.close()
    rows = [json.loads(line) for line in runner.invoke(main, ["log", project, "--json"]).output
            .splitlines()]
    assert rows[0]["tx_kind"] == "merge"
    assert rows[0]["meta"]["merge"]["theirs_head"] == heads["theirs_head"]
    assert "merge" in runner.invoke(main, ["log", project]).output
