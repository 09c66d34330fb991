"""The analyses: one module per area of the plan, each a pure computation on a :class:`Context`.

An analysis module computes metrics, ledgers and summary figures — no prose, no charts (those are
in :mod:`qjlib.pages`). Every module satisfies :class:`Analysis` and is listed once, in
:data:`REGISTRY`, under the name of its part of ``summary.json`` (the contract's ``helpers.*``
figures come from :mod:`qjlib.analyses.cadres`). ``docs/design.md`` says how to add one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from qjlib.core.errors import QjError

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
    "departments": "qjlib.analyses.departments",
    "health": "qjlib.analyses.departments_health",
    "education": "qjlib.analyses.departments_education",
    "monitoring": "qjlib.analyses.monitoring",
    "exit": "qjlib.analyses.exit",
    "targets": "qjlib.analyses.targets",
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


@dataclass
class Analyses:
    """The analysis modules of one run, in :data:`REGISTRY` order, and those skipped (with why)."""

    modules: dict[str, ModuleType] = field(default_factory=dict)
    """Registered name → the imported module."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Name asked for but not registered → why it was skipped (Chinese / English)."""

    def specs(self) -> dict[str, LedgerSpec]:
        """Every ledger spec in module order, then the module's declaration order; a ledger name
        declared twice is an error."""
        out: dict[str, LedgerSpec] = {}
        for mod_name, mod in self.modules.items():
            for name, spec in mod.LEDGERS.items():
                if name in out:
                    raise QjError(f"台账名 {name} 重复（{mod_name}）/ duplicate ledger name {name}")
                out[name] = spec
        return out

    def owners(self) -> dict[str, str]:
        """Ledger name → the name of the analysis that builds it."""
        return {n: m for m, mod in self.modules.items() for n in mod.LEDGERS}


def load_analyses(wanted: Sequence[str] | None = None) -> Analyses:
    """The registered analyses named in ``wanted`` (default: all), in the order asked. A name
    that is not registered (a manifest written by a later version, a typo) is skipped with a
    note."""
    found = Analyses()
    for name in names() if wanted is None else wanted:
        if name not in REGISTRY:
            found.skipped[name] = f"未登记的分析 {name} / analysis {name} is not registered"
            continue
        found.modules[name] = get(name)
    return found
