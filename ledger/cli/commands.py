"""The ``ledger`` command: git-like verbs over label projects.

Every command prints one clear line and exits non-zero on bad input; ``--debug``
shows the traceback instead.

Examples::

    ledger demo                         # the bundled sample, end to end
    ledger import predictions.slp project.ledger --author ana
    ledger log project.ledger
    ledger blame project.ledger 0 120
    ledger export project.ledger out.slp
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ledger.errors import LedgerError

console = Console()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if ctx.find_root().params.get("debug"):
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except (LedgerError, OSError, KeyError, ValueError, IndexError) as exc:
            text = str(exc).strip() or type(exc).__name__
            _fail(text.splitlines()[0])
    return wrapper


def _open(path: str, author: str | None = None, read_only: bool = False) -> Any:
    import ledger

    if not os.path.exists(path):
        raise LedgerError(f"{path}: no such ledger file")
    return ledger.open(path, author=author, create=False, read_only=read_only)


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def main(debug: bool) -> None:
    """Event-sourced SLEAP label projects: history, undo, audit, merge."""


@main.command()
@click.argument("path")
@guarded
def init(path: str) -> None:
    """Create an empty ledger file."""
    import ledger

    if os.path.exists(path):
        raise LedgerError(f"{path}: already exists")
    if path.lower().endswith((".slp", ".json", ".json.zip", ".h5", ".hdf5")):
        raise LedgerError(f"{path}: a ledger is not a SLEAP file; pick another name "
                          "(e.g. .ledger), or `ledger import` a SLEAP file into one")
    ledger.open(path).close()
    console.print(f"created empty ledger [bold]{path}[/]")


@main.command("import")
@click.argument("source")
@click.argument("path")
@click.option("--author", default=None, help="Who is importing (default: $LEDGER_AUTHOR or user).")
@guarded
def import_(source: str, path: str, author: str | None) -> None:
    """Import a .slp / SLEAP JSON file into a (new or empty) ledger file."""
    import ledger
    from ledger import Labels

    t0 = time.perf_counter()
    loaded = Labels.load_file(source)
    labels = ledger.open(path, author=author)
    try:
        if len(labels) or labels.videos:
            raise LedgerError(f"{path}: not empty; import into a new ledger file")
        _replay_into(labels, loaded, f"import {os.path.basename(source)}")
    finally:
        labels.close()
    console.print(f"imported {len(loaded)} frames from {source} into {path} "
                  f"in {time.perf_counter() - t0:.2f} s")


def _replay_into(target: Any, source: Any, message: str) -> None:
    """Copy the source's events into the target as one transaction."""
    events = [rec.event for rec in source.history]
    target._ledger.commit_events(events, message)
    target._sync_all()


EXPORT_FORMATS = {".h5": "analysis", ".hdf5": "analysis", ".csv": "csv", ".slp": "slp",
                  ".json": "json", ".json.zip": "json"}


@main.command()
@click.argument("path")
@click.argument("out")
@click.option("--at", "version", default=None, help="A seq or tag to export instead of head.")
@click.option("--format", "fmt", type=click.Choice(["analysis", "csv", "slp", "json"]),
              default=None, help="Default from OUT's extension: .h5/.hdf5 analysis, .csv, "
              ".slp, .json/.json.zip.")
@guarded
def export(path: str, out: str, version: str | None, fmt: str | None) -> None:
    """Write the ledger (or a past version) as SLEAP's analysis HDF5, analysis CSV,
    .slp or SLEAP JSON."""
    from ledger.errors import ValidationError

    suffix = next((s for s in EXPORT_FORMATS if out.lower().endswith(s)), None)
    fmt = fmt or (EXPORT_FORMATS[suffix] if suffix else None)
    if fmt is None:
        raise ValidationError(f"{out}: unknown extension; supported: "
                              f"{', '.join(EXPORT_FORMATS)} (or --format analysis|csv|slp|json)")
    if fmt in ("slp", "json") and (suffix is None or EXPORT_FORMATS[suffix] == "csv" or
                                   (fmt == "json") != (EXPORT_FORMATS[suffix] == "json")):
        raise ValidationError(f"{out}: a {fmt} labels file needs a "
                              f"{'.json' if fmt == 'json' else '.slp'} name")
    labels = _open(path, read_only=True)
    try:
        view = labels.at(version) if version is not None else labels
        if fmt == "analysis":
            view.export(out, labels_path=path)
        elif fmt == "csv":
            view.export_csv(out)
        else:
            type(view).save_file(view, out)
    finally:
        labels.close()
    console.print(f"wrote {out} ({fmt})")


def _history_table(records: list[Any], title: str) -> Table:
    table = Table(title=title)
    for col in ("seq", "tx", "time", "author", "kind", "message"):
        table.add_column(col, overflow="fold")
    for rec in records:
        table.add_row(str(rec.seq), str(rec.tx), rec.time[:19].replace("T", " "), rec.author,
                      rec.kind + ("" if rec.tx_kind == "do" else f" ({rec.tx_kind})"),
                      rec.message + _parents(rec))
    return table


def _parents(rec: Any) -> str:
    """For a merge: the two heads it joined (ours, theirs), abbreviated like git."""
    info = rec.meta.get("merge") if isinstance(rec.meta, dict) else None
    if not info:
        return ""
    return (f" [merge {str(info.get('ours_head', ''))[:8]} + "
            f"{str(info.get('theirs_head', ''))[:8]}]")


