"""Scopes: the county and each of its towns, as found in the data.

A report (and a notebook) is made for one scope: the county (``code="county"``, folder ``县``) or a
town (its ASCII ``town_code``, folder = the town's name). The county's ledgers are the ledgers of
every scope; a town's are the rows that concern it (:func:`town_rows`). The batch runner and the
notebook pages both read scopes from here, so neither depends on the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from qjlib.core.context import Context
from qjlib.core.errors import QjError

COUNTY = "county"  # the county scope's code (a town's code is its ASCII town_code)
COUNTY_FOLDER = "县"  # the county's report sub-folder


@dataclass(frozen=True)
class Scope:
    """One scope of a report: the county or a town."""

    code: str
    """``"county"`` or the town's ASCII code (``households.town_code``)."""
    name: str
    """In Chinese: the county's name (or 全县) or the town's name."""
    folder: str
    """The report sub-folder: 县 or the town's name (made safe for file systems)."""
    town: str | None
    """The town's name for :meth:`Context.restrict`; None for the county."""


def county_name(pkg: Any) -> str:
    """The county's name from ``households.county`` when it has one value, else ``全县``."""
    hh = pkg["households"]
    if "county" in hh.columns:
        names = hh["county"].dropna().unique()
        if len(names) == 1 and str(names[0]).strip():
            return str(names[0]).strip()
    return "全县"


def towns(pkg: Any) -> list[Scope]:
    """Every town of ``households`` as a scope, sorted by town code."""
    hh = pkg["households"]
    pairs = hh[["town_code", "town"]].dropna().drop_duplicates().sort_values(["town_code", "town"])
    dup = pairs["town_code"].duplicated(keep=False)
    if dup.any():  # pragma: no cover - sha1 prefix collision
        raise QjError(f"乡镇代码冲突 / town code collision: {pairs[dup].to_dict('records')}")
    return [Scope(c, t, _folder_name(t), t) for c, t in zip(pairs["town_code"], pairs["town"],
                                                           strict=True)]


def _folder_name(name: str) -> str:
    bad = '<>:"/\\|?*'
    return "".join("_" if ch in bad or ord(ch) < 32 else ch for ch in str(name)).strip() or "_"


def all_scopes(pkg: Any) -> list[Scope]:
    """The county, then every town (by town code)."""
    return [Scope(COUNTY, county_name(pkg), COUNTY_FOLDER, None), *towns(pkg)]


def select_scopes(pkg: Any, wanted: Sequence[str] | None) -> list[Scope]:
    """The scopes named on the command line (``county``/``县``, a town name or code); all if None."""
    scopes = all_scopes(pkg)
    if not wanted:
        return scopes
    out: list[Scope] = []
    for w in wanted:
        hit = [s for s in scopes if w in (s.code, s.name, s.folder) or (w == "县" and s.town is None)]
        if not hit:
            avail = "、".join(f"{s.name}({s.code})" for s in scopes)
            raise QjError(f"未知范围 {w!r}，可选：{avail} / unknown scope {w!r}")
        out.extend(h for h in hit if h not in out)
    return out


def scope_context(county_ctx: Context, scope: Scope) -> Context:
    """The county context restricted to the scope (the county context itself for the county)."""
    return county_ctx.restrict(scope.town)


def town_rows(df: pd.DataFrame, town: str) -> pd.DataFrame:
    """The rows of a county ledger that concern ``town``: its ``town`` cell is the town, or lists
    it among several (``乙镇、甲镇``, a helper working in two towns). A ledger without a ``town``
    column is returned whole."""
    if "town" not in df.columns:
        return df
    cell = df["town"].astype("str")
    keep = (cell.str.strip() == town).to_numpy(dtype=bool, copy=True)
    several = cell.str.contains("、", regex=False).to_numpy()
    if several.any():  # only these cells are split (the rest is one vectorised comparison)
        parts = cell[several].str.split("、").explode()
        hit = parts.index[parts.str.strip() == town]
        keep |= df.index.isin(hit)
    return df.loc[keep]


def result_file(work: Path, module: str, name: str, scope_code: str) -> Path:
    """Where ``qj report`` saves ``module.name(ctx)`` of a scope for the notebooks to read."""
    return work / f"result-{module}.{name}.{scope_code}.pkl"
