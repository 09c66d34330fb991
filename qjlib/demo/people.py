"""Stage 1 of the demo county: places, households, their registration, the households chosen to
carry planted cases, and the people who live in them.

Towns and villages (``_places``), households dealt to villages (``_households``), registration
(identified 2014–2016, exit 2014–2019, a few returned), the disjoint sets of households that carry
planted cases (:class:`Planted`), the members of every household (roles, births, health, school,
labour, names, IDs), household sizes by year and household attributes. The households table as
written (:func:`households_table`) is assembled here too, but drawn last (see :mod:`.county`).

Imports only :mod:`.base`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.demo.base import (
    ASOF,
    COUNTY,
    COUNTY_CODE,
    NY,
    TOWNS,
    YEARS,
    id_numbers,
    person_names,
    phones,
    random_dates,
    surnames,
    year_date,
)

_PLACE_SURNAMES = list("王李张刘高白惠霍贺折薛师杨袁马郝冯郭黄吴周石崔何乔曹訾辛呼拓")
_PLACE_SUFFIXES = ["家沟", "家坪", "家岔", "家河", "家塔", "家山", "家畔", "家硷", "家崖",
                   "家圪台", "家洼", "家庄"]
_PLACE_PREFIXES = ["", "上", "下", "前", "后", "东", "西"]
_SURNAMES = np.array(list("白惠高张王李刘霍贺折薛师杨袁马郝冯郭黄吴周石崔何乔曹辛呼拓"))


@dataclass(frozen=True)
class Planted:
    """Which households carry planted cases: generator indices (row positions of
    :attr:`People.hh`), the lists pairwise disjoint.

    ``decline``: A illness, B lost migrant job, C size-driven, D returned (4);
    ``decline_decoy``: N-1, missing 2017, exited 2019, ends 2018, flat year, not exited (6);
    ``share``: the rows of ``plants.SHARE_ROWS``, low-operating and transfer edges, net ≤ 0 (10);
    ``helper_hh``: unpaired ×3, frequent change ×2, decoys ×2, the single-extreme helper's
    household, spares (12); ``quality``: the data-quality problems of :mod:`.quality` (10);
    ``dividend``: the planted dividend cases, all in ``dividend_village`` (12);
    ``reserved``: bool per household, True for every household above.
    """

    decline: list[int]
    decline_decoy: list[int]
    share: list[int]
    helper_hh: list[int]
    quality: list[int]
    dividend: list[int]
    dividend_village: int
    reserved: np.ndarray


@dataclass(frozen=True)
class Registration:
    """Per household (arrays of length n): ``ident`` year identified (2014–2016); ``exit_year``
    year exited or due to exit (2020 = not within 2014–2019); ``status`` exited | not_exited |
    returned; ``ret_year`` year of return (返贫), 0 if none; ``returned_draw`` the natural return
    draw (True for returned households before the plants were registered: it shapes incomes)."""

    ident: np.ndarray
    exit_year: np.ndarray
    status: np.ndarray
    ret_year: np.ndarray
    returned_draw: np.ndarray


@dataclass(frozen=True)
class People:
    """The households and their members.

    ``hh``: one row per household (``vidx`` village index, ``serial``, town, town_code, village,
    village_code, ``hh_id``); ``villages``: one row per village (``town_idx``, names, codes,
    ``weight``); ``members``: one row per person (``hh`` household index, ``role`` 0 head,
    1 spouse, 2 child, 3 parent, 4 grandchild, 5 daughter-in-law, birth, health, labour, names,
    IDs, ``dibao``); ``reg``: :class:`Registration`; ``tmpl``: template of the planted households
    (0 none, 1 simple, 2 weak couple, 3 single old, 4 growing; see ``_member_slots``);
    ``present``: persons × years, True when the person counts in the household that year;
    ``size``: households × years, persons incl. departed members; ``size_now``: persons now;
    ``attr``: 贫困户属性; ``cause``: 主要致贫原因; ``dibao_hh`` / ``wubao_hh``: 低保 / 特困供养.
    """

    hh: pd.DataFrame
    villages: pd.DataFrame
    members: pd.DataFrame
    reg: Registration
    tmpl: np.ndarray
    present: np.ndarray
    size: np.ndarray
    size_now: np.ndarray
    attr: np.ndarray
    cause: np.ndarray
    dibao_hh: np.ndarray
    wubao_hh: np.ndarray

    @property
    def n(self) -> int:
        """Number of households."""
        return len(self.hh)


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
    sur = surnames(rng, nm)
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
# registration and the planted households


def _registration(rng: np.random.Generator, n: int) -> Registration:
    """Identified 2014–2016, exit 2014–2019 (2019 the largest cohort, a fifth of it not yet
    declared), 1.2 % of households exited by 2017 returned (返贫) a year or two later."""
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
    return Registration(ident=ident, exit_year=ex, status=status, ret_year=ret_year, returned_draw=ret)


def _pick_planted(rng: np.random.Generator, hh: pd.DataFrame) -> Planted:
    """The households of the planted cases: the dividend plants live in the largest village, the
    others anywhere; all disjoint."""
    n = len(hh)
    vcount = hh["vidx"].value_counts()
    div_v = int(vcount.index[np.argmax(vcount.to_numpy())])
    div_pool = rng.permutation(np.flatnonzero(hh["vidx"].to_numpy() == div_v))
    perm = rng.permutation(n)
    perm = perm[~np.isin(perm, div_pool[:12])]
    take = iter(perm.tolist())

    def pick(k: int) -> list[int]:
        return [next(take) for _ in range(k)]

    lists = {"decline": pick(4), "decline_decoy": pick(6), "share": pick(10), "helper_hh": pick(12),
             "quality": pick(10), "dividend": div_pool[:12].tolist()}
    reserved = np.zeros(n, bool)
    for v in lists.values():
        reserved[v] = True
    return Planted(**lists, dividend_village=div_v, reserved=reserved)


def _templates(n: int, planted: Planted) -> np.ndarray:
    """Household template per household (see ``_member_slots``): 1 for the decline plants and
    decoys, the share plants and the single-extreme helper's household, 4 for the size-driven
    decline (C), 2 and 3 for the weak-labour and no-labour share plants; 0 elsewhere."""
    tmpl = np.zeros(n, dtype=np.int64)
    tmpl[planted.decline] = 1
    tmpl[planted.decline[2]] = 4
    tmpl[planted.decline_decoy] = 1
    tmpl[planted.share] = 1
    tmpl[planted.share[7]] = 2  # weak labour
    tmpl[planted.share[8]] = 3  # no labour
    tmpl[planted.helper_hh[7]] = 1  # the single-extreme helper's household works
    return tmpl


def _register_plants(reg: Registration, planted: Planted) -> None:
    """Set (in place) the registration of the planted households: decline plants A, B exited
    2015/2016, C exited 2016, D returned 2017; the decoys as their cases need; the share,
    dividend, helper and quality households identified by 2015."""
    ident, ex, status, ret_year = reg.ident, reg.exit_year, reg.status, reg.ret_year
    d, dd = planted.decline, planted.decline_decoy
    ident[d + dd] = 2014
    ex[d] = [2015, 2016, 2016, 2016]
    status[d] = ["exited", "exited", "exited", "returned"]
    ret_year[d] = [0, 0, 0, 2017]
    ex[dd] = [2016, 2015, 2019, 2014, 2017, 2020]
    status[dd] = ["exited", "exited", "exited", "exited", "exited", "not_exited"]
    ret_year[dd] = 0
    for k in planted.share + planted.dividend + planted.helper_hh + planted.quality:
        ident[k] = min(ident[k], 2015)


# ---------------------------------------------------------------------------------------------
# household sizes and attributes


def _sizes(rng: np.random.Generator, members: pd.DataFrame, tmpl: np.ndarray):
    """(present, size, size_now): a member counts from the year born and married in; 5 % of
    natural households had one more member who left in 2015–2019 (counted before that year)."""
    n = len(tmpl)
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
    return present, size, size_now


def _attributes(rng: np.random.Generator, members: pd.DataFrame, tmpl: np.ndarray, size_now: np.ndarray):
    """(attr, cause): 贫困户属性 (lone people aged 65+ often 特困供养; planted households 一般) and
    主要致贫原因; sets ``members["dibao"]`` (是 for members of 低保 households)."""
    n = len(tmpl)
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
    members["dibao"] = np.where(dibao_hh[members["hh"].to_numpy()], "是", "否")
    return attr, cause


def draw_people(rng: np.random.Generator, n: int) -> tuple[People, Planted]:
    """Stage 1: places, households, registration, planted households, members, sizes and
    attributes, drawn in this order."""
    hh, villages = _households(rng, n)
    reg = _registration(rng, n)
    planted = _pick_planted(rng, hh)
    tmpl = _templates(n, planted)
    _register_plants(reg, planted)
    members = _members(rng, hh, tmpl)
    present, size, size_now = _sizes(rng, members, tmpl)
    attr, cause = _attributes(rng, members, tmpl, size_now)
    people = People(
        hh=hh, villages=villages, members=members, reg=reg, tmpl=tmpl, present=present, size=size,
        size_now=size_now, attr=attr, cause=cause,
        dibao_hh=np.isin(attr, ["低保贫困户", "低保特困供养贫困户"]),
        wubao_hh=np.isin(attr, ["特困供养贫困户", "低保特困供养贫困户"]))
    return people, planted


def households_table(rng: np.random.Generator, people: People, relocated: np.ndarray) -> pd.DataFrame:
    """The households table (canonical columns): place, head, size, attributes, registration,
    a natural village (自然村) and a phone number drawn here; ``ret_year`` stays private."""
    n = people.n
    reg = people.reg
    status, ex = reg.status, reg.exit_year
    hh = people.hh.copy()
    hh["relocated"] = relocated
    head = people.members[people.members["role"] == 0].set_index("hh").sort_index()
    hh["county"] = COUNTY
    hh["hamlet"] = _hamlets(rng, hh)
    hh["head_name"] = head["name"].to_numpy()
    hh["head_id_number"] = head["id_number"].str.upper().to_numpy()
    hh["size"] = people.size_now
    hh["poverty_attr"] = people.attr
    hh["exit_status"] = status
    hh["exit_year"] = np.where(status == "not_exited", np.nan, ex).astype(float)
    hh["planned_exit_year"] = np.where(status == "exited", ex, 2019).astype(float)
    hh["identified_year"] = reg.ident
    hh["main_cause"] = people.cause
    hh["phone"] = phones(rng, n)
    hh["ret_year"] = reg.ret_year
    return hh


def _hamlets(rng: np.random.Generator, hh: pd.DataFrame) -> np.ndarray:
    """Natural villages (自然村): 1–4 per village, named after it."""
    base = hh["village"].str.removesuffix("村").to_numpy()
    suffix = np.array(["", "前沟", "后沟", "圪崂"])
    return np.char.add(base.astype(str), suffix[rng.integers(0, 4, len(hh))])