@main.command()
@click.argument("path")
@click.option("--page", default=1, show_default=True, help="Page number (newest first).")
@click.option("--per-page", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
@guarded
def log(path: str, page: int, per_page: int, as_json: bool) -> None:
    """The history: seq, time, author, kind, message."""
    labels = _open(path, read_only=True)
    try:
        head = labels._ledger.head
        stop = max(head - (page - 1) * per_page, 0)
        start = max(stop - per_page + 1, 1)
        records = list(reversed(labels._ledger.records(start, stop))) if stop else []
    finally:
        labels.close()
    if as_json:
        for rec in records:
            click.echo(json.dumps({"seq": rec.seq, "tx": rec.tx, "time": rec.time,
                                   "author": rec.author, "kind": rec.kind,
                                   "tx_kind": rec.tx_kind, "ref": rec.ref,
                                   "message": rec.message, "hash": rec.hash, "meta": rec.meta}))
        return
    pages = max((head + per_page - 1) // per_page, 1)
    console.print(_history_table(records, f"{path} — page {page}/{pages}, {head} events"))


@main.command()
@click.argument("path")
@click.argument("seq", type=int)
@guarded
def show(path: str, seq: int) -> None:
    """One event in full."""
    import msgspec

    from ledger.core.codec import _enc_hook

    labels = _open(path, read_only=True)
    try:
        recs = labels._ledger.records(seq, seq)
        if not recs:
            raise LedgerError(f"{path}: no event {seq}")
        rec = recs[0]
    finally:
        labels.close()
    body = msgspec.json.decode(msgspec.json.encode(rec.event, enc_hook=_show_hook(_enc_hook)))
    console.print_json(data={"seq": rec.seq, "tx": rec.tx, "time": rec.time,
                             "author": rec.author, "kind": rec.kind, "tx_kind": rec.tx_kind,
                             "message": rec.message, "hash": rec.hash, "meta": rec.meta,
                             "event": body})


def _show_hook(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    import numpy as np

    def hook(obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            flat = obj.tolist()
            return flat if obj.size <= 50 else {"dtype": str(obj.dtype), "shape": obj.shape,
                                                "first": obj.reshape(-1)[:10].tolist()}
        return fallback(obj)
    return hook


@main.command()
@click.argument("path")
@click.option("--author", default=None, help="Undo this author's newest change only.")
@guarded
def undo(path: str, author: str | None) -> None:
    """Undo the newest transaction (of --author)."""
    labels = _open(path, author=author)
    try:
        done = labels.undo(author=author)
    finally:
        labels.close()
    console.print("undone" if done else "nothing to undo")


@main.command()
@click.argument("path")
@guarded
def redo(path: str) -> None:
    """Redo the newest undone transaction."""
    labels = _open(path)
    try:
        done = labels.redo()
    finally:
        labels.close()
    console.print("redone" if done else "nothing to redo")


@main.command()
@click.argument("path")
@guarded
def verify(path: str) -> None:
    """Re-hash the whole chain; fails naming the first tampered event."""
    labels = _open(path, read_only=True)
    try:
        n = labels.verify()
        head = labels.head_hash()
    finally:
        labels.close()
    console.print(f"ok: {n} events verify; head {head[:16]}")


@main.command()
@click.argument("path")
@guarded
def stats(path: str) -> None:
    """Frames, instances, tracks, events and file size."""
    labels = _open(path, read_only=True)
    try:
        table = Table(title=path)
        table.add_column("what")
        table.add_column("count", justify="right")
        rows = [("videos", len(labels.videos)), ("skeletons", len(labels.skeletons)),
                ("frames", len(labels)),
                ("user instances", labels.get_labeled_frame_count(filter="user")),
                ("instances", int(labels._state.live_instance_rows().shape[0])),
                ("tracks", len(labels.tracks)), ("suggestions", len(labels.suggestions)),
                ("events", labels._ledger.head), ("file size", _size(path))]
        rows[3] = ("frames with user instances", rows[3][1])
        for name, value in rows:
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    finally:
        labels.close()
    console.print(table)


def _size(path: str) -> str:
    total = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    return f"{total / 1e6:.2f} MB"


@main.command()
@click.argument("path")
@click.argument("video", type=int)
@click.argument("frame", type=int)
@guarded
def blame(path: str, video: int, frame: int) -> None:
    """Who created and who last changed each instance of a frame."""
    labels = _open(path, read_only=True)
    try:
        if not 0 <= video < len(labels.videos):
            raise LedgerError(f"{path}: no video {video} (has {len(labels.videos)})")
        rows = labels.blame(labels.videos[video], frame)
    finally:
        labels.close()
    table = Table(title=f"{path} video {video} frame {frame}")
    for col in ("#", "instance", "track", "created", "last changed"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(str(row["index"]), row["kind"], str(row["track"]),
                      _who(row["created"]), _who(row["last_changed"]))
    console.print(table)


def _who(info: dict[str, Any] | None) -> str:
    if info is None:
        return "?"
    return f"#{info['seq']} {info['author']} {info['time'][:19]} {info['message']}"


@main.command()
@click.argument("path")
@click.argument("name")
@click.option("--seq", type=int, default=None)
@guarded
def tag(path: str, name: str, seq: int | None) -> None:
    """Name a version (head by default)."""
    labels = _open(path)
    try:
        at = labels.tag(name, seq)
    finally:
        labels.close()
    console.print(f"tagged seq {at} as {name}")


@main.command()
@click.option("--out", default=None, help="Folder for the demo ledger (default: a temp dir).")
@guarded
def demo(out: str | None) -> None:
    """Load the bundled SLEAP sample, edit it as two people, show history and audit."""
    from ledger.cli.demo import run_demo

    run_demo(out or tempfile.mkdtemp(prefix="ledger-demo-"), console)


def _register_merge_commands() -> None:
    from ledger.cli.merge import diff_command, merge_command

    main.add_command(diff_command)
    main.add_command(merge_command)


_register_merge_commands()

if __name__ == "__main__":
    main()
