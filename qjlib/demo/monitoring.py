"""Stage 7 of the demo county: return-to-poverty monitoring (issue #17, ``monitoring.md``).

Drawn with its own random stream (``[seed, 610830, 17]``) after the quality stage, so that every
earlier draw is unchanged. It

* rewrites the income rows (2016–2019) of a few past exited households that no other plant uses
  (:data:`CASES`: one case each, exact in whole yuan at the lines of :data:`LINES`), removes one
  household's 2019 row, and gives a 返贫 household an income below the line;
* adds the ``edge_households`` table (边缘户): drawn households plus the exact edge cases of
  :data:`EDGE_CASES`, and one row whose 户编号 is a registered household's (the finding
  ``edge_registered``, planted like the quality problems);
* appends hospital stays (:data:`STAYS`) to the departments' ``hospital`` roll for two quiet past
  exited households: out-of-pocket exactly at ``monitoring.oop_threshold`` inside the 12-month
  window with stays admitted exactly 12 months before A and the day after A (outside), and one
  fen over it in a stay admitted on A and settled in two rows. They are admitted in 2018 or
  discharged after A, so that no ``dept_mismatch`` rule sees them.

:func:`monitoring_truth` computes the expected ``monitoring`` and ``monitoring_edge`` keys and the
``monitoring.signals.*`` counts from the final tables with plain pandas, independently of
:mod:`qjlib.analyses.monitoring`; the department signals from the rolls when present
(``dropout`` from the departments' oracle :mod:`.departments_truth`), ``unsafe_house`` from
``exit.md``'s "safe on a date D" (:func:`house_safe_truth`) once ``housing`` exists.

Imports :mod:`.base` and :mod:`.departments_truth`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.core.definitions import id_checksum_ok
from qjlib.demo.base import ASOF, COUNTY_CODE, INCOME_YEAR, POVERTY_LINE, YEARS
from qjlib.demo.departments_truth import expected_mismatches

LINE, MONITOR = 3218, 5000  # 2019 poverty line and monitoring line (params/standards.yaml)
A = pd.Timestamp(ASOF)
OOP_THRESHOLD = 6000  # monitoring.oop_threshold (yuan, 12-month window)
MAX_FALL = (3, 10)  # monitoring.max_fall = 0.30
TRANSFER_DEPENDENT = (1, 2)  # income.transfer_dependent_share = 0.50
# Per-capita targets (yuan) for 2016, 2017, 2018, 2019; "-1" in the last place = one yuan of
# household income below the target (net = pc × size − 1). Transfer share in the last column.
CASES: dict[str, tuple[tuple[float, float, float, float], int, float, str]] = {
    # name: (pc 2016..2019, minus yuan in 2019, transfer share, expected)
    "below_line": ((4000, 4000, 4000, LINE), 1, 0.1, "about_to_return: 一元之差低于贫困线"),
    "at_line": ((4000, 4000, 4000, LINE), 0, 0.1, "consolidate: 恰为贫困线，不算低于贫困线，低于监测线"),
    "below_monitor": ((6000, 6000, 6000, MONITOR), 1, 0.1, "consolidate: 一元之差低于监测线"),
    "at_monitor": ((6000, 6000, MONITOR, MONITOR), 0, 0.1, "not listed: 恰为监测线"),
    "fall": ((10000, 10000, 10000, 7000), 1, 0.1, "consolidate: 降幅略超30%"),
    "fall_30": ((10000, 10000, 10000, 7000), 0, 0.1, "not listed: 降幅恰为30%"),
    "transfer": ((8000, 8000, 8000, 8000), 0, 0.6, "consolidate: 转移性收入占60%"),
    "decline": ((9000, 8500, 8000, 7500), 0, 0.1, "consolidate: 连续3年下降（每年不超过30%）"),
}
# Hospital stays at the 12-month window (2018-09-30, 2019-09-30] and monitoring.oop_threshold:
# name: (stays of (admitted, discharged, settlement rows of (total_cost, reimbursed)), expected).
# Out-of-pocket = total_cost − reimbursed, summed over a stay's rows and the household's stays.
STAYS: dict[str, tuple[tuple, str]] = {
    "oop_at_threshold": ((("2018-10-01", "2018-10-10", ((10000.0, 4000.0),)),  # first day in: 6,000
                          ("2018-09-30", "2018-10-08", ((5000.0, 4000.0),)),  # A − 12 months: out
                          ("2019-10-01", "2019-10-09", ((5000.0, 4200.0),))),  # after A: out
                         "not listed: 近12个月住院自付恰为6,000元（窗口外的两次住院不计）"),
    "oop_over": ((("2019-09-30", "2019-10-06", ((10000.0, 3000.0), (0.0, 999.99))),),  # on A: in
                 "consolidate: 近12个月住院自付6,000.01元（一次住院两行结算之和）"),
}
DEPARTMENT_ROLLS = ("welfare", "disability", "hospital", "enrollment", "student_aid", "posts", "deaths")
# Edge households at the edges: (net_per_capita, income_year or None, groups, expected class)
EDGE_CASES = [
    (LINE - 0.01, None, "", "below_line"),
    (LINE, None, "", "below_monitor_line"),
    (MONITOR - 0.01, None, "低保户", "below_monitor_line"),
    (MONITOR, None, "", None),
    (MONITOR, None, "低保户、五保户", None),
    (9000, None, "五保户，大病户", "special_group"),
    (9000, None, "残疾户", "special_group"),
    (9000, None, "危房户;低保户", "special_group"),
    (3000, 2018, "", "below_monitor_line"),  # 2018 line 2,995: not below it
    (2990, 2018, "", "below_line"),
]


@dataclass(frozen=True)
class MonitoringPlants:
    """The tables after the stage and the planted cases (``h`` generator index, ``case``)."""

    tables: dict[str, pd.DataFrame]
    cases: list[dict]


def _rewrite(inc: pd.DataFrame, hid: str, pcs, minus: float, share: float) -> None:
    """Income rows 2016–2019 of ``hid`` set (in place) to per capita ``pcs`` (× the row's size;
    2019 less ``minus`` yuan), ``share`` of it transfer (all in 其他转移性收入), 30 % operating."""
    for year, pc in zip(range(2016, 2020), pcs, strict=True):
        m = (inc["hh_id"] == hid).to_numpy() & (inc["year"] == year).to_numpy()
        size = float(inc.loc[m, "size"].iloc[0])
        net = pc * size - (minus if year == INCOME_YEAR else 0)
        transfer = np.floor(net * share)
        operating = np.floor(net * 0.3)
        for c in ("family_planning", "dibao_pay", "wubao_pay", "pension", "eco_comp", "property", "operating_cost"):
            if c in inc.columns:
                inc.loc[m, c] = 0.0
        inc.loc[m, "other_transfer"] = transfer
        inc.loc[m, "transfer"] = transfer
        inc.loc[m, "operating"] = operating
        inc.loc[m, "wage"] = net - transfer - operating
        inc.loc[m, "net_income"] = net
        inc.loc[m, "net_per_capita"] = round(net / size, 2)


def _candidates(hh: pd.DataFrame, inc: pd.DataFrame, reserved: np.ndarray, status: str) -> np.ndarray:
    """Generator indices of households of ``status`` exited before 2019 that no plant uses and whose
    2016–2019 income rows are all present and carry no planted problem."""
    clean = inc[(inc["_q"] == "") & inc["year"].between(2016, 2019)]
    full = clean.groupby("hh_id").size()
    ok_ids = full.index[full == 4]
    hq = hh[(hh["_q"] == "")] if "_q" in hh else hh
    m = (hq["exit_status"] == status) & (hq["exit_year"] < INCOME_YEAR) & hq["hh_id"].isin(ok_ids)
    idx = hq.index[m.to_numpy()].to_numpy()
    return idx[~reserved[idx]]


def plant_monitoring(seed: int, tables: dict[str, pd.DataFrame], reserved: np.ndarray) -> MonitoringPlants:
    """Stage 7 (module text): the tables with the planted monitoring cases and ``edge_households``."""
    rng = np.random.default_rng([seed, 610830, 17])
    t = dict(tables)
    hh, inc = t["households"], t["income"].copy()
    pool = rng.permutation(_candidates(hh, inc, reserved, "exited"))
    cases = []
    names = list(CASES)
    for h, name in zip(pool[: len(names)], names, strict=True):
        pcs, minus, share, why = CASES[name]
        _rewrite(inc, hh["hh_id"].iloc[h], pcs, minus, share)
        cases.append({"h": int(h), "case": name, "why": why})
    h_gap = int(pool[len(names)])
    gap_id = hh["hh_id"].iloc[h_gap]
    inc = inc[~((inc["hh_id"] == gap_id).to_numpy() & (inc["year"] == INCOME_YEAR).to_numpy())]
    cases.append({"h": h_gap, "case": "no_income_row", "why": "consolidate: 无2019年收入数据（不算低收入）"})
    ret = rng.permutation(_candidates(hh, inc, reserved, "returned"))
    if len(ret):
        _rewrite(inc, hh["hh_id"].iloc[ret[0]], (2000, 2000, 2000, 2000), 0, 0.1)
        cases.append({"h": int(ret[0]), "case": "returned", "why": "not listed: 返贫户不属于监测对象"})
    t["edge_households"] = _edge_table(rng, hh)
    if "hospital" in t:  # after every draw of the stream: the earlier plants stay as they were
        cases += _plant_stays(t, inc, pool[len(names) + 1:])
    t["income"] = inc.reset_index(drop=True)
    return MonitoringPlants(tables=t, cases=cases)


def _quiet(inc: pd.DataFrame) -> set:
    """Households far from every income signal: 2016–2019 rows, per capita ≥ 6,000 yuan in 2019,
    no fall of 25 % in 2019, transfers under 40 % of net income, and no fall in 2017–2019."""
    i = inc[inc["year"].between(2016, 2019) & (inc["_q"] == "")]
    i = i.assign(**{c: pd.to_numeric(i[c], errors="coerce")
                    for c in ("wage", "operating", "operating_cost", "property", "transfer", "size")})
    net = i["wage"] + i["operating"] - i["operating_cost"] + i["property"] + i["transfer"]
    pc = i.assign(pc=net / i["size"]).pivot_table(index="hh_id", columns="year", values="pc", aggfunc="first")
    share = (i["transfer"] / net).where(i["year"] == INCOME_YEAR).groupby(i["hh_id"]).max()
    ok = (pc.notna().all(axis=1) & (pc[2019] >= 6000) & (pc[2019] >= 0.75 * pc[2018])
          & (share.reindex(pc.index) < 0.4) & ~((pc[2017] < pc[2016]) & (pc[2018] < pc[2017]) & (pc[2019] < pc[2018])))
    return set(pc.index[ok.to_numpy()])


def _plant_stays(t: dict[str, pd.DataFrame], inc: pd.DataFrame, pool: np.ndarray) -> list[dict]:
    """Hospital stays at the 12-month window's edges (:data:`STAYS`) for past exited households
    of the ``pool`` that have a labour-capable member, no row in any department roll but insurance,
    no ``housing`` row (:func:`_quiet`), so that the stays alone decide whether they are listed.
    Appends to ``t["hospital"]``; the income rows are left as they are."""
    hh, mem = t["households"], t["members"]
    rolled = set().union(*(set(t[k]["id_number"]) for k in DEPARTMENT_ROLLS if k in t))
    m = mem[(mem["_q"] == "") & ~mem["id_number"].duplicated(keep=False)]
    able = m["labor_skill"].isin(["普通劳动力", "技能劳动力"]).groupby(m["hh_id"]).any()
    clean = (~m["id_number"].isin(rolled)).groupby(m["hh_id"]).all() & (
        m.groupby("hh_id").size() == mem.groupby("hh_id").size().reindex(able.index))
    housed = set(t["housing"]["hh_id"]) if "housing" in t else set()  # exit's houses (#18): no unsafe_house
    ok = (set(able.index[(able & clean).to_numpy()]) & _quiet(inc)) - housed
    picks = [h for h in pool if hh["hh_id"].iloc[h] in ok][: len(STAYS)]
    rows, cases = [], []
    for h, (name, (stays, why)) in zip(picks, STAYS.items(), strict=False):
        hid = hh["hh_id"].iloc[h]
        p = m[m["hh_id"] == hid].iloc[0]
        for adm, dis, parts in stays:
            rows += [{"id_number": p["id_number"], "name": p["name"], "admitted": pd.Timestamp(adm),
                      "discharged": pd.Timestamp(dis), "total_cost": tot, "eligible_cost": tot * 0.9,
                      "reimbursed": reimb, "hospital_name": "清涧县医院", "town": hh["town"].iloc[h]}
                     for tot, reimb in parts]
        cases.append({"h": int(h), "case": name, "why": why})
    extra = pd.DataFrame(rows).assign(_case="", _q="", _qtype="", _qcol="")
    t["hospital"] = pd.concat([t["hospital"], extra], ignore_index=True)
    return cases


def _edge_table(rng: np.random.Generator, hh: pd.DataFrame, n: int = 60) -> pd.DataFrame:
    """``edge_households``: ``n`` drawn households (per capita 5,500–14,000 yuan, a third in a
    group that is not special), the :data:`EDGE_CASES`, and one registered household's id."""
    villages = hh[["town", "village"]].drop_duplicates().reset_index(drop=True)
    k = n + len(EDGE_CASES) + 1
    where = villages.iloc[rng.integers(0, len(villages), k)].reset_index(drop=True)
    npc = np.round(rng.uniform(5500, 14000, k), 2)
    groups = np.where(rng.random(k) < 1 / 3, "低保户", "").astype(object)
    year = np.full(k, np.nan)
    for i, (pc, yr, g, _cls) in enumerate(EDGE_CASES):
        npc[n + i], groups[n + i] = pc, g
        year[n + i] = np.nan if yr is None else yr
    code = [f"BY{COUNTY_CODE}{i + 1:05d}" for i in range(k)]
    code[-1] = str(hh["hh_id"].iloc[0])  # a registered household's id: a finding
    edge = pd.DataFrame({
        "hh_id": code, "town": where["town"], "village": where["village"],
        "size": rng.integers(1, 7, k), "net_per_capita": npc,
        "income_year": pd.array(year, dtype="Float64").astype("Int64"),
        "groups": pd.Series(groups).replace("", None),
        "_q": "", "_qtype": "", "_qcol": "",
    })
    edge.loc[k - 1, ["_q", "_qtype", "_qcol"]] = ["edge_registered", "finding", "hh_id"]
    return edge



