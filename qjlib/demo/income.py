"""Stage 2 of the demo county: natural incomes 2014–2019 of every household, and the income table.

How incomes are built (yuan per household and year, rounded to whole yuan):

* ``wage`` = Σ over members who can work (普通/技能劳动力, aged 16+) of ``migrant_months × monthly
  wage(year)`` × the household's activity path ``f`` + local casual work, + 务工 benefits;
* ``operating`` = jujube, apple, pig and grain sales × ``f`` (+ 直补 and 订单收购 benefits),
  ``operating_cost`` = each product's cost share of its sales × ``f``;
* ``property`` = land rent + 分红 and 土地流转 benefits actually paid;
* ``transfer`` = 计划生育金 + 低保金 + 五保金 + 养老金 + 生态补偿金 + 其他转移性收入 (each item from the
  members: ages, 低保/特困 status, students), so the items sum to ``transfer``.

The activity path ``f`` is low and slowly rising before exit (``p_pre × 1.02^(year−2014)``, lower
the later the household exits), jumps at the exit year and then grows 6–14 % a year to 1 in 2019;
a returned household (返贫) falls back to its pre-exit path in its return year. Year-to-year noise
is small (σ = 3 % per component), so natural three-year declines of per-capita income are rare:
the decline ledger's cases are planted (:mod:`.plants`). Benefits are added by :mod:`.projects`.

Imports only :mod:`.base` and :mod:`.people`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.demo.base import (
    DIBAO,
    EDU_SUBSIDY,
    FAMILY_PLANNING,
    MONTHLY_WAGE,
    NY,
    PENSION,
    TRANSFER_ITEMS,
    WUBAO,
    YEARS,
)
from qjlib.demo.people import People, Registration


@dataclass(frozen=True)
class Components:
    """Income components of every household and year: float arrays of shape (households, 6
    years 2014–2019), yuan. ``wage``, ``operating`` (sales), ``operating_cost``, ``property``
    and the transfer items ``family_planning``, ``dibao_pay``, ``wubao_pay``, ``pension``,
    ``eco_comp``, ``other_transfer`` (whose sum is ``transfer``). Stages return new instances
    (:meth:`replace`); only the planting of income rows writes into the rounded arrays."""

    wage: np.ndarray
    operating: np.ndarray
    operating_cost: np.ndarray
    property: np.ndarray
    family_planning: np.ndarray
    dibao_pay: np.ndarray
    wubao_pay: np.ndarray
    pension: np.ndarray
    eco_comp: np.ndarray
    other_transfer: np.ndarray

    def get(self, name: str) -> np.ndarray:
        """The array of component ``name``."""
        return getattr(self, name)

    def replace(self, **arrays: np.ndarray) -> Components:
        """A copy with the given components replaced."""
        return dataclasses.replace(self, **arrays)

    def names(self) -> tuple[str, ...]:
        """Every component's name, in field order."""
        return tuple(f.name for f in dataclasses.fields(self))


@dataclass(frozen=True)
class NaturalIncome:
    """Stage 2's result: the natural ``components`` (before benefits, helper effects, rounding
    and plants) and the activity path ``activity`` (= ``f``, households × years, 1 in 2019 for a
    household that exited)."""

    components: Components
    activity: np.ndarray


def _activity(rng: np.random.Generator, reg: Registration) -> np.ndarray:
    """The activity path ``f`` (households × years): see the module text."""
    n = len(reg.ident)
    status, ex, ret, ret_year = reg.status, reg.exit_year, reg.returned_draw, reg.ret_year
    j = np.arange(NY)[None, :]
    Y = YEARS[None, :]
    # the later a household exits, the poorer it was: 5 % lower pre-exit level per year of waiting
    sel = 1.0 - 0.05 * (np.minimum(np.where(status == "not_exited", 2020, ex), 2020) - 2014)
    p_pre = (rng.uniform(0.42, 0.58, n) * sel)[:, None]
    g_post = rng.uniform(0.06, 0.14, n)[:, None]
    pre = p_pre * 1.02 ** j
    post = np.maximum((1 + g_post) ** (Y - 2019), pre * 1.15)
    exits = np.where(status == "not_exited", 9999, ex)[:, None]
    f = np.where(Y < exits, pre, post)
    return np.where(ret[:, None] & (Y >= ret_year[:, None]) & (ret_year[:, None] > 0), pre, f)


def _age_by_year(people: People) -> np.ndarray:
    """Age of each person in each year (persons × years)."""
    return YEARS[None, :] - people.members["birth_year"].to_numpy()[:, None]


