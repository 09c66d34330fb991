"""``truth.json`` of the demo county: every key each ledger must hold, computed here from the
generator's own clean arrays with plain numpy/pandas — independently of the analysis modules.

The sets are computed on the data **as the loader will keep it**: rows the loader must reject (a
duplicate copy, an unparseable income row, the 合计 line) are dropped first, so a rejected income row
is a missing year. Period 2019Q3: as-of 2019-09-30, income year 2019, defaults of
``params/standards.yaml``:

* ``income_decline``: past-exited households (exited or returned, ``exit_year`` < 2019) with
  ``pc[t] < pc[t−1]`` for t = 2017, 2018, 2019 (a missing year breaks the chain); ``driver`` is
  ``size`` when the household's net income did not fall (2019 ≥ 2016) — the size effect — else
  ``income``.
* ``income_low_operating``: 2019 net income > 0, labour capacity 有/弱劳动能力, (operating −
  operating_cost) / net income < 0.10.
* ``income_transfer_dependent``: 2019 net income > 0, transfer / net income > 0.50.
* ``dividend_overdue``: entity-led (新型经营主体带动) or asset-income (资产收益) projects; a 分红 row is
  unpaid (no paid date, due ≤ as-of), late (paid after due) or short (paid below the guaranteed
  dividend); a 本金返还 row in a year without 分红 row, due ≤ as-of, is principal. Due = the
  project's 分红截止日期, else 09-30 of the benefit year.
* ``helper_unpaired``: households without a pairing with start ≤ as-of and (no end or end ≥ as-of).
* ``helper_overloaded``: helpers with more than 5 such pairings.
* ``helper_frequent_change``: households with more than 1 non-first pairing starting in the window
  (2018-09-30, 2019-09-30] — the day 12 months before the as-of date is outside, the as-of date
  inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from qjlib.core import schema
from qjlib.demo import departments_truth
from qjlib.demo.base import (
    ASOF,
    DIVIDEND_DEFAULT_DUE,
    DIVIDEND_NATURES,
    INCOME_YEAR,
    LOW_OPERATING,
    MAX_CHANGES,
    MAX_HOUSEHOLDS,
    N_DECLINES,
    TRANSFER_DEPENDENT,
    WINDOW_START,
)
from qjlib.demo.county import County

LOW_CASES = {"low_op_below", "weak_low_op"}  # share plants listed as low-operating
DEP_CASES = {"transfer_above", "weak_low_op", "no_labour"}  # share plants listed as transfer-dependent


def _kept(df: pd.DataFrame) -> pd.DataFrame:
    """The rows the loader keeps (not marked ``_qtype == "reject"``)."""
    if "_qtype" not in df.columns:
        return df
    return df[df["_qtype"].to_numpy() != "reject"]


def _labour_capacity(members: pd.DataFrame) -> pd.Series:
    """有劳动能力 if any member is 普通/技能劳动力; else 弱劳动能力 if any is 弱劳动力或半劳动力; else 无."""
    skill = members["labor_skill"].to_numpy()
    full = pd.Series(np.isin(skill, ["普通劳动力", "技能劳动力"])).groupby(members["hh_id"].to_numpy()).any()
    weak = pd.Series(skill == "弱劳动力或半劳动力").groupby(members["hh_id"].to_numpy()).any()
    return pd.Series(np.where(full, "有劳动能力", np.where(weak.reindex(full.index), "弱劳动能力", "无劳动能力")),
                     index=full.index)


def _by_hh_id(county: County, items: list[dict], key: str = "h") -> dict[str, dict]:
    """Planted items keyed by the hh_id of their generator index ``key``."""
    h2id = county.tables["households"]["hh_id"].to_numpy()
    return {str(h2id[x[key]]): x for x in items}


def _income(county: County) -> pd.DataFrame:
    """Kept income rows with ``net`` = wage + operating − operating_cost + property + transfer
    (yuan) and ``pc`` = net ÷ size (yuan per person)."""
    inc = _kept(county.tables["income"]).copy()
    for c in ("wage", "operating", "operating_cost", "property", "transfer"):
        inc[c] = inc[c].astype(float)
    inc["net"] = inc["wage"] + inc["operating"] - inc["operating_cost"] + inc["property"] + inc["transfer"]
    inc["pc"] = inc["net"] / inc["size"]
    return inc


def _decline(county: County, inc: pd.DataFrame, hh: pd.DataFrame) -> list[dict]:
    """``income_decline``: see the module text."""
    years = list(range(INCOME_YEAR - N_DECLINES, INCOME_YEAR + 1))
    wide = inc.set_index(["hh_id", "year"])[["pc", "net"]]
    pc = wide["pc"].unstack("year").reindex(columns=years)  # noqa: PD010 (keys are unique: no aggregation)
    net = wide["net"].unstack("year").reindex(columns=years)  # noqa: PD010
    st = hh.set_index("hh_id")
    past = st["exit_status"].isin(["exited", "returned"]) & (st["exit_year"] < INCOME_YEAR)
    pcv = pc.to_numpy()
    dec = np.all(pcv[:, 1:] < pcv[:, :-1], axis=1)  # NaN (a missing year) compares False
    flagged = pc.index[dec & past.reindex(pc.index, fill_value=False).to_numpy()]
    planted = _by_hh_id(county, county.plants["income_decline"])
    decline = []
    for h in sorted(flagged):
        size_driver = net.loc[h, INCOME_YEAR] >= net.loc[h, INCOME_YEAR - N_DECLINES]
        p = planted.get(h)
        decline.append({"hh_id": h, "planted": p is not None,
                        "reason": p["reason"] if p else f"连续{N_DECLINES}年人均纯收入下降",
                        "driver": "size" if size_driver else "income",
                        "pc": [round(float(x), 2) for x in pc.loc[h]]})
    return decline


def _shares(county: County, inc: pd.DataFrame) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """(low-operating rows, transfer-dependent rows, their decoys): see the module text; the
    decoys are the share plants not listed in that ledger."""
    t = county.tables
    y = inc[inc["year"] == INCOME_YEAR].set_index("hh_id")
    cap = _labour_capacity(_kept(t["members"])).reindex(y.index)
    pos = y["net"] > 0
    op_share = (y["operating"] - y["operating_cost"]) / y["net"]
    tr_share = y["transfer"] / y["net"]
    low = y.index[pos & cap.isin(["有劳动能力", "弱劳动能力"]) & (op_share < LOW_OPERATING)]
    dep = y.index[pos & (tr_share > TRANSFER_DEPENDENT)]
    shares = _by_hh_id(county, county.plants["shares"])

    def share_rows(keys, cases, share, what):
        out = []
        for h in sorted(keys):
            p = shares.get(h)
            out.append({"hh_id": h, "planted": bool(p and p["case"] in cases),
                        "share": round(float(share[h]), 6), "reason": f"{what} {share[h]:.4f}"})
        return out

    def decoys(cases, share):
        return [{"hh_id": h, "case": p["case"], "share": _r(share.get(h)), "why": _why(p["case"])}
                for h, p in sorted(shares.items()) if p["case"] not in cases]

    return (share_rows(low, LOW_CASES, op_share, "经营性收入占比"),
            share_rows(dep, DEP_CASES, tr_share, "转移性收入占比"),
            decoys(LOW_CASES, op_share), decoys(DEP_CASES, tr_share))


def _dividends(county: County) -> tuple[list[dict], list[dict]]:
    """(``dividend_overdue`` rows, its decoys): see the module text."""
    t = county.tables
    pj = _kept(t["projects"]).set_index("project_id")
    b = _kept(t["benefits"])
    scope = pj.index[pj["nature"].isin(list(DIVIDEND_NATURES))]
    b = b[b["project_id"].isin(scope)].copy()
    explicit = pj["dividend_due"].reindex(b["project_id"]).to_numpy(dtype="datetime64[D]")
    default = (b["year"].astype(str) + "-" + DIVIDEND_DEFAULT_DUE).to_numpy().astype("datetime64[D]")
    b["due"] = np.where(np.isnat(explicit), default, explicit)
    b["guar"] = pj["guaranteed_dividend"].reindex(b["project_id"]).to_numpy()
    paid = b["paid_date"].to_numpy(dtype="datetime64[D]")
    isdiv = b["benefit_type"].to_numpy() == "分红"
    due = b["due"].to_numpy()
    is_due = due <= ASOF
    unpaid = isdiv & np.isnat(paid) & is_due
    late = isdiv & ~np.isnat(paid) & (paid > due) & is_due
    short = isdiv & ~np.isnat(paid) & (b["amount"].to_numpy() < b["guar"].to_numpy()) & is_due
    keys3 = b["project_id"] + "|" + b["hh_id"] + "|" + b["year"].astype(str)
    has_div = set(keys3[isdiv])
    principal = (b["benefit_type"].to_numpy() == "本金返还") & ~keys3.isin(has_div).to_numpy() & (due <= ASOF)
    st_ = np.select([unpaid, late, short, principal], ["unpaid", "late", "short", "principal"], "")
    od = b.assign(status=st_)[st_ != ""]
    pid = t["projects"]["project_id"].to_numpy()
    h2id = t["households"]["hh_id"].to_numpy()
    planted_div = {(pid[x["p"]], h2id[x["h"]], x["year"]): x for x in county.plants["dividend"]}
    overdue = []
    for (p, h), g in od.groupby(["project_id", "hh_id"], sort=True):
        statuses = sorted(set(g["status"]))
        pl = [planted_div.get((p, h, int(yy))) for yy in g["year"]]
        pl = [x for x in pl if x]
        overdue.append({"project_id": p, "hh_id": h, "status": ",".join(statuses),
                        "years": sorted(int(v) for v in g["year"]), "planted": bool(pl),
                        "reason": pl[0]["reason"] if pl else "保底分红逾期/未足额"})
    div_decoys = [{"project_id": pid[x["p"]], "hh_id": h2id[x["h"]], "year": x["year"], "why": x["why"]}
                  for x in county.decoys["dividend"]]
    return overdue, div_decoys


def _helpers(county: County, hid: np.ndarray) -> dict[str, list[dict]]:
    """``helper_unpaired``, ``helper_overloaded``, ``helper_frequent_change``: see the module text."""
    pr = _kept(county.tables["pairings"])
    s = pr["start"].to_numpy(dtype="datetime64[D]")
    e = pr["end"].to_numpy(dtype="datetime64[D]")
    act = (s <= ASOF) & (np.isnat(e) | (e >= ASOF))
    active = pr[act]
    unpaired = sorted(set(hid) - set(active["hh_id"]))
    load = active.drop_duplicates(["helper_id", "hh_id"])["helper_id"].value_counts()
    overloaded = sorted(load.index[load > MAX_HOUSEHOLDS])
    prs = pr.sort_values(["hh_id", "start", "helper_id"], kind="stable")
    first = ~prs["hh_id"].duplicated()
    st2 = prs["start"].to_numpy(dtype="datetime64[D]")
    inwin = ~first.to_numpy() & (st2 > WINDOW_START) & (st2 <= ASOF)
    changes = pd.Series(inwin).groupby(prs["hh_id"].to_numpy()).sum()
    frequent = sorted(changes.index[changes > MAX_CHANGES])
    pu = _by_hh_id(county, county.plants["plant_helper_unpaired"])
    pf = _by_hh_id(county, county.plants["plant_helper_frequent_change"])
    po = {x["helper_id"]: x for x in county.plants["plant_helper_overloaded"]}
    return {
        "helper_unpaired": [{"hh_id": h, "planted": h in pu, "reason": pu[h]["reason"] if h in pu else "无结对帮扶干部"}
                            for h in unpaired],
        "helper_overloaded": [{"helper_id": h, "planted": h in po, "households": int(load[h]),
                               "reason": f"结对{int(load[h])}户，超过上限{MAX_HOUSEHOLDS}户"} for h in overloaded],
        "helper_frequent_change": [{"hh_id": h, "planted": h in pf, "changes": int(changes[h]),
                                    "reason": pf[h]["reason"] if h in pf else f"12个月内调换{int(changes[h])}次"}
                                   for h in frequent],
    }


def _problems(problems: list[dict]) -> tuple[list[dict], list[dict]]:
    """(rejects, findings): each planted problem where the loader sees it, with the table's key as
    "column=value" pairs, e.g. "hh_id=6108…,year=2018" (none for 合计)."""
    rejects, findings = [], []
    for p in sorted(problems, key=lambda x: (x["table"], x["file"], x["row"])):
        rec = {"table": p["table"], "file": p["file"], "sheet": p["sheet"], "row": p["row"],
               "column": p["column"], "kind": p["kind"]}
        row = p["frame"].iloc[p["index"]]
        rec["key"] = "" if p["kind"] == "total_row" else ",".join(
            f"{c}={_plain(row[c])}" for c in schema.TABLES[p["table"]].key)
        (rejects if p["treatment"] == "reject" else findings).append(rec)
    return rejects, findings


def _nonpositive(inc: pd.DataFrame) -> list[dict]:
    """The findings ledger's ``net_income_nonpositive`` rows: kept income rows of the income year
    with net income ≤ 0 (the demo plants a zero and a negative)."""
    rows = inc[(inc["year"] == INCOME_YEAR) & (inc["net"] <= 0)]
    return [{"table": "income", "column": "net_income", "kind": "net_income_nonpositive",
             "key": f"hh_id={h},year={INCOME_YEAR}"} for h in sorted(rows["hh_id"])]


def compute_truth(county: County, problems: list[dict], files: list[dict]) -> dict[str, Any]:
    """Stage 7: the expected ledgers, decoys, rejects and findings of ``county`` as
    ``truth.json`` holds them (``problems`` and ``files`` as :func:`qjlib.demo.write.write_package`
    returns them)."""
    t = county.tables
    hh = _kept(t["households"])
    h2id = t["households"]["hh_id"].to_numpy()  # generator index -> hh_id
    inc = _income(county)
    low, dep, low_decoys, dep_decoys = _shares(county, inc)
    overdue, div_decoys = _dividends(county)
    ledgers = {
        "income_decline": _decline(county, inc, hh),
        "income_low_operating": low,
        "income_transfer_dependent": dep,
        "dividend_overdue": overdue,
        **_helpers(county, hh["hh_id"].to_numpy()),
    }
    decoys = {
        "income_decline": [{"hh_id": h2id[x["h"]], "why": x["why"]} for x in county.decoys["income_decline"]],
        "income_low_operating": low_decoys,
        "income_transfer_dependent": dep_decoys,
        "dividend_overdue": div_decoys,
        "helper_overloaded": county.decoys.get("decoy_helper_overloaded", []),
        "helper_frequent_change": [{"hh_id": h2id[x["h"]], "why": x["why"]}
                                   for x in county.decoys.get("decoy_helper_frequent_change", [])],
    }
    rejects, findings = _problems(problems)
    findings += _nonpositive(inc)
    return {
        "ledgers": ledgers,
        "decoys": decoys,
        "rejects": rejects,
        "findings": findings,
        "helpers_poor": county.extras["helpers_poor"],
        "helper_single_extreme": county.extras["helper_single_extreme"],
        "helpers_unreviewed": county.extras["helpers_unreviewed"],
        "departments": departments_truth.truth(t),  # issue #16
        "files": sorted(({"table": f["table"], "file": f["file"], "rows": f["rows"]} for f in files),
                        key=lambda f: f["file"]),
    }


def _plain(v) -> str:
    return str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) else str(v)


def _r(x) -> float | None:
    return None if x is None or x != x else round(float(x), 6)


_WHY = {
    "low_op_at": "经营性收入占比恰为 0.10，不低于门槛",
    "low_op_above": "经营性收入占比 0.1001，高于门槛",
    "transfer_at": "转移性收入占比恰为 0.50，不超过门槛",
    "transfer_below": "转移性收入占比 0.4999",
    "net_negative": "纯收入为负，无占比（数据质量问题），不列入任何占比台账",
    "net_zero": "纯收入为 0，无占比，不列入任何占比台账",
    "no_labour": "无劳动能力户，不列入经营性收入占比低台账",
    "low_op_below": "经营性收入占比 0.0999（转移性收入占比 0.25，不超过门槛）",
    "transfer_above": "转移性收入占比 0.5001（经营性收入占比 0.20，不低于门槛）",
}


def _why(case: str) -> str:
    return _WHY.get(case, case)