def _ok_ids(df: pd.DataFrame) -> pd.DataFrame:
    """Department rows whose ID passes GB 11643 (``departments.md``: a failing ID matches nobody)."""
    return df[id_checksum_ok(df["id_number"]).to_numpy()]


def _households_of(rows: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Department rows (with a ``_r`` row number) joined to every registered household one of whose
    members holds the row's ID; a row counts once per household."""
    reg = members[["id_number", "hh_id"]].dropna().drop_duplicates()
    return _ok_ids(rows).merge(reg, on="id_number").drop_duplicates(["_r", "hh_id"])


def house_safe_truth(hh_ids: pd.Index, housing: pd.DataFrame, relocation: pd.DataFrame | None,
                     day: pd.Timestamp) -> pd.Series:
    """``exit.md``'s "safe on a date D", plainly: True / False / <NA> (unknown) per ``hh_ids``.
    Safe when the latest assessment on or before D (two on one day: the worse grade) is A or B, or
    works recorded on that assessment are finished by D (a repair ``completed`` ≤ D, a rebuild
    ``moved_in`` ≤ D), or the household is in ``relocation`` with ``moved_in`` 是 on or before D
    (a blank date with 是 counts). Unsafe: the latest assessment is C/D and none of these."""
    h = housing[housing["assessed"] <= day].copy()
    h["g"] = h["grade"].astype(str).str.strip().str.upper().str.replace("级", "", regex=False)
    h = h.sort_values(["hh_id", "assessed", "g"]).groupby("hh_id").tail(1).set_index("hh_id")
    works = h["works"].replace({"重建": "rebuild", "修缮加固": "repair"}) if "works" in h else pd.Series("", index=h.index)
    done = pd.Series(False, index=h.index)
    if "completed" in h:
        done |= (works == "repair") & (h["completed"] <= day)
    if "moved_in" in h:
        done |= (works == "rebuild") & (h["moved_in"] <= day)
    safe = h["g"].isin(["A", "B"]) | done
    out = safe.reindex(hh_ids).astype("boolean")
    if relocation is not None and len(relocation):
        r = relocation[(relocation["moved_in"] == "是")
                       & (relocation["moved_in_date"].isna() | (relocation["moved_in_date"] <= day))]
        out[hh_ids.isin(r["hh_id"])] = True
    return out


def _department_signals(tables: dict[str, pd.DataFrame], ids: pd.Index, members: pd.DataFrame) -> dict:
    """The department signals of ``monitoring.md`` for the population ``ids`` (a boolean Series
    each), or ``"unavailable"`` when the table is absent; ``oop``: the 12-month out-of-pocket."""
    out: dict = {}
    if "hospital" in tables:  # Σ out-of-pocket of the members' stays admitted in (A − 12 months, A]
        h = _kept(tables["hospital"])
        h = h[(h["admitted"] > A - pd.DateOffset(months=12)) & (h["admitted"] <= A)].copy()
        oop = h["total_cost"] - h["reimbursed"]
        if "out_of_pocket" in h:
            oop = h["out_of_pocket"].fillna(oop)
        h["fen"] = (oop * 100).round()
        j = _households_of(h.reset_index(names="_r"), members)
        fen = j.groupby("hh_id")["fen"].sum().reindex(ids, fill_value=0)
        out["medical_burden"] = fen > OOP_THRESHOLD * 100
    if "enrollment" in tables:  # a member in rule dropout of dept_mismatch (the departments' oracle)
        drop = {r["person_id"] for r in expected_mismatches(tables) if r["rule"] == "dropout"}
        out["dropout"] = pd.Series(ids.isin(members.loc[members["person_id"].isin(drop), "hh_id"]), index=ids)
    if "welfare" in tables:  # 无劳动能力 (inputs.md, from members) and no dibao/tekun spell active on A
        skill = members["labor_skill"]
        able = skill.isin(["普通劳动力", "技能劳动力"]).groupby(members["hh_id"]).any()
        weak = (skill == "弱劳动力或半劳动力").groupby(members["hh_id"]).any()
        none = (~able & ~weak).reindex(ids, fill_value=False)  # no members rows: capacity unknown
        w = _kept(tables["welfare"]).reset_index(names="_r")
        w = w[w["programme"].isin(["低保", "农村低保", "最低生活保障", "特困", "特困供养", "五保", "dibao", "tekun"])]
        w = w[(w["start"] <= A) & (w["end"].isna() | (w["end"] >= A))]
        covered = ids.isin(_households_of(w, members)["hh_id"])
        out["no_safety_net"] = none & ~covered
    if "housing" in tables:  # known and not safe on A (exit.md); unknown is no signal
        safe = house_safe_truth(ids, _kept(tables["housing"]), tables.get("relocation"), A)
        out["unsafe_house"] = (safe == False).fillna(False).astype(bool)  # noqa: E712
    return {s: out.get(s, "unavailable") for s in ("medical_burden", "dropout", "no_safety_net", "unsafe_house")}


def _kept(df: pd.DataFrame) -> pd.DataFrame:
    """The rows the loader keeps (rejects dropped)."""
    return df[df["_qtype"].to_numpy() != "reject"] if "_qtype" in df else df


def monitoring_truth(tables: dict[str, pd.DataFrame], cases: list[dict]) -> dict:
    """The expected ``monitoring`` / ``monitoring_edge`` keys and signal counts (plain pandas on the
    final tables, rows the loader rejects dropped). The department signals
    (:func:`_department_signals`) are ``unavailable`` when their table is absent."""
    line_by_year = dict(zip(YEARS.tolist(), POVERTY_LINE.tolist(), strict=True))
    kept = _kept
    hh = kept(tables["households"]).drop_duplicates("hh_id")
    inc = kept(tables["income"]).drop_duplicates(["hh_id", "year"]).copy()
    inc["net"] = inc["wage"] + inc["operating"] - inc["operating_cost"] + inc["property"] + inc["transfer"]
    pop = hh[(hh["exit_status"] == "exited") & (hh["exit_year"] < INCOME_YEAR)].set_index("hh_id")
    ids = pop.index
    y = inc[inc["year"] == INCOME_YEAR].set_index("hh_id").reindex(ids)
    b = inc[inc["year"] == INCOME_YEAR - 1].set_index("hh_id").reindex(ids)
    has = y["net"].notna()
    fen_y = (y["net"] * 100).round()
    below = has & (fen_y < LINE * 100 * y["size"])
    below_m = has & ~below & (fen_y < MONITOR * 100 * y["size"])
    fall = has & b["net"].notna() & (MAX_FALL[1] * fen_y * b["size"]
                                     < (MAX_FALL[1] - MAX_FALL[0]) * (b["net"] * 100).round() * y["size"])
    with np.errstate(invalid="ignore"):  # no income row (NaN) compares False; `has` says so
        dep = has & (y["net"] > 0) & (TRANSFER_DEPENDENT[1] * y["transfer"]
                                      > TRANSFER_DEPENDENT[0] * y["net"])
    wide = inc.pivot_table(index="hh_id", columns="year", values="net", aggfunc="first")
    size = inc.pivot_table(index="hh_id", columns="year", values="size", aggfunc="first")
    pc = (wide / size).reindex(index=ids, columns=range(INCOME_YEAR - 3, INCOME_YEAR + 1))
    v = pc.to_numpy()
    with np.errstate(invalid="ignore"):  # a missing year compares False: no run
        run = pd.Series(np.all(v[:, 1:] < v[:, :-1], axis=1), index=ids)
    dept = _department_signals(tables, ids, kept(tables["members"]))
    sig = pd.DataFrame({"below_line": below, "below_monitor_line": below_m, "income_fall": fall,
                        "decline_run": run, "transfer_dependent": dep, "no_income_row": ~has,
                        **{k: v for k, v in dept.items() if not isinstance(v, str)}})
    other = sig.drop(columns="below_line").any(axis=1)
    cls = pd.Series(np.where(below, "about_to_return", np.where(other, "consolidate", "")), index=ids)
    h2id = tables["households"]["hh_id"].to_numpy()
    planted = {str(h2id[c["h"]]): c for c in cases}
    ledger = [{"hh_id": h, "class": c, "planted": h in planted and planted[h]["case"]}
              for h, c in sorted(cls[cls != ""].items())]
    edge = kept(tables["edge_households"])
    edge = edge[~edge["hh_id"].isin(hh["hh_id"])]
    eyear = edge["income_year"].astype("Float64").fillna(INCOME_YEAR).astype(int)
    eline = eyear.map(line_by_year).astype(float)
    efen = (edge["net_per_capita"].astype(float) * 100).round()
    eb = efen < eline * 100
    ebm = ~eb & (efen < MONITOR * 100)
    tok = edge["groups"].fillna("").astype(str).str.split(r"[、,，;；]", regex=True)
    special = tok.map(lambda g: bool({"大病户", "残疾户", "危房户"} & {x.strip() for x in g}))
    ecls = np.select([eb, ebm, special.to_numpy(dtype=bool)], ["below_line", "below_monitor_line", "special_group"], "")
    edge_rows = [{"hh_id": h, "class": c} for h, c in sorted(zip(edge["hh_id"], ecls, strict=True)) if c]
    return {
        "ledgers": {"monitoring": ledger, "monitoring_edge": edge_rows},
        "signals": {**{s: int(sig[s].sum()) for s in sig.columns},
                    **{k: v for k, v in dept.items() if isinstance(v, str)}},
        "past_exited": len(ids),
        "about_to_return": int((cls == "about_to_return").sum()),
        "consolidate": int((cls == "consolidate").sum()),
        "edge_households": len(edge),
        "cases": [{"hh_id": str(h2id[c["h"]]), "case": c["case"], "why": c["why"]} for c in cases],
        "edge_cases": [{"net_per_capita": pc, "income_year": yr, "groups": g, "class": c}
                       for pc, yr, g, c in EDGE_CASES],
    }
