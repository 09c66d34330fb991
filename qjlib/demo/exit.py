"""Stage 7 of the demo county (issue 18, contract/exit.md): houses, water, villages and a
third-party assessment sample, with planted failures per item and decoys at every edge.

Drawn with its own stream ``default_rng([seed, 610830, 18])`` after the quality stage, so every
earlier table stays byte-identical. Reads only the finished households and members.

| case (truth key) | households / villages | expected |
|---|---|---|
| ``house_unknown`` | 12 exiting households with no ``housing`` row | housing unknown |
| (all house and water plants) | drawn among households the register does not mark ``relocated``; the targets stage writes no ``relocation`` row for them | no move-in covers their edge |
| ``relocated_unsafe`` | 4 exiting households the register marks ``relocated``: old house graded D in 2016, no works | met when the targets stage's ``relocation`` row has them moved in by A (decoy), else not met |
| ``house_unsafe`` | 6 exiting: latest assessment D, no works | not met |
| ``rebuild_moved_in`` | 6 exiting: D in 2018, rebuilt in 2019, moved in on or before A (one exactly on A) | met (decoy) |
| ``rebuild_not_moved_in`` | 4 exiting: rebuilt 2019, completed, no move-in date | not met |
| ``repair_done`` / ``repair_pending`` | 3 + 3 exiting: C, repair completed by A / not completed | met (decoy) / not met |
| ``same_day`` | 3 exiting: A and C assessed on one day | not met (the worse grade) |
| ``later_assessment`` | 3 exiting: D in 2017, A on 2019-10-15 (after A) | not met on A |
| ``reassessed`` | 3 exiting: D in 2017, B in 2019-05 | met (decoy) |
| ``past_unsafe`` | 8 past exited: C, no works | ``exit_quality`` |
| ``water_unknown`` / ``water_unsafe`` / ``past_water_unsafe`` | 10 / 8 exiting, 6 past | unknown / not met / ``exit_quality`` |
| non-registered rebuilds | 8 county ids with ``rebuild_year`` 2019 | not households (targets counts them) |
| villages v0…v9 | assessed poor villages: no road; water 0.98; water written ``100`` (%, decoy); electricity 0.995; no clinic; clinic 否 and coverage blank (unknown); clinic covered (decoy); no collective economy; a cooperative only (decoy); road blank (unknown) | ``village_not_ready`` |
| county incidence | Σ ``rural_population`` set so that the poor persons are exactly 3 % when they divide (else just under) | at the edge |
| ``assessment`` | 30 villages (∝ households), ~30 exited + 5 not-exited registered + 15 non-registered households each; wrong exits clustered by village (village rates Beta, ICC 0.004, mean 1.2 %; whole households of persons: deff ≈ 2–4); **no missed household** (0 found: Clopper–Pearson, assumed deff); approval clustered (mean 95 %, ICC 0.01) | rates of truth |

Every income failure comes from the incomes the earlier stages drew; the education and medical
items from the departments stage's ``enrollment`` and ``insurance`` rolls (its planted drop-outs,
students not found and uninsured persons), computed again here from departments.md's words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ASOF = pd.Timestamp("2019-09-30")
C_YEAR = 2019


def _days(rng: np.random.Generator, n: int, start: str, end: str) -> pd.Series:
    """``n`` dates drawn uniformly in [start, end]."""
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    return pd.Series(a + pd.to_timedelta(rng.integers(0, (b - a).days + 1, n), unit="D"))


def _pick(rng: np.random.Generator, pool: np.ndarray, sizes: dict[str, int]) -> dict[str, np.ndarray]:
    """Disjoint draws from ``pool`` of the given sizes, in dict order."""
    total = sum(sizes.values())
    if total > len(pool):  # a small county: fewer cases of each kind
        sizes = {k: len(pool) * n // total for k, n in sizes.items()}
    take = rng.choice(pool, sum(sizes.values()), replace=False)
    out, i = {}, 0
    for k, n in sizes.items():
        out[k] = np.sort(take[i:i + n])
        i += n
    return out


def _housing(rng: np.random.Generator, hh: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """One A/B assessment per registered household, then the planted rows."""
    ids = hh["hh_id"].to_numpy(dtype=object)
    ey, py = hh["exit_year"].to_numpy(), hh["planned_exit_year"].to_numpy()
    # not the relocated households: a move-in makes a house safe (exit.md), which would cover the
    # edge each plant stands on (the targets stage writes their relocation rows later)
    free = (hh["relocated"] != "是").to_numpy() if "relocated" in hh.columns else np.ones(len(hh), bool)
    exiting = ids[free & ((ey == C_YEAR) | (py == C_YEAR))]
    past = ids[free & (hh["exit_status"].to_numpy() == "exited") & (ey < C_YEAR)]
    e = _pick(rng, exiting, {"house_unknown": 12, "house_unsafe": 6, "rebuild_moved_in": 6,
                             "rebuild_not_moved_in": 4, "repair_done": 3, "repair_pending": 3,
                             "same_day": 3, "later_assessment": 3, "reassessed": 3,
                             "water_unknown": 10, "water_unsafe": 8})
    p = _pick(rng, past, {"past_unsafe": 8, "past_water_unsafe": 6})
    moved = ids[~free & ((ey == C_YEAR) | (py == C_YEAR))]  # relocated: the move-in edge
    plants = {**e, **p, **_pick(rng, moved, {"relocated_unsafe": 4})}
    n = len(ids)
    base = pd.DataFrame({"hh_id": ids, "assessed": _days(rng, n, "2016-03-01", "2019-06-30"),
                         "grade": np.where(rng.random(n) < 0.6, "A", "B").astype(object),
                         "works": None, "rebuild_year": np.nan, "completed": pd.NaT, "moved_in": pd.NaT})
    special = np.concatenate([plants[k] for k in plants if not k.startswith(("water", "past_water"))])
    base = base[~np.isin(ids, special)]
    rows = [base]

    def add(keys: np.ndarray, assessed: str, grade: str, **kw) -> None:
        rows.append(pd.DataFrame({"hh_id": keys, "assessed": pd.Timestamp(assessed), "grade": grade,
                                  **{k: kw.get(k) for k in ("works", "rebuild_year", "completed", "moved_in")}}))

    add(plants["house_unsafe"], "2018-04-12", "D")
    mv = plants["rebuild_moved_in"]
    add(mv[:1], "2018-03-20", "D", works="重建", rebuild_year=2019, completed=pd.Timestamp("2019-08-30"),
        moved_in=ASOF)  # moved in exactly on A: safe
    add(mv[1:], "2018-03-20", "D", works="重建", rebuild_year=2019, completed=pd.Timestamp("2019-06-15"),
        moved_in=pd.Timestamp("2019-07-10"))
    add(plants["rebuild_not_moved_in"], "2018-05-06", "D", works="重建", rebuild_year=2019,
        completed=pd.Timestamp("2019-09-01"))
    add(plants["repair_done"], "2018-09-11", "C", works="修缮加固", rebuild_year=2019,
        completed=pd.Timestamp("2019-05-20"))
    add(plants["repair_pending"], "2018-09-11", "C级", works="修缮加固", rebuild_year=2019)
    add(plants["same_day"], "2019-04-02", "A")
    add(plants["same_day"], "2019-04-02", "C")
    add(plants["later_assessment"], "2017-06-01", "D")
    add(plants["later_assessment"], "2019-10-15", "A")
    add(plants["reassessed"], "2017-06-01", "D")
    add(plants["reassessed"], "2019-05-08", "B级")
    add(plants["past_unsafe"], "2019-03-03", "C")
    add(plants["relocated_unsafe"], "2016-05-17", "D")  # the old house; safe once moved in (relocation)
    nonreg = np.array([f"61083099{k:011d}" for k in range(1, 9)], dtype=object)
    add(nonreg, "2018-11-20", "D", works="重建", rebuild_year=2019, completed=pd.Timestamp("2019-07-01"),
        moved_in=pd.Timestamp("2019-08-01"))
    out = pd.concat(rows, ignore_index=True)
    out["works"] = out["works"].astype(object)
    out["rebuild_year"] = pd.to_numeric(out["rebuild_year"]).astype(float)
    for col in ("assessed", "completed", "moved_in"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    return out, {k: [str(x) for x in v] for k, v in plants.items()} | {"nonregistered_rebuild": list(nonreg)}


def _water(rng: np.random.Generator, hh: pd.DataFrame, plants: dict[str, list[str]]) -> pd.DataFrame:
    """One row per registered household but the unknown ones; the planted unsafe ones 否."""
    ids = hh["hh_id"].to_numpy(dtype=object)
    keep = ~np.isin(ids, plants["water_unknown"])
    bad = np.isin(ids, plants["water_unsafe"] + plants["past_water_unsafe"])
    src = np.array(["集中供水", "分散供水（水窖）", "分散供水（水井）"], dtype=object)
    return pd.DataFrame({"hh_id": ids, "safe": np.where(bad, "否", "是"),
                         "source": src[rng.choice(3, len(ids), p=[0.7, 0.2, 0.1])],
                         "checked": _days(rng, len(ids), "2019-03-01", "2019-08-31")})[keep].reset_index(drop=True)


def _persons(hh: pd.DataFrame, members: pd.DataFrame) -> pd.Series:
    """Counted persons per hh_id as the loader keeps them (first row of a person; households only)."""
    m = members.drop_duplicates("person_id", keep="first")
    return m[m["hh_id"].isin(set(hh["hh_id"]))].groupby("hh_id").size()


def _villages(rng: np.random.Generator, hh: pd.DataFrame, persons: pd.Series) -> tuple[pd.DataFrame, dict]:
    """One row per village of the households and one without households; planted items."""
    v = hh.groupby(["town_code", "town", "village", "village_code"], as_index=False).size()
    reg = hh.assign(p=hh["hh_id"].map(persons).fillna(0)).groupby("village_code")["p"].sum()
    v["reg"] = v["village_code"].map(reg).to_numpy(dtype=float)
    n = len(v)
    poor = rng.random(n) < 0.55
    kind = rng.choice(3, n, p=[0.45, 0.4, 0.15])  # 0 exits in 2019, 1 exited 2016-18, 2 later
    assessed = poor & (kind == 0)
    v["poor_village"] = np.where(poor, "是", "否")
    v["exit_status"] = np.where(poor & (kind == 1), "已退出", np.where(poor, "未退出", None))
    v["exit_year"] = np.where(poor & (kind == 1), rng.integers(2016, 2019, n), np.nan)
    v["planned_exit_year"] = np.where(poor & (kind == 0), 2019.0, np.where(poor & (kind == 2), 2020.0, np.nan))
    v["rural_population"] = np.round(v["reg"] / rng.uniform(0.35, 0.5, n)).astype(int)
    v["road"], v["water_rate"], v["electricity_rate"] = "是", 1.0, 1.0
    v["clinic"], v["clinic_covered"] = "是", None
    v["collective_income"] = np.round(rng.uniform(20_000, 200_000, n), -2)
    v["cooperative"], v["mutual_fund"], v["broadband"] = "是", "否", "是"
    v = v.astype({c: object for c in ("road", "clinic", "clinic_covered", "cooperative")})
    a = np.flatnonzero(assessed)
    sets = {0: ("road", "否"), 1: ("water_rate", 0.98), 2: ("water_rate", 100.0),
            3: ("electricity_rate", 0.995), 4: ("clinic", "否"), 5: ("clinic", "否"), 6: ("clinic", "否"),
            9: ("road", None)}
    for k, (col, val) in sets.items():
        if k < len(a):  # a small county has fewer assessed villages to plant on
            v.loc[a[k], col] = val
    for k, cols, vals in ((4, ["clinic_covered"], ["否"]), (6, ["clinic_covered"], ["是"]),
                          (7, ["collective_income", "cooperative"], [0.0, "否"]),
                          (8, ["collective_income", "cooperative"], [0.0, "是"])):
        if k < len(a):
            v.loc[a[k], cols] = vals
    other = np.flatnonzero(~assessed)[:2]  # not assessed: failures here are not listed
    v.loc[other, "road"] = "否"
    # the village with no households, then Σ rural_population at the county's 3 % edge
    poor_p = int(hh.loc[hh["exit_status"].isin(("not_exited", "returned")), "hh_id"].map(persons).fillna(0).sum())
    total = -(-poor_p * 100 // 3)
    extra = pd.DataFrame([{"town_code": v["town_code"].iloc[0], "town": v["town"].iloc[0],
                           "village": "新建移民社区村", "village_code": v["town_code"].iloc[0] + "299",
                           "poor_village": "否", "rural_population": int(total - v["rural_population"].sum()),
                           "road": "是", "water_rate": 1.0, "electricity_rate": 1.0, "clinic": "是",
                           "collective_income": 0.0, "cooperative": "否", "mutual_fund": "否", "broadband": "是"}])
    if extra["rural_population"].iloc[0] <= 0:  # a small county: no 3 % edge, a plain village
        extra.loc[0, "rural_population"] = 100
    v = pd.concat([v, extra], ignore_index=True)
    for col in ("exit_year", "planned_exit_year", "water_rate", "electricity_rate", "collective_income"):
        v[col] = pd.to_numeric(v[col]).astype(float)
    info = {"plants": {f"v{k}": str(v.loc[a[k], "village_code"]) for k in range(min(10, len(a)))},
            "not_assessed_failures": [str(x) for x in v.loc[other, "village_code"]],
            "without_households": [str(extra["village_code"].iloc[0])],
            "poor_persons": poor_p, "rural_population": int(total)}
    return v.drop(columns=["size", "reg", "town_code"]), info


def _beta(rng: np.random.Generator, mean: float, icc: float, n: int) -> np.ndarray:
    """Village rates with the given mean and intra-class correlation."""
    s = (1 - icc) / icc
    return rng.beta(mean * s, (1 - mean) * s, n)


def _assessment(rng: np.random.Generator, hh: pd.DataFrame, persons: pd.Series) -> pd.DataFrame:
    """The third-party sample: 30 villages drawn ∝ households, strata within each."""
    counts = hh.groupby("village_code").size()
    vil = rng.choice(counts.index.to_numpy(), min(30, len(counts)), replace=False,
                     p=(counts / counts.sum()).to_numpy())
    vil = np.sort(vil)
    parts = []
    for code in vil:  # 30 villages (not households)
        h = hh[hh["village_code"] == code]
        ex = h[h["exit_status"] == "exited"]["hh_id"].to_numpy(dtype=object)
        ne = h[h["exit_status"] != "exited"]["hh_id"].to_numpy(dtype=object)
        ex = rng.choice(ex, min(30, len(ex)), replace=False)
        ne = rng.choice(ne, min(5, len(ne)), replace=False)
        nr = np.array([f"PG{code[-6:]}{k:03d}" for k in range(1, 16)], dtype=object)
        parts.append(pd.DataFrame({"hh_id": np.concatenate([ex, ne, nr]), "village_code": code,
                                   "stratum": ["已脱贫户"] * len(ex) + ["未脱贫户"] * len(ne) + ["非建档立卡户"] * 15}))
    a = pd.concat(parts, ignore_index=True)
    reg = a["hh_id"].map(persons)
    a["persons"] = np.where(reg.notna(), reg.fillna(0), rng.integers(1, 7, len(a))).astype(int)
    code_idx = pd.factorize(a["village_code"])[0]
    wrong = _beta(rng, 0.012, 0.004, len(vil))[code_idx] > rng.random(len(a))
    is_ex = a["stratum"].eq("已脱贫户").to_numpy()
    a["wrongly_exited"] = np.where(is_ex, np.where(wrong, "是", "否"), None)
    a["missed"] = np.where(a["stratum"].eq("非建档立卡户"), "否", None)
    ok = _beta(rng, 0.95, 0.01, len(vil))[code_idx] > rng.random(len(a))
    u = rng.random(len(a))
    ans = np.where(ok, np.where(u < 0.7, "认可", "基本认可"), np.where(u < 0.6, "不认可", "说不清"))
    a["approval"] = np.where(rng.random(len(a)) < 0.02, None, ans)
    return a


def exit_tables(seed: int, tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict]:
    """Stage 7: ``housing``, ``water``, ``villages`` and ``assessment`` for the finished
    ``tables`` (households and members unchanged), and the planted cases."""
    rng = np.random.default_rng([seed, 610830, 18])
    hh = tables["households"]
    persons = _persons(hh, tables["members"])
    housing, plants = _housing(rng, hh)
    water = _water(rng, hh, plants)
    villages, vinfo = _villages(rng, hh, persons)
    assessment = _assessment(rng, hh, persons)
    return ({"housing": housing, "water": water, "villages": villages, "assessment": assessment},
            {"households": plants, "villages": vinfo})


# ------------------------------------------------------------------------------------------------
# Truth: the expected ledgers and figures, from the generated tables with plain pandas (not the
# analysis code): contract/exit.md's words written again.

_GRADES = {"A": 1, "A级": 1, "B": 2, "B级": 2, "C": 3, "C级": 3, "D": 4, "D级": 4}
_ITEMS = ("income", "not_new", "housing", "education", "medical", "water")


def _truth_houses(housing: pd.DataFrame, relocation: pd.DataFrame | None) -> pd.Series:
    """hh_id → safe on A (True/False); households with neither an assessment on or before A nor a
    move-in absent. Relocated with ``moved_in`` 是 and a date ≤ A (a blank date with 是 counts, as
    targets.md counts a move-in) = safe, whatever the assessment."""
    h = housing[housing["assessed"] <= ASOF].copy()
    h["rank"] = h["grade"].map(_GRADES)
    last = h[h["assessed"] == h.groupby("hh_id")["assessed"].transform("max")]
    done = ((last["works"] == "修缮加固") & (last["completed"] <= ASOF)) | \
        ((last["works"] == "重建") & (last["moved_in"] <= ASOF))
    g = last.assign(done=done).groupby("hh_id")
    safe = (g["rank"].max() <= 2) | g["done"].any()
    if relocation is None:
        return safe
    r = relocation[relocation["_qtype"] != "reject"] if "_qtype" in relocation.columns else relocation
    moved = r.loc[r["moved_in"].isin([True, "是"]) & (r["moved_in_date"].isna() | (r["moved_in_date"] <= ASOF)),
                  "hh_id"]
    return pd.concat([safe, pd.Series(True, index=pd.Index(moved.unique()))]).groupby(level=0).max()


def _id_ok(ids: pd.Series) -> pd.Series:
    """GB 11643 written again: 17 digits and the check character of Σ digit × weight mod 11."""
    s = ids.astype(str).str.strip().str.upper()
    shaped = s.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False)
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(s.str[i].where(shaped, "0").astype(int) * w[i] for i in range(17))
    return shaped & (total.mod(11).map(dict(enumerate("10X98765432"))) == s.str[17])


def _truth_departments(t: dict, ids: pd.Series) -> tuple[np.ndarray, np.ndarray, float]:
    """The ``education`` and ``medical`` items of each household of ``ids`` from the department
    rolls, in departments.md's words: registered persons (kept members, counted status) alive on
    A (no ``deaths`` row with a valid ID dated ≤ A); matching by valid ID number only.
    ``dropout``: aged 6–15 on 31 Aug 2019 with a 2019秋 row of status 辍学; ``enrollment_not_found``:
    the same band, no 2019秋 row and no 初中 毕业 row in any term (→ unknown unless a drop-out);
    ``uninsured``: older than 90 days on A with no 2019 row with ``basic`` 是 or an ``exempt`` reason.
    Third: the county's insured rate (health.insured_rate: every kept member alive on A — of a
    registered household or not — with such a row ÷ those members)."""
    def kept(df: pd.DataFrame) -> pd.DataFrame:
        df = df[df["_qtype"] != "reject"] if "_qtype" in df.columns else df
        return df.assign(id=df["id_number"].astype(str).str.strip().str.upper())[_id_ok(df["id_number"]).to_numpy()]

    m = t["members"][t["members"]["_qtype"] != "reject"]
    if "member_status" in m.columns:
        m = m[m["member_status"].isna() | (m["member_status"] == "正常")]
    m = m.assign(id=m["id_number"].astype(str).str.strip().str.upper())
    d = kept(t["deaths"])
    m = m[~m["id"].isin(set(d.loc[d["death_date"] <= ASOF, "id"]))]
    every = m  # the insured rate's persons: every kept member (a member of no household too)
    m = m[m["hh_id"].isin(set(ids))]
    birth = m["birth_date"].fillna(pd.to_datetime(m["id"].str[6:14], format="%Y%m%d", errors="coerce"))
    on = pd.Timestamp("2019-08-31")
    age = on.year - birth.dt.year - ((birth.dt.month * 100 + birth.dt.day) > 831)
    band = m[(age >= 6) & (age <= 15)]
    en = kept(t["enrollment"])
    term = en["term"].replace({"2019年秋季": "2019秋", "2018-2019学年第二学期": "2019春"})
    cur = en[term == "2019秋"]
    grad = set(en.loc[(en["stage"] == "初中") & (en["status"] == "毕业"), "id"])
    drop = set(band.loc[band["id"].isin(set(cur.loc[cur["status"] == "辍学", "id"])), "hh_id"])
    lost = set(band.loc[~band["id"].isin(set(cur["id"]) | grad), "hh_id"])
    ins = kept(t["insurance"])
    ok = ins[(ins["year"] == C_YEAR) & ((ins["basic"] == "是") | ins["exempt"].notna())]
    old = m[birth.isna() | (birth + pd.Timedelta(days=90) < ASOF)]
    bare = set(old.loc[~old["id"].isin(set(ok["id"])), "hh_id"])
    edu = np.where(ids.isin(drop), "not_met", np.where(ids.isin(lost), "unknown", "met"))
    med = np.where(ids.isin(bare), "not_met", "met")
    return edu, med, float(every["id"].isin(set(ok["id"])).sum() / len(every))


def exit_truth(county, inc: pd.DataFrame, line: float) -> dict:
    """``truth.json["exit"]``: the three ledgers (keys with their failed items) and the ``exit.*``
    figures. ``inc``: the kept income rows with ``net``; ``line``: the poverty line of Y."""
    t = county.tables
    hh = t["households"]
    members = t["members"][t["members"]["_qtype"] != "reject"]
    persons = members[members["hh_id"].isin(set(hh["hh_id"]))].groupby("hh_id").size()
    i19 = inc[inc["year"] == C_YEAR].drop_duplicates("hh_id").set_index("hh_id")
    net = i19["net"].reindex(hh["hh_id"]).to_numpy()
    size = i19["size"].reindex(hh["hh_id"]).to_numpy(dtype=float)
    st = pd.DataFrame({"hh_id": hh["hh_id"].to_numpy()})
    st["income"] = np.where(np.isnan(net), "unknown",
                            np.where(np.rint(net * 100) >= np.rint(line * 100) * size, "met", "not_met"))
    st["not_new"] = np.where(hh["identified_year"].to_numpy() == C_YEAR, "not_met", "met")
    safe = _truth_houses(t["housing"], t.get("relocation")).reindex(st["hh_id"])
    st["housing"] = np.where(safe.isna(), "unknown", np.where(safe.fillna(False).astype(bool), "met", "not_met"))
    st["education"], st["medical"], insured = _truth_departments(t, st["hh_id"])
    w = t["water"].set_index("hh_id")["safe"].reindex(st["hh_id"])
    st["water"] = np.where(w.isna(), "unknown", np.where(w == "是", "met", "not_met"))
    ey, py = hh["exit_year"].to_numpy(), hh["planned_exit_year"].to_numpy()
    exiting = (ey == C_YEAR) | (py == C_YEAR)
    past = (hh["exit_status"].to_numpy() == "exited") & (ey < C_YEAR)
    items = st[list(_ITEMS)]
    ready = exiting & ~items.isin(["not_met", "unknown"]).any(axis=1).to_numpy()

    def failed(mask: np.ndarray, cols: tuple[str, ...]) -> dict[str, list[str]]:
        sub = st[mask]
        return {h: [c for c in cols if s[c] == "not_met"] for h, s in zip(sub["hh_id"], sub.to_dict("records"), strict=True)}

    not_ready = failed(exiting & ~ready, _ITEMS)
    q_cols = tuple(c for c in _ITEMS if c != "not_new")
    risk = past & st[list(q_cols)].eq("not_met").any(axis=1).to_numpy()
    villages, vfig = _truth_villages(county, hh, persons, inc)
    return {
        "ledgers": {"exit_not_ready": not_ready, "exit_quality": failed(risk, q_cols),
                    "village_not_ready": villages},
        "figures": {"households.exiting": int(exiting.sum()), "households.not_ready": len(not_ready),
                    "households.past_exited": int(past.sum()), "households.quality_risk": int(risk.sum()),
                    "county.insured_rate": insured, **vfig, **_truth_assessment(t["assessment"], hh, persons, vfig)},
        "plants": county.extras["exit"],
    }


def _truth_villages(county, hh: pd.DataFrame, persons: pd.Series, inc: pd.DataFrame) -> tuple[dict, dict]:
    """village_not_ready (village_code → failed/unknown items) and the village/county figures."""
    v = county.tables["villages"].copy()
    rural = {2018: 9700, 2019: 10600}
    assessed = v[(v["poor_village"] == "是") & ((v["exit_year"] == C_YEAR) | (v["planned_exit_year"] == C_YEAR))]
    code = dict(zip(zip(v["town"], v["village"], strict=True), v["village_code"], strict=True))
    h = hh.assign(code=[code.get(k) for k in zip(hh["town"], hh["village"], strict=True)],
                  p=hh["hh_id"].map(persons).fillna(0))
    poor_now = h["exit_status"].isin(["not_exited", "returned"])
    staying = poor_now & (h["planned_exit_year"] != C_YEAR)
    ex = h[h["exit_status"] == "exited"]
    both = inc[inc["year"].isin([C_YEAR, C_YEAR - 1]) & inc["hh_id"].isin(set(ex["hh_id"]))]
    both = both.drop_duplicates(["hh_id", "year"])
    two = both.groupby("hh_id")["year"].nunique()
    both = both[both["hh_id"].isin(set(two[two == 2].index))].merge(ex[["hh_id", "code"]], on="hh_id")
    sums = both.groupby(["code", "year"])[["net", "size"]].sum()
    out = {}
    for r in assessed.to_dict("records"):  # a few dozen villages
        c = r["village_code"]
        poor = float(h.loc[staying & (h["code"] == c), "p"].sum())
        s = {}
        s["incidence"] = "met" if poor * 100 < 3 * r["rural_population"] else "not_met"
        try:
            a, b = sums.loc[(c, C_YEAR)], sums.loc[(c, C_YEAR - 1)]
            s["income_growth"] = "met" if (a["net"] / a["size"] / rural[C_YEAR]
                                           > b["net"] / b["size"] / rural[C_YEAR - 1]) else "not_met"
        except KeyError:
            s["income_growth"] = "unknown"
        s["collective"] = "met" if (r["collective_income"] > 0 or r["cooperative"] == "是"
                                    or r["mutual_fund"] == "是") else "not_met"
        s["road"] = {"是": "met", "否": "not_met"}.get(r["road"], "unknown")
        wr = float(r["water_rate"])
        s["water"] = "met" if (wr / 100 if wr > 1 else wr) >= 1.0 else "not_met"
        s["electricity"] = "met" if float(r["electricity_rate"]) >= 1.0 else "not_met"
        s["clinic"] = ("met" if "是" in (r["clinic"], r["clinic_covered"]) else
                       "not_met" if r["clinic_covered"] == "否" else "unknown")
        if any(x != "met" for x in s.values()):
            out[c] = {"failed": [k for k, x in s.items() if x == "not_met"],
                      "unknown": [k for k, x in s.items() if x == "unknown"]}
    pop = float(v["rural_population"].sum())
    fig = {"villages.assessed": len(assessed), "villages.not_ready": len(out),
           "county.incidence": float(h.loc[poor_now, "p"].sum()) / pop,
           "county.projected_incidence": float(h.loc[staying, "p"].sum()) / pop,
           "_poor": float(h.loc[poor_now, "p"].sum()), "_exited": float(ex["p"].sum()),
           "_registered": float(h["p"].sum()), "_pop": pop}
    return out, fig


def _truth_assessment(a: pd.DataFrame, hh: pd.DataFrame, persons: pd.Series, vfig: dict) -> dict:
    """The three rates (found ÷ total) and the comprehensive incidence's point estimate."""
    ex = a[(a["stratum"] == "已脱贫户") & a["wrongly_exited"].notna()]
    nr = a[(a["stratum"] == "非建档立卡户") & a["missed"].notna()]
    ap = a[a["approval"].notna()]
    w = ex.loc[ex["wrongly_exited"] == "是", "persons"].sum() / ex["persons"].sum()
    m = nr.loc[nr["missed"] == "是", "persons"].sum() / nr["persons"].sum()
    ok = ap["approval"].isin(["认可", "基本认可"]).sum() / len(ap)
    comp = (vfig["_poor"] + m * (vfig["_pop"] - vfig["_registered"]) + w * vfig["_exited"]) / vfig["_pop"]
    return {"assessment.wrong_exit_rate": float(w), "assessment.missed_rate": float(m),
            "assessment.approval_rate": float(ok), "assessment.comprehensive_incidence": float(comp)}
