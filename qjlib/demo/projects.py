"""Stage 3 of the demo county: industry projects, their beneficiaries and benefit rows, and the
flow of benefits into income.

Village projects are drawn per kind over villages × years (``KINDS``), county-wide projects are
listed (``COUNTY_PROJECTS``); the planted projects of the dividend village (PA, PP, PG, PC, PD, PS)
replace natural twins. Beneficiaries are households of the village (or county) identified by the
project year, none of them reserved for a planted case.

Dividends (保底分红): a project of an entity (新型经营主体带动) or a solar plant (资产收益) pays every
beneficiary household its guaranteed dividend each year from the project year to 2019, due on the
project's ``dividend_due`` (given only for 2019 projects, whose one dividend falls in 2019) or else on
09-30 of the benefit year; paid 1–45 days before the due date. A small share of (project, household)
pairs has one natural problem in one year (unpaid, paid late, or paid short).

Imports only :mod:`.base`, :mod:`.people` and :mod:`.income`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.demo.base import (
    ASOF,
    COUNTY_CODE,
    DIVIDEND_DEFAULT_DUE,
    NAT,
    NY,
    YEARS,
    D,
    random_dates,
    year_date,
)
from qjlib.demo.income import Components
from qjlib.demo.people import People, Planted

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


@dataclass(frozen=True)
class Projects:
    """Stage 3's result.

    ``projects``: one row per project (kind, ``plant`` label or "", ``vidx`` village index or −1
    for county-wide, year, place, name, category, industry, nature, entity, guaranteed_dividend
    (yuan/household, NaN if none), ``dividend_due``, ``project_id``, fund_source; after
    :func:`finish_projects` also investment (yuan) and planned_households);
    ``pairs``: (``p`` project row, ``h`` household) of the natural beneficiaries;
    ``benefits``: one row per (project, household, year, benefit_type): amount (yuan),
    paid_date (NaT = unpaid), due, ``plant`` label; ``relocated``: 是/否 per household (易地扶贫搬迁).
    """

    projects: pd.DataFrame
    pairs: pd.DataFrame
    benefits: pd.DataFrame
    relocated: np.ndarray


def dividend_due(year: np.ndarray, explicit: np.ndarray) -> np.ndarray:
    """Due date of a dividend of ``year``: the explicit date, else ``DIVIDEND_DEFAULT_DUE`` (09-30)
    of that year."""
    default = year_date(year, DIVIDEND_DEFAULT_DUE)
    return np.where(np.isnat(explicit), default, explicit)


def _project_draws(rng: np.random.Generator, nv: int, div_v: int) -> pd.DataFrame:
    """(kind, vidx, year, plant) of every village project: per kind a draw per village and year
    (one direct-subsidy project per village and year, planting or breeding), plus the planted
    projects of the dividend village, each replacing a natural twin."""
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
    return pr.drop_duplicates(["vidx", "kind", "year"]).reset_index(drop=True)


def _village_projects(rng: np.random.Generator, pr: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """The village projects' attributes from ``KINDS``; 60 % of 2019 projects of the kinds in
    ``EXPLICIT_DUE_2019`` state a due date; the planted ones have theirs (PA 08-31, PG 12-31)."""
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
    return proj


def _county_projects() -> pd.DataFrame:
    """The county-wide projects of ``COUNTY_PROJECTS`` (no village, ``vidx`` −1)."""
    cp = pd.DataFrame(list(COUNTY_PROJECTS), columns=["kind", "year", "name", "category", "industry", "nature",
                                                     "entity", "guaranteed_dividend", "due", "part", "types"])
    cp["dividend_due"] = np.where(cp["due"] == "", NAT,
                                  np.char.add(np.char.add(cp["year"].astype(str).to_numpy(), "-"),
                                              np.where(cp["due"] == "", "01-01", cp["due"]).astype(str)).astype("datetime64[D]"))
    cp = cp.drop(columns="due").assign(plant="", vidx=-1, town="", village="", village_code="", town_code="")
    cp["guaranteed_dividend"] = cp["guaranteed_dividend"].astype(float)
    return cp


def _beneficiaries(rng: np.random.Generator, proj: pd.DataFrame, people: People, reserved: np.ndarray,
                   relocated: np.ndarray) -> pd.DataFrame:
    """(p, h) pairs: each household of the project's village (every household for a county-wide
    project) takes part with the project's probability ``part`` (the county apple park: relocated
    households only, half of them), if identified by the project year and not reserved."""
    hh, villages, ident = people.hh, people.villages, people.reg.ident
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
    relocated = relocated[c["h"].to_numpy()] == "是"
    part = np.where(proj["kind"].to_numpy()[c["p"].to_numpy()] == "apple_county", np.where(relocated, 0.5, 0.0), part)
    sel = (rng.random(len(c)) < part) & ok[c["h"].to_numpy()] & (ident[c["h"].to_numpy()] <= py)
    return c[sel].reset_index(drop=True)


def _all_projects(rng: np.random.Generator, people: People, div_v: int) -> pd.DataFrame:
    """Village and county-wide projects, sorted by year and place, with ids
    (county code + year + 4-digit serial) and a drawn fund source."""
    pr = _project_draws(rng, len(people.villages), div_v)
    proj = _village_projects(rng, pr, people.villages)
    proj = pd.concat([proj, _county_projects()], ignore_index=True)
    proj.loc[proj["guaranteed_dividend"] <= 0, "guaranteed_dividend"] = np.nan
    proj = proj.sort_values(["year", "village_code", "kind"], kind="stable").reset_index(drop=True)
    proj["project_id"] = (COUNTY_CODE + proj["year"].astype(str)
                          + (proj.groupby("year").cumcount() + 1).astype(str).str.zfill(4))
    proj["fund_source"] = rng.choice(FUND_SOURCES, len(proj), p=[0.35, 0.15, 0.1, 0.1, 0.25, 0.05])
    return proj


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
    due = dividend_due(y, proj["dividend_due"].to_numpy()[b["p"].to_numpy()])
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



def draw_projects(rng: np.random.Generator, people: People, planted: Planted) -> Projects:
    """Stage 3, first part: who was relocated (12 %), the projects, their natural beneficiaries
    and benefit rows with the natural dividend problems."""
    relocated = np.where(rng.random(people.n) < 0.12, "是", "否")
    proj = _all_projects(rng, people, planted.dividend_village)
    pairs = _beneficiaries(rng, proj, people, planted.reserved, relocated)
    ben = _benefit_rows(rng, proj, pairs)
    ben = _natural_dividend_issues(rng, ben)
    return Projects(projects=proj, pairs=pairs, benefits=ben, relocated=relocated)


def benefits_into_income(comp: Components, ben: pd.DataFrame) -> Components:
    """Benefits flow into income in their year when paid: 务工 → wage, 直补/订单收购 → operating,
    分红/土地流转 → property (本金返还, a return of capital, does not)."""
    n = comp.wage.shape[0]
    paid = ~np.isnat(ben["paid_date"].to_numpy())
    bt = ben["benefit_type"].to_numpy()
    cell = ben["h"].to_numpy() * NY + (ben["year"].to_numpy() - YEARS[0])
    out = {}
    for col, types in (("wage", ["务工"]), ("operating", ["直补", "订单收购"]), ("property", ["分红", "土地流转"])):
        m = paid & np.isin(bt, types)
        add = np.bincount(cell[m], weights=ben["amount"].to_numpy()[m], minlength=n * NY).reshape(n, NY)
        out[col] = comp.get(col) + add
    return comp.replace(**out)


def finish_projects(rng: np.random.Generator, projects: Projects, planted_benefits: pd.DataFrame) -> Projects:
    """Stage 3, second part: the planted benefit rows joined to the natural ones, then each
    project's investment (yuan: a direct project = the sum of its 直补, at least 10,000; others
    drawn, 0.3–4 million, county-wide 8–30 million) and planned households (beneficiary households,
    + 1–9 for a fifth of the projects)."""
    proj = projects.projects.copy()
    ben = pd.concat([projects.benefits, planted_benefits], ignore_index=True)
    bt = ben["benefit_type"].to_numpy()
    direct_sum = np.bincount(ben["p"].to_numpy(), weights=np.where(bt == "直补", ben["amount"].to_numpy(), 0),
                             minlength=len(proj))
    drawn = np.rint(rng.uniform(30, 400, len(proj))) * 10_000
    drawn = np.where(proj["vidx"].to_numpy() < 0, np.rint(rng.uniform(800, 3000, len(proj))) * 10_000, drawn)
    proj["investment"] = np.where(proj["nature"].to_numpy() == "direct", np.maximum(direct_sum, 10_000), drawn)
    nben = ben.drop_duplicates(["p", "h"])["p"].value_counts().reindex(proj.index, fill_value=0).to_numpy()
    proj["planned_households"] = nben + np.where(rng.random(len(proj)) < 0.2, rng.integers(1, 10, len(proj)), 0)
    return Projects(projects=proj, pairs=projects.pairs, benefits=ben, relocated=projects.relocated)
