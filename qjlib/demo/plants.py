"""The demo county, second half: industry projects and beneficiaries, helper cadres and their
pairings, visits and reviews, the planted ledger cases, and the planted data-quality problems.

Called by :func:`qjlib.demo_county.simulate`; see that module for how incomes are built.

Dividends (保底分红): a project of an entity (新型经营主体带动) or a solar plant (资产收益) pays every
beneficiary household its guaranteed dividend each year from the project year to 2019, due on the
project's ``dividend_due`` (given only for 2019 projects, whose one dividend falls in 2019) or else on
09-30 of the benefit year; paid 1–45 days before the due date. A small share of (project, household)
pairs has one natural problem in one year (unpaid, paid late, or paid short).

Helper pairings (结对帮扶): households of a village are dealt to its helpers so that no helper has more
than 5 (``ceil(n / r)`` helpers with r ∈ [3.5, 5]); 28 % of households changed helper once or twice
since identification; each change ends the old pairing the day before the new one starts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.demo.county import (
    ASOF,
    COUNTY,
    COUNTY_CODE,
    NY,
    TOWNS,
    TRANSFER_ITEMS,
    YEARS,
    County,
    id_numbers,
    person_names,
    phones,
    random_dates,
    year_date,
)

D = np.timedelta64(1, "D")
NAT = np.datetime64("NaT", "D")

# kind: name, category, industry, nature, entity, guaranteed dividend (yuan/household), first and
# last year, probability per village and year, participation, benefit types
KINDS = {
    "direct_plant": ("{v}{y}年到户产业直补（种植）", "种植业", "红枣、杂粮", "direct", "", 0, 2014, 2019, 0.5, 0.12, ("直补",)),
    "direct_breed": ("{v}{y}年到户产业直补（养殖）", "养殖业", "黑毛土猪、羊", "direct", "", 0, 2014, 2019, 0.5, 0.12, ("直补",)),
    "apple": ("{v}山地苹果示范园", "种植业", "山地苹果", "entity_led", "清涧县果业公司", 500, 2017, 2019, 0.12, 0.3, ("分红", "土地流转", "务工")),
    "pig": ("{v}黑毛土猪标准化养殖场", "养殖业", "黑毛土猪", "entity_led", "清涧县{s}黑毛土猪养殖专业合作社", 800, 2018, 2019, 0.15, 0.25, ("分红", "务工")),
    "greenhouse": ("{v}日光温室蔬菜大棚", "设施农业", "设施蔬菜", "entity_led", "清涧县{s}设施农业专业合作社", 600, 2018, 2019, 0.12, 0.2, ("分红", "务工")),
    "solar": ("{v}村级光伏扶贫电站", "光伏扶贫", "光伏发电", "asset_income", "清涧县光伏扶贫电站运营管理有限公司", 1000, 2017, 2018, 0.2, 0.3, ("分红",)),
    "collective": ("{v}村集体经济发展项目", "村集体经济", "村集体经济", "collective", "{v}股份经济合作社", 300, 2018, 2019, 0.3, 0.4, ("分红",)),
    "tourism": ("{v}乡村旅游扶贫项目", "乡村旅游", "乡村旅游", "entity_led", "清涧县{s}乡村旅游专业合作社", 0, 2019, 2019, 0.03, 0.1, ("务工",)),
}
# county-wide projects (no village): kind, year, name, category, industry, nature, entity,
# guaranteed, explicit due (MM-DD or ""), participation, benefit types
COUNTY_PROJECTS = (
    ("jujube", 2018, "2018年红枣订单收购", "种植业", "红枣", "entity_led", "陕西北国枣业有限公司", 0, "", 0.1, ("订单收购",)),
    ("jujube", 2019, "2019年红枣订单收购（保底价每斤1.5元）", "种植业", "红枣", "entity_led", "陕西北国枣业有限公司", 0, "", 0.1, ("订单收购",)),
    ("processing", 2018, "红枣加工扶贫车间", "加工业", "红枣加工", "entity_led", "清涧县北国枣业加工有限公司", 0, "", 0.01, ("务工",)),
    ("ecommerce", 2019, "电商扶贫服务站农副产品代销", "电商", "电商", "entity_led", "清涧县电子商务公共服务中心", 0, "", 0.03, ("订单收购",)),
    ("solar3mw", 2019, "3MW多村联建光伏扶贫电站", "光伏扶贫", "光伏发电", "asset_income", "清涧县农业综合开发公司", 1000, "09-30", 0.048, ("分红",)),
    ("apple_county", 2019, "2019年25000亩山地苹果示范园（果业公司）", "种植业", "山地苹果", "entity_led", "清涧县果业公司", 500, "08-31", 0.0, ("分红", "务工")),
)
EXPLICIT_DUE_2019 = {"apple": "08-31", "pig": "09-30", "greenhouse": "09-30", "collective": "09-30"}
FUND_SOURCES = np.array(["中央财政专项扶贫资金", "省级财政专项扶贫资金", "市级财政专项扶贫资金",
                         "县级财政专项扶贫资金", "统筹整合涉农资金", "苏陕扶贫协作资金"])
UNITS = np.array(["县委办", "县政府办", "财政局", "农业农村局", "扶贫办", "发展改革和科技局", "教育和体育局",
                  "卫生健康局", "民政局", "人社局", "住建局", "水利局", "交通运输局", "林业局", "畜牧局",
                  "自然资源和规划局", "市场监督管理局", "统计局", "县人民医院", "国家卫健委驻清帮扶工作队"])
TEAMS = np.array(["驻村工作队", "帮扶干部", "第一书记", "镇村干部"])
RANKS = np.array(["科员", "办事员", "副科级", "正科级", "村干部", "副主任科员"])


def _dividend_due(year: np.ndarray, explicit: np.ndarray) -> np.ndarray:
    """Due date of a dividend of ``year``: the explicit date, else 09-30 of that year."""
    default = year_date(year, "09-30")
    return np.where(np.isnat(explicit), default, explicit)


def _projects(rng, hh: pd.DataFrame, villages: pd.DataFrame, ident, reserved, div_v: int, P) -> tuple[pd.DataFrame, pd.DataFrame]:
    nv = len(villages)
    rows = []
    # village projects, vectorised per kind over villages × years
    for kind, spec_ in KINDS.items():
        y0, y1, p = spec_[6], spec_[7], spec_[8]
        vv, yy = np.meshgrid(np.arange(nv), np.arange(y0, y1 + 1), indexing="ij")
        vv, yy = vv.ravel(), yy.ravel()
        keep = rng.random(len(vv)) < p
        if kind.startswith("direct"):  # each village gets one direct-subsidy project every year
            keep = np.ones(len(vv), bool) if kind == "direct_plant" else np.zeros(len(vv), bool)
            sub = rng.random(len(vv)) < 0.5
            kk = np.where(sub, "direct_plant", "direct_breed")
            for kx in ("direct_plant", "direct_breed"):
                m = kk == kx
                rows.append(pd.DataFrame({"kind": kx, "vidx": vv[m], "year": yy[m]}))
            continue
        rows.append(pd.DataFrame({"kind": kind, "vidx": vv[keep], "year": yy[keep]}))
    pr = pd.concat(rows, ignore_index=True)
    # the planted projects of the dividend village
    planted = pd.DataFrame({
        "kind": ["apple", "pig", "greenhouse", "collective", "direct_plant", "solar"],
        "vidx": div_v, "year": [2019, 2018, 2019, 2019, 2019, 2017],
        "plant": ["PA", "PP", "PG", "PC", "PD", "PS"],
    })
    pr = pd.concat([pr, planted], ignore_index=True)
    pr["plant"] = pr["plant"].fillna("")
    # one project per (village, kind, year): the planted one replaces a natural twin
    pr = pr.sort_values(["vidx", "kind", "year", "plant"], ascending=[True, True, True, False], kind="stable")
    pr = pr.drop_duplicates(["vidx", "kind", "year"]).reset_index(drop=True)
    k = pr["kind"].to_numpy()
    spec = pd.DataFrame.from_dict(KINDS, orient="index",
                                  columns=["nm", "category", "industry", "nature", "entity", "guar",
                                           "y0", "y1", "p", "part", "types"])
    s = spec.loc[k]
    v = villages.iloc[pr["vidx"].to_numpy()]
    vshort = v["village"].str.removesuffix("村").to_numpy()
    names = [a.format(v=b, y=c, s=b) for a, b, c in zip(s["nm"], v["village"], pr["year"], strict=True)]
    ents = [a.format(v=b, s=c) for a, b, c in zip(s["entity"], v["village"], vshort, strict=True)]
    proj = pd.DataFrame({
        "kind": k, "plant": pr["plant"].to_numpy(), "vidx": pr["vidx"].to_numpy(),
        "year": pr["year"].to_numpy(), "town": v["town"].to_numpy(), "village": v["village"].to_numpy(),
        "village_code": v["village_code"].to_numpy(), "town_code": v["town_code"].to_numpy(),
        "name": names, "category": s["category"].to_numpy(), "industry": s["industry"].to_numpy(),
        "nature": s["nature"].to_numpy(), "entity": ents, "guaranteed_dividend": s["guar"].to_numpy().astype(float),
        "part": s["part"].to_numpy().astype(float), "types": s["types"].to_numpy(),
    })
    due = np.full(len(proj), NAT)
    explicit = (proj["year"].to_numpy() == 2019) & np.isin(k, list(EXPLICIT_DUE_2019)) & (rng.random(len(proj)) < 0.6)
    mmdd = np.array([EXPLICIT_DUE_2019.get(x, "09-30") for x in k])
    due = np.where(explicit, year_date(proj["year"].to_numpy(), "01-01") + 0 * D, due)
    due = np.where(explicit, np.char.add("2019-", mmdd).astype("datetime64[D]"), due)
    plant = proj["plant"].to_numpy()
    due = np.where(plant == "PA", np.datetime64("2019-08-31"), due)
    due = np.where(plant == "PG", np.datetime64("2019-12-31"), due)
    due = np.where(np.isin(plant, ["PP", "PS", "PC"]), NAT, due)
    proj["dividend_due"] = due
    # county-wide projects
    cp = pd.DataFrame(list(COUNTY_PROJECTS), columns=["kind", "year", "name", "category", "industry", "nature",
                                                     "entity", "guaranteed_dividend", "due", "part", "types"])
    cp["dividend_due"] = np.where(cp["due"] == "", NAT,
                                  np.char.add(np.char.add(cp["year"].astype(str).to_numpy(), "-"),
                                              np.where(cp["due"] == "", "01-01", cp["due"]).astype(str)).astype("datetime64[D]"))
    cp = cp.drop(columns="due").assign(plant="", vidx=-1, town="", village="", village_code="", town_code="")
    cp["guaranteed_dividend"] = cp["guaranteed_dividend"].astype(float)
    proj = pd.concat([proj, cp], ignore_index=True)
    proj.loc[proj["guaranteed_dividend"] <= 0, "guaranteed_dividend"] = np.nan
    proj = proj.sort_values(["year", "village_code", "kind"], kind="stable").reset_index(drop=True)
    proj["project_id"] = (COUNTY_CODE + proj["year"].astype(str)
                          + (proj.groupby("year").cumcount() + 1).astype(str).str.zfill(4))
    proj["fund_source"] = rng.choice(FUND_SOURCES, len(proj), p=[0.35, 0.15, 0.1, 0.1, 0.25, 0.05])

    # --- beneficiaries: households of the village (or county) identified by the project year ---
    hv = hh["vidx"].to_numpy()
    n = len(hh)
    ok = ~reserved
    cand = []
    for scope_village in (True, False):
        pj = proj[(proj["vidx"] >= 0) == scope_village]
        if scope_village:
            order = np.argsort(hv, kind="stable")
            starts = np.searchsorted(hv[order], np.arange(len(villages)))
            ends = np.searchsorted(hv[order], np.arange(len(villages)), side="right")
            cnt = (ends - starts)[pj["vidx"].to_numpy()]
            pidx = np.repeat(pj.index.to_numpy(), cnt)
            off = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            hidx = order[np.repeat(starts[pj["vidx"].to_numpy()], cnt) + off]
        else:
            pidx = np.repeat(pj.index.to_numpy(), n)
            hidx = np.tile(np.arange(n), len(pj))
        cand.append(pd.DataFrame({"p": pidx, "h": hidx}))
    c = pd.concat(cand, ignore_index=True)
    py = proj["year"].to_numpy()[c["p"].to_numpy()]
    part = proj["part"].to_numpy()[c["p"].to_numpy()]
    relocated = hh["relocated"].to_numpy()[c["h"].to_numpy()] == "是"
    part = np.where(proj["kind"].to_numpy()[c["p"].to_numpy()] == "apple_county", np.where(relocated, 0.5, 0.0), part)
    sel = (rng.random(len(c)) < part) & ok[c["h"].to_numpy()] & (ident[c["h"].to_numpy()] <= py)
    c = c[sel].reset_index(drop=True)
    # the planted dividend households (all in div_v): their projects and rows are set below
    return proj, c


def _benefit_rows(rng, proj: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Expand (project, household) pairs into benefit rows by type and year, natural values."""
    out = []
    p = pairs["p"].to_numpy()
    h = pairs["h"].to_numpy()
    py = proj["year"].to_numpy()[p]
    types = proj["types"].to_numpy()[p]
    for bt in ("直补", "分红", "务工", "订单收购", "土地流转"):
        has = np.array([bt in t for t in types], bool)
        pp, hh_, y0 = p[has], h[has], py[has]
        if bt in ("分红", "土地流转"):
            nyear = 2019 - y0 + 1
        elif bt == "务工":
            nyear = np.where(y0 < 2019, 2, 1)
        else:
            nyear = np.ones(len(pp), int)
        rp = np.repeat(pp, nyear)
        rh = np.repeat(hh_, nyear)
        k = np.arange(len(rp)) - np.repeat(np.cumsum(nyear) - nyear, nyear)
        ry = np.repeat(y0, nyear) + k
        if bt == "务工":
            ry = np.where(k == 1, 2019, ry)
        out.append(pd.DataFrame({"p": rp, "h": rh, "year": ry, "benefit_type": bt}))
    b = pd.concat(out, ignore_index=True)
    m = len(b)
    bt = b["benefit_type"].to_numpy()
    y = b["year"].to_numpy()
    guar = proj["guaranteed_dividend"].to_numpy()[b["p"].to_numpy()]
    amount = np.select(
        [bt == "直补", bt == "分红", bt == "务工", bt == "订单收购", bt == "土地流转"],
        [np.rint(rng.uniform(10, 30, m)) * 100,
         np.where(rng.random(m) < 0.2, np.rint(guar * 1.2), guar),
         np.rint(rng.uniform(30, 90, m)) * 100,
         np.rint(rng.uniform(150, 600, m)) * 10,
         np.rint(rng.uniform(30, 150, m)) * 10], 0.0)
    due = _dividend_due(y, proj["dividend_due"].to_numpy()[b["p"].to_numpy()])
    last = np.minimum(year_date(y, "12-20"), ASOF - 5 * D)
    lo = np.select([bt == "土地流转", bt == "务工", bt == "订单收购"],
                   [year_date(y, "03-01"), year_date(y, "06-01"), np.where(y == 2019, year_date(y, "08-20"), year_date(y, "10-10"))],
                   year_date(y, "04-01"))
    paid = random_dates(rng, lo, np.maximum(lo, last), m)
    paid = np.where(bt == "分红", due - rng.integers(1, 46, m) * D, paid)
    paid = np.where((bt == "分红") & (due > ASOF), NAT, paid)  # not due yet: not paid yet
    b["amount"] = amount
    b["paid_date"] = paid
    b["due"] = due
    b["plant"] = ""
    return b


