"""Checks of the tables of ``shared/contract/exit.md`` (:mod:`qjlib.core.tables_exit`).

:func:`qjlib.io.checks.row_checks` calls ``ROW_CHECKS[table]`` on each file's converted rows, and
:func:`qjlib.io.checks.cross_checks` calls every ``PACKAGE_CHECKS`` function once the package's
tables are read (for checks across tables).

- ``housing``: a repair ``completed`` or a rebuild ``moved_in`` before its own ``assessed`` date
  is a finding (``works_before_assessment``; the row is kept).
- ``villages``: a ``water_rate`` or ``electricity_rate`` below 0 or above 100 (a share above 1 is
  read as a percentage, contract "0–1, or %") is a finding (``rate_out_of_range``).
- across tables: a village of the households (``town`` + ``village``) with no row in
  ``villages`` is a finding ``village_missing``, recorded once per missing village on its first
  household's row of ``households`` (contract: "a village of the households with no row here is
  a finding"). A village here with no households is a *note*; the loader's notes are not open to
  area checks, so :mod:`qjlib.analyses.exit` lists those villages (``exit.villages.without_households``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd


def _housing(df: pd.DataFrame, raw: Any, issues: Any, add: Callable[..., None], as_of: Any) -> None:
    """Works finished before the assessment they follow (a date typed wrong, or the wrong row)."""
    for col, zh in (("completed", "竣工日期"), ("moved_in", "入住日期")):
        if col in df.columns:
            add(df[col] < df["assessed"], "works_before_assessment", col, df[col],
                f"{zh}早于鉴定日期", f"{col} before assessed", False)


def _villages(df: pd.DataFrame, raw: Any, issues: Any, add: Callable[..., None], as_of: Any) -> None:
    """Coverage rates outside 0–100 (a share above 1 is a percentage)."""
    for col, zh in (("water_rate", "安全饮水覆盖率"), ("electricity_rate", "通电率")):
        if col in df.columns:
            v = df[col]
            add((v < 0) | (v > 100), "rate_out_of_range", col, v,
                f"{zh}应在 0–1 或 0–100% 之间", f"{col} must lie in 0–1 or 0–100 %", False)


ROW_CHECKS: dict[str, Callable[..., None]] = {"housing": _housing, "villages": _villages}
"""Table name → ``f(df, raw, issues, add, as_of)``: ``df`` one file's converted rows (index =
position in the table), ``add(mask, kind, col, value, zh, en, reject)`` records a finding or a
reject of the masked rows (:func:`qjlib.io.checks.row_checks`)."""


def village_key(town: pd.Series, village: pd.Series) -> pd.Series:
    """``town/village`` as one text key (how the households name their village)."""
    return (town.astype("str").fillna("") + "/" + village.astype("str").fillna("")).astype("str")


def _missing_villages(loaded: dict[str, Any], tables: dict[str, Any]) -> None:
    """Each village of the households without a ``villages`` row: a finding on its first household."""
    if "villages" not in tables or "households" not in tables:
        return
    hh, vil = tables["households"], tables["villages"]
    keys = village_key(hh["town"], hh["village"])
    missing = ~keys.isin(set(village_key(vil["town"], vil["village"])))
    first = missing & ~keys.duplicated()
    if not first.any():
        return
    loaded["households"].issues.add(
        hh.index.to_numpy()[first.to_numpy()], "village_missing", "village",
        keys[first].to_numpy(dtype=object), "该户所在行政村不在行政村表中（村级退出指标无法评价）",
        "the household's village has no row in villages", False)


PACKAGE_CHECKS: tuple[Callable[[dict[str, Any], dict[str, Any]], None], ...] = (_missing_villages,)
"""Functions ``f(loaded, tables)`` run after every table is read (``loaded``: table name →
:class:`qjlib.io.issues.Loaded`; ``tables``: the derived frames)."""

__all__ = ["ROW_CHECKS", "PACKAGE_CHECKS", "village_key"]
