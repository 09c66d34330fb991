"""The truth of the plan's dated targets in the demo county (issue #19, ``contract/targets.md``):
every ledger's keys and every measurable target's value and status recomputed from the generated
tables with plain pandas — the contract's words written again, independently of
:mod:`qjlib.analyses.targets` — for any as-of date A of 2019.

The pools of the visit targets are the contract's: registered households planned to exit in C
(visited by 镇级 or 村级 secretaries), villages with ``planned_exit_year`` = C (县级), edge households
that are not registered households (``monitoring.md``; 镇级 or 村级). The year's 危房改造 are the
distinct ``hh_id`` of ``housing`` with ``rebuild_year`` = C; posts count distinct ``id_number`` of
spells active on the day. Rejected rows (``_qtype`` reject) are not in the package and not here.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

T = pd.Timestamp
C = 2019
LEVELS = {"exit_households": ("镇级", "村级"), "exit_villages": ("县级",), "edge_households": ("镇级", "村级")}
STEPS = {  # target → [(month-day, threshold)], as the contract's table states them
    "visits.exit_households": [("07-31", 1.0)],
    "visits.exit_villages": [("07-31", 1.0)],
    "visits.edge_households": [("09-30", 1.0)],
    "funds.poverty": [("06-30", 0.50), ("09-30", 0.75), ("12-31", 0.92)],
    "funds.integrated": [("06-30", 0.45), ("09-30", 0.65), ("12-31", 0.80)],
    "funds.previous_year": [("05-31", 1.0)],
    "loans.overdue_cleared": [("06-30", 0)],
    "housing.rebuilt": [("06-30", 1.0)],
    "housing.moved_in": [("09-30", 1.0)],
    "relocation.moved_in": [("09-30", 1.0)],
    "relocation.reclaimed": [("07-31", 0.20), ("12-31", 0.50)],
    "posts.special": [("06-30", 240)],
    "posts.institutional": [("06-30", 36)],
}
AT_MOST = ("loans.overdue_cleared",)
HEALTH = {"health.insured_rate": 1.0, "health.critical_rate": 1.0, "health.reimbursement_ratio": 0.90,
          "health.family_doctor_rate": 1.0}  # every date, at least (plan 二.3)


def _fen(x: pd.Series) -> pd.Series:
    return (x.astype(float) * 100).round().astype("int64")


def _kept(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["_qtype"] != "reject"] if "_qtype" in df.columns else df


def _pools(t: dict[str, pd.DataFrame]) -> dict[str, tuple[str, pd.DataFrame]]:
    """Per visit target: (target_type, its pool with ``target`` and ``town``)."""
    hh = _kept(t["households"])
    ex = hh[hh["planned_exit_year"] == C]
    vil = _kept(t["villages"]).assign(target=lambda x: x["village_code"].astype(str))
    edge = _kept(t["edge_households"])
    edge = edge[~edge["hh_id"].isin(hh["hh_id"])]
    return {"exit_households": ("household", ex.assign(target=ex["hh_id"])[["target", "town"]]),
            "exit_villages": ("village", vil.loc[vil["planned_exit_year"] == C, ["target", "town"]]),
            "edge_households": ("household", edge.assign(target=edge["hh_id"])[["target", "town"]])}


def _visited(t: dict[str, pd.DataFrame], kind: str, ttype: str, d: pd.Timestamp) -> set:
    v = _kept(t["secretary_visits"])
    ok = v[(v["target_type"] == ttype) & v["level"].isin(LEVELS[kind]) & (v["date"] >= T(f"{C}-01-01"))
           & (v["date"] <= d)]
    return set(ok["target"].astype(str))


def _rebuilds(t: dict[str, pd.DataFrame], d: pd.Timestamp) -> pd.DataFrame:
    """The year's 危房改造 households: completed / moved in by ``d`` (any of their rows of C)."""
    h = _kept(t["housing"])
    h = h[h["rebuild_year"] == C]
    return pd.DataFrame({"hh_id": h["hh_id"], "completed": h["completed"] <= d,
                         "moved_in": h["moved_in"] <= d}).groupby("hh_id").any()


def _posts(t: dict[str, pd.DataFrame], kind: str, d: pd.Timestamp) -> int:
    p = _kept(t["posts"])
    on = p[(p["post_type"] == kind) & (p["start"] <= d) & (p["end"].isna() | (p["end"] >= d))]
    return int(on["id_number"].dropna().str.upper().nunique())