def _natural_dividend_issues(rng, b: pd.DataFrame) -> pd.DataFrame:
    """One problem in one year for 0.6 % of (project, household) dividend pairs."""
    div = np.flatnonzero(b["benefit_type"].to_numpy() == "分红")
    if len(div) == 0:
        return b
    sub = b.iloc[div]
    g = sub.groupby(["p", "h"], sort=True).ngroup().to_numpy()
    ng = g.max() + 1
    hit = rng.random(ng) < 0.006
    cnt = np.bincount(g, minlength=ng)
    pick = np.floor(rng.random(ng) * cnt).astype(int)
    rank = sub.groupby(["p", "h"], sort=True).cumcount().to_numpy()
    row = div[hit[g] & (rank == pick[g])]
    kind = rng.choice(np.array(["unpaid", "late", "short"]), len(row), p=[0.4, 0.3, 0.3])
    due = b["due"].to_numpy()[row]
    kind = np.where((kind == "late") & (due >= ASOF - 2 * D), "short", kind)
    kind = np.where((kind == "unpaid") & (due > ASOF), "short", kind)
    paid = b["paid_date"].to_numpy().copy()
    amount = b["amount"].to_numpy().copy()
    guar_short = amount[row] - np.rint(rng.uniform(1, 3, len(row))) * 100
    paid[row[kind == "unpaid"]] = NAT
    late_days = np.minimum(rng.integers(1, 60, len(row)), ((ASOF - due) / D).astype(int) - 1)
    paid[row[kind == "late"]] = (due + np.maximum(late_days, 1) * D)[kind == "late"]
    amount[row[kind == "short"]] = np.minimum(guar_short, amount[row] - 100)[kind == "short"]
    b = b.assign(paid_date=paid, amount=amount)
    return b


