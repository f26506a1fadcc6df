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

from ledger.cli.output import Table, console  # noqa: E402
from ledger.errors import LedgerError


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


def _open(path: str, author: str | None = None, read_only: bool = False,
          project: str | None = None) -> Any:
    """The `Labels` facade over a ledger file or server project (builds the state)."""
    from ledger.sleap.labels import Labels

    return Labels(project=_project(path, author, read_only, project))


def _project(path: str, author: str | None = None, read_only: bool = False,
             project: str | None = None) -> Any:
    """The `Project` of a ledger file, or of server project ``project`` when
    ``path`` is a ``postgresql://`` URL: reads the head only; the state is built
    on first use, which the history verbs never need."""
    from ledger.project.online import is_url, open_project
    from ledger.project.project import Project

    if is_url(path):
        return open_project(path, project, author, read_only=read_only)
    if project is not None:
        raise LedgerError("--project names a project on a server (a postgresql:// ledger)")
    if not os.path.exists(path):
        raise LedgerError(f"{path}: no such ledger file")
    if author is None and not read_only:
        from contextlib import suppress
        from pathlib import Path

        from ledger.store.sqlite_file import read_remote

        with suppress(LedgerError):
            origin = read_remote(Path(path))
            author = origin["author"] if origin else None
    return Project.open(path, author, create=False, read_only=read_only)


def project_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--project NAME``: which project of a ``postgresql://`` ledger."""
    return click.option("--project", "project_name", default=None,
                        help="The project, when LEDGER is a postgresql:// URL.")(fn)


def _title(path: str) -> str:
    """What to call a ledger in output: a URL without its password."""
    from ledger.project.online import is_url

    if is_url(path):
        from ledger.store.postgres_conn import ServerAddress

        return ServerAddress.parse(path).describe()
    return path


def _version() -> str:
    from ledger import __version__

    return __version__


@click.group()
@click.version_option(_version(), "--version", prog_name="ledger", message="%(prog)s %(version)s")
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
    """Import a .slp / SLEAP JSON file into a new ledger file."""
    from ledger.sleap.labels import Labels

    t0 = time.perf_counter()
    if os.path.exists(path):
        raise LedgerError(f"{path}: already exists; import into a new ledger file")
    if not sys.stdout.isatty():  # piped: no progress output
        labels = Labels.load_file(source, author=author)
        labels.project.fork(path).close()
    else:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                      console=console.real(), transient=True) as bar:
            size = os.path.getsize(source) if os.path.isfile(source) else None
            reading = bar.add_task(f"reading {os.path.basename(source)}", total=size)
            labels = Labels.load_file(source, author=author)
            bar.update(reading, completed=size)
            writing = bar.add_task(f"writing {os.path.basename(path)}",
                                   total=labels.project.array_bytes())
            labels.project.fork(path, progress=lambda n: bar.advance(writing, n)).close()
    console.print(f"imported {len(labels)} frames from {source} into {path} "
                  f"in {time.perf_counter() - t0:.2f} s")


EXPORT_FORMATS = {".h5": "analysis", ".hdf5": "analysis", ".csv": "csv", ".slp": "slp",
                  ".json": "json", ".json.zip": "json"}


@main.command()
@click.argument("old")
@click.argument("new")
@guarded
def upgrade(old: str, new: str) -> None:
    """Rewrite a format-1 ledger file (the first release's) as a new format-2 file."""
    from ledger.store.upgrade import upgrade_v1

    old_head, new_head, n = upgrade_v1(old, new)
    console.print(f"upgraded {n} records from {old} into {new}; the old head "
                  f"{old_head[:16]} is now {new_head[:16]} (hashes change with the format)")


@main.command()
@click.argument("path")
@click.argument("out")
@click.option("--at", "version", default=None, help="A seq or tag to export instead of head.")
@project_option
@click.option("--format", "fmt", type=click.Choice(["analysis", "csv", "slp", "json"]),
              default=None, help="Default from OUT's extension: .h5/.hdf5 analysis, .csv, "
              ".slp, .json/.json.zip.")
