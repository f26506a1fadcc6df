"""The review page as one self-contained HTML file (inline CSS and JS, no network).

It opens from disk in any browser: images are PNG files beside ``index.html``
referenced by relative names, the author filter is a few lines of plain JS
(``index.html#author=NAME`` opens it filtered), and nothing is fetched. Counts
are written as ``data-*`` attributes as well as text, so tests (and scripts)
read the same numbers a person sees. When every image has loaded (or failed)
the page sets ``data-images-loaded`` / ``data-images-failed`` on ``<body>``,
which a headless browser's dumped DOM shows.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ledger.review.gather import ConflictView, FrameChange, ReviewData, Transaction

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #e4e4e4;
text-align:left;vertical-align:top}th{background:#eee}
.cards{display:flex;flex-wrap:wrap;gap:14px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;max-width:440px}
.card img{display:block;max-width:420px;background:#333}
.note{background:#fff6d8;border:1px solid #e8d27a;padding:6px 10px;display:inline-block}
.legend span{display:inline-block;margin-right:12px}
.sw{display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:4px;
vertical-align:-1px}
code{background:#eee;padding:1px 4px;border-radius:3px}
tr.hidden{display:none}.after{font-weight:600}
"""

JS = """
(function(){
  var sel=document.getElementById('author-filter');
  function filter(){
    var rows=document.querySelectorAll('#timeline tr.tx'),shown=0;
    for(var i=0;i<rows.length;i++){
      var hide=sel.value!=='' && rows[i].getAttribute('data-author')!==sel.value;
      rows[i].className=hide?'tx hidden':'tx';if(!hide)shown++;}
    document.getElementById('timeline').setAttribute('data-shown',shown);}
  if(sel){sel.addEventListener('change',filter);
    var m=/author=([^&]*)/.exec(location.hash);
    if(m){sel.value=decodeURIComponent(m[1]);filter();}}
  var imgs=document.images,left=imgs.length,failed=0,body=document.body;
  function done(){left--;if(left===0){body.setAttribute('data-images-loaded',
    imgs.length-failed);body.setAttribute('data-images-failed',failed);}}
  if(left===0){body.setAttribute('data-images-loaded',0);
    body.setAttribute('data-images-failed',0);}
  for(var i=0;i<imgs.length;i++){
    if(imgs[i].complete){if(!imgs[i].naturalWidth)failed++;done();}
    else{imgs[i].addEventListener('load',done);
      imgs[i].addEventListener('error',function(){failed++;done();});}}
})();
"""


def _swatch(color: tuple[int, int, int], text: str) -> str:
    return (f'<span><i class="sw" style="background:rgb{color}"></i>{escape(text)}</span>')


def _timeline(data: ReviewData) -> str:
    authors = sorted({t.author for t in data.timeline})
    options = "".join(f'<option value="{escape(a)}">{escape(a)}</option>' for a in authors)
    rows = "".join(_tx_row(t) for t in data.timeline)
    note = ""
    if data.transactions > len(data.timeline):
        note = (f'<p class="note">Showing the newest {len(data.timeline)} of '
                f'{data.transactions} transactions.</p>')
    return (f'<section id="timeline" data-count="{data.transactions}" '
            f'data-listed="{len(data.timeline)}" data-shown="{len(data.timeline)}">'
            f"<h2>History ({data.transactions} transactions, {data.head} events)</h2>"
            f'<p>Filter by author: <select id="author-filter"><option value="">everyone'
            f"</option>{options}</select> — transactions after version {data.since} in bold."
            f"</p>{note}<table><tr><th>tx</th><th>events</th><th>time (UTC)</th>"
            f"<th>author</th><th>what</th><th>message</th><th>frames touched</th></tr>"
            f"{rows}</table></section>")


def _tx_row(t: Transaction) -> str:
    what = ", ".join(f"{k}×{n}" if n > 1 else k for k, n in t.kinds.items())
    if t.tx_kind != "do":
        what = f"{t.tx_kind}: {what}"
    seqs = f"{t.first_seq}" if t.first_seq == t.last_seq else f"{t.first_seq}–{t.last_seq}"
    cls = ' after' if t.after_since else ''
    return (f'<tr class="tx" data-author="{escape(t.author)}" data-tx="{t.tx}">'
            f'<td class="{cls.strip()}">{t.tx}</td><td>{seqs}</td>'
            f"<td>{escape(t.time[:19].replace('T', ' '))}</td><td>{escape(t.author)}</td>"
            f"<td>{escape(what)}</td><td>{escape(t.message)}</td>"
            f'<td class="touched">{t.frames_touched}</td></tr>')


def _fmt(p: tuple[float, float] | None) -> str:
    return "—" if p is None else f"({p[0]:.1f}, {p[1]:.1f})"


