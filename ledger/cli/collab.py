"""``ledger agree``, ``ledger consensus`` and ``ledger fork`` (collaboration verbs).

Each side is a ledger file, a ledger at a version (``PATH@SEQ``, ``PATH@TAG``) or
a `.slp`/SLEAP JSON file, as for ``ledger diff``.

Example::

    ledger fork project.ledger bob.ledger --author bob
    ledger agree alice.ledger bob.ledger --json
    ledger consensus reviewed.ledger alice.ledger bob.ledger carol.ledger
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ledger.cli.merge import _load
from ledger.cli.output import Table, console
from ledger.errors import LedgerError


def _fail(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def _close(*closers: Any) -> None:
    for c in {id(x): x for x in closers if x is not None}.values():
        c.close()


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.0f}%" if pct else f"{x:.2f}"


@click.command("agree")
@click.argument("a")
@click.argument("b")
@click.option("--sigma", type=float, default=0.025, show_default=True,
              help="OKS spread of every node (SLEAP's default).")
@click.option("--kind", type=click.Choice(["user", "predicted", "all"]), default="user",
              show_default=True, help="Which instances to compare.")
@click.option("--json", "as_json", is_flag=True, help="Print the agreement as JSON.")
def agree_command(a: str, b: str, sigma: float, kind: str, as_json: bool) -> None:
    """How two annotations of the same frames agree: matched instances, mean OKS,
    per-node distance percentiles and PCK."""
    from ledger.analysis.agreement import agreement

    try:
        la, ca = _load(a)
        lb, cb = _load(b)
    except (LedgerError, OSError) as exc:
        _fail(exc)
    try:
        ag = agreement(la, lb, sigma=sigma, kind=kind)  # type: ignore[arg-type]
    except (LedgerError, ValueError) as exc:
        _fail(exc)
    finally:
        _close(ca, cb)
    d = ag.to_dict()
    if as_json:
        click.echo(json.dumps(d, indent=1))
        return
    console.print(f"frames: {d['frames_a']} in A, {d['frames_b']} in B, {d['frames_both']} "
                  f"in both; instances matched {d['matched']}, only in A {d['only_in_a']}, "
                  f"only in B {d['only_in_b']}; mean OKS {_fmt(d['mean_oks'])}")
    table = Table(title="per node (px)")
    for col in ("node", "n", "p50", "p90", "p95", "p99", *(f"PCK@{t}" for t in d["pck"])):
        table.add_column(col, justify="left" if col == "node" else "right")
    for name, v in d["nodes"].items():
        table.add_row(name, str(v["n"]), *(_fmt(v[q]) for q in ("p50", "p90", "p95", "p99")),
                      *(_fmt(x, pct=True) for x in v["pck"].values()))
    console.print(table)
    if d["worst"] and d["matched"]:
        console.print("least agreeing: " + "; ".join(
            f"{w['video']} #{w['frame_idx']}{' ' + w['track'] if w['track'] else ''} "
            f"OKS {w['oks']:.2f}" for w in d["worst"][:5]), markup=False)


@click.command("consensus")
@click.argument("into")
@click.argument("sources", nargs=-1, required=True)
@click.option("--method", type=click.Choice(["medoid", "median"]), default="medoid",
              show_default=True)
@click.option("--min-votes", type=int, default=2, show_default=True,
              help="Annotators that must agree on an instance.")
@click.option("--author", default=None)
@click.option("--message", "-m", default="consensus")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def consensus_command(into: str, sources: tuple[str, ...], method: str, min_votes: int,
                      author: str | None, message: str, as_json: bool) -> None:
    """Consensus of SOURCES (two or more annotators) into the ledger INTO, as one
    undoable transaction."""
    import os

    from ledger.analysis.consensus import consensus

    if len(sources) < 2:
        _fail(LedgerError("consensus needs at least two sources"))
    opened: list[Any] = []
    try:
        target, ct = _load(into, author=author, writable=True)
        opened.append(ct)
        loaded = []
        for s in sources:
            lab, c = _load(s)
            loaded.append(lab)
            opened.append(c)
        names = [os.path.basename(s) for s in sources]
        result = consensus(loaded, target, method=method, min_votes=min_votes,  # type: ignore
                           names=names, message=message, author=author)
    except (LedgerError, OSError, ValueError) as exc:
        _close(*opened)
        _fail(exc)
    _close(*opened)
    info = result.info
    if as_json:
        click.echo(json.dumps({"tx": result.committed_tx, **info}, indent=1))
        return
    scores = [i["score"] for i in info["instances"]]
    console.print(f"consensus ({method}) of {len(sources)} annotators on {info['frames']} "
                  f"frame(s): {len(scores)} instance(s)"
                  + (f", mean score {sum(scores) / len(scores):.2f}" if scores else "")
                  + (f"; transaction {result.committed_tx}" if result.committed_tx
                     else "; nothing to change"))


@click.command("fork")
@click.argument("src")
@click.argument("dst")
@click.option("--author", default=None, help="Who works in the fork.")
def fork_command(src: str, dst: str, author: str | None) -> None:
    """A new ledger file DST sharing the whole history of SRC, opened as AUTHOR."""
    from ledger.project.project import Project

    try:  # the file is copied; no state is built on either side
        # opened writable where allowed: the copy then takes the file's bytes whole
        with Project.open(src, create=False, read_only=not os.access(src, os.W_OK)) as source:
            forked = source.fork(dst, author)
    except (LedgerError, OSError) as exc:
        _fail(exc)
    try:
        console.print(f"forked {src} to {dst} at seq {forked.head}"
                      + (f" as {author}" if author else ""))
    finally:
        forked.close()


def register(main: click.Group) -> None:
    """Add the collaboration verbs to the main CLI."""
    for cmd in (agree_command, consensus_command, fork_command):
        main.add_command(cmd)