def _truth_values(t: dict[str, pd.DataFrame]) -> dict[str, Callable]:
    v, f, p, ln, rel = (_kept(t[k]) for k in ("secretary_visits", "funds", "fund_payments", "loans", "relocation"))
    pools = _pools(t)

    def visits(kind):
        ttype, pool = pools[kind]
        return lambda d: (len(set(pool["target"]) & _visited(t, kind, ttype, d)), len(pool))

    def fund(sel, d):
        ff = f[sel]
        den = _fen(ff.loc[ff["issued_date"].isna() | (ff["issued_date"] <= d), "issued"]).sum()
        pp = p[p["fund_id"].isin(ff["fund_id"]) & (p["date"] <= d)]
        return int(_fen(pp["amount"]).sum()), int(den)

    def overdue(d):
        return (ln["balance"] > 0) & ((ln["due_date"] < d) | (ln["overdue_since"] <= d))

    def housing(col):
        return lambda d: (int(_rebuilds(t, d)[col].sum()), len(_rebuilds(t, d)))

    return {
        "visits.exit_households": visits("exit_households"),
        "visits.exit_villages": visits("exit_villages"),
        "visits.edge_households": visits("edge_households"),
        "funds.poverty": lambda d: fund((f["year"] == C) & (f["poverty_fund"] == True), d),  # noqa: E712
        "funds.integrated": lambda d: fund((f["year"] == C) & (f["integrated"] == True), d),  # noqa: E712
        "funds.previous_year": lambda d: fund(f["year"] == C - 1, d),
        "loans.overdue_rate": lambda d: (int(_fen(ln.loc[overdue(d), "balance"]).sum()),
                                         int(_fen(ln.loc[ln["balance"] > 0, "balance"]).sum())),
        "loans.overdue_cleared": lambda d: (int(overdue(d).sum()), None),
        "housing.rebuilt": housing("completed"),
        "housing.moved_in": housing("moved_in"),
        "relocation.moved_in": lambda d: (int((rel["moved_in"] & (rel["moved_in_date"].isna()
                                                                  | (rel["moved_in_date"] <= d))).sum()), len(rel)),
        "relocation.reclaimed": lambda d: (int(((rel["old_house"] == "reclaimed")
                                                & (rel["reclaimed_date"] <= d)).sum()), len(rel)),
        "posts.special": lambda d: (_posts(t, "公益特岗", d), None),
        "posts.institutional": lambda d: (_posts(t, "公益专岗", d), None),
    }


def _ids(x: pd.Series) -> pd.Series:
    return x.astype("string").str.strip().str.upper()


def _health_values(t: dict[str, pd.DataFrame], a: pd.Timestamp) -> dict[str, tuple[int, int]]:
    """departments.md's health.* on A, written again: registered members of status 正常 (or blank),
    not dead by A; of them those with a row of C in ``insurance`` with ``basic`` 是 or an
    ``exempt`` reason, ``critical`` 是, ``family_doctor`` 是; Σ ``reimbursed`` ÷ Σ (``eligible_cost``,
    else ``total_cost``) of their stays admitted in C, discharged by A (dead or alive), in fen."""
    m = _kept(t["members"])
    if "member_status" in m.columns:
        m = m[m["member_status"].isna() | (m["member_status"] == "正常")]
    counted = set(_ids(m["id_number"]).dropna())
    out: dict[str, tuple[int, int]] = {}
    if "insurance" in t:
        dead = set(_ids(_kept(t["deaths"]).query("death_date <= @a")["id_number"])) if "deaths" in t else set()
        alive = counted - dead
        ins = _kept(t["insurance"])
        ins = ins[ins["year"] == a.year]
        yes = {c: ins[c].isin(["是", True]) if c in ins.columns else pd.Series(False, index=ins.index)
               for c in ("basic", "critical", "family_doctor")}
        if "exempt" in ins.columns:
            yes["basic"] = yes["basic"] | (ins["exempt"].notna() & (ins["exempt"].astype("string").str.strip() != ""))
        for tid, c in (("health.insured_rate", "basic"), ("health.critical_rate", "critical"),
                       ("health.family_doctor_rate", "family_doctor")):
            out[tid] = (len(alive & set(_ids(ins.loc[yes[c], "id_number"]))), len(alive))
    if "hospital" in t:
        h = _kept(t["hospital"])
        h = h[_ids(h["id_number"]).isin(counted) & (h["admitted"].dt.year == a.year) & (h["discharged"] <= a)]
        out["health.reimbursement_ratio"] = (int(_fen(h["reimbursed"]).sum()),
                                             int(_fen(h["eligible_cost"].fillna(h["total_cost"])).sum()))
    return out


