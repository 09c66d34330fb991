"""Income structure (plan R2, 方案 一.4 收入结构补短板行动): shares of the income sources, their
distribution over households, their change since 2014, inequality by source, near-line households,
and the two ledgers ``income_low_operating`` and ``income_transfer_dependent``.

Definitions (each written once, here):

* **Components** of net income (yuan per household and year, the loader's canonical columns):
  ``wage`` 工资性收入, ``operating_net`` = operating − operating_cost 生产经营性净收入, ``property``
  财产性收入, ``transfer`` 转移性收入. They add up to ``net_income`` (recomputed by the loader,
  :mod:`qjlib.core.definitions`), so the four shares of a household or of a group add up to 1.
* **Household share** of component *k*: ``s_k = x_k / net_income`` — defined only when net income is
  positive. A household with net income ≤ 0 has **no shares**: it is counted (``nonpositive``),
  listed (:func:`nonpositive_households`) and reported as a finding, never dropped silently and never
  put in a share ledger.
* **Group share** (the contract's figure): the ratio of sums ``S_k = Σ x_k / Σ net_income`` over the
  group's households — *not* the mean of household shares. The sums take **every** registered household
  with an income row in the year, those with net income ≤ 0 included: their losses are part of the
  group's income, and the four group shares still add up to 1. (If a group's Σ net income ≤ 0 its
  shares are undefined, NaN.)
* **Numerators and denominators** sit beside every ratio of ``summary.json`` (yuan, the very
  sums the ratios were divided from): ``income.totals`` = {wage, operating_net, property,
  transfer, net_income} for ``income.shares``; ``income.by_labor_group_totals.<group>`` for
  ``income.by_labor_group.<group>``; ``income.trend.totals.<year>`` for
  ``income.trend.shares.<year>``; ``income.transfer_items_totals`` = {each item, unitemised,
  transfer} for ``income.transfer_items`` (share = item ÷ transfer). ``median_shares`` (medians),
  ``gini`` and ``decomposition`` (statistics of per-capita sources) are not ratios of sums.
* **Registered household**: an income row whose ``hh_id`` is in the households table of the scope;
  income rows of unregistered ids (an ``orphan_row`` finding of the loader) are left out.
* **Thresholds** come from params: ``income.low_operating_share`` (a household with labour capacity
  有劳动能力 or 弱劳动能力 is flagged when ``s_operating_net < threshold``) and
  ``income.transfer_dependent_share`` (flagged when ``s_transfer > threshold``; exactly at it is not
  flagged). Every comparison is exact (:mod:`qjlib.core.exact`): money in whole fen, a share against
  its threshold cross-multiplied (``10 × operating_net < 3 × net_income`` for 30 %), so a share
  exactly at the threshold never flips either way.

Everything heavy is vectorised: the string household ids are turned into integer positions once
(:func:`qjlib.core.ids.positions`), group keys are integer-coded (``np.bincount`` sums), and
medians/quartiles come from one stable sort by group and an in-place partition of each group's run
per share (a loop over groups, never over households) — the general machinery is in
:mod:`qjlib.analyses.grouping`, the Gini and its decomposition in :mod:`qjlib.analyses.inequality`.
:func:`structure_by` is the one function behind the summary, the notebook and
``benchmarks/bench_income.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from qjlib.analyses.grouping import UNKNOWN, group_codes, group_quantiles, pct_label
from qjlib.analyses.inequality import lerman_yitzhaki
from qjlib.core import definitions, exact
from qjlib.core.context import Context, per_context
from qjlib.core.definitions import TRANSFER_ITEMS
from qjlib.core.fmt import json_number
from qjlib.core.ids import positions
from qjlib.core.ledgers import LedgerSpec
from qjlib.core.schema import LABOR_CAPACITY, TABLES

COMPONENTS = definitions.INCOME_COMPONENTS
COMPONENTS_ZH = definitions.INCOME_COMPONENTS_ZH
UNITEMISED = "unitemised"  # transfer − Σ items: the part of transfers not broken down in the file
WITH_CAPACITY: tuple[str, ...] = LABOR_CAPACITY[:2]  # 有劳动能力, 弱劳动能力
QUANTILES: tuple[float, ...] = (0.25, 0.5, 0.75)



# ---------------------------------------------------------------------------------------------
# Households and their shares


def positive_net(net_income: np.ndarray | pd.Series) -> np.ndarray:
    """True where net income > 0 in whole fen: the households that have shares."""
    return exact.fen(net_income) > 0


def household_shares(income: pd.DataFrame) -> pd.DataFrame:
    """Per household-year shares ``<k>_share = x_k / net_income`` for the four components.

    Unit: fraction (0.25 = 25 %); can be negative (operating loss) or above 1. NaN where net income
    ≤ 0 (no shares, see :func:`positive_net`). Index as ``income``.
    """
    net = income["net_income"].to_numpy(dtype=float)
    ok = positive_net(net)
    return pd.DataFrame(
        {f"{k}_share": _share(income[k].to_numpy(dtype=float), net, ok) for k in COMPONENTS},
        index=income.index,
    )


def _share(x: np.ndarray, net: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """x / net where ``ok`` (net income > 0), NaN elsewhere (one allocation)."""
    return np.divide(x, net, out=np.full(len(x), np.nan), where=ok)


def has_capacity(labor_capacity: pd.Series) -> np.ndarray:
    """True for households with labour capacity: 有劳动能力 or 弱劳动能力 (a missing capacity —
    no members rows — is False: it cannot be judged)."""
    return pd.Series(labor_capacity, copy=False).isin(WITH_CAPACITY).to_numpy()


def flag_low_operating(
    operating_net: np.ndarray | pd.Series, net_income: np.ndarray | pd.Series,
    capacity: np.ndarray, threshold: float,
) -> np.ndarray:
    """Low operating income (R2): ``capacity`` (:func:`has_capacity`) and
    ``operating_net / net_income < threshold`` (``income.low_operating_share``), decided exactly
    (:func:`qjlib.core.exact.share_below`). Net income ≤ 0 (no share) → False."""
    return np.asarray(capacity, dtype=bool) & exact.share_below(operating_net, net_income, threshold)


def flag_transfer_dependent(
    transfer: np.ndarray | pd.Series, net_income: np.ndarray | pd.Series, threshold: float
) -> np.ndarray:
    """Transfer dependence: ``transfer / net_income > threshold``
    (``income.transfer_dependent_share``), decided exactly; exactly at the threshold is not
    flagged. Net income ≤ 0 (no share) → False."""
    return exact.share_above(transfer, net_income, threshold)


def exit_cohort(households: pd.DataFrame) -> pd.Series:
    """Exit cohort label of each household: ``"2017年脱贫"`` for exit_status exited with its
    exit_year, ``"返贫"`` for returned, ``"未脱贫"`` for not_exited, :data:`UNKNOWN` otherwise."""
    status = households["exit_status"]
    year = households["exit_year"] if "exit_year" in households else pd.Series(pd.NA, index=households.index)
    year_txt = pd.Series(year, copy=False).astype("Int64").astype("str")
    out = pd.Series(UNKNOWN, index=households.index, dtype="str")
    has_year = pd.Series(year, copy=False).notna()
    out = out.mask((status == "exited") & has_year, year_txt + "年脱贫")
    out = out.mask(status == "returned", "返贫")
    out = out.mask(status == "not_exited", "未脱贫")
    return out


def _household_columns(households: pd.DataFrame) -> pd.DataFrame:
    """The households columns the analyses group by, with ``exit_cohort`` added."""
    hh = households
    if "exit_status" in hh and "exit_cohort" not in hh:
        hh = hh.assign(exit_cohort=exit_cohort(hh))
    if "labor_capacity" not in hh:
        hh = hh.assign(labor_capacity=pd.Series(pd.NA, index=hh.index, dtype="str"))
    return hh


def household_year_frame(
    income: pd.DataFrame, households: pd.DataFrame, year: int | None = None
) -> pd.DataFrame:
    """Income rows of registered households (of ``year`` if given) with the household's town,
    village, labour capacity, poverty attribute, main cause and exit cohort, and the four
    :func:`household_shares`. Sorted by hh_id, year."""
    inc = income if year is None else income[income["year"] == year]
    hh = _household_columns(households)
    pos = positions(inc["hh_id"], hh["hh_id"])
    keep = pos >= 0
    inc = inc[keep]
    cols = [c for c in ("town", "village", "labor_capacity", "poverty_attr", "main_cause",
                        "exit_cohort", "exit_status", "exit_year") if c in hh and c not in inc]
    extra = hh[cols].iloc[pos[keep]].set_axis(inc.index)
    out = pd.concat([inc, extra, household_shares(inc)], axis=1)
    return out.sort_values(["hh_id", "year"], kind="stable").reset_index(drop=True)


def nonpositive_households(frame: pd.DataFrame) -> pd.DataFrame:
    """Households of ``frame`` (see :func:`household_year_frame`) whose net income is ≤ 0: they have
    no shares and are in neither share ledger — a finding to check (loss-making operation or a data
    error). Sorted by hh_id, year."""
    cols = [c for c in ("hh_id", "year", "town", "village", "wage", "operating", "operating_cost",
                        "operating_net", "property", "transfer", "net_income", "size",
                        "labor_capacity") if c in frame]
    out = frame.loc[~positive_net(frame["net_income"]), cols]
    return out.sort_values(["hh_id", "year"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Grouped structure: ratio of sums, distribution over households, threshold counts


def structure_by(
    income: pd.DataFrame,
    households: pd.DataFrame,
    by: Sequence[str] = (),
    *,
    low_operating_share: float,
    transfer_dependent_share: float,
    quantiles: Sequence[float] = QUANTILES,
) -> pd.DataFrame:
    """Income structure of each group of ``by`` (columns of households — town, village,
    labor_capacity, poverty_attr, main_cause, exit_cohort — or of income — year).

    One row per non-empty group, sorted by the keys (a missing key value is the group
    :data:`UNKNOWN`), with:

    * ``households``: registered household-years in the group; ``nonpositive``: of them, net
      income ≤ 0 (no shares; still in the sums);
    * ``wage``, ``operating_net``, ``property``, ``transfer``, ``net_income``: sums, yuan;
    * ``<k>_share`` = Σ x_k / Σ net_income (ratio of sums; NaN if Σ net_income ≤ 0);
    * ``<k>_share_p25``, ``_p50``, ``_p75``: quartiles of the household shares x_k / net_income over
      the group's households with net income > 0 (linear interpolation);
    * ``low_operating``: households flagged by :func:`flag_low_operating`;
      ``transfer_dependent``: flagged by :func:`flag_transfer_dependent` (the ledgers' counts).

    The same function computes the summary figures, the notebook's tables and the benchmark.
    """
    by = list(by)
    hh = _household_columns(households)
    income, pos = _registered_rows(income, hh, by)
    g, labels = group_codes(income, hh, pos, by)
    sizes = [len(lab) for lab in labels]
    n_groups = int(np.prod(sizes)) if by else 1

    x = {k: income[k].to_numpy(dtype=float) for k in (*COMPONENTS, "net_income")}
    net = x["net_income"]
    ok = positive_net(net)
    capacity = has_capacity(hh["labor_capacity"])[pos]
    low = flag_low_operating(x["operating_net"], net, capacity, low_operating_share)
    dep = flag_transfer_dependent(x["transfer"], net, transfer_dependent_share)

    count = np.bincount(g, minlength=n_groups)
    nonpositive = np.bincount(g[~ok], minlength=n_groups)
    nonempty = np.flatnonzero(count)
    sums = {k: np.bincount(g, weights=v, minlength=n_groups)[nonempty] for k, v in x.items()}
    # household shares x_k / net_income, formed only on the gathered valid rows
    quant = group_quantiles([x[k] for k in COMPONENTS], ok, g, count - nonpositive, quantiles,
                             denominator=net)

    keys = np.unravel_index(nonempty, sizes) if by else ()
    out = pd.DataFrame({col: [labels[i][j] for j in keys[i]] for i, col in enumerate(by)})
    out["households"] = count[nonempty]
    out["nonpositive"] = nonpositive[nonempty]
    out = _add_shares(out, sums, quant[nonempty], quantiles)
    out["low_operating"] = np.bincount(g[low], minlength=n_groups)[nonempty]
    out["transfer_dependent"] = np.bincount(g[dep], minlength=n_groups)[nonempty]
    return out


def _registered_rows(
    income: pd.DataFrame, hh: pd.DataFrame, by: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The income rows of registered households and each one's row position in ``hh``; the
    unregistered rows are left out (only the columns :func:`structure_by` uses are copied)."""
    pos = positions(income["hh_id"], hh["hh_id"])
    keep = pos >= 0
    if keep.all():
        return income, pos
    used = [c for c in dict.fromkeys([*by, *COMPONENTS, "net_income"]) if c in income.columns]
    return income.loc[keep, used], pos[keep]


def _add_shares(
    out: pd.DataFrame, sums: dict[str, np.ndarray], quant: np.ndarray, quantiles: Sequence[float]
) -> pd.DataFrame:
    """``out`` with the groups' sums (yuan), the ratio-of-sums shares ``<k>_share`` = Σ x_k ÷
    Σ net_income (NaN where Σ net_income ≤ 0) and the quantiles of household shares
    ``<k>_share_pNN`` (``quant``: groups × components × quantiles)."""
    for k, v in sums.items():
        out[k] = v
    total = sums["net_income"]
    positive = exact.fen(total) > 0
    for k in COMPONENTS:
        out[f"{k}_share"] = np.where(positive, sums[k] / np.where(positive, total, 1.0), np.nan)
    for i, k in enumerate(COMPONENTS):
        for j, q in enumerate(quantiles):
            out[f"{k}_share_{pct_label(q)}"] = quant[:, i, j]
    return out


def transfer_items_by(
    income: pd.DataFrame, households: pd.DataFrame, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Composition of transfer income (转移性收入构成) per group: for each item of
    :data:`TRANSFER_ITEMS` (低保金, 五保金, 养老金, 生态补偿金, 计划生育金, 其他) the ratio of sums
    ``Σ item / Σ transfer``, and ``unitemised`` = (Σ transfer − Σ items) / Σ transfer, so the shares
    add up to 1 (NaN where Σ transfer ≤ 0). An item column the file does not have counts as 0 (its
    money is then in ``unitemised``; its share is 0). Columns: keys, ``households``, ``transfer``
    (sum, yuan), ``<item>`` (sum, yuan) and ``unitemised`` (Σ transfer − Σ items, yuan) — each
    share's numerator — and ``<item>_share``, ``unitemised_share``."""
    items = [c for c in TRANSFER_ITEMS if c in income.columns]
    frame = household_year_frame(income, households)
    money = frame[["transfer", *items]].astype(float).fillna(0.0)
    if by:
        keys = [_key_series(frame[c]) for c in by]
        grouped = money.groupby(keys, sort=True)
        sums = grouped.sum()
        sums.insert(0, "households", grouped.size())
        sums = sums.reset_index()
    else:
        sums = money.sum().to_frame().T
        sums.insert(0, "households", len(frame))
    out = sums[[*by, "households", "transfer"]].copy()
    for item in TRANSFER_ITEMS:
        out[item] = sums[item] if item in items else 0.0
    out[UNITEMISED] = sums["transfer"] - sums[items].sum(axis=1)
    t = sums["transfer"].where(exact.fen(sums["transfer"]) > 0)
    for item in TRANSFER_ITEMS:
        out[f"{item}_share"] = (out[item] / t) if item in items else 0.0
    out[f"{UNITEMISED}_share"] = out[UNITEMISED] / t
    return out


def _key_series(s: pd.Series) -> pd.Series:
    """A group key column with missing values labelled :data:`UNKNOWN` (text keys only)."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not s.hasnans:
        return s
    return s.astype("str").fillna(UNKNOWN)


def balanced_panel(income: pd.DataFrame, first_year: int, last_year: int) -> pd.Index:
    """Household ids with an income row in **every** year first_year … last_year (the balanced
    panel: the same households in each year), sorted."""
    years = income["year"]
    window = income.loc[(years >= first_year) & (years <= last_year), ["hh_id", "year"]]
    n_years = last_year - first_year + 1
    counts = window.drop_duplicates().groupby("hh_id", sort=True).size()
    return pd.Index(counts.index[counts.to_numpy() == n_years], name="hh_id")


def structure_trend(
    income: pd.DataFrame,
    households: pd.DataFrame,
    first_year: int,
    last_year: int,
    by: Sequence[str] = (),
    **thresholds: float,
) -> pd.DataFrame:
    """Change of the structure first_year → last_year for the same households: :func:`structure_by`
    grouped by ``by`` + year over the :func:`balanced_panel` of registered households. The first
    year is ``max(first_year, the earliest year in the data)`` so a county whose records start later
    still gets a trend."""
    first_year = max(int(first_year), int(income["year"].min()))
    panel = balanced_panel(income, first_year, last_year)
    registered = panel[panel.isin(households["hh_id"])]
    rows = income[income["hh_id"].isin(registered) & income["year"].between(first_year, last_year)]
    return structure_by(rows, households, [*by, "year"], **thresholds)


# ---------------------------------------------------------------------------------------------
# Inequality: per-capita sources (decomposed by :mod:`qjlib.analyses.inequality`)


def per_capita_sources(income: pd.DataFrame) -> pd.DataFrame:
    """Per-capita sources ``x_k / size`` (yuan per person) for the four components; their row sum is
    the per-capita net income (net_income / size), so the Gini decomposition adds up."""
    size = income["size"].to_numpy(dtype=float)
    return pd.DataFrame(
        {k: income[k].to_numpy(dtype=float) / size for k in COMPONENTS}, index=income.index
    )


# ---------------------------------------------------------------------------------------------
# Near the poverty line


def near_line(net_income: np.ndarray | pd.Series, size: np.ndarray | pd.Series, line: float,
              band: float) -> np.ndarray:
    """Near-line households (临界户): ``line ≤ net_income ÷ size ≤ line·(1 + band)`` with ``line``
    the year's poverty line (yuan per person; ``ctx.params.poverty_line(year)``) and ``band``
    ``income.near_line_band``, decided exactly in fen. At the line counts as not poor (as
    everywhere in qjlib), hence included; below the line is not "near" but poor."""
    return exact.per_capita_within_band(net_income, size, line, band)


def near_line_counts(
    frame: pd.DataFrame, keys: Sequence[str], line: float, band: float
) -> pd.DataFrame:
    """Per group of ``keys`` (columns of a :func:`household_year_frame` of one year; a missing key
    value is :data:`UNKNOWN`): ``near_line`` households (:func:`near_line`) and ``below_line``
    households (per-capita net income < ``line``, yuan per person). Sorted by the keys."""
    net, size = frame["net_income"], frame["size"]
    counts = pd.DataFrame({
        **{k: _key_series(frame[k]) for k in keys},
        "near_line": near_line(net, size, line, band),
        "below_line": exact.per_capita_below(net, size, line),
    })
    return counts.groupby(list(keys), sort=True)[["near_line", "below_line"]].sum().reset_index()


# ---------------------------------------------------------------------------------------------
# Ledgers and summary (the module interface of design.md)

_LEDGER_COLUMNS = (
    "hh_id", "year", "town", "village", "wage", "operating", "operating_cost", "operating_net",
    "property", "transfer", "net_income", "size", "net_per_capita", "wage_share",
    "operating_net_share", "property_share", "transfer_share", "labor_capacity", "poverty_attr",
    "reason",
)
# Chinese headers that differ from the schema's and the common labels (the rest fall back to them).
_COLUMNS_ZH = {
    "year": "收入年度",
    "operating_net": "生产经营性净收入",
    "size": TABLES["income"].column("size").zh,  # 年度家庭人口数: the income year's size, not the households'
    **{f"{k}_share": f"{COMPONENTS_ZH[k]}占比" for k in COMPONENTS},
}

NAME = "income"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {}  # nothing saved for the notebooks
LEDGERS: dict[str, LedgerSpec] = {
    "income_low_operating": LedgerSpec(
        "income_low_operating", "生产经营性收入占比偏低户台账", ("hh_id",), dict(_COLUMNS_ZH), "R2"
    ),
    "income_transfer_dependent": LedgerSpec(
        "income_transfer_dependent", "转移性收入依赖户台账", ("hh_id",), dict(_COLUMNS_ZH), "R2"
    ),
}


def _pct(x: pd.Series, threshold: float) -> pd.Series:
    """Shares as Chinese-report percentages, one decimal; two (or three) where one decimal would
    print the threshold itself (so "10.0%，低于 10%" never appears). Text, index as ``x``."""
    s = x.astype(float) * 100.0
    t = threshold * 100.0
    out = s.map("{:.1f}%".format).astype("str")
    for d in (2, 3):
        clash = s.round(d - 1) == round(t, d - 1)
        out = out.mask(clash, s.map(f"{{:.{d}f}}%".format).astype("str"))
    return out


def threshold_text(threshold: float) -> str:
    """A share threshold as people write it: ``0.1`` → ``"10%"`` (no trailing zeros)."""
    return f"{threshold * 100:g}%"


def low_operating_ledger(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Ledger ``income_low_operating`` from a :func:`household_year_frame` of one year: households
    with labour capacity (有劳动能力/弱劳动能力) whose operating_net / net_income < ``threshold``.
    Households with net income ≤ 0 have no share and are not in it. Sorted by hh_id."""
    hit = flag_low_operating(frame["operating_net"], frame["net_income"],
                             has_capacity(frame["labor_capacity"]), threshold)
    rows = frame.loc[hit].reset_index(drop=True)
    rows["reason"] = (rows["labor_capacity"].astype("str") + "户生产经营性净收入占比 "
                      + _pct(rows["operating_net_share"], threshold) + "，低于 " + threshold_text(threshold))
    return _ledger_frame(rows)


def transfer_dependent_ledger(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Ledger ``income_transfer_dependent`` from a :func:`household_year_frame` of one year:
    households whose transfer / net_income > ``threshold`` (exactly at it: not in the ledger).
    Households with net income ≤ 0 have no share and are not in it. Sorted by hh_id."""
    hit = flag_transfer_dependent(frame["transfer"], frame["net_income"], threshold)
    rows = frame.loc[hit].reset_index(drop=True)
    rows["reason"] = ("转移性收入占纯收入 " + _pct(rows["transfer_share"], threshold)
                      + "，高于 " + threshold_text(threshold))
    return _ledger_frame(rows)


def _ledger_frame(rows: pd.DataFrame) -> pd.DataFrame:
    for c in _LEDGER_COLUMNS:
        if c not in rows:
            rows[c] = pd.Series(pd.NA, index=rows.index, dtype="str" if c in (
                "town", "village", "labor_capacity", "poverty_attr", "reason", "hh_id") else "float")
    return rows[list(_LEDGER_COLUMNS)].sort_values("hh_id", kind="stable").reset_index(drop=True)


def _empty_ledgers() -> dict[str, pd.DataFrame]:
    empty = _ledger_frame(pd.DataFrame({"hh_id": pd.Series([], dtype="str")}))
    return {name: empty.copy() for name in LEDGERS}


@per_context
def income_frame(ctx: Context) -> pd.DataFrame:
    """The run's income-year :func:`household_year_frame` (registered households of the scope),
    computed once per context and shared by the ledgers, the summary and the notebook: callers
    must not modify it in place."""
    return household_year_frame(ctx.pkg["income"], ctx.pkg["households"], ctx.income_year)


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """``income_low_operating`` and ``income_transfer_dependent`` for the income year."""
    if not ctx.pkg.has("income") or ctx.pkg["income"].empty:
        return _empty_ledgers()
    frame = income_frame(ctx)
    return {
        "income_low_operating": low_operating_ledger(
            frame, ctx.params.get("income.low_operating_share")),
        "income_transfer_dependent": transfer_dependent_ledger(
            frame, ctx.params.get("income.transfer_dependent_share")),
    }


def _shares(row: pd.Series) -> dict[str, float | None]:
    """The four ratio-of-sums shares of a :func:`structure_by` row."""
    return {k: json_number(row[f"{k}_share"]) for k in COMPONENTS}


def _totals(row: pd.Series) -> dict[str, float | None]:
    """The sums (yuan) a :func:`structure_by` row's shares divide: the four components (the
    numerators) and ``net_income`` (the denominator)."""
    return {k: json_number(row[k]) for k in (*COMPONENTS, "net_income")}


def thresholds(ctx: Context) -> dict[str, float]:
    """The two share thresholds of the run, as keyword arguments of :func:`structure_by`."""
    return {
        "low_operating_share": ctx.params.get("income.low_operating_share"),
        "transfer_dependent_share": ctx.params.get("income.transfer_dependent_share"),
    }


def summary(ctx: Context) -> dict:
    """``income.*`` figures of summary.json for the scope and the income year.

    ``shares`` and ``by_labor_group`` are ratios of sums over every registered household with an
    income row in the income year (net income ≤ 0 included; see the module docstring);
    ``households``/``nonpositive`` count them; ``totals`` and ``by_labor_group_totals`` hold their
    numerators and denominator (Σ component and Σ net income, yuan; share = component ÷
    net_income), ``transfer_items_totals`` those of ``transfer_items`` (Σ item, the unitemised rest
    and Σ transfer, yuan; share = item ÷ transfer). ``low_operating``/``transfer_dependent`` are the
    ledgers' sizes; ``median_shares`` the per-household medians (net income > 0); ``gini`` and
    ``decomposition`` the Lerman–Yitzhaki table of per-capita sources; ``near_line`` the count of
    :func:`near_line` households; ``trend`` the balanced-panel shares since
    ``income.trend_first_year`` with their sums per year (``trend.totals``).
    """
    if not ctx.pkg.has("income") or ctx.pkg["income"].empty:
        return {"available": False, "reason": "未提供收入表或收入表为空 / no income rows"}
    year = ctx.income_year
    income, hh = ctx.pkg["income"], ctx.pkg["households"]
    thr = thresholds(ctx)
    inc_year = income[income["year"] == year]
    total = structure_by(inc_year, hh, **thr)
    if total.empty:
        return {"available": False, "reason": f"{year} 年无登记户收入 / no income rows of registered households in {year}"}
    top = total.iloc[0]
    groups = structure_by(inc_year, hh, ["labor_capacity"], **thr).set_index("labor_capacity")
    items = transfer_items_by(inc_year, hh).iloc[0]
    frame = income_frame(ctx)
    return {
        "available": True,
        "income_year": int(year),
        "households": int(top["households"]),
        "nonpositive": int(top["nonpositive"]),
        "shares": _shares(top),
        "totals": _totals(top),
        "by_labor_group": {lab: _shares(groups.loc[lab]) for lab in groups.index},
        "by_labor_group_totals": {lab: _totals(groups.loc[lab]) for lab in groups.index},
        "households_by_labor_group": {lab: int(groups.loc[lab, "households"]) for lab in groups.index},
        "median_shares": {k: json_number(top[f"{k}_share_p50"]) for k in COMPONENTS},
        "low_operating": int(top["low_operating"]),
        "transfer_dependent": int(top["transfer_dependent"]),
        "transfer_items": {k: json_number(items[f"{k}_share"]) for k in (*TRANSFER_ITEMS, UNITEMISED)},
        "transfer_items_totals": {k: json_number(items[k])
                                  for k in (*TRANSFER_ITEMS, UNITEMISED, "transfer")},
        **_inequality_figures(frame),
        **_line_figures(frame, ctx.params.poverty_line(year), ctx.params.get("income.near_line_band")),
        "thresholds": thr,
        "trend": _trend_figures(
            structure_trend(income, hh, ctx.params.get("income.trend_first_year"), year, **thr)),
    }


def _inequality_figures(frame: pd.DataFrame) -> dict:
    """``gini`` (of per-capita net income) and its Lerman–Yitzhaki ``decomposition`` by per-capita
    source (:func:`~qjlib.analyses.inequality.lerman_yitzhaki`), for :func:`summary`."""
    ly = lerman_yitzhaki(per_capita_sources(frame))
    return {
        "gini": json_number(ly.loc["total", "gini"]),
        "decomposition": {
            k: {c: json_number(ly.loc[k, c]) for c in ("share", "gini", "gini_corr", "contribution", "marginal")}
            for k in COMPONENTS
        },
    }


def _line_figures(frame: pd.DataFrame, line: float, band: float) -> dict:
    """The poverty line (yuan per person), the near-line band, and the counts of :func:`near_line`
    households and of households below the line, for :func:`summary`."""
    net, size = frame["net_income"], frame["size"]
    return {
        "poverty_line": json_number(line),
        "near_line_band": json_number(band),
        "near_line": int(near_line(net, size, line, band).sum()),
        "below_line": int(exact.per_capita_below(net, size, line).sum()),
    }


def _trend_figures(trend: pd.DataFrame) -> dict:
    """The balanced panel's first year, households, shares by year and their sums by year
    (``totals``, yuan: :func:`_totals`), from :func:`structure_trend`, for :func:`summary`."""
    trend = trend.set_index("year")
    return {
        "first_year": int(trend.index.min()) if len(trend) else None,
        "households": int(trend["households"].iloc[0]) if len(trend) else 0,
        "shares": {str(y): _shares(trend.loc[y]) for y in trend.index},
        "totals": {str(y): _totals(trend.loc[y]) for y in trend.index},
    }
