"""Definitions every analysis shares, written once (``shared/contract/inputs.md``, "Definitions").

The loader (:mod:`qjlib.load`) adds the derived columns below to the tables it returns, so an
analysis reads ``income["net_income"]`` instead of re-deriving it; the functions stay public for
tests, notebooks and tables built by hand. Every function is vectorised over a whole table.

==========================  ================================================================
name                        definition
==========================  ================================================================
``operating_net``           ``operating − operating_cost`` (yuan)
``net_income``              ``wage + operating − operating_cost + property + transfer`` (yuan)
``net_per_capita``          ``net_income ÷ size`` (that year's household size; yuan/person)
``transfer_items_sum``      sum of the transfer items present (``TRANSFER_ITEMS``), NA when none
``labor_capacity``          有劳动能力 if any member is 普通劳动力 or 技能劳动力; else 弱劳动能力
                            if any is 弱劳动力或半劳动力; else 无劳动能力
``past_exited``             ``exit_status`` exited or returned, and ``exit_year`` < the year
``id_checksum_ok``          GB 11643-1999 check character of an 18-character resident ID
``town_code``               ``"T"`` + the first 6 hex digits of sha1(UTF-8 town name)
==========================  ================================================================
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from qjlib.core.schema import LABOR_CAPACITY

# Transfer income items (each optional in the income table); their sum should equal ``transfer``.
TRANSFER_ITEMS = ("family_planning", "dibao_pay", "wubao_pay", "pension", "eco_comp", "other_transfer")

# Labour skills (canonical values of schema.VALUE_LISTS["labor_skill"]) by capacity rank.
ABLE_SKILLS = ("普通劳动力", "技能劳动力")
WEAK_SKILLS = ("弱劳动力或半劳动力",)

# GB 11643-1999: weights of the first 17 digits and the check character for (sum mod 11).
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK_CHARS = "10X98765432"

EXITED_STATUSES = ("exited", "returned")

# The four sources of net income: net income = wage + operating_net + property + transfer.
INCOME_COMPONENTS: tuple[str, ...] = ("wage", "operating_net", "property", "transfer")
INCOME_COMPONENTS_ZH: dict[str, str] = {
    "wage": "工资性收入",
    "operating_net": "生产经营性净收入",
    "property": "财产性收入",
    "transfer": "转移性收入",
}


def operating_net(income: pd.DataFrame) -> pd.Series:
    """Net operating income = ``operating − operating_cost`` (yuan)."""
    return (income["operating"] - income["operating_cost"]).rename("operating_net")


def net_income(income: pd.DataFrame) -> pd.Series:
    """Household net income = ``wage + operating − operating_cost + property + transfer`` (yuan).

    Always recomputed from the components; the file's own figure is kept by the loader as
    ``net_income_reported``.
    """
    return (
        income["wage"] + income["operating"] - income["operating_cost"]
        + income["property"] + income["transfer"]
    ).rename("net_income")


def net_per_capita(income: pd.DataFrame) -> pd.Series:
    """Per-capita net income = :func:`net_income` ÷ that year's household ``size`` (yuan/person).

    A size below 1 (the loader rejects such rows) gives NaN rather than a division by zero.
    """
    size = income["size"].astype("float64")
    size = size.where(size >= 1)
    return (net_income(income) / size).rename("net_per_capita")


def transfer_items_sum(income: pd.DataFrame) -> pd.Series:
    """Sum of the transfer items present in the table (missing cells count 0); NA for a row whose
    items are all missing, or when the table has no item column."""
    cols = [c for c in TRANSFER_ITEMS if c in income.columns]
    if not cols:
        return pd.Series(np.nan, index=income.index, name="transfer_items_sum")
    items = income[cols].astype("float64")
    return items.sum(axis=1, min_count=1).rename("transfer_items_sum")


def labor_capacity(members: pd.DataFrame) -> pd.Series:
    """Household labour capacity from its members, indexed by ``hh_id`` (sorted).

    有劳动能力 if any member's ``labor_skill`` is 普通劳动力 or 技能劳动力; else 弱劳动能力 if any
    member's is 弱劳动力或半劳动力; else 无劳动能力 (also for skills outside the list or missing).
    Households without member rows do not appear (callers map them to NA).
    """
    skill = members["labor_skill"]
    rank = np.where(skill.isin(ABLE_SKILLS), 2, np.where(skill.isin(WEAK_SKILLS), 1, 0))
    best = pd.Series(rank, index=members.index).groupby(members["hh_id"].to_numpy()).max()
    labels = np.array([LABOR_CAPACITY[2], LABOR_CAPACITY[1], LABOR_CAPACITY[0]], dtype=object)
    out = pd.Series(labels[best.to_numpy()], index=best.index, dtype="str", name="labor_capacity")
    out.index.name = "hh_id"
    return out.sort_index()


def past_exited(households: pd.DataFrame, year: int) -> pd.Series:
    """历年脱贫户: ``exit_status`` exited or returned **and** ``exit_year < year`` (the income year
    being analysed). A household without ``exit_year`` is not a past exited household."""
    before = households["exit_year"].astype("Float64") < int(year)
    return (households["exit_status"].isin(EXITED_STATUSES) & before.fillna(False)).astype(bool)


def id_checksum_ok(ids: pd.Series) -> pd.Series:
    """GB 11643-1999 check of 18-character resident IDs (vectorised).

    True when the value is 17 digits followed by the check character
    ``"10X98765432"[Σ digit_i × w_i mod 11]`` with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    (a lower-case ``x`` counts as ``X``). False for anything else, missing values included.
    """
    s = pd.Series(ids, copy=False).astype("str").str.upper()
    shaped = s.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False).to_numpy(dtype=bool)
    ok = np.zeros(len(s), dtype=bool)
    if shaped.any():
        good = s[shaped]
        raw = np.frombuffer("".join(good.tolist()).encode("ascii"), dtype=np.uint8)
        digits = raw.reshape(-1, 18)
        total = (digits[:, :17].astype(np.int64) - ord("0")) @ ID_WEIGHTS
        expect = np.frombuffer(ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)[total % 11]
        ok[shaped] = digits[:, 17] == expect
    return pd.Series(ok, index=s.index, name="id_checksum_ok")


def town_code(name: str) -> str:
    """A town's stable code: ``"T"`` + the first 6 hex digits of sha1 of its UTF-8 name.

    The same name gives the same code in every quarter and every county, so papermill parameters
    and report folders can use the ASCII code (e.g. ``town_code("宽州镇")``).
    """
    return "T" + hashlib.sha1(str(name).encode("utf-8")).hexdigest()[:6]


def town_codes(names: pd.Series) -> pd.Series:
    """:func:`town_code` of every value (computed once per distinct name); NA stays NA."""
    names = pd.Series(names, copy=False)
    uniq = names.dropna().unique()
    mapping = {n: town_code(n) for n in uniq}
    return names.map(mapping).astype("str").rename("town_code")