def _own_means(rng: np.random.Generator, people: People):
    """(wage0, casual, gross, cost, rent, eco): migrant wages by year, local casual work, farm
    sales and their cost, land rent by year, 生态补偿金 by year (yuan, before ``f`` and noise)."""
    n = people.n
    members = people.members
    mh = members["hh"].to_numpy()
    age_m = _age_by_year(people)
    skill = members["labor_skill"].to_numpy()
    works = np.isin(skill, ["普通劳动力", "技能劳动力"])[:, None] & (age_m >= 16) & people.present
    w_m = members["migrant_months"].to_numpy()[:, None] * MONTHLY_WAGE[None, :] * works
    wage0 = np.zeros((n, NY))
    np.add.at(wage0, mh, w_m)
    labour = np.zeros(n, bool)
    labour[mh[np.isin(skill, ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力"])]] = True
    has_work = np.zeros(n, bool)
    has_work[mh[np.isin(skill, ["普通劳动力", "技能劳动力"])]] = True
    casual = np.where(has_work & (rng.random(n) < 0.5), rng.uniform(1000, 4000, n), 0)[:, None]
    u = rng.random
    scale = np.where(labour, 1.0, 0.2)
    jujube = np.where(u(n) < 0.6, rng.uniform(1500, 5000, n), 0) * scale
    apple = np.where(u(n) < 0.12, rng.uniform(3000, 12000, n), 0) * scale
    pig = np.where(u(n) < 0.2, rng.integers(1, 5, n) * 1700.0, 0) * scale
    grain = np.where(u(n) < 0.7, rng.uniform(600, 2500, n), 0) * scale
    gross = (jujube + apple + pig + grain)[:, None]
    cost = (0.35 * jujube + 0.45 * apple + 0.65 * pig + 0.4 * grain)[:, None]
    rent = np.where(u(n) < 0.15, rng.uniform(200, 1200, n), 0)[:, None] * np.ones((1, NY))
    eco = np.where(u(n) < 0.5, rng.uniform(200, 1600, n), 0)[:, None] * np.ones((1, NY))
    return wage0, casual, gross, cost, rent, eco


def _transfers(rng: np.random.Generator, people: People):
    """(family_planning, dibao_pay, wubao_pay, pension, other_transfer) by year (yuan): from the
    members' ages, the household's 低保/特困 status, students; other = 教育补助 + 医疗救助 +
    耕地地力保护补贴."""
    n = people.n
    members = people.members
    mh = members["hh"].to_numpy()
    present = people.present
    age_m = _age_by_year(people)
    u = rng.random
    aged = (age_m >= 60) & present
    pension_m = aged * PENSION[None, :]
    pension = np.zeros((n, NY))
    np.add.at(pension, mh, pension_m)
    dib = np.zeros((n, NY))
    np.add.at(dib, mh, present * DIBAO[None, :])
    dib *= (people.dibao_hh * rng.uniform(0.6, 1.0, n))[:, None]
    wub = np.zeros((n, NY))
    wub_m = present & ((age_m >= 60) | (members["role"].to_numpy() == 0)[:, None])
    np.add.at(wub, mh, wub_m * WUBAO[None, :])
    wub *= people.wubao_hh[:, None]
    fp_hh = (u(n) < 0.08)
    fp = np.zeros((n, NY))
    np.add.at(fp, mh, (aged & np.isin(members["role"].to_numpy(), [0, 1])[:, None]) * FAMILY_PLANNING)
    fp *= fp_hh[:, None]
    student = present & (age_m >= 6) & (age_m <= 21) & (members["school_status"].to_numpy() != "非在校生")[:, None]
    edu = np.zeros((n, NY))
    np.add.at(edu, mh, student * EDU_SUBSIDY)
    med = np.where((people.cause == "因病") & (u(n) < 0.3), rng.uniform(300, 1500, n), 0)[:, None]
    farmland = rng.uniform(100, 500, n)[:, None]  # 耕地地力保护补贴 and the like, every household
    other = edu + (med + farmland) * np.ones((1, NY))
    return fp, dib, wub, pension, other


def natural_income(rng: np.random.Generator, people: People) -> NaturalIncome:
    """Stage 2: the natural income components (see the module text), with multiplicative noise
    ``exp(N(0, 0.03))`` per household, year and market component."""
    n = people.n
    f = _activity(rng, people.reg)
    wage0, casual, gross, cost, rent, eco = _own_means(rng, people)
    fp, dib, wub, pension, other = _transfers(rng, people)

    def noise() -> np.ndarray:
        return np.exp(rng.normal(0, 0.03, (n, NY)))

    wage = (wage0 + casual) * f * noise()
    operating = gross * f * noise()
    prop = rent * noise()
    operating_cost = operating * (cost / np.maximum(gross, 1)) * noise()
    comp = Components(wage=wage, operating=operating, operating_cost=operating_cost, property=prop,
                      family_planning=fp, dibao_pay=dib, wubao_pay=wub, pension=pension, eco_comp=eco,
                      other_transfer=other)
    return NaturalIncome(components=comp, activity=f)


def rounded(comp: Components) -> Components:
    """Every component rounded to whole yuan; operating cost capped at the (non-negative)
    operating income."""
    r = {k: np.rint(comp.get(k)) for k in comp.names()}
    r["operating_cost"] = np.minimum(r["operating_cost"], np.maximum(r["operating"], 0))
    return comp.replace(**r)


def income_table(people: People, comp: Components, missing: set[tuple[int, int]]) -> pd.DataFrame:
    """The income table: one row per household and year from its identification year, except
    the (household, year) pairs in ``missing``; ``transfer`` = Σ transfer items, ``net_income`` =
    wage + operating − operating_cost + property + transfer, ``net_per_capita`` = net ÷ size
    (rounded to 0.01 yuan)."""
    n = people.n
    ident = people.reg.ident
    hcell, ycell = np.divmod(np.arange(n * NY), NY)
    year = YEARS[ycell]
    keep = year >= ident[hcell]
    for h, y in missing:
        keep[h * NY + (y - YEARS[0])] = False
    inc = pd.DataFrame({"h": hcell[keep], "year": year[keep], "size": people.size.ravel()[keep]})
    for k in ("wage", "operating", "operating_cost", "property", *TRANSFER_ITEMS):
        inc[k] = comp.get(k).ravel()[keep]
    inc["transfer"] = inc[list(TRANSFER_ITEMS)].sum(axis=1)
    inc["net_income"] = inc["wage"] + inc["operating"] - inc["operating_cost"] + inc["property"] + inc["transfer"]
    inc["net_per_capita"] = np.round(inc["net_income"] / inc["size"], 2)
    inc["hh_id"] = people.hh["hh_id"].to_numpy()[inc["h"].to_numpy()]
    return inc
