"""Stage 6b (issue #19): the plan's dated targets in the demo county — the secretaries' visits, the
funds with their payments through the year, the micro-credit loans and the relocated households —
drawn with their own random stream (``[seed, 610830, 19]``) after the quality stage, so that every
earlier table stays byte-identical.

Planted (A = 2019-09-30, C = 2019), with decoys at every edge of ``contract/targets.md``:

* visits (五.2): every household planned to exit in 2019 is visited by a town or village secretary
  from January to July, except the planted misses — no visit at all, only a county secretary's
  visit (a level that does not count), only a visit of 2018-12-20 — and the late ones, visited
  only on 2019-08-15 (missing on 07-31, visited by A). Decoys: the only visit exactly on 07-31,
  exactly on 01-01. Three visits name an unknown household (``visit_target_unknown``).
* funds (二.8(1)): allocations of 2019 (poverty, integrated, both) paid through the year; planted
  behind funds; a fund at exactly 50 % by a payment on 06-30 and its twin paid on 07-01; a fund at
  exactly 75 % on 09-30 by a payment on 09-30; a refund taking a fund below 75 %; the county's
  poverty spending balanced to exactly 75 % on 09-30 (met). 2018 allocations all paid by 05-31
  except the planted ones (one completed only on 06-01, one a fen short); one completed exactly on
  05-31. Two payments of an unknown fund (``orphan_payment``).
* loans (二.8(2)): loans of registered households; planted overdue (due before 06-30, due in
  July–September, the bank's own overdue mark); decoys: due exactly on A, due before A but
  repaid. Ineligible: over 50 000 (decoy exactly 50 000), a borrower 66 on the loan date (decoy:
  65th birthday on the loan date), a borrower of another household, an unregistered household.
* relocation (二.2): a row per registered relocated household; planted not moved in, old houses
  standing, relocated households without a row, a row of a household the register says is not
  relocated; decoys: moved in with a blank date, moved in exactly on 09-30.

:func:`qjlib.demo.targets_truth.truth` recomputes every ledger's keys and the targets' values and statuses from these
tables with plain pandas (the contract's words written again), for any as-of date of 2019.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qjlib.demo.targets_truth import truth  # noqa: F401 - truth.json's ``targets`` part

T = pd.Timestamp
C = 2019
DAY = np.timedelta64(1, "D")


@dataclass
class TargetsDemo:
    """The stage's tables (canonical values) and its planted cases and decoys per ledger."""

    tables: dict[str, pd.DataFrame]
    plants: dict[str, list[dict]] = field(default_factory=dict)
    decoys: dict[str, list[dict]] = field(default_factory=dict)


