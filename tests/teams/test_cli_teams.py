"""The team verbs of the CLI, and the history verbs on a postgresql:// ledger."""

from __future__ import annotations

import json

from click.testing import CliRunner
from teamkit import point

import ledger
from ledger.cli.commands import main


def run(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output if "--json" in args else " ".join(result.output.split())


def test_admin_clone_push_pull_sync_remote(pg, tmp_path):
    url = pg.url
    assert "already there" in run("admin", "init", url)
    run("admin", "create-project", url, "mice")
    ana = pg.role("ana", password="cli-secret")
    out = run("admin", "grant", url, "mice", pg.real("ana"), "--annotator")
    assert "annotator" in out
    run("admin", "grant", url, "mice", pg.real("ana"), ok=False)  # no level
    with ledger.open(url, project="mice") as labels:
        from teamkit import seed

        seed(labels)
    path = str(tmp_path / "a.ledger")
    out = run("clone", ana, path, "--project", "mice")
    assert "cloned mice" in out and "cli-secret" not in out
    with ledger.open(path) as labels:
        labels.set_point(labels[0].instances[0], "head", 7.0, 7.0)
    info = json.loads(run("remote", path, "--json"))
    assert (info["ahead"], info["behind"]) == (1, 0)
    assert "cli-secret" not in json.dumps(info)
    assert "pushed 1" in run("push", path)
    with ledger.open(url, project="mice") as online:
        online.set_point(online[1].instances[0], "head", 8.0, 8.0)
    assert "fetched 1" in run("pull", path)
    assert "pushed 0" in run("sync", path)
    with ledger.open(path) as labels:
        assert point(labels, 1) == (8.0, 8.0)


def test_history_verbs_accept_a_url_with_project(pg, tmp_path):
    from teamkit import team_project

    urls = team_project(pg)
    url = urls["ana"]
    with ledger.open(url, project="mice") as labels:
        labels.set_point(labels[0].instances[0], "head", 7.0, 7.0)
    log = [json.loads(line) for line in run("log", url, "--project", "mice",
                                             "--json").splitlines()]
    assert log[0]["author"] == pg.real("ana")
    assert "VideoAdded" in run("show", url, "1", "--project", "mice")
    assert "events verify" in run("verify", url, "--project", "mice")
    assert "instances" in run("stats", url, "--project", "mice")
    assert "tagged" in run("tag", url, "v1", "--project", "mice")
    assert "v1" in run("tag", url, "--list", "--project", "mice")
    assert "undone" in run("undo", url, "--project", "mice")
    assert "redone" in run("redo", url, "--project", "mice")
    assert pg.real("ana") in run("blame", url, "0", "0", "--project", "mice")
    out = tmp_path / "out.slp"
    run("export", url, str(out), "--project", "mice")
    assert out.exists()
    run("log", url, ok=False)  # no --project