def _status(num: int, den: int | None, thr: float, at_most: bool = False) -> str:
    if den == 0:
        return "not_measurable"
    ratio = num if den is None else num / den
    if at_most:
        return "met" if ratio <= thr + 1e-12 else "not_met"
    return "met" if ratio >= thr - 1e-12 else "not_met"


def truth_targets(t: dict[str, pd.DataFrame], asof: str) -> dict[str, dict]:
    """Each measured target's value on A and status (the contract's rule of the latest passed
    checkpoint, ``due`` before the first)."""
    a = T(asof)
    out = {}
    for tid, fn in _truth_values(t).items():
        num, den = fn(a)
        value = float(num) if den is None else (num / den if den else None)
        if tid == "loans.overdue_rate":
            out[tid] = {"value": value, "status": _status(num, den, 0.01, True)}
            continue
        passed = [(T(f"{C}-{md}"), thr) for md, thr in STEPS[tid] if T(f"{C}-{md}") <= a]
        if not passed:
            status = "due"
        else:
            n2, d2 = fn(passed[-1][0])
            status = _status(n2, d2, passed[-1][1], tid in AT_MOST)
        out[tid] = {"value": value, "status": status}
    for tid, (num, den) in _health_values(t, a).items():
        out[tid] = {"value": num / den if den else None, "status": _status(num, den, HEALTH[tid])}
    return out


def _passed(tid: str, a: pd.Timestamp) -> list[tuple[pd.Timestamp, float]]:
    return [(T(f"{C}-{md}"), thr) for md, thr in STEPS[tid] if T(f"{C}-{md}") <= a]


def _visit_ledgers(t: dict[str, pd.DataFrame], a: pd.Timestamp) -> dict[str, list]:
    pools = _pools(t)
    missing = sorted(x for kind, (ttype, pool) in pools.items()
                     for x in set(pool["target"]) - _visited(t, kind, ttype, a))
    hh = _kept(t["households"])
    vil = _kept(t["villages"])
    edge = pools["edge_households"][1]
    known = pd.concat([hh[["hh_id", "town"]].rename(columns={"hh_id": "target"}).assign(target_type="household"),
                       edge.assign(target_type="household"),
                       pd.DataFrame({"target": vil["village_code"].astype(str), "town": vil["town"],
                                     "target_type": "village"})]).drop_duplicates(["target_type", "target"])
    v = _kept(t["secretary_visits"])
    v = v[(v["date"] >= T(f"{C}-01-01")) & (v["date"] <= a)].assign(target=lambda x: x["target"].astype(str))
    v = v.merge(known, on=["target_type", "target"])
    v = v.assign(month=v["date"].dt.strftime("%Y-%m"), key=v["target_type"] + ":" + v["target"])
    monthly = v.groupby(["month", "level", "town"]).agg(visits=("key", "size"), targets=("key", "nunique"))
    return {"visit_missing": missing,
            "visit_monthly": [[k[0], k[1], k[2], int(r["visits"]), int(r["targets"])]
                              for k, r in monthly.sort_index().iterrows()]}


def _funds_behind(t: dict[str, pd.DataFrame], a: pd.Timestamp) -> dict[str, list]:
    f, p = _kept(t["funds"]), _kept(t["fund_payments"])
    behind: dict[str, list] = {}
    for typ, sel, tid in (("poverty", (f["year"] == C) & (f["poverty_fund"] == True), "funds.poverty"),  # noqa: E712
                          ("integrated", (f["year"] == C) & (f["integrated"] == True), "funds.integrated"),  # noqa: E712
                          ("previous_year", f["year"] == C - 1, "funds.previous_year")):
        passed = _passed(tid, a)
        if not passed:
            continue
        d, thr = passed[-1]
        ff = f[sel & (f["issued_date"].isna() | (f["issued_date"] <= d))]
        paid = p[p["date"] <= d].assign(fen=lambda x: _fen(x["amount"])).groupby("fund_id")["fen"].sum()
        ratio = paid.reindex(ff["fund_id"]).fillna(0).to_numpy() / _fen(ff["issued"]).to_numpy()
        for fid in ff["fund_id"][ratio < thr - 1e-12]:
            behind.setdefault(fid, []).append(typ)
    return {k: sorted(x) for k, x in sorted(behind.items())}


