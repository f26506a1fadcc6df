"""`ledger export --format analysis|csv|slp|json` (default from the extension)."""

from __future__ import annotations

import os

import h5py
import pytest
from click.testing import CliRunner
from sio_projects import DATA

import ledger
from ledger.cli.commands import main

CLIP = os.path.join(DATA, "tracks", "clip.2node.slp")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("cli") / "clip.ledger")
    result = CliRunner().invoke(main, ["import", CLIP, path])
    assert result.exit_code == 0, result.output
    return path


def test_h5_defaults_to_the_analysis_file(project, tmp_path):
    out = tmp_path / "clip.analysis.h5"
    result = CliRunner().invoke(main, ["export", project, str(out)])
    assert result.exit_code == 0, result.output
    with h5py.File(out, "r") as f:
        assert {"tracks", "track_occupancy", "node_names", "provenance"} <= set(f)
        assert f["labels_path"][()].decode() == project


def test_csv_slp_json_and_forced_format(project, tmp_path):
    runner = CliRunner()
    for name, check in (("a.csv", lambda p: p.read_text().startswith("track,frame_idx")),
                        ("a.slp", lambda p: len(ledger.load_file(p)) == 1500),
                        ("a.json", lambda p: len(ledger.load_file(p)) == 1500)):
        out = tmp_path / name
        result = runner.invoke(main, ["export", project, str(out)])
        assert result.exit_code == 0, result.output
        assert check(out)
    out = tmp_path / "labels.h5"
    result = runner.invoke(main, ["export", project, str(out), "--format", "slp"])
    assert result.exit_code == 0, result.output
    assert len(ledger.load_file(out)) == 1500


@pytest.mark.parametrize("name,args", [("a.nwb", []), ("a.txt", []),
                                       ("a.csv", ["--format", "json"])])
def test_unknown_or_mismatched_extensions_fail_listing_formats(project, tmp_path, name, args):
    result = CliRunner().invoke(main, ["export", project, str(tmp_path / name), *args])
    assert result.exit_code == 1
    assert ".h5" in result.output or "needs a" in result.output
    assert not (tmp_path / name).exists()
