"""``ledger keys init``, ``ledger receipt`` and the audit options of ``verify``.

Kept out of ``commands.py`` so that the main CLI module stays small; the
commands only call the public API (`ledger.core.signing`, `Project.receipt`,
`Project.verify`). docs/audit.md explains what each proves.
"""

from __future__ import annotations

import json

import click

from ledger.cli.commands import _project, guarded
from ledger.cli.output import console


@click.group("keys")
def keys_group() -> None:
    """Authors' signing keys (private keys never enter a ledger file)."""


@keys_group.command("init")
@click.option("--author", required=True, help="whose key to create")
@click.option("--force", is_flag=True, help="replace an existing key (old signatures then "
              "no longer match the key your ledgers hold)")
@guarded
def keys_init(author: str, force: bool) -> None:
    """Create AUTHOR's Ed25519 key in $LEDGER_KEY_DIR (~/.config/ledger/keys)."""
    from ledger.core.signing import init_key, key_path

    public = init_key(author, overwrite=force)
    console.print(f"{key_path(author)}: key for {author}; public key {public}")


@click.command("receipt")
@click.argument("path")
@click.option("--author", default=None, help="whose key signs the receipt")
@click.option("-o", "--output", default=None, help="write the receipt here (default: stdout)")
@guarded
def receipt_command(path: str, author: str | None, output: str | None) -> None:
    """A signed receipt of PATH's head: keep it elsewhere; `verify --receipt` uses it."""
    with _project(path, read_only=True) as project:
        text = json.dumps(project.receipt(author), indent=1)
    if output:
        with open(output, "w") as fh:
            fh.write(text + "\n")
    else:
        click.echo(text)


def register(main: click.Group) -> None:
    main.add_command(keys_group)
    main.add_command(receipt_command)