def _planted_benefits(proj: pd.DataFrame, hs: list[int]) -> tuple[pd.DataFrame, list[dict], list[dict]]:
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
    b["due"] = _dividend_due(b["year"].to_numpy(), proj["dividend_due"].to_numpy()[b["p"].to_numpy()])
    return b, ledger, decoys


# ---------------------------------------------------------------------------------------------


def _split_transfer(total: float, pension_nat: float) -> dict[str, float]:
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


def finish(rng, seed, n, hh, villages, members, hhx, comp, P, extras) -> County:
    ident, ex, status, ret_year = hhx["ident"], hhx["ex"], hhx["status"], hhx["ret_year"]
    size, reserved, f = hhx["size"], hhx["reserved"], hhx["f"]
    hh = hh.copy()
    hh["relocated"] = np.where(rng.random(n) < 0.12, "是", "否")

    # --- projects and benefits -----------------------------------------------------------
    proj, pairs = _projects(rng, hh, villages, ident, reserved, hhx["div_v"], P)
    ben = _benefit_rows(rng, proj, pairs)
    ben = _natural_dividend_issues(rng, ben)
    pb, div_ledger, div_decoys = _planted_benefits(proj, P["dividend"])
    ben = pd.concat([ben, pb], ignore_index=True)
    # benefits flow into income when paid: 务工 → wage, 直补/订单收购 → operating, 分红/土地流转 → property
    paid = ~np.isnat(ben["paid_date"].to_numpy())
    bt = ben["benefit_type"].to_numpy()
    cell = ben["h"].to_numpy() * NY + (ben["year"].to_numpy() - YEARS[0])
    for col, types in (("wage", ["务工"]), ("operating", ["直补", "订单收购"]), ("property", ["分红", "土地流转"])):
        m = paid & np.isin(bt, types)
        add = np.bincount(cell[m], weights=ben["amount"].to_numpy()[m], minlength=n * NY).reshape(n, NY)
        comp[col] = comp[col] + add

    # investment (yuan): direct projects = their subsidies; others drawn (county-wide ones larger)
    direct_sum = np.bincount(ben["p"].to_numpy(), weights=np.where(bt == "直补", ben["amount"].to_numpy(), 0),
                             minlength=len(proj))
    drawn = np.rint(rng.uniform(30, 400, len(proj))) * 10_000
    drawn = np.where(proj["vidx"].to_numpy() < 0, np.rint(rng.uniform(800, 3000, len(proj))) * 10_000, drawn)
    proj["investment"] = np.where(proj["nature"].to_numpy() == "direct", np.maximum(direct_sum, 10_000), drawn)
    nben = ben.drop_duplicates(["p", "h"])["p"].value_counts().reindex(proj.index, fill_value=0).to_numpy()
    proj["planned_households"] = nben + np.where(rng.random(len(proj)) < 0.2, rng.integers(1, 10, len(proj)), 0)

    # --- helpers and pairings --------------------------------------------------------------
    pairings, helpers, hp = _pairings(rng, hh, villages, ident, reserved, P)

    # households of the poor helpers: no jump at exit, 1 %/yr; the single-extreme one: +100 % in 2019
    f_new = f.copy()
    poor_h = hp["poor_households"]
    f_new[poor_h] = f[poor_h, :1] * 1.01 ** np.arange(NY)[None, :]
    ext = hp["extreme_household"]
    f_new[ext] = f[ext, 0] * 1.04 ** np.arange(NY)
    f_new[ext, -1] = f_new[ext, -2] * 2.0
    ratio = f_new / f
    for col in ("wage", "operating", "operating_cost"):
        comp[col] = comp[col] * ratio

    # --- round, then planted income rows -----------------------------------------------------
    for k in comp:
        comp[k] = np.rint(comp[k])
    comp["operating_cost"] = np.minimum(comp["operating_cost"], np.maximum(comp["operating"], 0))
    scale = rng.uniform(0.92, 1.08, 32)
    plants_dec, decoys_dec, plants_share = [], [], []
    labels = ["A", "B", "C", "D"]
    reasons = {
        "A": "因病：外出务工减少，连续3年人均纯收入下降，2019年低于贫困线",
        "B": "务工收入下降，连续3年人均纯收入下降",
        "C": "家庭人口增加（娶媳、添孙）导致人均纯收入连续3年下降，家庭纯收入未降",
        "D": "返贫户：连续3年人均纯收入下降",
    }
    for i, (h, lab) in enumerate(zip(P["decline"], labels, strict=True)):
        _set_income(comp, h, DECLINE_TABLES[lab], scale[i])
        plants_dec.append({"h": h, "reason": reasons[lab], "driver": "size" if lab == "C" else "income"})
    dd = P["decline_decoy"]
    dec_spec = [("N-1", "只有2次连续下降（2017→2019），不足3次"),
                ("gap", "2017年收入记录缺失，链条中断（报告为缺口，不算下降）"),
                ("B", "2019年才脱贫，不属于历年脱贫户"),
                ("end2018", "连续3年下降止于2018年，2019年回升"),
                ("flat", "2017年与2018年人均纯收入相等，不算下降"),
                ("A", "未脱贫户，不属于历年脱贫户")]
    for i, (h, (lab, why)) in enumerate(zip(dd, dec_spec, strict=True)):
        _set_income(comp, h, DECLINE_TABLES[lab], scale[4 + i])
        decoys_dec.append({"h": h, "why": why})
    missing = {(dd[1], 2017)}
    for h, (lab, row) in zip(P["share"], SHARE_ROWS, strict=True):
        _set_income_year(comp, h, 5, row)
        plants_share.append({"h": h, "case": lab})

    # --- income table -------------------------------------------------------------------------
    hcell, ycell = np.divmod(np.arange(n * NY), NY)
    year = YEARS[ycell]
    keep = year >= ident[hcell]
    for h, y in missing:
        keep[h * NY + (y - YEARS[0])] = False
    inc = pd.DataFrame({"h": hcell[keep], "year": year[keep], "size": size.ravel()[keep]})
    for k in ("wage", "operating", "operating_cost", "property", *TRANSFER_ITEMS):
        inc[k] = comp[k].ravel()[keep]
    inc["transfer"] = inc[list(TRANSFER_ITEMS)].sum(axis=1)
    inc["net_income"] = inc["wage"] + inc["operating"] - inc["operating_cost"] + inc["property"] + inc["transfer"]
    inc["net_per_capita"] = np.round(inc["net_income"] / inc["size"], 2)
    inc["hh_id"] = hh["hh_id"].to_numpy()[inc["h"].to_numpy()]

    # --- households table --------------------------------------------------------------------
    head = members[members["role"] == 0].set_index("hh").sort_index()
    hh["county"] = COUNTY
    hh["hamlet"] = _hamlets(rng, hh)
    hh["head_name"] = head["name"].to_numpy()
    hh["head_id_number"] = head["id_number"].str.upper().to_numpy()
    hh["size"] = hhx["size_now"]
    hh["poverty_attr"] = hhx["attr"]
    hh["exit_status"] = status
    hh["exit_year"] = np.where(status == "not_exited", np.nan, ex).astype(float)
    hh["planned_exit_year"] = np.where(status == "exited", ex, 2019).astype(float)
    hh["identified_year"] = ident
    hh["main_cause"] = hhx["cause"]
    hh["phone"] = phones(rng, n)
    hh["ret_year"] = ret_year

    # --- visits and reviews ------------------------------------------------------------------
    visits = _visits(rng, pairings, helpers)
    reviews = _reviews(rng, pairings, helpers, hp)

    ben["project_id"] = proj["project_id"].to_numpy()[ben["p"].to_numpy()]
    ben["hh_id"] = hh["hh_id"].to_numpy()[ben["h"].to_numpy()]
    tables = {
        "households": hh, "members": members, "income": inc, "projects": proj, "benefits": ben,
        "helpers": helpers, "pairings": pairings, "visits": visits, "reviews": reviews,
    }
    county = County(seed=seed, n=n, tables=tables)
    county.plants = {
        "income_decline": plants_dec, "shares": plants_share, "dividend": div_ledger,
        **{k: v for k, v in hp.items() if k.startswith("plant_")},
    }
    county.decoys = {"income_decline": decoys_dec, "dividend": div_decoys,
                     **{k: v for k, v in hp.items() if k.startswith("decoy_")}}
    county.extras = {"helpers_poor": hp["poor_helpers"], "helper_single_extreme": hp["extreme_helper"],
                     "helpers_unreviewed": hp["unreviewed"], "quality_households": P["quality"]}
    from qjlib.demo.quality import plant_quality

    plant_quality(rng, county)
    return county