def _change_card(fc: FrameChange, image: str) -> str:
    parts = []
    for p in fc.added:
        parts.append(f'<li class="added">added instance {escape(p.label)}</li>')
    for p in fc.removed:
        parts.append(f'<li class="removed">removed instance {escape(p.label)}</li>')
    after = {p.id: p for p in fc.after}
    for iid, (old, new) in fc.track_changes.items():
        parts.append(f"<li>instance {escape(after[iid].label)}: track {escape(str(old))} → "
                     f"{escape(str(new))}</li>")
    tables = []
    for iid, moves in fc.moves.items():
        rows = "".join(
            f'<tr class="node-move"><td>{escape(m.node)}</td><td>{_fmt(m.before)}</td>'
            f"<td>{_fmt(m.after)}</td><td>"
            f"{'appeared' if m.before is None and m.after else 'hidden/removed' if m.after is None else f'{m.displacement:.2f} px'}"  # noqa: E501
            f"</td></tr>" for m in moves)
        tables.append(f"<p>instance {escape(after[iid].label)}</p><table><tr><th>node</th>"
                      f"<th>before</th><th>after</th><th>moved</th></tr>{rows}</table>")
    return (f'<div class="card frame" data-video="{escape(fc.video_name)}" '
            f'data-frame="{fc.frame_idx}"><b>{escape(_short(fc.video_name))} '
            f"frame {fc.frame_idx}</b><img src=\"{escape(image)}\" alt=\"frame {fc.frame_idx}\">"
            f"<ul>{''.join(parts)}</ul>{''.join(tables)}</div>")


def _short(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _changes(data: ReviewData, images: list[str]) -> str:
    drawn = len(data.frames)
    note = ""
    if data.frames_changed > drawn:
        note = (f'<p class="note cap">{data.frames_changed} frames changed; the first {drawn} '
                f"are drawn (the cap is {data.max_frames}; raise it with --max-frames).</p>")
    summary = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in data.summary.items())
    legend = ('<p class="legend">' + _swatch((70, 150, 255), "before") +
              _swatch((255, 150, 20), "after") + _swatch((255, 50, 50), "moved (arrow)") +
              _swatch((60, 210, 80), "added") + _swatch((230, 60, 220), "removed") +
              _swatch((190, 190, 190), "unchanged") + "</p>")
    cards = "".join(_change_card(fc, img) for fc, img in zip(data.frames, images, strict=True))
    return (f'<section id="changes" data-frames-changed="{data.frames_changed}" '
            f'data-frames-drawn="{drawn}"><h2>Changed frames since version {data.since} '
            f"({data.frames_changed})</h2><p>{escape(summary) or 'no changes'}</p>{legend}"
            f'{note}<div class="cards">{cards}</div></section>')


def _conflict_card(view: ConflictView, image: str | None) -> str:
    c = view.conflict
    where = []
    if view.video_name is not None:
        where.append(f"{escape(_short(view.video_name))} frame {c.frame_idx}")
    if c.node_name is not None:
        where.append(f"node {escape(c.node_name)}")
    rows = "".join(
        f"<tr><td>{side}</td><td>{escape(_value(v))}</td><td>{escape(', '.join(who))}</td></tr>"
        for side, v, who in (("base", c.base, []), ("ours", c.ours, c.ours_authors),
                             ("theirs", c.theirs, c.theirs_authors)))
    img = f'<img src="{escape(image)}" alt="conflict">' if image else ""
    return (f'<div class="card conflict" data-kind="{escape(c.kind)}"><b>{escape(c.kind)} '
            f"conflict</b> {' · '.join(where)}{img}<table><tr><th>side</th><th>value</th>"
            f"<th>authors</th></tr>{rows}</table><p>Resolve: <code>{escape(view.command)}"
            f"</code></p></div>")


def _value(v: Any) -> str:
    from ledger.merging.conflict import plain

    v = plain(v)
    if isinstance(v, list) and len(v) >= 2 and all(isinstance(x, int | float | None)
                                                   for x in v):
        names = ("x", "y", "visible", "complete", "score")
        return ", ".join(f"{n}={x:.2f}" if isinstance(x, float) else f"{n}={x}"
                         for n, x in zip(names, v, strict=False))
    text = repr(v)
    return text if len(text) <= 160 else text[:157] + "…"


def _conflicts(data: ReviewData, images: list[str | None]) -> str:
    if data.merge_source is None:
        return ""
    note = ""
    if data.conflicts_total > len(data.conflicts):
        note = (f'<p class="note cap">{data.conflicts_total} conflicts; the first '
                f"{len(data.conflicts)} are shown.</p>")
    legend = ('<p class="legend">' + _swatch((190, 190, 190), "base (dashed)") +
              _swatch((70, 150, 255), "ours") + _swatch((255, 150, 20), "theirs") +
              _swatch((255, 50, 50), "conflicting node") + "</p>")
    cards = "".join(_conflict_card(v, img) for v, img in zip(data.conflicts, images,
                                                              strict=True))
    other = ("Resolve them all one way with <code>--prefer ours</code> or "
             "<code>--prefer theirs</code>.")
    return (f'<section id="conflicts" data-count="{data.conflicts_total}">'
            f"<h2>Pending merge of {escape(data.merge_source)}: {data.conflicts_total} "
            f"conflict(s)</h2>{legend}<p>{other}</p>{note}"
            f'<div class="cards">{cards}</div></section>')


def render(data: ReviewData, frame_images: list[str], conflict_images: list[str | None]) -> str:
    """The whole page (see the module docstring)."""
    title = f"Review of {data.title}" if data.title else "Review"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{escape(title)}</h1><p>Head: version {data.head}. Changes since version "
            f"{data.since}. Written by <code>ledger review</code>; opens from disk, no "
            f"network.</p>{_conflicts(data, conflict_images)}"
            f"{_changes(data, frame_images)}{_timeline(data)}<script>{JS}</script>"
            f"</body></html>")
