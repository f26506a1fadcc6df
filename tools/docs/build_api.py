"""Build the API reference (HTML) from the docstrings with pdoc into ``docs/api/``.

pdoc documents what ``ledger.__all__`` exports and the modules below it; no
configuration, no theme, no network (no search index: it would double the size). Install it
with the ``docs`` extra: ``pip install -e '.[docs]'``.

Usage: python tools/docs/build_api.py [--out docs/api]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["ledger", "ledger.review", "ledger.merging", "ledger.diffing", "ledger.project",
           "ledger.model", "ledger.errors"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "api"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import pdoc

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    pdoc.render.configure(docformat="markdown", search=False, show_source=False)
    pdoc.pdoc(*MODULES, output_directory=out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({sum(1 for _ in out.rglob('*.html'))} pages, {size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
