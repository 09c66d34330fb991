"""The context of one analysis run: the loaded package, the parameters, and the period's dates.

Every analysis module takes a :class:`Context` and nothing else, so the report runner, the
notebooks and the tests call the same code with the same inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

import pandas as pd

from qjlib.core.params import Params


class Tables(Protocol):
    """What an analysis reads of a data package: :class:`qjlib.io.load.Package` provides it, and
    so do the tests' stand-ins built from a few frames."""

    tables: dict[str, pd.DataFrame]

    def has(self, name: str) -> bool:
        """Whether the package holds the table ``name``."""

    def __getitem__(self, name: str) -> pd.DataFrame:
        """The table ``name`` (canonical columns)."""

    def restrict_to_town(self, town: str) -> Tables:
        """The town's households and every row linked to them."""


@dataclass(frozen=True)
class Context:
    """One analysis run: the package (``pkg``), the parameters (``params``) and the scope.

    ``scope`` is ``None`` for the county, else a town's name (:meth:`restrict` makes one). The
    period's dates come from the parameters: ``asof`` (the run's as-of date), ``period``
    (``2019Q3``) and ``income_year`` (the latest income year the package and the period allow).
    Analyses read every table through ``ctx.pkg`` and every threshold through ``ctx.params``.
    """

    pkg: Tables
    params: Params
    scope: str | None = None  # None = the county; else a town name
    # Results of :func:`per_context` functions for this context (a restricted context starts
    # with its own): the runner's summary, its ledgers and a notebook compute each once.
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def asof(self) -> pd.Timestamp:
        """The run's as-of date (the period's end unless given)."""
        return self.params.asof

    @property
    def period(self) -> str:
        """The reporting period, e.g. ``2019Q3``."""
        return self.params.period

    @property
    def income_year(self) -> int:
        """The income year analysed: :meth:`Params.income_year` of the package's income years."""
        if self.pkg.has("income"):
            years = self.pkg["income"]["year"].dropna().unique()
        else:
            years = [self.asof.year]
        return self.params.income_year(years)

    def restrict(self, town: str | None) -> Context:
        """The same run restricted to one town's households (None = whole county)."""
        if town is None:
            return self
        return replace(self, pkg=self.pkg.restrict_to_town(town), scope=town)


T = TypeVar("T")


def per_context(fn: Callable[[Context], T]) -> Callable[[Context], T]:
    """Compute ``fn(ctx)`` once per :class:`Context` object and hand the same result to every
    later caller (``summary``, ``build_ledgers`` and the notebooks call the same analyses).
    Callers must not modify the result in place."""
    key = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def once(ctx: Context) -> T:
        memo = ctx._memo
        if key not in memo:
            memo[key] = fn(ctx)
        return memo[key]

    return once
