"""The village's seven exit items and the county's 577 items (contract/exit.md, "The village's
seven items and the county's"), each met / not met / unknown, never guessed.

A village is **assessed** when it is a poor village (``poor_village`` 是) that exits in C
(``exit_year`` = C or ``planned_exit_year`` = C). Households belong to a village by ``town`` +
``village``; persons are the ``members`` rows of counted members (``member_status`` 正常 or blank,
departments.md), never ``size``.

Thresholds are ``exit.*`` parameters; comparisons at a threshold are exact (cross-multiplied
integers: persons × q < p × population for a threshold p/q).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from qjlib.analyses.exit_items import MET, NOT_MET, UNKNOWN, house_safe_on
from qjlib.core.context import Context
from qjlib.core.definitions import net_income
from qjlib.core.exact import fen, fraction

VILLAGE_ITEMS_ZH: dict[str, str] = {
    "incidence": "贫困发生率低于3%",
    "income_growth": "脱贫户收入增幅高于全县农民",
    "collective": "有村集体经济",
    "road": "通硬化路",
    "water": "安全饮水",
    "electricity": "通电",
    "clinic": "有标准化卫生室",
}
VILLAGE_ITEMS: tuple[str, ...] = tuple(VILLAGE_ITEMS_ZH)
NOT_EXITED = ("not_exited", "returned")


def counted_persons(ctx: Context) -> pd.Series | None:
    """Counted members per ``hh_id`` (``member_status`` 正常 or blank); None without ``members``."""
    if not ctx.pkg.has("members"):
        return None
    m = ctx.pkg["members"]
    if "member_status" in m.columns:
        m = m[m["member_status"].fillna("正常").eq("正常").to_numpy()]
    return m.groupby("hh_id").size()


def as_share(rate: pd.Series) -> pd.Series:
    """A coverage rate as a share of 1: values above 1 are percentages (contract "0–1, or %");
    rounded to 9 decimals so that 100 % is exactly 1.0."""
    r = rate.astype("float")
    return r.where(r <= 1, r / 100.0).round(9)


def _state(met: pd.Series, known: pd.Series) -> np.ndarray:
    m, k = met.fillna(False).to_numpy(dtype=bool), known.fillna(False).to_numpy(dtype=bool)
    return np.where(~k, UNKNOWN, np.where(m, MET, NOT_MET)).astype(object)


def village_households(ctx: Context) -> pd.DataFrame:
    """The registered households with their village's ``village_code`` (NA when their village has
    no ``villages`` row) and their counted ``persons`` (NA without ``members``)."""
    hh = ctx.pkg["households"]
    vil = ctx.pkg["villages"]
    code = pd.Series(vil["village_code"].to_numpy(),
                     index=pd.MultiIndex.from_arrays([vil["town"], vil["village"]]))
    code = code[~code.index.duplicated()]
    key = pd.MultiIndex.from_arrays([hh["town"], hh["village"]])
    out = hh.assign(village_code=code.reindex(key).to_numpy())
    persons = counted_persons(ctx)
    out["persons"] = (np.nan if persons is None else
                      out["hh_id"].map(persons).fillna(0).to_numpy(dtype=float))
    return out


def _income_ratio(ctx: Context, hh: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per village: Σ net income and Σ size of Y and Y−1 of its exited households with a row in
    both years (same households)."""
    inc = ctx.pkg["income"]
    ex = hh[hh["exit_status"].eq("exited").fillna(False).to_numpy() & hh["village_code"].notna().to_numpy()]
    rows = []
    for yy in (year, year - 1):
        r = inc[(inc["year"] == yy).to_numpy()]
        rows.append(pd.DataFrame({"hh_id": r["hh_id"].to_numpy(), f"net{yy}": net_income(r).to_numpy(),
                                  f"size{yy}": r["size"].to_numpy(dtype=float)}))
    both = ex[["hh_id", "village_code"]].merge(rows[0], on="hh_id").merge(rows[1], on="hh_id")
    return both.groupby("village_code")[[f"net{year}", f"size{year}", f"net{year-1}", f"size{year-1}"]].sum()


