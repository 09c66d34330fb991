"""Stage 5 of the demo county: the planted cases of the income and dividend ledgers (planting
tables: long literal data, each row one case, kept whole so that a reader sees every case at once).

* dividends (:func:`dividend_cases`): twelve households of the dividend village with rows on the
  planted projects PA, PP, PG, PC, PD, PS — late by one day, on time on the due date, one yuan
  short, exactly the guaranteed dividend, unpaid, principal instead of dividend, due after the
  as-of date, a collective or direct project (out of scope);
* the helpers' households (:func:`helper_effects`): a poor helper's households do not jump at
  exit (1 % a year), the single-extreme helper's household doubles its income in 2019;
* incomes (:func:`plant_incomes`): the decline cases A–D and their six decoys (``DECLINE_TABLES``,
  scaled by a factor drawn per household), the ten share cases on and beside the thresholds
  (``SHARE_ROWS``, exact, 2019 only), and the one missing income year of the "gap" decoy.

The thresholds the rows sit on are those of :data:`qjlib.demo.base.STANDARDS`.

Imports only :mod:`.base`, :mod:`.people`, :mod:`.income`, :mod:`.projects` and :mod:`.cadres`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.demo.base import NAT, NY
from qjlib.demo.cadres import HelperPlants
from qjlib.demo.income import Components
from qjlib.demo.people import Planted
from qjlib.demo.projects import dividend_due


@dataclass(frozen=True)
class DividendPlants:
    """``benefits``: the planted benefit rows (columns as :attr:`Projects.benefits`);
    ``ledger``: the planted overdue cases (``p`` project row, ``h`` household, year, status,
    reason); ``decoys``: the rows that must not be listed (``p``, ``h``, year, why)."""

    benefits: pd.DataFrame
    ledger: list[dict]
    decoys: list[dict]


@dataclass(frozen=True)
class IncomePlants:
    """``decline``: the planted declines (``h``, reason, driver size|income); ``decline_decoys``
    (``h``, why); ``shares``: the share cases (``h``, case = a name of ``SHARE_ROWS``);
    ``missing``: (household, year) income rows left out."""

    decline: list[dict]
    decline_decoys: list[dict]
    shares: list[dict]
    missing: set[tuple[int, int]]


def dividend_cases(proj: pd.DataFrame, hs: list[int]) -> DividendPlants:
    """The planted dividend cases (households ``hs`` of the dividend village)."""
    pid = {p: i for i, p in zip(proj.index, proj["plant"], strict=True) if p}
    d = np.datetime64
    rows = [
        # project, household, year, type, amount (None = guaranteed), paid, expected status / decoy
        ("PA", 0, 2019, "分红", None, d("2019-09-01"), "late", "应于 2019-08-31 前兑付，9月1日才到账（迟1天）"),
        ("PA", 1, 2019, "分红", None, d("2019-08-31"), None, "到期日当天到账：按时"),
        ("PA", 2, 2019, "分红", -1, d("2019-08-20"), "short", "比保底分红少1元"),
        ("PA", 3, 2019, "分红", 0, d("2019-08-20"), None, "按时足额（恰等于保底分红）"),
        ("PP", 4, 2018, "分红", None, NAT, "unpaid", "2018年分红至今未兑付"),
        ("PP", 4, 2019, "分红", None, d("2019-09-10"), None, ""),
        ("PP", 5, 2018, "本金返还", 5000, d("2018-09-20"), "principal", "2018年以本金返还代替分红（分本不分红）"),
        ("PP", 5, 2019, "分红", None, d("2019-09-12"), None, ""),
        ("PP", 6, 2018, "分红", None, d("2018-09-15"), None, ""),
        ("PP", 6, 2019, "分红", None, NAT, "unpaid", "2019年分红截止 09-30（等于截至日期），未兑付"),
        ("PP", 7, 2018, "分红", None, d("2018-09-25"), None, "两年均按时足额"),
        ("PP", 7, 2019, "分红", None, d("2019-09-25"), None, ""),
        ("PG", 8, 2019, "分红", None, NAT, None, "分红截止 2019-12-31，晚于截至日期，未兑付不算逾期"),
        ("PC", 9, 2019, "分红", None, NAT, None, "村集体经济项目，不属于经营主体带动/资产收益"),
        ("PD", 10, 2019, "直补", 2000, NAT, None, "到户直补项目，无分红"),
        ("PS", 11, 2017, "分红", None, d("2017-09-20"), None, ""),
        ("PS", 11, 2018, "分红", None, d("2018-10-15"), "late", "2018年分红默认截止 09-30，10月15日到账"),
        ("PS", 11, 2019, "分红", None, d("2019-09-20"), None, ""),
    ]
    out, ledger, decoys = [], [], []
    guar = proj["guaranteed_dividend"].to_numpy()
    for plant, k, y, bt, amt, paid, status, why in rows:
        p = pid[plant]
        g = guar[p]
        a = g if amt is None else (g + amt if amt in (-1, 0) else float(amt))
        out.append({"p": p, "h": hs[k], "year": y, "benefit_type": bt, "amount": a, "paid_date": paid,
                    "plant": plant})
        item = {"p": p, "h": hs[k], "year": y}
        if status:
            ledger.append({**item, "status": status, "reason": why})
        elif why:
            decoys.append({**item, "why": why})
    b = pd.DataFrame(out)
    b["due"] = dividend_due(b["year"].to_numpy(), proj["dividend_due"].to_numpy()[b["p"].to_numpy()])
    return DividendPlants(benefits=b, ledger=ledger, decoys=decoys)


def helper_effects(comp: Components, f: np.ndarray, hp: HelperPlants) -> Components:
    """Households of the poor helpers: no jump at exit, 1 %/yr from their 2014 level; the
    single-extreme one: 4 %/yr, then +100 % in 2019. Wage, operating income and its cost are
    scaled by (new activity path ÷ old)."""
    f_new = f.copy()
    poor_h = hp.poor_households
    f_new[poor_h] = f[poor_h, :1] * 1.01 ** np.arange(NY)[None, :]
    ext = hp.extreme_household
    f_new[ext] = f[ext, 0] * 1.04 ** np.arange(NY)
    f_new[ext, -1] = f_new[ext, -2] * 2.0
    ratio = f_new / f
    return comp.replace(**{col: comp.get(col) * ratio for col in ("wage", "operating", "operating_cost")})


# ---------------------------------------------------------------------------------------------
# income plants


def _split_transfer(total: float, pension_nat: float) -> dict[str, float]:
    """A planted transfer total split into items: the natural pension first, then up to 800
    yuan 生态补偿金, the rest 其他转移性收入."""
    pension = min(total, pension_nat)
    eco = min(total - pension, 800.0)
    return {"family_planning": 0.0, "dibao_pay": 0.0, "wubao_pay": 0.0, "pension": pension,
            "eco_comp": eco, "other_transfer": total - pension - eco}


# (wage, operating, operating_cost, property, transfer) per year 2014..2019
DECLINE_TABLES = {
    "A": [(5000, 2500, 800, 0, 1400), (8000, 3200, 1000, 200, 1500), (12000, 3800, 1200, 300, 1600),
          (9000, 3600, 1200, 300, 1700), (5500, 3400, 1200, 300, 2000), (2000, 3000, 1200, 300, 4200)],
    "B": [(4000, 2000, 700, 0, 1200), (5000, 2200, 800, 0, 1300), (16000, 3000, 1000, 400, 1400),
          (14000, 3000, 1000, 400, 1500), (12000, 2800, 1000, 400, 1600), (10000, 2800, 1000, 400, 1700)],
    "C": [(6000, 2500, 800, 0, 1000), (7000, 2600, 800, 0, 1000), (15000, 3000, 1000, 300, 1100),
          (15500, 3100, 1000, 300, 1150), (16000, 3100, 1000, 300, 1200), (16500, 3200, 1000, 300, 1300)],
    "D": [(4000, 2000, 700, 0, 1200), (5000, 2300, 800, 0, 1300), (11000, 3000, 900, 300, 1400),
          (7000, 2500, 900, 300, 1500), (4500, 2300, 900, 300, 1600), (3000, 2000, 900, 300, 2900)],
    "N-1": [(6000, 2000, 700, 0, 1200), (7000, 2200, 800, 0, 1300), (12000, 3000, 1000, 300, 1400),
            (14000, 3000, 1000, 300, 1500), (12500, 3000, 1000, 300, 1500), (11000, 3000, 1000, 300, 1600)],
    "gap": [(5000, 2500, 800, 0, 1400), (8000, 3200, 1000, 200, 1500), (14000, 3800, 1200, 300, 1600),
            (12000, 3600, 1200, 300, 1700), (11000, 3400, 1200, 300, 2000), (9500, 3000, 1200, 300, 2200)],
    "end2018": [(9000, 2500, 800, 0, 1400), (15000, 3200, 1000, 200, 1500), (13500, 3000, 1000, 200, 1500),
                (12000, 3000, 1000, 200, 1600), (10500, 3000, 1000, 200, 1700), (13500, 3000, 1000, 200, 1800)],
    "flat": [(6000, 2000, 700, 0, 1200), (9000, 2500, 800, 0, 1300), (13000, 3000, 1000, 300, 1500),
             (11000, 3000, 1000, 300, 1500), (11000, 3000, 1000, 300, 1500), (10000, 3000, 1000, 300, 1500)],
}
# 2019 rows of the share plants: (wage, operating, operating_cost, property, transfer)
SHARE_ROWS = [
    ("low_op_at", (6500, 1500, 500, 0, 2500)),      # operating_net/net = 1000/10000 = 0.10: not below
    ("low_op_below", (6501, 1499, 500, 0, 2500)),   # 999/10000 < 0.10: flagged
    ("low_op_above", (6499, 1501, 500, 0, 2500)),   # 1001/10000: not flagged
    ("transfer_at", (3000, 2500, 500, 0, 5000)),    # 5000/10000 = 0.50: not flagged
    ("transfer_above", (2999, 2500, 500, 0, 5001)),  # 0.5001: flagged
    ("transfer_below", (3001, 2500, 500, 0, 4999)),  # 0.4999: not flagged
    ("net_negative", (0, 1000, 4000, 0, 2000)),     # net −1000: no shares, in neither ledger
    ("weak_low_op", (2000, 800, 300, 200, 7300)),   # 弱劳动能力, 500/10000: flagged (and transfer 0.73)
    ("no_labour", (0, 300, 100, 0, 9800)),          # 无劳动能力, 0.02: not in low-operating; transfer 0.98
    ("net_zero", (0, 2000, 4000, 0, 2000)),         # net 0: in neither ledger
]


# the planted declines' reasons (the tables are built for N_DECLINES = 3 falls, 2016→2019)
DECLINE_REASONS = {
    "A": "因病：外出务工减少，连续3年人均纯收入下降，2019年低于贫困线",
    "B": "务工收入下降，连续3年人均纯收入下降",
    "C": "家庭人口增加（娶媳、添孙）导致人均纯收入连续3年下降，家庭纯收入未降",
    "D": "返贫户：连续3年人均纯收入下降",
}
# the decoys, in the order of Planted.decline_decoy: (table of DECLINE_TABLES, why not listed)
DECLINE_DECOYS = [("N-1", "只有2次连续下降（2017→2019），不足3次"),
                  ("gap", "2017年收入记录缺失，链条中断（报告为缺口，不算下降）"),
                  ("B", "2019年才脱贫，不属于历年脱贫户"),
                  ("end2018", "连续3年下降止于2018年，2019年回升"),
                  ("flat", "2017年与2018年人均纯收入相等，不算下降"),
                  ("A", "未脱贫户，不属于历年脱贫户")]


def plant_incomes(rng: np.random.Generator, comp: Components, planted: Planted) -> IncomePlants:
    """Write the planted income rows into the rounded ``comp`` (in place): declines A–D and the
    decoys scaled by U[0.92, 1.08] per household (32 factors drawn, the first ten used), the
    share rows exactly in 2019; the "gap" decoy's 2017 row is to be left out."""
    scale = rng.uniform(0.92, 1.08, 32)
    plants_dec, decoys_dec, plants_share = [], [], []
    for i, (h, lab) in enumerate(zip(planted.decline, ["A", "B", "C", "D"], strict=True)):
        _set_income(comp, h, DECLINE_TABLES[lab], scale[i])
        plants_dec.append({"h": h, "reason": DECLINE_REASONS[lab], "driver": "size" if lab == "C" else "income"})
    dd = planted.decline_decoy
    for i, (h, (lab, why)) in enumerate(zip(dd, DECLINE_DECOYS, strict=True)):
        _set_income(comp, h, DECLINE_TABLES[lab], scale[4 + i])
        decoys_dec.append({"h": h, "why": why})
    for h, (lab, row) in zip(planted.share, SHARE_ROWS, strict=True):
        _set_income_year(comp, h, 5, row)
        plants_share.append({"h": h, "case": lab})
    return IncomePlants(decline=plants_dec, decline_decoys=decoys_dec, shares=plants_share,
                        missing={(dd[1], 2017)})


def _set_income(comp: Components, h: int, table, s: float) -> None:
    """Write the rows of a decline table (2014–2019) for household ``h``, scaled by ``s`` and
    rounded to whole yuan."""
    for j, row in enumerate(table):
        w, o, c, p, t = row
        _set_income_year(comp, h, j, (np.rint(w * s), np.rint(o * s), np.rint(c * s), np.rint(p * s), t))


def _set_income_year(comp: Components, h: int, j: int, row) -> None:
    """Write one year (index ``j``) of household ``h``: (wage, operating, cost, property,
    transfer), the transfer split into items (``_split_transfer``)."""
    w, o, c, p, t = row
    comp.wage[h, j], comp.operating[h, j] = w, o
    comp.operating_cost[h, j], comp.property[h, j] = c, p
    for k, v in _split_transfer(float(t), float(comp.pension[h, j])).items():
        comp.get(k)[h, j] = v
