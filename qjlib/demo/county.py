"""The synthetic demo county (模拟示范县): households, members, incomes 2014–2019, industry projects
and their beneficiaries, helper cadres, pairings, visits and reviews — clean values first, then the
planted cases of every ledger and the planted data-quality problems.

Everything here is drawn with one ``numpy.random.Generator`` seeded by ``seed``, in a fixed order
and with vectorised numpy/pandas, so the same seed gives the same county and a different seed a
different one. The names of Qingjian's towns live only here (``TOWNS``).

How incomes are built (yuan per household and year, rounded to whole yuan):

* ``wage`` = Σ over members who can work (普通/技能劳动力, aged 16+) of ``migrant_months × monthly
  wage(year)`` × the household's activity path ``f`` + local casual work, + 务工 benefits;
* ``operating`` = jujube, apple, pig and grain sales × ``f`` (+ 直补 and 订单收购 benefits),
  ``operating_cost`` = each product's cost share of its sales × ``f``;
* ``property`` = land rent + 分红 and 土地流转 benefits actually paid;
* ``transfer`` = 计划生育金 + 低保金 + 五保金 + 养老金 + 生态补偿金 + 其他转移性收入 (each item from the
  members: ages, 低保/特困 status, students), so the items sum to ``transfer``.

The activity path ``f`` is low and slowly rising before exit (``p_pre × 1.02^(year−2014)``, lower the later the household exits), jumps at
the exit year and then grows 6–14 % a year to 1 in 2019; a returned household (返贫) falls back to
its pre-exit path in its return year. Year-to-year noise is small (σ = 3 % per component), so
natural three-year declines of per-capita income are rare: the decline ledger's cases are planted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qjlib.core.errors import QjError

YEARS = np.arange(2014, 2020)
NY = len(YEARS)
INCOME_YEAR = 2019
ASOF = np.datetime64("2019-09-30")
WINDOW_START = np.datetime64("2018-09-30")  # frequent-change window is (2018-09-30, 2019-09-30]
COUNTY_CODE = "610830"
COUNTY = "清涧县"
MIN_HOUSEHOLDS = 150

# name, town code (3 digits after the county code), share of the county's poor households
TOWNS: tuple[tuple[str, str, float], ...] = (
    ("宽州镇", "100", 0.14), ("石咀驿镇", "101", 0.09), ("折家坪镇", "102", 0.11),
    ("玉家河镇", "103", 0.09), ("高杰村镇", "104", 0.09), ("李家塔镇", "105", 0.08),
    ("店则沟镇", "106", 0.09), ("解家沟镇", "107", 0.09), ("下廿里铺镇", "108", 0.09),
    ("秀延街道", "001", 0.06), ("乐堂堡", "109", 0.07),
)

_PLACE_SURNAMES = list("王李张刘高白惠霍贺折薛师杨袁马郝冯郭黄吴周石崔何乔曹訾辛呼拓")
_PLACE_SUFFIXES = ["家沟", "家坪", "家岔", "家河", "家塔", "家山", "家畔", "家硷", "家崖",
                   "家圪台", "家洼", "家庄"]
_PLACE_PREFIXES = ["", "上", "下", "前", "后", "东", "西"]
_SURNAMES = np.array(list("白惠高张王李刘霍贺折薛师杨袁马郝冯郭黄吴周石崔何乔曹辛呼拓"))
_SURNAME_P = np.array([8, 7, 7, 6, 6, 5, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2,
                       2, 2, 1, 1, 1], float)
_MALE_CHARS = np.array(list("建军国强伟明海东平志宏世文永生福贵德成林忠刚立春虎兵怀宝"))
_FEMALE_CHARS = np.array(list("秀英兰芳梅霞玉凤桂花艳娟丽琴翠珍莲红燕萍彩爱巧云芬"))
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))

RELATION = {0: "户主", 1: "配偶", 3: "之父", 5: "之儿媳"}

# yearly policy rates, 2014..2019 (yuan)
MONTHLY_WAGE = np.array([1100, 1180, 1260, 1350, 1450, 1560.0])  # remitted per migrant month
PENSION = np.array([960, 1080, 1200, 1320, 1476, 1620.0])  # per person aged 60+
DIBAO = np.array([1300, 1450, 1600, 1750, 1950, 2150.0])  # per enrolled person (补差 scaled)
WUBAO = np.array([3800, 4100, 4500, 4900, 5300, 5800.0])  # per 特困 person
FAMILY_PLANNING = 960.0  # 计划生育奖励扶助 per parent aged 60+
EDU_SUBSIDY = 1000.0  # per student aged 6-22
POVERTY_LINE = np.array([2800, 2855, 2952, 2952, 2995, 3218.0])  # used only to shape plants

INCOME_COMPONENTS = ("wage", "operating", "operating_cost", "property")
TRANSFER_ITEMS = ("family_planning", "dibao_pay", "wubao_pay", "pension", "eco_comp",
                  "other_transfer")


@dataclass
class County:
    """The generated county: canonical tables (as written, with the planted problems; private
    columns ``_q`` = problem kind, ``_qtype`` = reject|finding, ``_qcol`` = column) and the plants."""

    seed: int
    n: int
    tables: dict[str, pd.DataFrame]
    plants: dict[str, list[dict]] = field(default_factory=dict)
    decoys: dict[str, list[dict]] = field(default_factory=dict)
    extras: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# small vectorised helpers


def id_numbers(region: str, birth: np.ndarray, male: np.ndarray, rng: np.random.Generator,
               seq_offset: int = 0) -> np.ndarray:
    """18-character resident IDs (GB 11643-1999): region + YYYYMMDD + 3-digit sequence (odd for
    men) + check character ``10X98765432[Σ digit_i × w_i mod 11]``; unique within the call.
    Calls for different people of the same region use different even ``seq_offset``s, so that
    two people never share a number."""
    birth = np.asarray(birth, dtype="datetime64[D]")
    n = len(birth)
    order = np.argsort(birth, kind="stable")
    b_sorted = birth[order]
    first = np.r_[True, b_sorted[1:] != b_sorted[:-1]]
    grp_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - grp_start
    # sequence: 2 × rank among people born that day + 11 (men, odd) or 12 (women, even)
    seq = 2 * rank + np.where(male, 11, 12) + seq_offset
    ymd = pd.to_datetime(birth).strftime("%Y%m%d").to_numpy(dtype=str)
    body = np.char.add(np.char.add(region, ymd), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer("".join(body.tolist()).encode(), dtype=np.uint8).reshape(n, 17) - 48
    check = _ID_CHECK[(digits.astype(np.int64) @ _ID_WEIGHTS) % 11]
    return np.char.add(body, check)


def person_names(rng: np.random.Generator, male: np.ndarray, surname: np.ndarray | None = None) -> np.ndarray:
    n = len(male)
    if surname is None:
        surname = rng.choice(_SURNAMES, n, p=_SURNAME_P / _SURNAME_P.sum())
    pool_m, pool_f = _MALE_CHARS, _FEMALE_CHARS
    c1 = np.where(male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)])
    c2 = np.where(male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)])
    two = rng.random(n) < 0.8
    return np.char.add(np.char.add(surname.astype(str), c1), np.where(two, c2, ""))


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    pre = rng.choice(np.array(["133", "135", "136", "138", "139", "150", "151", "152", "157", "158",
                               "159", "177", "180", "182", "187", "189", "199"]), n)
    return np.char.add(pre, np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8))


def random_dates(rng: np.random.Generator, lo, hi, n: int) -> np.ndarray:
    """Uniform dates in [lo, hi] (arrays or scalars of datetime64[D])."""
    lo = np.asarray(lo, dtype="datetime64[D]")
    hi = np.asarray(hi, dtype="datetime64[D]")
    span = (hi - lo).astype(np.int64) + 1
    return lo + (rng.random(n) * span).astype(np.int64).astype("timedelta64[D]")


def year_date(year, mmdd: str) -> np.ndarray:
    y = np.asarray(year).astype(str)
    return np.char.add(np.char.add(y, "-"), mmdd).astype("datetime64[D]")


# ---------------------------------------------------------------------------------------------
# places


def _places(rng: np.random.Generator, n: int):
    """Towns and villages: village counts proportional to the towns' shares, ~110 households each."""
    w = np.array([t[2] for t in TOWNS])
    w = w / w.sum()
    total_v = int(np.clip(round(n / 110), len(TOWNS), 1500))
    per_town = np.maximum(1, np.round(w * total_v).astype(int))
    pool = [p + s + x for p in _PLACE_PREFIXES for s in _PLACE_SURNAMES for x in _PLACE_SUFFIXES]
    names = np.array(pool)[rng.permutation(len(pool))[: per_town.sum()]]
    rows = []
    k = 0
    for ti, (tname, tcode, _) in enumerate(TOWNS):
        for vi in range(per_town[ti]):
            rows.append((ti, tname, COUNTY_CODE + tcode, COUNTY_CODE + tcode + f"{200 + vi:03d}",
                         names[k] + "村"))
            k += 1
    villages = pd.DataFrame(rows, columns=["town_idx", "town", "town_code", "village_code", "village"])
    villages["weight"] = rng.gamma(4.0, 1.0, len(villages))
    return villages, w