def _set_income(comp, h: int, table, s: float) -> None:
    for j, row in enumerate(table):
        w, o, c, p, t = row
        _set_income_year(comp, h, j, (np.rint(w * s), np.rint(o * s), np.rint(c * s), np.rint(p * s), t))


def _set_income_year(comp, h: int, j: int, row) -> None:
    w, o, c, p, t = row
    comp["wage"][h, j], comp["operating"][h, j] = w, o
    comp["operating_cost"][h, j], comp["property"][h, j] = c, p
    for k, v in _split_transfer(float(t), float(comp["pension"][h, j])).items():
        comp[k][h, j] = v


def _hamlets(rng, hh: pd.DataFrame) -> np.ndarray:
    """Natural villages (自然村): 1–4 per village, named after it."""
    base = hh["village"].str.removesuffix("村").to_numpy()
    suffix = np.array(["", "前沟", "后沟", "圪崂"])
    return np.char.add(base.astype(str), suffix[rng.integers(0, 4, len(hh))])


# ---------------------------------------------------------------------------------------------
# helpers


def _pairings(rng, hh, villages, ident, reserved, P):
    n = len(hh)
    hv = hh["vidx"].to_numpy()
    nv = len(villages)
    cnt = np.bincount(hv, minlength=nv)
    r = rng.uniform(3.5, 5.0, nv)
    hv_n = np.where(cnt > 0, np.ceil(cnt / r), 0).astype(int)
    off = np.cumsum(hv_n) - hv_n
    order = np.lexsort((rng.random(n), hv))
    pos = np.empty(n, int)
    pos[order] = np.arange(n) - np.searchsorted(hv[order], hv[order])
    cur = off[hv] + pos % hv_n[hv]
    nh = int(hv_n.sum()) + 1  # + the single-extreme helper
    helper_v = np.r_[np.repeat(np.arange(nv), hv_n), hv[P["helper_hh"][7]]]
    helper_town = villages["town_idx"].to_numpy()[helper_v]
    # identification dates and changes
    ident_date = random_dates(rng, year_date(ident, "04-01"), year_date(ident, "10-31"), n)
    n_prev = rng.choice(3, n, p=[0.72, 0.24, 0.04])
    lo = ident_date + 120 * D
    hi = np.datetime64("2019-08-31")
    c1 = random_dates(rng, lo, hi, n)
    c2 = random_dates(rng, lo, hi, n)
    c1, c2 = np.minimum(c1, c2), np.maximum(c1, c2)
    c2 = np.where(c2 == c1, c2 + 30 * D, c2)
    # previous helpers: a helper of the same town (not the current one)
    t_of_h = villages["town_idx"].to_numpy()[hv]
    hs_by_town = [np.flatnonzero(helper_town[:-1] == t) for t in range(len(TOWNS))]

    def other_helper(k):
        out = np.empty(n, int)
        for t in range(len(TOWNS)):
            idx = np.flatnonzero(t_of_h == t)
            pool = hs_by_town[t]
            if len(idx) == 0:
                continue
            ch = pool[rng.integers(0, len(pool), len(idx))]
            ch = np.where(ch == cur[idx], pool[(np.searchsorted(pool, ch) + 1) % len(pool)], ch)
            out[idx] = ch
        return out

    prev1, prev2 = other_helper(1), other_helper(2)

    # --- the planted households -------------------------------------------------------------
    ph = P["helper_hh"]
    d = np.datetime64
    special = {}  # household -> list of (helper, start, end)
    special[ph[0]] = [(cur[ph[0]], ident_date[ph[0]], d("2019-06-30"))]
    special[ph[1]] = []
    special[ph[2]] = [(prev1[ph[2]], ident_date[ph[2]], d("2017-05-31")), (cur[ph[2]], d("2017-06-01"), d("2019-09-29"))]
    special[ph[3]] = [(prev1[ph[3]], ident_date[ph[3]], d("2018-09-30")), (prev2[ph[3]], d("2018-10-01"), d("2019-02-28")),
                      (cur[ph[3]], d("2019-03-01"), NAT)]
    special[ph[4]] = [(prev1[ph[4]], ident_date[ph[4]], d("2018-12-09")), (prev2[ph[4]], d("2018-12-10"), d("2019-03-31")),
                      (prev1[ph[4]], d("2019-04-01"), d("2019-08-14")), (cur[ph[4]], d("2019-08-15"), NAT)]
    special[ph[5]] = [(prev1[ph[5]], ident_date[ph[5]], d("2018-09-29")), (prev2[ph[5]], d("2018-09-30"), d("2019-02-28")),
                      (cur[ph[5]], d("2019-03-01"), NAT)]
    special[ph[6]] = [(prev1[ph[6]], ident_date[ph[6]], d("2019-04-30")), (cur[ph[6]], d("2019-05-01"), NAT)]
    ext_helper = nh - 1
    special[ph[7]] = [(cur[ph[7]], ident_date[ph[7]], d("2017-02-28")), (ext_helper, d("2017-03-01"), NAT)]
    cur_final = cur.copy()
    cur_final[ph[7]] = ext_helper
    active = np.ones(n, bool)
    active[[ph[0], ph[1], ph[2]]] = False

    # poor helpers: 3 helpers with 3–5 households, none reserved, all past-exited
    load = np.bincount(cur_final[active], minlength=nh)
    bad = np.zeros(nh, bool)
    np.logical_or.at(bad, cur_final, reserved)
    cand = np.flatnonzero((load >= 3) & (load <= 5) & ~bad)
    cand = cand[rng.permutation(len(cand))]
    poor = []
    used_towns = set()
    for c in cand:
        t = helper_town[c]
        if t in used_towns:
            continue
        poor.append(int(c))
        used_towns.add(t)
        if len(poor) == 3:
            break
    poor_mask = np.isin(cur_final, poor)
    n_prev = np.where(poor_mask, 0, n_prev)  # paired since identification

    # overloaded: bring helpers to 6 and 7 active households, and a decoy to exactly 5
    load = np.bincount(cur_final[active], minlength=nh)
    taken = set(poor) | {ext_helper}
    over = []
    for target in (6, 7, 5):
        cands = np.flatnonzero((load >= 3) & ~np.isin(np.arange(nh), list(taken)))
        cands = cands[rng.permutation(len(cands))]
        for hlp in cands:
            t = helper_town[hlp]
            donors = np.flatnonzero(active & ~reserved & (t_of_h == t) & (cur_final != hlp)
                                    & ~poor_mask & np.isin(cur_final, np.flatnonzero(load >= 3)))
            donors = donors[~np.isin(cur_final[donors], list(taken))]
            need = target - load[hlp]
            # at most one household from each donor helper
            _, first = np.unique(cur_final[donors], return_index=True)
            donors = donors[np.sort(first)]
            if need < 0 or len(donors) < need:
                continue
            mv = donors[:need]
            taken.update(int(x) for x in np.unique(cur_final[mv]))
            cur_final[mv] = hlp
            cur[mv] = hlp
            load = np.bincount(cur_final[active], minlength=nh)
            over.append((int(hlp), target))
            taken.add(int(hlp))
            break

    # --- assemble the pairing rows -----------------------------------------------------------
    # natural households: [prev1, (prev2),] cur; the special ones as listed above
    natural = np.ones(n, bool)
    natural[list(special)] = False
    rows_h, rows_hp, rows_s, rows_e = [], [], [], []
    h0 = np.flatnonzero(natural & (n_prev == 0))
    rows_h.append(h0); rows_hp.append(cur[h0]); rows_s.append(ident_date[h0]); rows_e.append(np.full(len(h0), NAT))  # noqa: E702
    h1 = np.flatnonzero(natural & (n_prev == 1))
    rows_h += [h1, h1]
    rows_hp += [prev1[h1], cur[h1]]
    rows_s += [ident_date[h1], c1[h1]]
    rows_e += [c1[h1] - D, np.full(len(h1), NAT)]
    h2 = np.flatnonzero(natural & (n_prev == 2))
    rows_h += [h2, h2, h2]
    rows_hp += [prev1[h2], prev2[h2], cur[h2]]
    rows_s += [ident_date[h2], c1[h2], c2[h2]]
    rows_e += [c1[h2] - D, c2[h2] - D, np.full(len(h2), NAT)]
    for h, lst in special.items():
        for hlp, s, e in lst:
            rows_h.append(np.array([h]))
            rows_hp.append(np.array([hlp]))
            rows_s.append(np.array([s], dtype="datetime64[D]"))
            rows_e.append(np.array([e], dtype="datetime64[D]"))
    pr = pd.DataFrame({"h": np.concatenate(rows_h), "helper": np.concatenate(rows_hp),
                       "start": np.concatenate(rows_s).astype("datetime64[D]"),
                       "end": np.concatenate(rows_e).astype("datetime64[D]")})
    helper_ids = np.char.add(COUNTY_CODE + "BF", np.char.zfill(np.arange(1, nh + 1).astype(str), 5))
    pr["helper_id"] = helper_ids[pr["helper"].to_numpy()]
    pr["hh_id"] = hh["hh_id"].to_numpy()[pr["h"].to_numpy()]
    pr = pr.sort_values(["hh_id", "start", "helper_id"], kind="stable").reset_index(drop=True)

    # helpers table
    male = rng.random(nh) < 0.7
    birth = random_dates(rng, np.datetime64("1962-01-01"), np.datetime64("1996-12-31"), nh)
    region = np.where(rng.random(nh) < 0.6, COUNTY_CODE, "610802")
    # helpers' sequence numbers start at 611, above any household member's of the same birth day
    ids = np.where(region == COUNTY_CODE, id_numbers(COUNTY_CODE, birth, male, rng, seq_offset=600),
                   id_numbers("610802", birth, male, rng, seq_offset=600))
    team = rng.choice(TEAMS, nh, p=[0.25, 0.5, 0.05, 0.2])
    unit = np.where(team == "镇村干部", np.array([t[0] for t in TOWNS])[helper_town] + "人民政府",
                    rng.choice(UNITS, nh))
    rank = np.where(team == "镇村干部", rng.choice(np.array(["村干部", "科员", "副科级"]), nh),
                    rng.choice(RANKS[:4], nh, p=[0.5, 0.15, 0.25, 0.1]))
    helpers = pd.DataFrame({"helper_id": helper_ids, "name": person_names(rng, male), "id_number": ids,
                            "phone": phones(rng, nh), "unit": unit, "rank": rank, "team": team,
                            "town_idx": helper_town})
    unrev_c = np.setdiff1d(np.arange(nh - 1), np.array(sorted(taken | set(poor)), int))
    unreviewed = np.sort(rng.choice(unrev_c, 4, replace=False))

    def hid(x):
        return [str(helper_ids[i]) for i in x]

    hp = {
        "poor_helpers": sorted(hid(poor)),
        "poor_households": np.flatnonzero(poor_mask),
        "extreme_helper": str(helper_ids[ext_helper]),
        "extreme_household": ph[7],
        "unreviewed": sorted(hid(unreviewed)),
        "plant_helper_unpaired": [
            {"h": ph[0], "reason": "结对于 2019-06-30 结束，未再结对"},
            {"h": ph[1], "reason": "从未结对帮扶干部"},
            {"h": ph[2], "reason": "结对于 2019-09-29 结束（截至日前一天），未再结对"}],
        "plant_helper_overloaded": [{"helper_id": str(helper_ids[x]), "households": t} for x, t in over if t > 5],
        "decoy_helper_overloaded": [{"helper_id": str(helper_ids[x]), "why": "恰好结对5户，不超过上限"}
                                    for x, t in over if t == 5],
        "plant_helper_frequent_change": [
            {"h": ph[3], "reason": "12个月内调换2次（2018-10-01、2019-03-01；窗口起点之后第一天计入）"},
            {"h": ph[4], "reason": "12个月内调换3次"}],
        "decoy_helper_frequent_change": [
            {"h": ph[5], "why": "2018-09-30 的调换恰在窗口起点（不含），窗口内仅1次"},
            {"h": ph[6], "why": "12个月内仅调换1次"}],
    }
    return pr, helpers, hp