@guarded
def export(path: str, out: str, version: str | None, project_name: str | None,
           fmt: str | None) -> None:
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
    labels = _open(path, read_only=True, project=project_name)
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
@project_option
@guarded
def log(path: str, page: int, per_page: int, as_json: bool, project_name: str | None) -> None:
    """The history: seq, time, author, kind, message."""
    with _project(path, read_only=True, project=project_name) as project:
        head = project.head
        records = project.page(page, per_page)
    if as_json:
        for rec in records:
            click.echo(json.dumps({"seq": rec.seq, "tx": rec.tx, "time": rec.time,
                                   "author": rec.author, "kind": rec.kind,
                                   "tx_kind": rec.tx_kind, "ref": rec.ref,
                                   "message": rec.message, "hash": rec.hash, "meta": rec.meta}))
        return
    pages = max((head + per_page - 1) // per_page, 1)
    console.print(_history_table(records, f"{_title(path)} — page {page}/{pages}, {head} events"))


@main.command()
@click.argument("path")
@click.argument("seq", type=int)
@click.option("--json", "as_json", is_flag=True, help="Plain JSON (no colour, one line).")
@project_option
@guarded
def show(path: str, seq: int, as_json: bool, project_name: str | None) -> None:
    """One event in full."""
    import msgspec

    from ledger.core.codec import _enc_hook

    with _project(path, read_only=True, project=project_name) as project:
        recs = project.records(seq, seq) if seq >= 1 else []
        if not recs:
            raise LedgerError(f"{_title(path)}: no event {seq} (the history has {project.head})")
        rec = recs[0]
    body = msgspec.json.decode(msgspec.json.encode(rec.event, enc_hook=_show_hook(_enc_hook)))
    data = {"seq": rec.seq, "tx": rec.tx, "time": rec.time, "author": rec.author,
            "kind": rec.kind, "tx_kind": rec.tx_kind, "message": rec.message, "hash": rec.hash,
            "meta": rec.meta, "event": body}
    if as_json:
        click.echo(json.dumps(data))
        return
    console.print_json(data=data)


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
@project_option
@guarded
def undo(path: str, author: str | None, project_name: str | None) -> None:
    """Undo the newest transaction (of --author)."""
    from ledger.project.online import is_url

    with _project(path, author=None if is_url(path) else author,
                  project=project_name) as project:
        done = project.undo(author=author)
    console.print("undone" if done else "nothing to undo")


@main.command()
@click.argument("path")
@project_option
@guarded
def redo(path: str, project_name: str | None) -> None:
    """Redo the newest undone transaction."""
    with _project(path, project=project_name) as project:
        done = project.redo()
    console.print("redone" if done else "nothing to redo")


@main.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: events, head hash.")
@project_option
@click.option("--deep", is_flag=True, help="also compare every snapshot with a replay")
@click.option("--receipt", "receipt", default=None, help="a receipt file to check against")
@guarded
def verify(path: str, as_json: bool, project_name: str | None, deep: bool,
           receipt: str | None) -> None:
    """Re-hash the chain and check signatures; fails naming the first tampered event."""
    with _project(path, read_only=True, project=project_name) as project:
        n = project.verify(deep=deep, receipt=receipt)
        head = project.head_hash()
    if as_json:
        click.echo(json.dumps({"ok": True, "events": n, "head": head}))
        return
    console.print(f"ok: {n} events verify; head {head[:16]}")


@main.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="One JSON object of the counts.")
@project_option
@guarded
def stats(path: str, as_json: bool, project_name: str | None) -> None:
    """Frames, instances, tracks, events and file size."""
    with _project(path, read_only=True, project=project_name) as project:
        summary = project.summary()
        head = project.head
    table = Table(title=_title(path))
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [("videos", summary["videos"]), ("skeletons", summary["skeletons"]),
            ("frames", summary["frames"]), ("frames with user instances", summary["user_frames"]),
            ("instances", summary["instances"]), ("tracks", summary["tracks"]),
            ("suggestions", summary["suggestions"]), ("events", head),
            ("file size", _size(path))]
    if as_json:
        click.echo(json.dumps({name.replace(" ", "_"): value for name, value in rows}))
        return
    for name, value in rows:
        table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