def _loan_ledgers(t: dict[str, pd.DataFrame], a: pd.Timestamp) -> dict[str, dict]:
    hh, ln, mem = _kept(t["households"]), _kept(t["loans"]), _kept(t["members"])
    over = (ln["balance"] > 0) & ((ln["due_date"] < a) | (ln["overdue_since"] <= a))
    june = T(f"{C}-06-30")
    clear = over & ((ln["due_date"] < june) | (ln["overdue_since"] <= june)) & (june <= a)
    m = mem.drop_duplicates("person_id")
    m = m.assign(idn=m["id_number"].str.upper())
    lk = ln.assign(idn=ln["id_number"].str.upper()).merge(m[["hh_id", "idn", "birth_date"]], on=["hh_id", "idn"],
                                                        how="left", indicator=True)
    birth = lk["birth_date"].fillna(pd.to_datetime(lk["idn"].str[6:14], format="%Y%m%d", errors="coerce"))
    age = (lk["loan_date"].dt.year - birth.dt.year
           - ((lk["loan_date"].dt.month * 100 + lk["loan_date"].dt.day) < (birth.dt.month * 100 + birth.dt.day)))
    reasons = pd.DataFrame({
        "not_registered": ~lk["hh_id"].isin(hh["hh_id"]),
        "not_member": lk["idn"].notna() & (lk["_merge"] == "left_only") & lk["hh_id"].isin(hh["hh_id"]),
        "too_young": age < 18, "too_old": age > 65, "over_amount": lk["amount"] > 50000}).fillna(False)
    code = reasons.apply(lambda col: col.map({True: col.name + ",", False: ""})).sum(axis=1).str.rstrip(",")
    inel = dict(zip(lk.loc[code != "", "loan_id"], code[code != ""], strict=True))
    return {"loan_overdue": {lid: bool(c) for lid, c in sorted(zip(ln.loc[over, "loan_id"], clear[over], strict=True))},
            "loan_ineligible": dict(sorted(inel.items()))}


def truth_ledgers(t: dict[str, pd.DataFrame], asof: str) -> dict[str, list]:
    """The keys of every targets ledger on ``asof``."""
    a = T(asof)
    hh, rel = _kept(t["households"]), _kept(t["relocation"])
    # housing: not completed by the latest passed 06-30 step, or not moved in on A
    now = _rebuilds(t, a)
    step = _passed("housing.rebuilt", a)
    not_done = ~_rebuilds(t, step[-1][0])["completed"] if step else pd.Series(False, index=now.index)
    hb = sorted(now.index[(not_done | ~now["moved_in"]).to_numpy()])
    # relocation
    moved = rel["moved_in"] & (rel["moved_in_date"].isna() | (rel["moved_in_date"] <= a))
    rb = rel[~moved | (rel["old_house"] == "standing")]
    says = hh.set_index("hh_id")["relocated"]
    mism = sorted(set(says[says == "是"].index) - set(rel["hh_id"])) + \
        sorted(set(rel["hh_id"]) & set(says[says == "否"].index))
    return {**_visit_ledgers(t, a), "funds_behind": _funds_behind(t, a), **_loan_ledgers(t, a),
            "housing_behind": hb, "relocation_behind": sorted(rb["hh_id"]),
            "relocation_mismatch": sorted(mism)}


def truth(tables: dict[str, pd.DataFrame], plants: dict, decoys: dict, asof: str = "2019-09-30") -> dict:
    """``truth.json``'s ``targets`` part: the ledgers' keys and the targets' values and statuses on
    ``asof`` computed from the tables, with the planted cases and decoys."""
    return {"as_of": asof, "ledgers": truth_ledgers(tables, asof), "targets": truth_targets(tables, asof),
            "plants": plants, "decoys": decoys}
