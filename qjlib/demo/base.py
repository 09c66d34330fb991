"""The demo county's fixed facts and drawing helpers, shared by every stage of the generator.

The calendar (years 2014–2019, as-of date 2019-09-30), the county and its towns (the names of
Qingjian's towns live only here, ``TOWNS``), the yearly policy rates that build incomes, the
standards the planted cases sit on (``STANDARDS``: each equals the default of
``params/standards.yaml`` that means the same thing, checked by a test), and small vectorised
helpers that draw IDs, names, phone numbers and dates with a ``numpy.random.Generator``.

This module draws nothing by itself and imports no other stage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

YEARS = np.arange(2014, 2020)
NY = len(YEARS)
INCOME_YEAR = 2019
ASOF = np.datetime64("2019-09-30")
WINDOW_START = np.datetime64("2018-09-30")  # frequent-change window is (2018-09-30, 2019-09-30]
COUNTY_CODE = "610830"
COUNTY = "清涧县"
MIN_HOUSEHOLDS = 150

D = np.timedelta64(1, "D")
NAT = np.datetime64("NaT", "D")

# name, town code (3 digits after the county code), share of the county's poor households
TOWNS: tuple[tuple[str, str, float], ...] = (
    ("宽州镇", "100", 0.14), ("石咀驿镇", "101", 0.09), ("折家坪镇", "102", 0.11),
    ("玉家河镇", "103", 0.09), ("高杰村镇", "104", 0.09), ("李家塔镇", "105", 0.08),
    ("店则沟镇", "106", 0.09), ("解家沟镇", "107", 0.09), ("下廿里铺镇", "108", 0.09),
    ("秀延街道", "001", 0.06), ("乐堂堡", "109", 0.07),
)

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

# The standards the planted cases sit on and beside, and that truth.json applies (period 2019Q3).
# Each equals the default of params/standards.yaml named in the comment (tests/unit/test_demo_unit.py).
N_DECLINES = 3  # decline.n_declines: consecutive yearly falls of per-capita net income
LOW_OPERATING = 0.10  # income.low_operating_share: (operating − cost) / net income below it
TRANSFER_DEPENDENT = 0.50  # income.transfer_dependent_share: transfer / net income above it
MAX_HOUSEHOLDS = 5  # helpers.max_households: active pairings of one helper, more is overloaded
MAX_CHANGES = 1  # helpers.max_changes_12m: helper changes in the 12-month window, more is frequent
DIVIDEND_DEFAULT_DUE = "09-30"  # dividends.default_due: MM-DD of a dividend without a due date
DIVIDEND_NATURES = ("entity_led", "asset_income")  # dividends.natures: projects owing dividends
STANDARDS = {
    "decline.n_declines": N_DECLINES,
    "income.low_operating_share": LOW_OPERATING,
    "income.transfer_dependent_share": TRANSFER_DEPENDENT,
    "helpers.max_households": MAX_HOUSEHOLDS,
    "helpers.max_changes_12m": MAX_CHANGES,
    "dividends.default_due": DIVIDEND_DEFAULT_DUE,
    "dividends.natures": list(DIVIDEND_NATURES),
}


# ---------------------------------------------------------------------------------------------
# small vectorised helpers


def id_numbers(region: str, birth: np.ndarray, male: np.ndarray, rng: np.random.Generator,
               seq_offset: int = 0) -> np.ndarray:
    """18-character resident IDs (GB 11643-1999): region + YYYYMMDD + 3-digit sequence (odd for
    men) + check character ``10X98765432[Σ digit_i × w_i mod 11]``; unique within the call.
    Calls for different people of the same region use different even ``seq_offset``s, so that
    two people never share a number. ``rng`` is not drawn from."""
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


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` surnames drawn by their frequency in the county (``_SURNAME_P``)."""
    return rng.choice(_SURNAMES, n, p=_SURNAME_P / _SURNAME_P.sum())


def person_names(rng: np.random.Generator, male: np.ndarray, surname: np.ndarray | None = None) -> np.ndarray:
    """Chinese names: the surname (drawn when not given) + one given character, a second one for
    80 % of people; the given characters are drawn from the men's or women's pool by ``male``."""
    n = len(male)
    if surname is None:
        surname = surnames(rng, n)
    pool_m, pool_f = _MALE_CHARS, _FEMALE_CHARS
    c1 = np.where(male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)])
    c2 = np.where(male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)])
    two = rng.random(n) < 0.8
    return np.char.add(np.char.add(surname.astype(str), c1), np.where(two, c2, ""))


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` mobile numbers: a Chinese carrier prefix + 8 random digits."""
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
    """The date ``MM-DD`` of each year in ``year`` (datetime64[D])."""
    y = np.asarray(year).astype(str)
    return np.char.add(np.char.add(y, "-"), mmdd).astype("datetime64[D]")