def _households(rng: np.random.Generator, n: int):
    villages, tw = _places(rng, n)
    town = rng.choice(len(TOWNS), n, p=tw)
    # every town gets at least one household per village it has
    vill = np.empty(n, dtype=np.int64)
    for ti in range(len(TOWNS)):
        idx = np.flatnonzero(town == ti)
        vs = np.flatnonzero(villages["town_idx"].to_numpy() == ti)
        if len(idx) == 0:
            continue
        p = villages["weight"].to_numpy()[vs]
        vill[idx] = vs[rng.choice(len(vs), len(idx), p=p / p.sum())]
    hh = pd.DataFrame({"vidx": vill})
    hh = hh.sort_values("vidx", kind="stable").reset_index(drop=True)
    hh["serial"] = hh.groupby("vidx").cumcount() + 1
    v = villages.iloc[hh["vidx"].to_numpy()]
    hh["town"] = v["town"].to_numpy()
    hh["town_code"] = v["town_code"].to_numpy()
    hh["village"] = v["village"].to_numpy()
    hh["village_code"] = v["village_code"].to_numpy()
    hh["hh_id"] = hh["village_code"] + hh["serial"].astype(str).str.zfill(7)
    return hh, villages


# ---------------------------------------------------------------------------------------------
# members


def _member_slots(rng: np.random.Generator, n: int, tmpl: np.ndarray) -> pd.DataFrame:
    """Who lives in each household: (hh, role, birth_year, join_year, male).

    Roles: 0 head, 1 spouse, 2 child, 3 parent, 4 grandchild, 5 daughter-in-law. Children are
    born when the head was 21–32, grandchildren when the head was 45–57, parents 20–32 years
    before the head; a child or grandchild born 2014–2019 enlarges the household in that year; a
    daughter-in-law who married in (``join_year``) counts from that year.
    """
    u = rng.random
    head_age = np.rint(25 + rng.beta(2.4, 1.7, n) * 60).astype(int)
    head_by = 2019 - head_age
    head_male = u(n) < 0.86
    has_sp = u(n) < np.where(head_age > 75, 0.42, 0.78)
    n_ch = np.where(head_age < 35, rng.integers(0, 3, n),
                    np.where(head_age <= 60, rng.choice(4, n, p=[0.25, 0.37, 0.27, 0.11]),
                             rng.choice(3, n, p=[0.66, 0.27, 0.07])))
    n_par = np.where(head_age < 50, rng.choice(3, n, p=[0.75, 0.1, 0.15]), 0)
    n_gk = np.where(head_age >= 50, rng.choice(3, n, p=[0.82, 0.1, 0.08]), 0)
    # templates of planted households: 1 simple (couple 44-52 + adult child), 2 weak couple 62-66,
    # 3 single 78-84, 4 growing (couple ~52, son ~27; wife joins 2017, grandchildren 2018, 2019)
    t = tmpl
    head_age = np.where(t == 1, 44 + rng.integers(0, 9, n), head_age)
    head_age = np.where(t == 2, 62 + rng.integers(0, 5, n), head_age)
    head_age = np.where(t == 3, 78 + rng.integers(0, 7, n), head_age)
    head_age = np.where(t == 4, 50 + rng.integers(0, 5, n), head_age)
    head_by = 2019 - head_age
    head_male = np.where(t > 0, True, head_male)
    has_sp = np.where(t == 3, False, np.where(t > 0, True, has_sp))
    n_ch = np.where(t == 1, 1, np.where(t == 4, 1, np.where(t > 0, 0, n_ch)))
    n_par = np.where(t > 0, 0, n_par)
    n_gk = np.where(t > 0, 0, n_gk)

    hh = np.arange(n)
    parts = [pd.DataFrame({"hh": hh, "role": 0, "birth_year": head_by, "join_year": 0,
                           "male": head_male, "k": 0})]
    sp = hh[has_sp]
    parts.append(pd.DataFrame({"hh": sp, "role": 1,
                               "birth_year": head_by[sp] + rng.integers(-4, 5, len(sp)),
                               "join_year": 0, "male": ~head_male[sp], "k": 0}))
    ch = np.repeat(hh, n_ch)
    k = np.arange(len(ch)) - np.repeat(np.cumsum(n_ch) - n_ch, n_ch)
    ch_by = head_by[ch] + rng.integers(21, 33, len(ch)) + 3 * k
    ch_by = np.where(t[ch] == 1, head_by[ch] + 22, ch_by)
    ch_by = np.where(t[ch] == 4, 1992, ch_by)
    ch_male = np.where(t[ch] > 0, True, rng.random(len(ch)) < 0.52)
    parts.append(pd.DataFrame({"hh": ch, "role": 2, "birth_year": ch_by, "join_year": 0,
                               "male": ch_male, "k": k}))
    pa = np.repeat(hh, n_par)
    kp = np.arange(len(pa)) - np.repeat(np.cumsum(n_par) - n_par, n_par)
    parts.append(pd.DataFrame({"hh": pa, "role": 3,
                               "birth_year": head_by[pa] - rng.integers(20, 33, len(pa)),
                               "join_year": 0, "male": kp == 0, "k": kp}))
    gk = np.repeat(hh, n_gk)
    kg = np.arange(len(gk)) - np.repeat(np.cumsum(n_gk) - n_gk, n_gk)
    parts.append(pd.DataFrame({"hh": gk, "role": 4,
                               "birth_year": head_by[gk] + rng.integers(45, 58, len(gk)) + 2 * kg,
                               "join_year": 0, "male": rng.random(len(gk)) < 0.52, "k": kg}))
    # the growing template: daughter-in-law 2017, grandchildren 2018 and 2019
    g4 = hh[t == 4]
    parts.append(pd.DataFrame({"hh": g4, "role": 5, "birth_year": 1994, "join_year": 2017,
                               "male": False, "k": 0}))
    parts.append(pd.DataFrame({"hh": np.r_[g4, g4], "role": 4,
                               "birth_year": np.r_[np.full(len(g4), 2018), np.full(len(g4), 2019)],
                               "join_year": 0, "male": np.r_[np.ones(len(g4), bool), np.zeros(len(g4), bool)],
                               "k": np.r_[np.zeros(len(g4), int), np.ones(len(g4), int)]}))
    m = pd.concat(parts, ignore_index=True)
    m = m[(m["birth_year"] <= 2019) & (2019 - m["birth_year"] <= 97)].copy()
    # natural daughters-in-law: a son aged 22+ living at home marries in (20 % of them 2014-2019)
    sons = m[(m["role"] == 2) & m["male"] & (2019 - m["birth_year"] >= 24) & (t[m["hh"]] == 0)]
    sons = sons.drop_duplicates("hh")
    sons = sons[rng.random(len(sons)) < 0.45]
    join = np.where(rng.random(len(sons)) < 0.25, rng.integers(2014, 2020, len(sons)), 0)
    inl = pd.DataFrame({"hh": sons["hh"].to_numpy(), "role": 5,
                        "birth_year": sons["birth_year"].to_numpy() + rng.integers(-1, 4, len(sons)),
                        "join_year": join, "male": False, "k": 0})
    m = pd.concat([m, inl], ignore_index=True)
    m = m.sort_values(["hh", "role", "birth_year", "k"], kind="stable").reset_index(drop=True)
    return m


