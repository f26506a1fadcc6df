"""Every public name of ``ledger`` (its ``__all__``, what the API reference shows)
has a docstring, and so does every public method and property of `Labels`,
including those of its mixins: the reference is generated from them."""

from __future__ import annotations

import inspect

import ledger


def test_every_public_name_has_a_docstring():
    missing = [name for name in ledger.__all__ if not inspect.getdoc(getattr(ledger, name))]
    assert not missing, missing


def test_every_public_labels_member_has_a_docstring():
    missing = []
    for klass in ledger.Labels.__mro__:
        if not klass.__module__.startswith("ledger"):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, property):
                doc = value.fget.__doc__ if value.fget else None
            elif callable(getattr(value, "__func__", value)):
                doc = inspect.getdoc(getattr(ledger.Labels, attr))
            else:
                continue
            if not (doc or "").strip():
                missing.append(f"{klass.__name__}.{attr}")
    assert not missing, missing
