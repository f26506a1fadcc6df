"""Terminal output for the CLI, with rich imported on first use.

``ledger --help`` and the history verbs start in a fraction of the time it takes
to import rich, so the console and tables are made only when something prints.
"""

from __future__ import annotations

from typing import Any


class LazyConsole:
    """A `rich.console.Console` created on first attribute access."""

    def __init__(self) -> None:
        self._console: Any = None

    def real(self) -> Any:
        """The console itself (for rich objects that take one, like progress bars)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


def Table(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - stands in for rich's class
    """A `rich.table.Table` (rich imported now)."""
    from rich.table import Table as RichTable

    return RichTable(*args, **kwargs)


console: Any = LazyConsole()