def _members(rng: np.random.Generator, hh: pd.DataFrame, tmpl: np.ndarray) -> pd.DataFrame:
    m = _member_slots(rng, len(hh), tmpl)
    nm = len(m)
    by = m["birth_year"].to_numpy()
    # birth dates: a random day of the birth year, but never after 2019-09-30
    start = year_date(by, "01-01")
    end = np.minimum(year_date(by, "12-31"), ASOF - np.timedelta64(1, "D"))
    birth = random_dates(rng, start, end, nm)
    m["birth_date"] = birth
    age = 2019 - by
    male = m["male"].to_numpy()
    t = tmpl[m["hh"].to_numpy()]
    role = m["role"].to_numpy()
    health = rng.choice(np.array(["健康", "长期慢性病", "患有大病", "残疾"]), nm,
                        p=[0.74, 0.15, 0.05, 0.06])
    health = np.where(age >= 70, rng.choice(np.array(["健康", "长期慢性病", "患有大病", "残疾"]), nm,
                                            p=[0.45, 0.4, 0.07, 0.08]), health)
    health = np.where(age < 16, rng.choice(np.array(["健康", "残疾"]), nm, p=[0.98, 0.02]), health)
    health = np.where(t > 0, "健康", health)
    in_school = (age >= 6) & (age <= 15) | ((age >= 16) & (age <= 21) & (rng.random(nm) < 0.55))
    in_school &= t != 1
    school = np.select(
        [age < 3, age < 6, ~in_school, age <= 11, age <= 14, age <= 17],
        ["", "学前教育", "非在校生", "小学", "初中", "高中"], "中职或大专")
    education = np.select(
        [age < 6, in_school, age >= 60, age >= 40],
        ["", "在读", rng.choice(np.array(["文盲或半文盲", "小学"]), nm, p=[0.55, 0.45]),
         rng.choice(np.array(["小学", "初中"]), nm, p=[0.5, 0.5])],
        rng.choice(np.array(["初中", "高中", "大专及以上"]), nm, p=[0.6, 0.3, 0.1]))
    healthy = health == "健康"
    ill = (health == "患有大病") | (health == "残疾")
    skill = np.select(
        [age < 16, in_school, ill & (age < 70), age >= 70,
         (age >= 60) & healthy & (rng.random(nm) < 0.3), age >= 60,
         health == "长期慢性病", rng.random(nm) < 0.12],
        ["无劳动力", "无劳动力", "丧失劳动力", np.where(ill, "丧失劳动力", "无劳动力"),
         "普通劳动力", "弱劳动力或半劳动力", "弱劳动力或半劳动力", "技能劳动力"],
        "普通劳动力")
    skill = np.where(t == 2, "弱劳动力或半劳动力", skill)
    skill = np.where(t == 3, "无劳动力", skill)
    skill = np.where((t == 1) & (role == 0), "普通劳动力", skill)
    works = (skill == "普通劳动力") | (skill == "技能劳动力")
    months = np.where(works & (rng.random(nm) < 0.55),
                      rng.choice(np.arange(3, 13), nm, p=[.06, .08, .1, .12, .14, .14, .14, .1, .07, .05]), 0)
    months = np.where((t == 1) & (role == 0), 8, months)
    months = np.where(t == 4, np.where(role == 2, 9, 0), months)
    m["health"] = health
    m["school_status"] = school
    m["education"] = education
    m["labor_skill"] = skill
    m["migrant_months"] = months.astype(float)
    m["sex"] = np.where(male, "男", "女")
    rel = np.select(
        [role == 0, role == 1, role == 2, role == 3, role == 4, role == 5],
        ["户主", "配偶", np.where(male, "之子", "之女"), np.where(male, "之父", "之母"),
         np.where(male, "之孙子", "之孙女"), "之儿媳"], "其他")
    m["relation"] = rel
    # names: the head's surname for children and grandchildren
    sur = rng.choice(_SURNAMES, nm, p=_SURNAME_P / _SURNAME_P.sum())
    head_pos = np.flatnonzero(role == 0)
    head_sur = np.empty(len(hh), dtype=sur.dtype)
    head_sur[m["hh"].to_numpy()[head_pos]] = sur[head_pos]
    kin = (role == 2) | (role == 4)
    sur = np.where(kin, head_sur[m["hh"].to_numpy()], sur)
    m["name"] = person_names(rng, male, sur)
    m["id_number"] = id_numbers(COUNTY_CODE, birth, male, rng)
    # a few IDs written with a lower-case x, as typed by hand (valid: the loader upper-cases it)
    lower = np.char.endswith(m["id_number"].to_numpy(dtype=str), "X") & (rng.random(nm) < 0.3)
    m.loc[lower, "id_number"] = m.loc[lower, "id_number"].str.lower()
    m["medical_insured"] = np.where(rng.random(nm) < 0.998, "是", "否")
    m["critical_illness_insured"] = m["medical_insured"]
    m["seq"] = m.groupby("hh").cumcount() + 1
    m["hh_id"] = hh["hh_id"].to_numpy()[m["hh"].to_numpy()]
    m["person_id"] = m["hh_id"] + m["seq"].astype(str).str.zfill(2)
    return m


