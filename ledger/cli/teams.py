"""``ledger clone / pull / push / sync / remote`` and ``ledger admin …``.

Replicas (`ledger.project.replica`) and server administration
(`ledger.store.postgres_admin`) from the command line. Every URL is echoed
without its password (`ledger.store.postgres_conn.ServerAddress.describe`), and
errors from the server come scrubbed the same way.

Examples::

    ledger admin init postgresql://admin@db.lab/labels
    ledger admin create-project postgresql://admin@db.lab/labels mice
    ledger admin grant postgresql://admin@db.lab/labels mice ana --annotator
    ledger clone postgresql://ana@db.lab/labels mice.ledger --project mice
    ledger sync mice.ledger
    ledger remote mice.ledger --json

Register with ``register(main)``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ledger.errors import LedgerError


def _guarded(fn: Any) -> Any:
    from ledger.cli.commands import guarded

    return guarded(fn)


def _console() -> Any:
    from ledger.cli.commands import console

    return console


def _shown(url: str) -> str:
    from ledger.store.postgres_conn import ServerAddress

    return ServerAddress.parse(url).describe()


def _replica(path: str) -> Any:
    import os

    import ledger

    if not os.path.exists(path):
        raise LedgerError(f"{path}: no such ledger file")
    return ledger.open(path, create=False)


@click.command("clone")
@click.argument("url")
@click.argument("path")
@click.option("--project", "project_name", required=True, help="The project on the server.")
@_guarded
def clone_command(url: str, path: str, project_name: str) -> None:
    """Make a local replica PATH of a server project."""
    import ledger

    with ledger.clone(url, path, project=project_name) as labels:
        head, author = labels.project.head, labels.author
    _console().print(f"cloned {project_name} from {_shown(url)} into {path}: {head} events "
                     f"(editing as {author})")


def _print_pull(result: Any, path: str) -> None:
    info = result.info.get("pull", {})
    _console().print(f"{path}: fetched {info.get('fetched', 0)} events, rebased "
                     f"{info.get('rebased', 0)} local transactions"
                     + (f", {len(info.get('skipped', []))} merged" if info.get("skipped")
                        else ""))
    if result.unresolved:
        for k, c in enumerate(result.unresolved):
            _console().print(f"  conflict {k}: {c.describe()}")
        click.echo(f"error: {len(result.unresolved)} conflict(s): resolve them in Python "
                   "(labels.pull() returns them) or run `ledger merge`", err=True)
        sys.exit(1)


@click.command("pull")
@click.argument("path")
@click.option("--prefer", type=click.Choice(["ours", "theirs"]), default=None,
              help="Resolve every conflict: ours = the origin's, theirs = this replica's.")
@_guarded
def pull_command(path: str, prefer: str | None) -> None:
    """Fetch the origin's new transactions and replay the local ones on top."""
    with _replica(path) as labels:
        result = labels.pull()
        if result.unresolved and prefer:
            result.resolve_all(prefer)
            result.commit(f"pull: conflicts resolved with --prefer {prefer}")
        _print_pull(result, path)


@click.command("push")
@click.argument("path")
@_guarded
def push_command(path: str) -> None:
    """Send the replica's unpushed transactions to its origin."""
    with _replica(path) as labels:
        n = labels.push()
    _console().print(f"{path}: pushed {n} transactions")


@click.command("sync")
@click.argument("path")
@click.option("--prefer", type=click.Choice(["ours", "theirs"]), default=None,
              help="Resolve every conflict: ours = the origin's, theirs = this replica's.")
@_guarded
def sync_command(path: str, prefer: str | None) -> None:
    """Pull, then push."""
    with _replica(path) as labels:
        result = labels.sync()
        if result.unresolved and prefer:
            result.resolve_all(prefer)
            result.commit(f"sync: conflicts resolved with --prefer {prefer}")
            result.info["pushed"] = labels.push()
        _print_pull(result, path)
        _console().print(f"{path}: pushed {result.info.get('pushed', 0)} transactions")


@click.command("remote")
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@_guarded
def remote_command(path: str, as_json: bool) -> None:
    """The replica's origin, and how far ahead and behind it is."""
    with _replica(path) as labels:
        info = labels.remote()
    if as_json:
        click.echo(json.dumps(info))
        return
    _console().print(f"origin  {info['origin']} project {info['project']} "
                     f"(as {info['author']})\nahead   {info['ahead']}\nbehind  {info['behind']}")


@click.group("admin")
def admin_group() -> None:
    """Set up a team server: tables, projects, grants."""


@admin_group.command("init")
@click.argument("url")
@_guarded
def admin_init_command(url: str) -> None:
    """Create the ledger tables, functions and policies (idempotent)."""
    from ledger.store.postgres_admin import admin_init

    made = admin_init(url)
    _console().print(f"{_shown(url)}: " + ("ledger tables created" if made
                                           else "ledger tables already there"))


@admin_group.command("create-project")
@click.argument("url")
@click.argument("name")
@_guarded
def admin_create_command(url: str, name: str) -> None:
    """Create an empty project owned by the connecting role."""
    from ledger.store.postgres_admin import create_project

    create_project(url, name)
    _console().print(f"{_shown(url)}: created project {name}")


@admin_group.command("grant")
@click.argument("url")
@click.argument("name")
@click.argument("role")
@click.option("--annotator", "level", flag_value="annotator", help="Read and append.")
@click.option("--reviewer", "level", flag_value="reviewer", help="Read only.")
@_guarded
def admin_grant_command(url: str, name: str, role: str, level: str | None) -> None:
    """Let ROLE annotate or review project NAME."""
    from ledger.store.postgres_admin import grant

    if level is None:
        raise LedgerError("say --annotator or --reviewer")
    grant(url, name, role, level)  # type: ignore[arg-type]
    _console().print(f"{_shown(url)}: {role} is now {level} of {name}")


def register(main: click.Group) -> None:
    """Add the team commands to the main CLI."""
    for command in (clone_command, pull_command, push_command, sync_command, remote_command,
                    admin_group):
        main.add_command(command)