def _q(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(_q="", _qtype="", _qcol="")


def _days(rng: np.random.Generator, lo: str, hi: str, n: int) -> np.ndarray:
    a, b = np.datetime64(lo), np.datetime64(hi)
    return a + rng.integers(0, int((b - a) / DAY) + 1, n) * DAY


def _visits(rng: np.random.Generator, hh: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    pool = hh[hh["planned_exit_year"] == C]
    ids = pool["hh_id"].to_numpy()
    pick = rng.permutation(len(ids))
    groups = {"none": pick[:12], "county_only": pick[12:16], "last_year": pick[16:20],
              "late": pick[20:23], "on_0731": pick[23:28], "on_0101": pick[28:31]}
    special = np.concatenate(list(groups.values()))
    normal = np.setdiff1d(np.arange(len(ids)), special)
    n2 = rng.random(len(normal)) < 0.4
    tgt = np.concatenate([normal, normal[n2]])
    dates = _days(rng, "2019-01-05", "2019-07-30", len(tgt))
    rows = [pd.DataFrame({"h": tgt, "level": np.where(rng.random(len(tgt)) < 0.5, "镇级", "村级"),
                          "date": dates})]
    for g, date, level in (("county_only", "2019-05-20", "县级"), ("last_year", "2018-12-20", "镇级"),
                           ("late", "2019-08-15", "村级"), ("on_0731", "2019-07-31", "镇级"),
                           ("on_0101", "2019-01-01", "村级")):
        rows.append(pd.DataFrame({"h": groups[g], "level": level, "date": np.datetime64(date)}))
    v = pd.concat(rows, ignore_index=True)
    v["target"] = ids[v["h"].to_numpy()]
    # other registered households, visited through the year (the monthly statistics)
    other = hh[hh["planned_exit_year"] != C]["hh_id"].to_numpy()
    k = min(600, len(other) // 2)
    o = rng.choice(other, k, replace=False)
    v = pd.concat([v.drop(columns="h"), pd.DataFrame({"target": o, "level": np.where(
        rng.random(k) < 0.15, "县级", "村级"), "date": _days(rng, "2019-01-02", "2019-09-30", k)})],
        ignore_index=True)
    place = hh.set_index("hh_id")
    town_code = place["town_code"].reindex(v["target"]).to_numpy()
    vil_code = place["village_code"].reindex(v["target"]).to_numpy()
    lv = v["level"].to_numpy()
    v["visitor_id"] = np.where(lv == "县级", "XS6108300",
                               np.where(lv == "镇级", "ZS" + pd.Series(town_code).astype(str).to_numpy(),
                                        "CS" + pd.Series(vil_code).astype(str).to_numpy()))
    v["post"] = np.where(lv == "县级", "县委书记", np.where(lv == "镇级", "镇党委书记", "村党支部书记"))
    unknown = pd.DataFrame({"target": ["6108309999000000001", "6108309999000000002", "6108309999000000003"],
                            "level": "镇级", "date": np.array(["2019-04-02", "2019-05-06", "2019-06-03"],
                                                              dtype="datetime64[D]"),
                            "visitor_id": "ZS9999", "post": "镇党委书记"})
    v = pd.concat([_q(v), _q(unknown).assign(_q="visit_target_unknown", _qtype="finding", _qcol="target")],
                  ignore_index=True)
    v["target_type"] = "household"
    v["date"] = v["date"].astype("datetime64[s]")
    v["visitor_name"] = rng.choice(np.array(list("王李张刘白高惠霍")), len(v)) + "书记"
    v["problems"] = np.where(rng.random(len(v)) < 0.1, "住房需维修", None)
    v = v.drop_duplicates(["visitor_id", "target_type", "target", "date"]).reset_index(drop=True)
    plants = {g: sorted(ids[groups[g]].tolist()) for g in ("none", "county_only", "last_year")}
    decoys = {g: sorted(ids[groups[g]].tolist()) for g in ("late", "on_0731", "on_0101")}
    return v, plants, decoys


def _area_visits(rng: np.random.Generator, hh: pd.DataFrame, vil: pd.DataFrame,
                 edge: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Visits of the villages planned to exit in C (by the county secretary, 县级) and of the edge
    households (by town or village secretaries), with their planted misses and edge decoys."""
    vp = np.sort(vil.loc[vil["planned_exit_year"] == C, "village_code"].astype(str).to_numpy())
    vp = vp[rng.permutation(len(vp))]
    vg = {"none": vp[:2], "town_only": vp[2:3], "late": vp[3:4], "on_0731": vp[4:5]}
    vn = vp[5:]
    ep = edge.loc[(edge["_q"] == "") & ~edge["hh_id"].isin(hh["hh_id"]), "hh_id"].to_numpy()
    ep = np.sort(ep)[rng.permutation(len(ep))]
    eg = {"none": ep[:3], "county_only": ep[3:4], "last_year": ep[4:5], "on_0930": ep[5:7]}
    en = ep[7:]
    others = np.sort(vil.loc[vil["planned_exit_year"] != C, "village_code"].astype(str).to_numpy())
    others = rng.choice(others, min(10, len(others)), replace=False)
    parts = [
        ("village", vn, "县级", _days(rng, "2019-01-05", "2019-07-30", len(vn))),
        ("village", others, "县级", _days(rng, "2019-01-05", "2019-09-30", len(others))),
        ("village", vg["town_only"], "镇级", np.array(["2019-05-10"], dtype="datetime64[D]")),
        ("village", vg["late"], "县级", np.array(["2019-08-20"], dtype="datetime64[D]")),
        ("village", vg["on_0731"], "县级", np.array(["2019-07-31"], dtype="datetime64[D]")),
        ("household", en, None, _days(rng, "2019-01-05", "2019-09-29", len(en))),
        ("household", eg["county_only"], "县级", np.array(["2019-06-10"], dtype="datetime64[D]")),
        ("household", eg["last_year"], "村级", np.array(["2018-11-20"], dtype="datetime64[D]")),
        ("household", eg["on_0930"], "镇级", np.full(2, np.datetime64("2019-09-30"))),
    ]
    rows = [pd.DataFrame({"target_type": tt, "target": ids, "level": lv if lv else np.where(
        rng.random(len(ids)) < 0.5, "镇级", "村级"), "date": np.resize(d, len(ids))})  # a small county: fewer
            for tt, ids, lv, d in parts]
    v = pd.concat(rows, ignore_index=True)
    v["date"] = v["date"].astype("datetime64[s]")
    towns = hh.drop_duplicates("town").set_index("town")["town_code"]
    etown = edge.set_index("hh_id")["town"]
    town = np.where(v["target_type"] == "village", v["target"].str[:9],
                    towns.reindex(etown.reindex(v["target"]).to_numpy()).astype(str).to_numpy())
    lv = v["level"].to_numpy()
    v["visitor_id"] = np.where(lv == "县级", "XS6108300", np.where(lv == "镇级", "ZS" + town, "CS" + town))
    v["post"] = np.where(lv == "县级", "县委书记", np.where(lv == "镇级", "镇党委书记", "村党支部书记"))
    plants = {"villages_" + g: sorted(vg[g].tolist()) for g in ("none", "town_only")}
    plants |= {"edge_" + g: sorted(eg[g].tolist()) for g in ("none", "county_only", "last_year")}
    decoys = {"villages_late": sorted(vg["late"].tolist()), "villages_on_0731": sorted(vg["on_0731"].tolist()),
              "edge_on_0930": sorted(eg["on_0930"].tolist()),
              "edge_registered": sorted(edge.loc[edge["_q"] == "edge_registered", "hh_id"].tolist())}
    return v, plants, decoys


def _funds(rng: np.random.Generator, towns: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    n = 90
    kind = rng.choice(["poverty", "integrated", "both"], n, p=[0.4, 0.35, 0.25])
    issued = rng.integers(20, 400, n) * 10_000.0 + rng.integers(0, 100, n) * 100.0  # whole 百元
    f = pd.DataFrame({
        "fund_id": [f"QJ-2019-{i:03d}" for i in range(1, n + 1)], "year": C,
        "poverty_fund": kind != "integrated", "integrated": kind != "poverty",
        "level": rng.choice(["中央", "省", "市", "县"], n), "project_id": None,
        "town": np.where(rng.random(n) < 0.8, rng.choice(towns, n), None), "issued": issued,
        "issued_date": np.where(rng.random(n) < 0.2, np.datetime64("NaT"),
                                _days(rng, "2019-01-10", "2019-05-31", n)).astype("datetime64[s]"),
    })
    f.loc[n - 5:, "issued_date"] = np.datetime64("2019-07-15")  # issued after the June step
    r06 = rng.uniform(0.52, 0.7, n)
    r09 = rng.uniform(0.80, 0.95, n)
    behind = rng.choice(n - 10, 8, replace=False)
    r09[behind] = rng.uniform(0.3, 0.6, 8)
    r06 = np.minimum(r06, r09)
    fen = np.rint(issued * 100).astype(np.int64)
    p06 = np.rint(fen * r06).astype(np.int64)
    p09 = np.rint(fen * r09).astype(np.int64) - p06
    d06 = _days(rng, "2019-02-01", "2019-06-29", n)
    d09 = _days(rng, "2019-07-02", "2019-09-29", n)
    late = f["issued_date"].to_numpy() == np.datetime64("2019-07-15")
    d06[late] = np.datetime64("2019-07-20")
    pays = pd.DataFrame({"fund_id": np.concatenate([f["fund_id"], f["fund_id"]]),
                         "date": np.concatenate([d06, d09]), "fen": np.concatenate([p06, p09])})
    ids = f["fund_id"].to_numpy()
    # edges: F(n-10) exactly 50 % by a payment on 06-30, F(n-9) the same on 07-01; F(n-8) exactly
    # 75 % on 09-30 by a payment on 09-30; F(n-7) at 76 % then a refund of 2 % (74 %)
    e50, e50l, e75, eref, bal = n - 10, n - 9, n - 8, n - 7, n - 6
    for i in (e50, e50l, e75, eref):
        f.loc[i, ["poverty_fund", "integrated", "issued_date"]] = [True, False, np.datetime64("2019-03-01")]
    f.loc[bal, ["poverty_fund", "integrated", "issued_date"]] = [True, False, np.datetime64("2019-03-01")]
    f.loc[bal, "issued"] = 30_000_000.0
    fen = np.rint(f["issued"].to_numpy() * 100).astype(np.int64)
    pays = pays[~pays["fund_id"].isin(ids[[e50, e50l, e75, eref, bal]])]
    extra = [(ids[e50], "2019-03-15", fen[e50] * 3 // 10), (ids[e50], "2019-06-30", fen[e50] // 2 - fen[e50] * 3 // 10),
             (ids[e50], "2019-08-30", fen[e50] // 4),
             (ids[e50l], "2019-03-15", fen[e50l] * 3 // 10), (ids[e50l], "2019-07-01", fen[e50l] // 2 - fen[e50l] * 3 // 10),
             (ids[e50l], "2019-08-30", fen[e50l] * 3 // 10),
             (ids[e75], "2019-04-10", fen[e75] // 2), (ids[e75], "2019-09-30", fen[e75] * 3 // 4 - fen[e75] // 2),
             (ids[eref], "2019-05-10", fen[eref] * 76 // 100), (ids[eref], "2019-09-10", -(fen[eref] * 2 // 100)),
             ]
    pays = pd.concat([pays, pd.DataFrame(extra, columns=["fund_id", "date", "fen"])], ignore_index=True)
    pays["date"] = pays["date"].astype("datetime64[s]")
    # the county's poverty spending on 09-30 balanced to exactly 75 % by a payment on 09-30
    pov = f["poverty_fund"].to_numpy(dtype=bool)
    den = int(fen[pov].sum())  # every poverty fund was issued by 09-30
    paid = int(pays.loc[pays["fund_id"].isin(ids[pov]) & (pays["date"] <= np.datetime64("2019-09-30")), "fen"].sum())
    assert den % 4 == 0 and 0 <= den * 3 // 4 - paid <= fen[bal]
    pays = pd.concat([pays, pd.DataFrame({"fund_id": [ids[bal]], "date": [np.datetime64("2019-09-30")],
                                          "fen": [den * 3 // 4 - paid]})], ignore_index=True)
    prev, pp = _previous_funds(rng, towns)
    orphan = pd.DataFrame({"fund_id": ["QJ-2019-999", "QJ-2019-999"],
                           "date": np.array(["2019-04-01", "2019-08-01"], dtype="datetime64[D]"),
                           "fen": [5_000_000, 2_000_000]})
    pays = pd.concat([_q(pays), _q(pp), _q(orphan).assign(_q="orphan_payment", _qtype="finding", _qcol="fund_id")],
                     ignore_index=True)
    pays["amount"] = pays["fen"].to_numpy(dtype=float) / 100
    pays["date"] = pays["date"].astype("datetime64[s]")
    pays = pays.drop(columns="fen").drop_duplicates(["fund_id", "date", "amount"]).reset_index(drop=True)
    funds = _q(pd.concat([f, prev], ignore_index=True))
    funds["issued_date"] = funds["issued_date"].astype("datetime64[s]")
    plants = {"behind": sorted([*ids[behind].tolist(), ids[eref]]),
              "previous": [prev["fund_id"][1], prev["fund_id"][2]]}
    decoys = {"on_0630_50pct": [ids[e50]], "on_0930_75pct": [ids[e75]], "previous_on_0531": [prev["fund_id"][0]]}
    return funds, pays, plants, decoys


def _previous_funds(rng: np.random.Generator, towns: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 2018 allocations and their payments (fen): all paid by 05-31 of 2019 except the
    planted (the second completed on 06-01, the third a fen short); the first completed on 05-31."""
    m = 24
    prev = pd.DataFrame({
        "fund_id": [f"QJ-2018-{i:03d}" for i in range(1, m + 1)], "year": C - 1,
        "poverty_fund": rng.random(m) < 0.6, "integrated": True, "level": rng.choice(["中央", "省"], m),
        "project_id": None, "town": rng.choice(towns, m),
        "issued": rng.integers(10, 200, m) * 10_000.0,
        "issued_date": _days(rng, "2018-03-01", "2018-10-31", m).astype("datetime64[s]")})
    pf = np.rint(prev["issued"].to_numpy() * 100).astype(np.int64)
    first = pf * 6 // 10
    rest = pf - first
    d2 = _days(rng, "2019-01-05", "2019-05-30", m)
    d2[0] = np.datetime64("2019-05-31")  # decoy: completed exactly on 05-31
    d2[1] = np.datetime64("2019-06-01")  # planted: completed the day after
    rest[2] -= 1  # planted: one fen short
    pp = pd.DataFrame({"fund_id": np.concatenate([prev["fund_id"], prev["fund_id"]]),
                       "date": np.concatenate([_days(rng, "2018-05-01", "2018-12-20", m), d2]),
                       "fen": np.concatenate([first, rest])})
    return prev, pp


def _loans(rng: np.random.Generator, hh: pd.DataFrame, members: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    n = int(min(700, max(40, len(hh) // 15)))
    mem = members[members["_q"] == ""]
    mem = mem[mem["hh_id"].isin(hh["hh_id"])]
    loan_date = _days(rng, "2016-06-01", "2019-08-31", n)
    # a borrower aged 25–60 on the loan date (born 1962–1992)
    by = mem["birth_date"].to_numpy().astype("datetime64[Y]").astype(int) + 1970
    cand = mem[(by >= 1962) & (by <= 1992)]
    b = cand.iloc[rng.choice(len(cand), n, replace=len(cand) < n)]
    years = rng.choice([1, 3], n, p=[0.3, 0.7])
    due = (pd.to_datetime(loan_date) + pd.to_timedelta(365 * years, "D")).to_numpy().astype("datetime64[s]")
    amount = rng.choice([10000.0, 20000.0, 30000.0, 50000.0], n, p=[0.15, 0.25, 0.3, 0.3])
    ln = pd.DataFrame({"loan_id": [f"JJ{2019000 + i:07d}" for i in range(n)], "hh_id": b["hh_id"].to_numpy(),
                       "id_number": b["id_number"].to_numpy(), "bank": rng.choice(["清涧农商银行", "邮储银行"], n),
                       "amount": amount, "loan_date": loan_date, "due_date": due})
    asof = np.datetime64("2019-09-30")
    past = due < asof
    ln["balance"] = np.where(past, 0.0, np.where(rng.random(n) < 0.5, amount, amount / 2))
    ln["repaid_date"] = np.where(past, due - rng.integers(0, 20, n) * DAY, np.datetime64("NaT"))
    ln["overdue_since"] = np.datetime64("NaT")
    fut = np.flatnonzero(~past & (ln["balance"].to_numpy() > 0))
    pick = rng.choice(fut, 20, replace=False)
    i_due_early, i_due_summer, i_mark, i_on_a = pick[0:3], pick[3:6], pick[6:9], pick[9]
    for i, d in zip([*i_due_early, *i_due_summer], ("2019-03-31", "2019-06-29", "2019-01-15", "2019-06-30",
                                                    "2019-08-20", "2019-09-29"), strict=True):
        ln.loc[i, ["loan_date", "due_date", "repaid_date"]] = [
            np.datetime64(d) - 1095 * DAY, np.datetime64(d), np.datetime64("NaT")]
    for i, d in zip(i_mark, ("2019-05-21", "2019-06-30", "2019-09-30"), strict=True):
        ln.loc[i, "overdue_since"] = np.datetime64(d)
    ln.loc[i_on_a, "due_date"] = asof  # decoy: due exactly on A
    ln.loc[pick[10], "amount"] = 60000.0  # planted over the limit
    ln.loc[pick[11], "amount"] = 50000.0  # decoy: exactly the limit
    # a borrower 66 on the loan date; a borrower whose 65th birthday is the loan date
    old = mem[(mem["birth_date"] >= T("1951-01-01")) & (mem["birth_date"] <= T("1953-12-31"))]
    o = old.iloc[rng.choice(len(old), 2, replace=len(old) < 2)]
    bd = o["birth_date"].to_numpy().astype("datetime64[s]")
    d66 = (pd.to_datetime(bd[0]) + pd.DateOffset(years=66, days=10)).to_datetime64()
    d65 = (pd.to_datetime(bd[1]) + pd.DateOffset(years=65)).to_datetime64()
    for i, (_, r), d in zip(pick[12:14], o.iterrows(), (d66, d65), strict=True):
        ln.loc[i, ["hh_id", "id_number", "loan_date"]] = [r["hh_id"], r["id_number"], d]
    other = mem[mem["hh_id"] != ln.loc[pick[14], "hh_id"]].iloc[0]
    ln.loc[pick[14], "id_number"] = other["id_number"]  # a borrower of another household
    ln.loc[pick[15], ["hh_id", "id_number"]] = ["6108309999000000009", None]  # not registered
    for c in ("loan_date", "due_date", "repaid_date", "overdue_since"):
        ln[c] = pd.to_datetime(ln[c]).astype("datetime64[s]")
    lid = ln["loan_id"].to_numpy()
    plants = {"overdue": sorted(lid[np.concatenate([i_due_early, i_due_summer[1:], i_mark[:2]])].tolist()),
              "ineligible": sorted(lid[[pick[10], pick[12], pick[14], pick[15]]].tolist())}
    decoys = {"overdue": sorted(lid[[i_on_a, i_due_summer[0], i_mark[2]]].tolist()),
              "ineligible": sorted(lid[[pick[11], pick[13]]].tolist())}
    decoys["overdue"] = sorted(lid[[i_on_a]].tolist())
    plants["overdue"] = sorted(lid[np.concatenate([i_due_early, i_due_summer, i_mark])].tolist())
    return _q(ln), plants, decoys


def _relocation(rng: np.random.Generator, hh: pd.DataFrame,
                exclude: frozenset[str] = frozenset()) -> tuple[pd.DataFrame, dict, dict]:
    """Relocation rows; the households of ``exclude`` (the exit stage's planted houses) get a row
    not moved in (first rows), so that no row of this stage makes their house safe."""
    rel = hh[hh["relocated"] == "是"]["hh_id"].to_numpy()
    notrel = hh[hh["relocated"] == "否"]["hh_id"].to_numpy()
    perm = rng.permutation(len(rel))
    rows = rel[perm]
    ex = np.isin(rows, list(exclude))
    no_row = rows[~ex][:4]
    rows = np.concatenate([rows[ex], rows[~ex][4:]])
    extra = rng.choice(notrel, 3 + len(exclude), replace=False)
    extra = extra[~np.isin(extra, list(exclude))][:3]
    ids = np.concatenate([rows, extra])
    n = len(ids)
    r = pd.DataFrame({"hh_id": ids, "site": rng.choice(["西城区集中安置点", "工业园区集中安置点", "石咀驿镇安置点"], n),
                      "moved_in": True, "moved_in_date": _days(rng, "2017-06-01", "2019-08-31", n)})
    recl = rng.random(n) < 0.55
    r["old_house"] = np.where(recl, "reclaimed", "standing")
    r["reclaimed_date"] = np.where(recl, _days(rng, "2019-01-10", "2019-09-20", n), np.datetime64("NaT"))
    k = max(5, int(ex.sum()))
    not_in = np.arange(k)
    r.loc[not_in, ["moved_in", "moved_in_date"]] = [False, np.datetime64("NaT")]
    r.loc[k, "moved_in_date"] = np.datetime64("NaT")  # decoy: 是 with a blank date counts
    r.loc[k + 1, "moved_in_date"] = np.datetime64("2019-09-30")  # decoy: moved in on 09-30
    r.loc[k + 2, "reclaimed_date"] = np.datetime64("2019-07-31")
    r.loc[k + 2, "old_house"] = "reclaimed"
    for c in ("moved_in_date", "reclaimed_date"):
        r[c] = pd.to_datetime(r[c]).astype("datetime64[s]")
    plants = {"not_moved_in": sorted(ids[not_in].tolist()), "no_row": sorted(no_row.tolist()),
              "row_not_relocated": sorted(extra.tolist())}
    decoys = {"blank_date": [ids[k]], "on_0930": [ids[k + 1]]}
    return _q(r.sort_values("hh_id").reset_index(drop=True)), plants, decoys


def _more(v: pd.DataFrame, av: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The visits with those of :func:`_area_visits` appended (names and problems drawn)."""
    av = _q(av).assign(visitor_name=rng.choice(np.array(list("王李张刘白高惠霍")), len(av)) + "书记",
                       problems=np.where(rng.random(len(av)) < 0.1, "道路需硬化", None))
    return pd.concat([v, av[v.columns]], ignore_index=True).drop_duplicates(
        ["visitor_id", "target_type", "target", "date"]).reset_index(drop=True)


def _posts(rng: np.random.Generator, t: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict, dict]:
    """Spells of 公益特岗 and 公益专岗 appended to the departments' ``posts`` (plan 一.5): 公益特岗
    topped up to exactly 240 persons active on 06-30 (met), 公益专岗 to 35 (one short: planted).
    Each spell its own post and a registered living person holding no other post (so that no rule
    of the departments fires). Decoys: a spell starting on 06-30 and one ending on 06-30 (both
    count), one ending on 06-29 and one starting on 07-01 (neither counts)."""
    posts, mem = t["posts"], t["members"]
    day = T(f"{C}-06-30")
    kept = posts[posts["_qtype"] != "reject"]
    act = kept[(kept["start"] <= day) & (kept["end"].isna() | (kept["end"] >= day))]
    have = {k: act.loc[act["post_type"] == k, "id_number"].str.upper().nunique() for k in ("公益特岗", "公益专岗")}
    busy = set(posts["id_number"].str.upper()) | set(t["deaths"]["id_number"].str.upper())
    m = mem[(mem["_q"] == "") & mem["hh_id"].isin(t["households"]["hh_id"])]
    m = m[~m["id_number"].str.upper().isin(busy) & ~m["id_number"].duplicated(keep=False)
          & (m["birth_date"] >= T("1964-01-01")) & (m["birth_date"] <= T("1996-12-31"))]
    n_sp, n_in = 240 - have["公益特岗"], 35 - have["公益专岗"]
    if len(m) < n_sp + n_in + 4 or n_sp < 2 or n_in < 1:  # a small county: no post plants
        return posts.iloc[:0].copy(), {}, {}
    who = m.iloc[rng.choice(len(m), n_sp + n_in + 4, replace=False)]
    who = who[["hh_id", "id_number", "name"]].merge(t["households"][["hh_id", "town", "village"]]
                                                    .drop_duplicates("hh_id"), on="hh_id", how="left")
    kind = np.array(["公益特岗"] * (n_sp + 2) + ["公益专岗"] * (n_in + 2))
    start = _days(rng, "2018-03-01", "2019-06-29", len(kind)).astype("datetime64[s]")
    end = np.full(len(kind), np.datetime64("NaT"), dtype="datetime64[s]")
    # edges: the last two counted 公益特岗 start on / end on 06-30; two decoys not counted
    start[n_sp - 2] = np.datetime64("2019-06-30")
    start[n_sp - 1], end[n_sp - 1] = np.datetime64("2019-01-01"), np.datetime64("2019-06-30")
    start[n_sp], end[n_sp] = np.datetime64("2019-01-01"), np.datetime64("2019-06-29")
    start[n_sp + 1] = np.datetime64("2019-07-01")
    start[-1] = np.datetime64("2019-07-01")
    start[-2], end[-2] = np.datetime64("2018-01-01"), np.datetime64("2019-06-29")
    out = pd.DataFrame({"post_id": [f"{'TG' if k == '公益特岗' else 'ZG'}{i:04d}" for i, k in enumerate(kind, 9501)],
                        "post_type": kind, "id_number": who["id_number"].to_numpy(), "name": who["name"].to_numpy(),
                        "start": start, "end": end, "monthly_pay": np.where(kind == "公益特岗", 500.0, 1500.0),
                        "town": who["town"].to_numpy(), "village": who["village"].to_numpy(),
                        "_case": ""})
    ids = out["id_number"].to_numpy()
    decoys = {"posts_counted_on_0630": sorted(ids[[n_sp - 2, n_sp - 1]].tolist()),
              "posts_not_counted": sorted(ids[[n_sp, n_sp + 1, -2, -1]].tolist())}
    return _q(out), {"posts_institutional_short": [1]}, decoys


def draw_targets(seed: int, tables: dict[str, pd.DataFrame], exclude: frozenset[str] = frozenset()) -> TargetsDemo:
    """Stage 6b: the targets' tables drawn from the register as written (module text);
    ``exclude``: households that the exit stage planted (their relocation rows are not moved in)."""
    rng = np.random.default_rng([seed, 610830, 19])
    hh = tables["households"]
    hh = hh[hh["_qtype"] != "reject"]
    v, vp, vd = _visits(rng, hh)
    funds, pays, fp, fd = _funds(rng, np.sort(hh["town"].unique()))
    ln, lp, ld = _loans(rng, hh, tables["members"])
    hs = tables.get("housing")  # no row of a not-relocated household on the exit stage's planted houses (#18)
    rel, rp, rd = _relocation(rng, hh if hs is None else hh[hh["relocated"].eq("是") | hh["hh_id"].isin(
        set(hs["hh_id"]) - set(hs.loc[~hs["grade"].isin(["A", "B"]), "hh_id"]))], exclude)
    av, ap, ad = _area_visits(rng, hh, tables["villages"], tables["edge_households"])
    v = _more(v, av, rng)
    vp |= ap
    vd |= ad
    po, pp, pd_ = _posts(rng, tables)
    posts = pd.concat([tables["posts"], po[tables["posts"].columns]], ignore_index=True)
    return TargetsDemo(
        {"secretary_visits": v, "funds": funds, "fund_payments": pays, "loans": ln, "relocation": rel,
         "posts": posts},
        {"visits": [vp], "funds": [fp], "loans": [lp], "relocation": [rp], "posts": [pp]},
        {"visits": [vd], "funds": [fd], "loans": [ld], "relocation": [rd], "posts": [pd_]})