# ---------------------------------------------------------------------------------------------
# the county


def simulate(seed: int = 2019, households: int = 12000) -> County:
    """Simulate the county (clean data, plants and data-quality problems); see the module text."""
    if households < MIN_HOUSEHOLDS:
        raise QjError(f"示范县至少需要 {MIN_HOUSEHOLDS} 户 / the demo county needs at least "
                      f"{MIN_HOUSEHOLDS} households (got {households})")
    rng = np.random.default_rng([seed, 610830])
    n = int(households)
    hh, villages = _households(rng, n)

    # --- registration: identified 2014-2016, exit 2014-2019, a few returned -------------------
    ident = rng.choice(np.array([2014, 2015, 2016]), n, p=[0.72, 0.14, 0.14])
    ex = rng.choice(np.arange(2014, 2020), n, p=[0.06, 0.11, 0.15, 0.17, 0.15, 0.36])
    ex = np.maximum(ex, ident + (rng.random(n) < 0.8))
    ex = np.minimum(ex, 2020)
    status = np.where(ex <= 2018, "exited", np.where(ex == 2019, "exited", "not_exited"))
    late = (ex == 2019) & (rng.random(n) < 0.2)  # part of the 2019 cohort is not yet declared
    status = np.where(late, "not_exited", status)
    ret = (ex <= 2017) & (rng.random(n) < 0.012)
    ret_year = np.where(ret, np.minimum(ex + 1 + rng.integers(0, 2, n), 2018), 0)
    status = np.where(ret, "returned", status)

    # --- which households carry planted cases ------------------------------------------------
    # the dividend plants live in the largest village, the others anywhere; all disjoint
    vcount = hh["vidx"].value_counts()
    div_v = int(vcount.index[np.argmax(vcount.to_numpy())])
    div_pool = rng.permutation(np.flatnonzero(hh["vidx"].to_numpy() == div_v))
    perm = rng.permutation(n)
    perm = perm[~np.isin(perm, div_pool[:12])]
    take = iter(perm.tolist())

    def pick(k: int) -> list[int]:
        return [next(take) for _ in range(k)]

    P: dict[str, list[int]] = {}
    P["decline"] = pick(4)            # A illness, B lost migrant job, C size-driven, D returned
    P["decline_decoy"] = pick(6)      # N-1, missing 2017, exited 2019, ends 2018, flat year, not exited
    P["share"] = pick(10)             # low-operating and transfer edges, net <= 0
    P["helper_hh"] = pick(12)         # unpaired x3, frequent change x3, decoys x2, single-extreme, spare
    P["quality"] = pick(10)
    P["dividend"] = div_pool[:12].tolist()
    reserved = np.zeros(n, bool)
    for v in P.values():
        reserved[v] = True

    tmpl = np.zeros(n, dtype=np.int64)
    tmpl[P["decline"]] = 1
    tmpl[P["decline"][2]] = 4
    tmpl[P["decline_decoy"]] = 1
    tmpl[P["share"]] = 1
    tmpl[P["share"][7]] = 2  # weak labour
    tmpl[P["share"][8]] = 3  # no labour
    tmpl[P["helper_hh"][7]] = 1  # the single-extreme helper's household works
    # registration of the decline plants (A, B exited 2015/2016, C exited 2016, D returned 2018)
    d, dd = P["decline"], P["decline_decoy"]
    ident[d + dd] = 2014
    ex[d] = [2015, 2016, 2016, 2016]
    status[d] = ["exited", "exited", "exited", "returned"]
    ret_year[d] = [0, 0, 0, 2017]
    ex[dd] = [2016, 2015, 2019, 2014, 2017, 2020]
    status[dd] = ["exited", "exited", "exited", "exited", "exited", "not_exited"]
    ret_year[dd] = 0
    for k in P["share"] + P["dividend"] + P["helper_hh"] + P["quality"]:
        ident[k] = min(ident[k], 2015)

    members = _members(rng, hh, tmpl)

    # --- household sizes by year: members present (born, married in) + departed members -----
    mh = members["hh"].to_numpy()
    by = members["birth_year"].to_numpy()
    jy = members["join_year"].to_numpy()
    present = (by[:, None] <= YEARS[None, :]) & (jy[:, None] <= YEARS[None, :])
    size = np.zeros((n, NY), dtype=np.int64)
    np.add.at(size, mh, present.astype(np.int64))
    departed = (rng.random(n) < 0.05) & (tmpl == 0)
    dep_year = np.where(departed, rng.integers(2015, 2020, n), 0)
    size += (departed[:, None] & (YEARS[None, :] < dep_year[:, None])).astype(np.int64)
    size_now = np.bincount(mh, minlength=n)

    # --- household attributes --------------------------------------------------------------
    head = members[members["role"] == 0].set_index("hh").sort_index()
    head_age = 2019 - head["birth_year"].to_numpy()
    attr = rng.choice(np.array(["一般贫困户", "低保贫困户", "特困供养贫困户", "低保特困供养贫困户"]), n,
                      p=[0.62, 0.29, 0.08, 0.01])
    attr = np.where((size_now == 1) & (head_age >= 65) & (rng.random(n) < 0.55), "特困供养贫困户", attr)
    attr = np.where(tmpl > 0, "一般贫困户", attr)
    causes = np.array(["因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金",
                       "交通条件落后", "自身发展动力不足", "因婚", "因丧", "其他"])
    cause = rng.choice(causes, n, p=[.25, .10, .08, .03, .02, .02, .15, .10, .15, .03, .04, .01,
                                     .01, .01])
    dibao_hh = np.isin(attr, ["低保贫困户", "低保特困供养贫困户"])
    wubao_hh = np.isin(attr, ["特困供养贫困户", "低保特困供养贫困户"])
    members["dibao"] = np.where(dibao_hh[mh], "是", "否")

    # --- income paths ------------------------------------------------------------------------
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
    f = np.where(ret[:, None] & (Y >= ret_year[:, None]) & (ret_year[:, None] > 0), pre, f)
    # helpers whose households do clearly worse: decided below with the pairings; placeholder
    noise = lambda: np.exp(rng.normal(0, 0.03, (n, NY)))  # noqa: E731

    age_m = Y - by[:, None]
    skill = members["labor_skill"].to_numpy()
    works = np.isin(skill, ["普通劳动力", "技能劳动力"])[:, None] & (age_m >= 16) & present
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

    aged = (age_m >= 60) & present
    pension_m = aged * PENSION[None, :]
    pension = np.zeros((n, NY))
    np.add.at(pension, mh, pension_m)
    dib = np.zeros((n, NY))
    np.add.at(dib, mh, present * DIBAO[None, :])
    dib *= (dibao_hh * rng.uniform(0.6, 1.0, n))[:, None]
    wub = np.zeros((n, NY))
    wub_m = present & ((age_m >= 60) | (members["role"].to_numpy() == 0)[:, None])
    np.add.at(wub, mh, wub_m * WUBAO[None, :])
    wub *= wubao_hh[:, None]
    fp_hh = (u(n) < 0.08)
    fp = np.zeros((n, NY))
    np.add.at(fp, mh, (aged & np.isin(members["role"].to_numpy(), [0, 1])[:, None]) * FAMILY_PLANNING)
    fp *= fp_hh[:, None]
    student = present & (age_m >= 6) & (age_m <= 21) & (members["school_status"].to_numpy() != "非在校生")[:, None]
    edu = np.zeros((n, NY))
    np.add.at(edu, mh, student * EDU_SUBSIDY)
    med = np.where((cause == "因病") & (u(n) < 0.3), rng.uniform(300, 1500, n), 0)[:, None]
    farmland = rng.uniform(100, 500, n)[:, None]  # 耕地地力保护补贴 and the like, every household
    other = edu + (med + farmland) * np.ones((1, NY))

    extras: dict[str, object] = {}
    # store the raw pieces; projects, benefits and plants adjust them
    comp = {
        "wage": (wage0 + casual) * f * noise(),
        "operating": gross * f * noise(),
        "operating_cost": None,
        "property": rent * noise(),
        "family_planning": fp,
        "dibao_pay": dib,
        "wubao_pay": wub,
        "pension": pension,
        "eco_comp": eco,
        "other_transfer": other,
    }
    comp["operating_cost"] = comp["operating"] * (cost / np.maximum(gross, 1)) * noise()

    hhx = {
        "ident": ident, "ex": ex, "status": status, "ret_year": ret_year, "size": size,
        "size_now": size_now, "attr": attr, "cause": cause, "tmpl": tmpl, "f": f,
        "reserved": reserved, "div_v": div_v,
    }
    from qjlib.demo.plants import finish  # the second half: projects, helpers, plants, quality

    return finish(rng, seed, n, hh, villages, members, hhx, comp, P, extras)