def _visits(rng, pairings: pd.DataFrame, helpers: pd.DataFrame) -> pd.DataFrame:
    """Home visits 2018-01-01 … as-of: Poisson(rate × days/365) per pairing, rate 4–14 a year by helper."""
    lo = np.maximum(pairings["start"].to_numpy(), np.datetime64("2018-01-01"))
    end = pairings["end"].to_numpy()
    hi = np.where(np.isnat(end), ASOF, np.minimum(end, ASOF))
    days = ((hi - lo) / D).astype(float) + 1
    days = np.where(days > 0, days, 0)
    rate = rng.uniform(4, 14, len(helpers))[pairings["helper"].to_numpy()]
    k = rng.poisson(rate * days / 365.0)
    idx = np.repeat(np.arange(len(pairings)), k)
    date = random_dates(rng, lo[idx], hi[idx], len(idx))
    v = pd.DataFrame({"helper_id": pairings["helper_id"].to_numpy()[idx], "hh_id": pairings["hh_id"].to_numpy()[idx],
                      "date": date})
    v["kind"] = rng.choice(np.array(["入户走访", "电话回访", "集中走访"]), len(v), p=[0.75, 0.2, 0.05])
    v = v.drop_duplicates(["helper_id", "hh_id", "date"]).sort_values(["date", "helper_id", "hh_id"], kind="stable")
    return v.reset_index(drop=True)