def village_items(ctx: Context, vhh: pd.DataFrame) -> pd.DataFrame:
    """One row per assessed village (sorted by ``village_code``): each of :data:`VILLAGE_ITEMS`
    (``met`` / ``not_met`` / ``unknown``) and the values that decide them: ``poor_persons``
    (persons of its households not exited and not exiting in C), ``projected_incidence``
    (÷ ``rural_population``), ``income_ratio`` and ``income_ratio_prev`` (exited households'
    Σ net ÷ Σ size over the county's rural income, Y and Y−1), the village's own columns."""
    p = ctx.params
    c, y = int(ctx.asof.year), int(ctx.income_year)
    vil = ctx.pkg["villages"]
    if ctx.scope is not None:
        vil = vil[vil["town"].eq(ctx.scope).fillna(False).to_numpy()]
    exits_c = vil["exit_year"].astype("Float64").eq(c).fillna(False) | \
        vil["planned_exit_year"].astype("Float64").eq(c).fillna(False)
    v = vil[(vil["poor_village"].fillna(False).astype(bool) & exits_c).to_numpy()]
    v = v.sort_values("village_code", kind="stable").reset_index(drop=True)
    poor = vhh["exit_status"].isin(NOT_EXITED) & ~vhh["planned_exit_year"].astype("Float64").eq(c).fillna(False)
    poor_persons = vhh[poor.to_numpy()].groupby("village_code")["persons"].sum(min_count=1)
    out = v.copy()
    out["poor_persons"] = v["village_code"].map(poor_persons).astype("float").fillna(0.0)
    if vhh["persons"].isna().all():
        out["poor_persons"] = np.nan
    pop = v["rural_population"].astype("float")
    out["projected_incidence"] = out["poor_persons"] / pop.where(pop > 0)
    pi, qi = fraction(p.get("exit.village_incidence"))
    known = out["poor_persons"].notna() & (pop > 0).fillna(False)
    out["incidence"] = _state(pd.Series(out["poor_persons"].fillna(0) * qi < pi * pop.fillna(0)), known)
    out = _income_growth(ctx, out, vhh, y)
    coll = (v["collective_income"] > 0).astype("boolean") if "collective_income" in v else pd.Series(pd.NA, index=v.index, dtype="boolean")
    parts = [coll] + [v[k].astype("boolean") for k in ("cooperative", "mutual_fund") if k in v.columns]
    any_true = pd.concat(parts, axis=1).fillna(False).any(axis=1)
    all_known = pd.concat(parts, axis=1).notna().all(axis=1) & (len(parts) == 3)
    out["collective"] = _state(any_true, any_true | all_known)
    out["road"] = _state(v["road"].astype("boolean"), v["road"].notna())
    for item, col, par in (("water", "water_rate", "exit.village_water_rate"),
                           ("electricity", "electricity_rate", "exit.village_electricity_rate")):
        share = as_share(v[col])
        out[col] = share
        out[item] = _state(share >= float(p.get(par)), share.notna())
    cl = pd.concat([v["clinic"].astype("boolean"), v["clinic_covered"].astype("boolean")], axis=1)
    cl_true = cl.fillna(False).any(axis=1)
    out["clinic"] = _state(cl_true, cl_true | cl.notna().all(axis=1))
    return out


def _income_growth(ctx: Context, out: pd.DataFrame, vhh: pd.DataFrame, y: int) -> pd.DataFrame:
    """The ``income_growth`` item: (Σnet_Y/Σsize_Y)/R_Y > (Σnet_{Y−1}/Σsize_{Y−1})/R_{Y−1}, decided
    exactly in integers (fen × persons × fen, as Python integers)."""
    rural = ctx.params.get("exit.county_rural_income")
    ry, r1 = rural.get(y), rural.get(y - 1)
    out["income_ratio"] = np.nan
    out["income_ratio_prev"] = np.nan
    if not ctx.pkg.has("income") or ry is None or r1 is None or out.empty:
        out["income_growth"] = UNKNOWN
        return out
    s = _income_ratio(ctx, vhh, y).reindex(out["village_code"])
    ny, sy, n1, s1 = (s[f"net{y}"], s[f"size{y}"], s[f"net{y-1}"], s[f"size{y-1}"])
    known = (sy > 0).fillna(False) & (s1 > 0).fillna(False)
    out["income_ratio"] = (ny / sy / ry).to_numpy()
    out["income_ratio_prev"] = (n1 / s1 / r1).to_numpy()
    k = known.to_numpy()
    big = lambda a: np.array([int(x) for x in a], dtype=object)  # noqa: E731 - exact integers
    met = np.zeros(len(out), dtype=bool)
    if k.any():
        lhs = big(fen(ny.to_numpy()[k])) * big(s1.to_numpy()[k]) * int(fen(r1))
        rhs = big(fen(n1.to_numpy()[k])) * big(sy.to_numpy()[k]) * int(fen(ry))
        met[k] = (lhs > rhs).astype(bool)
    out["income_growth"] = _state(pd.Series(met), pd.Series(k))
    return out


