"""The analyses: one module per area of the plan, each a pure computation on a :class:`Context`.

An analysis module computes metrics, ledgers and summary figures — no prose, no charts (those are
in :mod:`qjlib.pages`). Every module satisfies :class:`Analysis` and is listed once, in
:data:`REGISTRY`, under the name of its part of ``summary.json`` (the contract's ``helpers.*``
figures come from :mod:`qjlib.analyses.cadres`). ``docs/design.md`` says how to add one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from qjlib.core.context import Context
    from qjlib.core.ledgers import LedgerSpec

#: summary name → module, in report order. Modules are imported on first use, so a notebook pays
#: only for the analyses it shows.
REGISTRY: Mapping[str, str] = {
    "quality": "qjlib.analyses.quality",
    "income": "qjlib.analyses.income",
    "decline": "qjlib.analyses.decline",
    "industry": "qjlib.analyses.industry",
    "helpers": "qjlib.analyses.cadres",
}


@runtime_checkable
class Analysis(Protocol):
    """What an analysis module provides.

    - ``NAME``: its key in ``summary.json`` and in :data:`REGISTRY`;
    - ``LEDGERS``: ledger name → :class:`~qjlib.core.ledgers.LedgerSpec`, the ledgers it builds;
    - ``build_ledgers(ctx)``: ledger name → frame (raw values, canonical columns; masked at output);
    - ``summary(ctx)``: its JSON-able figures, keys as in the contract;
    - ``NOTEBOOK_RESULTS``: function name → the scopes (``"county"``, ``"towns"``) for which
      ``qj report`` saves ``module.<name>(ctx)`` for the notebooks (empty when there are none).
    """

    NAME: str
    LEDGERS: Mapping[str, LedgerSpec]
    NOTEBOOK_RESULTS: Mapping[str, tuple[str, ...]]
    build_ledgers: Callable[[Context], dict[str, pd.DataFrame]]
    summary: Callable[[Context], dict]


def names() -> tuple[str, ...]:
    """The registered analyses' names, in report order."""
    return tuple(REGISTRY)


def get(name: str) -> ModuleType:
    """The analysis module registered as ``name`` (imported now if needed).

    Raises ``KeyError`` for a name that is not registered."""
    return importlib.import_module(REGISTRY[name])