def _size(path: str) -> str:
    from ledger.project.online import is_url

    if is_url(path):
        return "(on the server)"
    total = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    return f"{total / 1e6:.2f} MB"


@main.command()
@click.argument("path")
@click.argument("video")
@click.argument("frame", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per instance.")
@project_option
@guarded
def blame(path: str, video: str, frame: int, as_json: bool, project_name: str | None) -> None:
    """Who created and who last changed each instance of a frame (VIDEO: index or
    file name); removed instances are listed with who removed them."""
    labels = _open(path, read_only=True, project=project_name)
    try:
        found = labels.find_video(video)
        rows = labels.blame(found, frame)
        name = found.filename
    finally:
        labels.close()
    if as_json:
        for row in rows:
            track = row["track"]
            click.echo(json.dumps({"video": name, "frame_idx": frame, "index": row["index"],
                                   "kind": row["kind"],
                                   "track": getattr(track, "name", track),
                                   "created": row["created"],
                                   "last_changed": row["last_changed"],
                                   "removed": row.get("removed")}, default=str))
        return
    table = Table(title=f"{_title(path)} video {video} frame {frame}")
    for col in ("#", "instance", "track", "created", "last changed"):
        table.add_column(col, overflow="fold")
    for row in rows:
        removed = row.get("removed")
        table.add_row(str(row["index"]) if row["index"] is not None else "-",
                      row["kind"] + (" (removed)" if removed else ""), str(row["track"]),
                      _who(row["created"]), _who(removed or row["last_changed"]))
    console.print(table)


def _who(info: dict[str, Any] | None) -> str:
    if info is None:
        return "?"
    return f"#{info['seq']} {info['author']} {info['time'][:19]} {info['message']}"


@main.command()
@click.argument("path")
@click.argument("name", required=False)
@click.option("--seq", type=int, default=None)
@click.option("--move", is_flag=True, help="Move an existing tag to the new position.")
@click.option("--list", "listing", is_flag=True, help="List the tags (seq, name).")
@click.option("--json", "as_json", is_flag=True, help="With --list: one JSON object.")
@project_option
@guarded
def tag(path: str, name: str | None, seq: int | None, move: bool, listing: bool,
        as_json: bool, project_name: str | None) -> None:
    """Name a version (head by default); --list shows the tags."""
    with _project(path, read_only=listing, project=project_name) as project:
        if listing:
            tags = project.tags()
            if as_json:
                click.echo(json.dumps(tags))
            else:
                for tag_name, at in tags.items():
                    click.echo(f"{at}\t{tag_name}")
            return
        if name is None:
            raise LedgerError("a tag needs a NAME (or use --list)")
        at = project.tag(name, seq, move=move)
    console.print(f"tagged seq {at} as {name}")


@main.command()
@click.option("--out", default=None, help="Folder for the demo ledger (default: a temp dir).")
@guarded
def demo(out: str | None) -> None:
    """Load the bundled SLEAP sample, edit it as two people, show history and audit."""
    from ledger.cli.demo import run_demo

    run_demo(out or tempfile.mkdtemp(prefix="ledger-demo-"), console)


def _register_merge_commands() -> None:
    from ledger.cli.collab import register as register_collab
    from ledger.cli.merge import diff_command, merge_command
    from ledger.cli.review import review_command
    from ledger.cli.teams import register

    main.add_command(diff_command)
    main.add_command(merge_command)
    main.add_command(review_command)
    register(main)
    register_collab(main)
    from ledger.cli.audit import register as register_audit

    register_audit(main)


_register_merge_commands()

if __name__ == "__main__":
    main()
