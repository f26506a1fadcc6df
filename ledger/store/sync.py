"""Bring an open ledger up to date with records other writers stored.

Several processes may write one ledger file. Appends are optimistic: a writer
whose view is stale gets `ConcurrencyError` and nothing is written. To retry it
must first see what the others committed -- that is `catch_up`: read the records
after the ledger's head from its store and apply them, exactly as opening the
ledger would have. Undo/redo stacks follow, since they derive from the history.

Example::

    while True:
        try:
            with led.transaction("rename"):
                led.emit(event_for(led.state))
            break
        except ConcurrencyError:
            catch_up(led)

This belongs on `EventLedger` as a ``refresh()`` method; it lives here meanwhile
and uses the ledger's two internal steps for a stored record (``_apply``,
``_track``).
"""

from __future__ import annotations

from ledger.errors import TransactionError
from ledger.event_ledger import EventLedger


def catch_up(ledger: EventLedger) -> int:
    """Apply the store's records after ``ledger.head``; return how many.

    Not allowed inside a transaction: its uncommitted events are already applied,
    and applying newer history underneath them would mix two timelines.
    """
    if ledger.in_transaction:
        raise TransactionError("cannot catch up inside a transaction")
    count = 0
    for rec in ledger.store.read(ledger.head + 1):
        ledger._apply(rec.event)
        ledger._track(rec)
        count += 1
    return count
