"""``ledger diff`` and ``ledger merge`` (registered into the main CLI).

``ledger diff A B``: each side is a ledger file, a ledger at a version
(``PATH@SEQ`` or ``PATH@TAG``) or a `.slp`/SLEAP JSON file; prints a summary and
per-frame detail, or ``--json``. ``ledger merge OURS THEIRS``: merges THEIRS (a
ledger or a labels file) into the ledger OURS, lists conflicts by id (capped by
``--limit``) and exits 1 while any remain unresolved, saying what to do next;
``--resolve ID=ours|theirs|both|x,y`` resolves one, ``--prefer ours|theirs`` the rest.

Register with ``main.add_command(diff_command)`` and ``main.add_command(merge_command)``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ledger.cli.output import Table, console
from ledger.errors import LedgerError

LABEL_SUFFIXES = (".slp", ".h5", ".hdf5", ".json", ".json.zip")


def _load(spec: str, author: str | None = None, writable: bool = False) -> tuple[Any, Any]:
    """(labels to use, labels to close) for ``PATH``, ``PATH@SEQ`` or ``PATH@TAG``."""
    import ledger
    from ledger import Labels

    path, _, version = spec.partition("@") if not os.path.exists(spec) else (spec, "", "")
    if path.lower().endswith(LABEL_SUFFIXES):
        if version:
            raise LedgerError(f"{spec}: versions apply to ledgers, not labels files")
        labels = Labels.load_file(path, author=author)
        return labels, None
    if not os.path.exists(path):
        raise LedgerError(f"{path}: no such ledger file")
    opened = ledger.open(path, author=author, create=False,  # type: ignore[attr-defined]
                         read_only=not writable)
    if version:
        at: Any = int(version) if version.lstrip("-").isdigit() else version
        return opened.at(at), opened
    return opened, opened


def _summary_table(summary: dict[str, int]) -> Any:
    table = Table(title="diff summary")
    table.add_column("what")
    table.add_column("count", justify="right")
    for k, v in summary.items():
        if v:
            table.add_row(k.replace("_", " "), str(v))
    return table


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
@click.option("--frames/--no-frames", default=True, help="Per-frame detail.")
def diff_command(a: str, b: str, as_json: bool, frames: bool) -> None:
    """Semantic diff from A to B (ledger, PATH@SEQ, PATH@TAG or .slp)."""
    from ledger.diffing import diff

    try:
        la, ca = _load(a)
        lb, cb = _load(b)
    except (LedgerError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    try:
        d = diff(la, lb)
        if as_json:
            click.echo(json.dumps(d.to_dict(), indent=1))
            return
        if d.is_empty:
            console.print("no differences")
            return
        console.print(_summary_table(d.summary()))
        if frames:
            for f in d.frames():
                parts = []
                if "frame" in f:
                    parts.append(f"frame {f['frame']}")
                if f["added"]:
                    parts.append(f"+{len(f['added'])} instance(s)")
                if f["removed"]:
                    parts.append(f"-{len(f['removed'])} instance(s)")
                for c in f["changed"]:
                    moved = [f"{n['node']} {n['displacement']:.1f}px" if n["displacement"]
                             is not None else f"{n['node']} (appeared/vanished)"
                             for n in c["nodes"]]
                    text = f"~instance {c['instance']}: " + ", ".join(moved)
                    if "track" in c:
                        text += f" track {c['track'][0]} -> {c['track'][1]}"
                    parts.append(text)
                console.print(f"{f['video']} #{f['frame_idx']}: " + "; ".join(parts))
    finally:
        for c in {id(x): x for x in (ca, cb) if x is not None}.values():
            c.close()


def _choice(text: str) -> Any:
    """``ours``/``theirs``/``both`` or a value ``x,y`` (or five numbers)."""
    if text in ("ours", "theirs", "both"):
        return text
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise LedgerError(f"--resolve takes ID=ours|theirs|both|x,y, not {text!r}") from None


def _apply_resolutions(result: Any, specs: tuple[str, ...], author: str | None) -> None:
    by_id = {c.id: c for c in result.conflicts}
    for spec in specs:
        ident, sep, choice = spec.partition("=")
        if not sep or ident not in by_id:
            known = ", ".join(list(by_id)[:10]) + ("…" if len(by_id) > 10 else "")
            raise LedgerError(f"--resolve {spec!r}: no conflict {ident!r} in this merge "
                              f"(ids: {known})")
        result.resolve(by_id[ident], _choice(choice), author=author)


@click.command("merge")
@click.argument("ours")
@click.argument("theirs")
@click.option("--dry-run", is_flag=True, help="Report only; change nothing.")
@click.option("--resolve", "resolutions", multiple=True, metavar="ID=CHOICE",
              help="Resolve one conflict: ours, theirs, both (frames) or x,y (points).")
@click.option("--prefer", type=click.Choice(["ours", "theirs"]), default=None,
              help="Resolve every conflict not given with --resolve this way.")
@click.option("--limit", default=20, show_default=True, help="Conflicts to list.")
@click.option("--message", "-m", default="merge", help="Message of the merge transaction.")
@click.option("--author", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def merge_command(ours: str, theirs: str, dry_run: bool, resolutions: tuple[str, ...],
                  prefer: str | None, limit: int, message: str, author: str | None,
                  as_json: bool) -> None:
    """Merge THEIRS into the ledger OURS; exits 1 while conflicts remain."""
    from ledger.merging import merge

    try:
        lo, co = _load(ours, author=author, writable=not dry_run)
        lt, ct = _load(theirs)
    except (LedgerError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    status = 0
    try:
        result = merge(lo, lt, dry_run=dry_run)
        _apply_resolutions(result, resolutions, author)
        if prefer:
            result.resolve_all(prefer, author=author)
        if as_json:
            click.echo(json.dumps(result.to_dict(), indent=1))
        else:
            console.print(f"{result.info['mode']} merge, fork at seq {result.info['fork_seq']}: "
                          f"{len(result.conflicts)} conflict(s), "
                          f"{len(result.unresolved)} unresolved")
            listed = result.unresolved or result.conflicts
            for c in listed[:limit]:
                mark = "!" if c in result.unresolved else " "
                console.print(f" {mark} {c.describe()}", markup=False)
            if len(listed) > limit:
                console.print(f"   … and {len(listed) - limit} more (--limit N or --json for "
                              "all)", markup=False)
        if result.unresolved:
            status = 1
            if not as_json:
                console.print(
                    f"nothing committed: resolve each with --resolve ID=ours|theirs|both|x,y "
                    f"(e.g. --resolve {result.unresolved[0].id}=theirs) and/or --prefer "
                    "ours|theirs for the rest, then run the merge again", markup=False)
        elif not dry_run:
            tx = result.commit(message, author=author)
            if not as_json:
                console.print(f"merged as transaction {tx}" if tx else "already up to date")
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        status = 1
    finally:
        for c in {id(x): x for x in (co, ct) if x is not None}.values():
            c.close()
    sys.exit(status)
