"""Bring an open ledger up to date with records other writers stored.

Kept for callers written before `EventLedger.refresh` existed; it is now just that
method. Several processes may write one ledger file; a writer whose view is stale
gets `ConcurrencyError` (nothing written), catches up, and retries::

    while True:
        try:
            with led.transaction("rename"):
                led.emit(event_for(led.state))
            break
        except ConcurrencyError:
            catch_up(led)
"""

from __future__ import annotations

from ledger.event_ledger import EventLedger


def catch_up(ledger: EventLedger) -> int:
    """Apply the store's records after ``ledger.head``; return how many."""
    return ledger.refresh()
