"""Analyses across several annotations of one project: agreement and consensus.

Example::

    from ledger.analysis import agreement
    agreement(alice, bob).mean_oks
"""

from ledger.analysis.agreement import Agreement, agreement
from ledger.analysis.consensus import consensus

__all__ = ["Agreement", "agreement", "consensus"]