def county_items(ctx: Context, vhh: pd.DataFrame, insured: tuple[float, float] | None) -> pd.DataFrame:
    """The county's 577 items beside their thresholds: one row per item with ``numerator``,
    ``denominator``, ``value`` (= numerator ÷ denominator), ``threshold``, ``direction`` (``<`` or
    ``≥``) and ``state`` (met / not_met / unknown; an empty denominator is unknown).
    ``insured``: (insured persons, persons) of departments.md's ``health.insured_rate``, or None."""
    p, c = ctx.params, int(ctx.asof.year)
    vil = ctx.pkg["villages"]
    if ctx.scope is not None:  # a town's report: its own villages
        vil = vil[vil["town"].eq(ctx.scope).fillna(False).to_numpy()]
    pop = float(vil["rural_population"].astype("float").sum())
    persons = vhh["persons"]
    not_ex = vhh["exit_status"].isin(NOT_EXITED).to_numpy()
    staying = not_ex & ~vhh["planned_exit_year"].astype("Float64").eq(c).fillna(False).to_numpy()
    road = vil["road"].astype("boolean")
    water = as_share(vil["water_rate"])
    wpop = vil["rural_population"].astype("float").where(water.notna())
    elec = as_share(vil["electricity_rate"])
    safe = house_safe_on(ctx.pkg["housing"] if ctx.pkg.has("housing") else None, vhh["hh_id"], ctx.asof,
                         ctx.pkg["relocation"] if ctx.pkg.has("relocation") else None)
    nan = float("nan")
    have_p = persons.notna().any()
    rows = [
        ("incidence", float(persons[not_ex].sum()) if have_p else nan, pop, "exit.county_incidence", "<"),
        ("projected_incidence", float(persons[staying].sum()) if have_p else nan, pop,
         "exit.county_incidence", "<"),
        ("road", float(road.fillna(False).sum()), float(road.notna().sum()), "exit.county_road_rate", "≥"),
        ("water", float((water * wpop).sum()), float(wpop.sum()), "exit.county_water_rate", "≥"),
        ("electricity", float((elec >= 1.0).sum()), float(elec.notna().sum()),
         "exit.county_electricity_rate", "≥"),
        ("housing", float(safe.fillna(False).sum()), float(safe.notna().sum()), "exit.county_housing_rate", "≥"),
        ("insured", *(insured if insured is not None else (nan, nan)), "exit.county_insured_rate", "≥"),
    ]
    df = pd.DataFrame(rows, columns=["item", "numerator", "denominator", "param", "direction"])
    df["threshold"] = [float(p.get(k)) for k in df["param"]]
    ok = df["denominator"].gt(0) & df["numerator"].notna()
    df["value"] = (df["numerator"] / df["denominator"]).where(ok)
    met = [(_exact_cmp(n, d, t, op) if k else False) for n, d, t, op, k in
           zip(df["numerator"], df["denominator"], df["threshold"], df["direction"], ok, strict=True)]
    df["state"] = _state(pd.Series(met), ok)
    return df.drop(columns="param")


def _exact_cmp(num: float, den: float, threshold: float, op: str) -> bool:
    """num ÷ den < t (or ≥ t), decided on exact fractions of the (9-decimal) figures."""
    a = Fraction(round(num, 9)).limit_denominator(10**9) / Fraction(round(den, 9)).limit_denominator(10**9)
    t = Fraction(str(threshold))
    return bool(a < t) if op == "<" else bool(a >= t)
