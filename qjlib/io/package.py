"""The loaded data package: its tables, the ledgers of what was read, and a town's share of it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from qjlib.core import schema
from qjlib.core.errors import QjError
from qjlib.core.ids import isin


@dataclass
class Package:
    """A loaded data package, as :func:`qjlib.io.load.load_package` returns it (``docs/design.md``).

    ``tables``: only the tables present, with every canonical column of the schema (all-missing
    when no file had it — ``provided`` lists, per table, the columns some file did have), the
    derived columns, and ``_file``/``_row`` provenance; ``rejects``/``findings``/``accounting``:
    the ledgers of what was read; ``notes``: what was ignored or switched off; ``inputs``: each
    input file's relative path, sha256 and size, sorted by path.
    """

    root: Path
    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    findings: pd.DataFrame
    accounting: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    provided: dict[str, tuple[str, ...]] = field(default_factory=dict)  # columns found in the files
    scope: str | None = None  # the town name after restrict_to_town

    def __getitem__(self, name: str) -> pd.DataFrame:
        """The table ``name``; a :class:`QjError` naming it when the package lacks it."""
        if name not in self.tables:
            if name not in schema.TABLES:
                raise QjError(f"没有名为 {name} 的表 / no table named {name!r}")
            raise QjError(f"数据包中没有「{schema.TABLES[name].zh}」表 / the package has no {name} table")
        return self.tables[name]

    def has(self, name: str) -> bool:
        """Whether the package has the table ``name``."""
        return name in self.tables

    @property
    def towns(self) -> pd.DataFrame:
        """The towns of the households table with their stable codes, sorted by code."""
        hh = self.tables["households"]
        out = hh[["town", "town_code"]].dropna().drop_duplicates()
        return out.sort_values("town_code").reset_index(drop=True)

    def resolve_town(self, town: str) -> str:
        """A town name, given its name or its code (``definitions.town_code``)."""
        t = self.towns
        if (t["town"] == town).any():
            return str(town)
        hit = t.loc[t["town_code"] == town, "town"]
        if len(hit):
            return str(hit.iloc[0])
        known = "、".join(t["town"].tolist())
        raise QjError(f"数据包中没有乡镇「{town}」（现有：{known}）/ no town {town!r} in the package")

    def restrict_to_town(self, town: str) -> Package:
        """The households of ``town`` (name or code) and every row linked to them.

        members, income, benefits, pairings, visits: by ``hh_id``; helpers: those paired with
        the town's households, and their reviews; projects: those with a benefit in the town or
        whose ``town`` is it. Rejects and findings: those whose town is known and is ``town``.
        Accounting, notes and inputs stay those of the whole package.
        """
        name = self.resolve_town(town)
        t = dict(self.tables)
        none = pd.Series([], dtype="str")

        def keep(tab: str, col: str, pool: pd.Series, also: Any = False) -> None:
            df = t[tab]
            t[tab] = df[isin(df[col], pool) | also].reset_index(drop=True)

        hh = t["households"]
        t["households"] = hh[(hh["town"] == name).to_numpy()].reset_index(drop=True)
        ids = t["households"]["hh_id"]
        for tab in ("members", "income", "benefits", "pairings", "visits"):
            if tab in t:
                keep(tab, "hh_id", ids)
        if "helpers" in t:
            keep("helpers", "helper_id", t["pairings"]["helper_id"] if "pairings" in t else none)
        if "reviews" in t:
            pool = t["helpers"]["helper_id"] if "helpers" in t else (
                t["pairings"]["helper_id"] if "pairings" in t else none)
            keep("reviews", "helper_id", pool)
        if "projects" in t:
            keep("projects", "project_id", t["benefits"]["project_id"] if "benefits" in t else none,
                 (t["projects"]["town"] == name).fillna(False).to_numpy())
        return replace(
            self, tables=t,
            rejects=self.rejects[self.rejects["town"] == name].reset_index(drop=True),
            findings=self.findings[self.findings["town"] == name].reset_index(drop=True),
            notes=list(self.notes), inputs=list(self.inputs), scope=name,
        )