def _reviews(rng, pairings: pd.DataFrame, helpers: pd.DataFrame, hp) -> pd.DataFrame:
    """Ratings 2018 and 2019: 群众测评 by each household paired at the rating date, 领导点评, 干部访谈."""
    nh = len(helpers)
    hid = helpers["helper_id"].to_numpy()
    effect = rng.normal(0, 4, nh)
    poor = np.isin(hid, hp["poor_helpers"])
    effect = np.where(poor, effect - 6, effect)
    unrev = np.isin(hid, hp["unreviewed"])
    out = []
    for year, lo, hi in ((2018, "2018-11-01", "2018-12-20"), (2019, "2019-06-01", "2019-09-20")):
        h = np.arange(nh)
        if year == 2019:
            h = h[~unrev]
        dv = random_dates(rng, np.datetime64(lo), np.datetime64(hi), len(h))
        dl = random_dates(rng, np.datetime64(lo), np.datetime64(hi), len(h))
        di = random_dates(rng, np.datetime64(lo), np.datetime64(hi), len(h))
        out.append(pd.DataFrame({"helper": h, "date": dl, "source": "领导点评", "hh_id": "",
                                 "score": np.clip(np.rint(rng.normal(82, 7, len(h)) + effect[h]), 50, 100)}))
        out.append(pd.DataFrame({"helper": h, "date": di, "source": "干部访谈", "hh_id": "",
                                 "score": np.clip(np.rint(rng.normal(76, 9, len(h)) + effect[h]), 30, 100)}))
        # villagers: each household paired with the helper on the rating date
        date_of = np.full(nh, NAT)
        date_of[h] = dv
        pd_ = date_of[pairings["helper"].to_numpy()]
        s, e = pairings["start"].to_numpy(), pairings["end"].to_numpy()
        on = ~np.isnat(pd_) & (s <= pd_) & (np.isnat(e) | (e >= pd_))
        ph = pairings[on]
        out.append(pd.DataFrame({"helper": ph["helper"].to_numpy(), "date": pd_[on], "source": "群众测评",
                                 "hh_id": ph["hh_id"].to_numpy(),
                                 "score": np.clip(np.rint(rng.normal(88, 6, int(on.sum())) + effect[ph["helper"].to_numpy()]), 40, 100)}))
    r = pd.concat(out, ignore_index=True)
    r["helper_id"] = hid[r["helper"].to_numpy()]
    r = r.drop_duplicates(["helper_id", "date", "source", "hh_id"])
    return r.sort_values(["date", "helper_id", "source", "hh_id"], kind="stable").reset_index(drop=True)
