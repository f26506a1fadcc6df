"""``ledger --version`` and ``--json`` on stats, verify, blame and show: one JSON
document (or one per line) that a script can parse, with the same numbers as the
ledger."""

from __future__ import annotations

import json

from click.testing import CliRunner
from review_scenario import build

import ledger
from ledger.cli.commands import main


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"ledger {ledger.__version__}"


def test_json_outputs(tmp_path):
    path = str(build(tmp_path)["ledger"])
    run = CliRunner()

    def js(*args: str) -> list:
        result = run.invoke(main, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.output.splitlines()]

    labels = ledger.open(path, read_only=True)
    try:
        (stats,) = js("stats", path)
        assert stats["frames"] == len(labels) and stats["events"] == len(labels.history)
        (verify,) = js("verify", path)
        assert verify == {"ok": True, "events": len(labels.history),
                          "head": labels.head_hash()}
        blame = js("blame", path, "0", "10")
        assert [row["index"] for row in blame] == [0, 1]
        assert blame[0]["last_changed"]["author"] == "alice"
        assert blame[0]["track"] in {t.name for t in labels.tracks}
        (show,) = js("show", path, "8")
        assert show["kind"] == "InstancesRemoved" and show["author"] == "bob"
        assert show["hash"] == labels.history[7].hash
    finally:
        labels.close()
