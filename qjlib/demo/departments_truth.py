"""The expected ``dept_mismatch`` rows of the demo county, computed from the generated tables with
plain pandas, written from the contract's words (``shared/contract/departments.md``) and
independently of the analysis code: the oracle the detector is tested against.

A = 2019-09-30, Y = C = 2019, the defaults of ``params/standards.yaml`` (restated below, as the demo
plants them). Each row is ``{"rule": …, <the rule's key columns>}``; ``admitted`` as YYYY-MM-DD.
The department rows are the written ones minus the rows the loader rejects; registered persons
are the kept members (all 正常: the demo's members have no ``member_status``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.core.pseudonym import DEMO_KEY, person_key

A = pd.Timestamp("2019-09-30")
Y = C = 2019
STANDARD = 3218.0  # dept.dibao_standard 2019 (the poverty line)
GRADUAL, TOL, GRACE = 6, 0.10, 31
TARGET, AGE_MIN, AGE_MAX, MAX_CHANNELS, MIN_SPELL = 0.90, 6, 15, 1, 12
POOR_POSTS = ("生态护林员", "公益特岗", "就业扶贫公益特岗", "公益岗位")


def _kept(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["_qtype"].to_numpy() != "reject"] if "_qtype" in df.columns else df


def _active(df: pd.DataFrame, d) -> pd.Series:
    return (df["start"] <= d) & (df["end"].isna() | (df["end"] >= d))


def _age(birth: pd.Series, on: pd.Timestamp) -> pd.Series:
    return on.year - birth.dt.year - ((birth.dt.month * 100 + birth.dt.day) > on.month * 100 + on.day)


def _rows(rule: str, df: pd.DataFrame, cols: list[str]) -> list[dict]:
    out = df[cols].drop_duplicates().sort_values(cols)
    return [{"rule": rule, **{c: (v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v))
                              for c, v in zip(cols, r, strict=True)}} for r in out.itertuples(index=False)]


def expected_mismatches(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Every expected ``dept_mismatch`` row, sorted by rule then key."""
    m = _kept(tables["members"])
    hh = _kept(tables["households"])
    reg = m[["person_id", "hh_id", "id_number", "health", "dibao", "birth_date", "labor_skill"]]
    ids = set(reg["id_number"])
    t = {k: _kept(tables[k]).copy() for k in ("welfare", "disability", "insurance", "hospital",
                                              "enrollment", "student_aid", "posts", "deaths")}
    w = t["welfare"]
    w["programme"] = w["programme"].replace({"低保": "dibao", "农村低保": "dibao", "最低生活保障": "dibao",
                                             "特困供养": "tekun", "特困": "tekun", "五保": "tekun"})
    w = w[w["programme"].isin(["dibao", "tekun"])]
    wr = w.merge(reg[["id_number", "person_id", "hh_id"]], on="id_number")
    deaths = t["deaths"]
    dead_by_a = set(deaths.loc[deaths["death_date"] <= A, "id_number"])
    alive = reg[~reg["id_number"].isin(dead_by_a)]
    out: list[dict] = []
    # 应保未保
    inc = _kept(tables["income"])
    inc = inc[inc["year"] == Y].copy()
    net = inc["wage"] + inc["operating"] - inc["operating_cost"] + inc["property"] + inc["transfer"]
    excl = (net - inc["dibao_pay"].fillna(0) - inc["wubao_pay"].fillna(0)) / inc["size"]
    able = reg["labor_skill"].isin(["普通劳动力", "技能劳动力", "弱劳动力或半劳动力"]).groupby(reg["hh_id"]).any()
    none_able = set(able[~able].index)
    covered = set(wr.loc[_active(wr, A), "hh_id"])
    low = inc[(excl < STANDARD).to_numpy() & inc["hh_id"].isin(none_able).to_numpy()]
    out += _rows("dibao_eligible_unpaid", low[~low["hh_id"].isin(covered)], ["hh_id"])
    # 低保身份不一致
    on = set(wr.loc[_active(wr, A) & (wr["programme"] == "dibao"), "person_id"])
    mis = reg[((reg["dibao"] == "是") & ~reg["person_id"].isin(on))
              | ((reg["dibao"] == "否") & reg["person_id"].isin(on))]
    out += _rows("dibao_register_mismatch", mis, ["person_id"])
    # 低保特困金额不符
    months = sum(_active(wr, pd.Timestamp(year=Y, month=k, day=1)).astype(int) for k in range(1, 13))
    roll = (wr["monthly_amount"] * months).groupby(wr["hh_id"]).sum()
    hh_roll = wr.loc[wr["monthly_amount"].notna(), "hh_id"].unique()
    inc_pay = (inc["dibao_pay"].fillna(0) + inc["wubao_pay"].fillna(0)).groupby(inc["hh_id"]).sum()
    both = pd.DataFrame({"roll": roll.reindex(hh_roll), "inc": inc_pay.reindex(hh_roll)}).dropna()
    diff = (both["inc"] - both["roll"]).abs()
    pay = both[(diff > TOL * both["roll"]) & (diff > 100)].reset_index(names="hh_id")
    out += _rows("welfare_pay_mismatch", pay, ["hh_id"])
    # 在保不在档
    outside = w[_active(w, A) & ~w["id_number"].isin(ids)].copy()
    outside["person_key"] = person_key(outside["id_number"], DEMO_KEY)
    out += _rows("welfare_not_registered", outside, ["person_key"])
    out += _dropped_at_exit(wr, hh)
    out += _deceased(w, t["posts"], deaths, reg, ids)
    out += _disability(alive, t["disability"], reg)
    out += _health(alive, t["insurance"], t["hospital"], reg)
    out += _school(alive, t["enrollment"], t["student_aid"], reg)
    out += _posts(t["posts"], reg, ids)
    return sorted(out, key=lambda r: (r["rule"], tuple(sorted((k, v) for k, v in r.items()))))


def _dropped_at_exit(wr: pd.DataFrame, hh: pd.DataFrame) -> list[dict]:
    ex = hh[(hh["exit_status"] == "exited") & hh["exit_year"].notna()][["hh_id", "exit_year"]]
    j = wr.merge(ex, on="hh_id")
    e = j["exit_year"].astype(int)
    jan1 = pd.to_datetime(e.astype(str) + "-01-01")
    cutoff = pd.to_datetime((e + 1).astype(str) + "-06-30")  # 31 Dec of E + 6 months
    j = j.assign(had=_active(j, jan1), later=j["end"].isna() | (j["end"] >= jan1),
                 stopped=j["end"].notna() & (j["end"] <= A) & (j["end"] < cutoff))
    g = j.groupby("hh_id")
    had = g["had"].any()
    ok = j[j["later"]].groupby("hh_id")["stopped"].all()
    hit = had[had].index.intersection(ok[ok].index)
    return _rows("dibao_dropped_at_exit", pd.DataFrame({"hh_id": hit}), ["hh_id"])


def _deceased(w, posts, deaths, reg, ids) -> list[dict]:
    spells = pd.concat([w[["id_number", "start", "end"]], posts[["id_number", "start", "end"]]])
    j = spells.merge(deaths[["id_number", "death_date"]], on="id_number")
    limit = j["death_date"] + pd.Timedelta(days=GRACE)
    paid = j[(j["end"].isna() & (A > limit)) | (j["end"] > limit)]
    r = paid.merge(reg[["id_number", "person_id"]], on="id_number", how="left")
    reg_rows = r[r["person_id"].notna()]
    out_rows = r[r["person_id"].isna()].assign(person_key=lambda d: person_key(d["id_number"], DEMO_KEY))
    pending = deaths[deaths["death_date"] <= A].merge(reg[["id_number", "person_id"]], on="id_number")
    return (_rows("deceased_paid", reg_rows, ["person_id"]) + _rows("deceased_paid", out_rows, ["person_key"])
            + _rows("deceased_pending", pending, ["person_id"]))


def _disability(alive, dis, reg) -> list[dict]:
    card = set(dis["id_number"])
    no_card = alive[alive["health"].fillna("").str.contains("残疾") & ~alive["id_number"].isin(card)]
    holders = reg[reg["id_number"].isin(card) & ~reg["health"].fillna("").str.contains("残疾")]
    return _rows("disability_no_card", no_card, ["person_id"]) + _rows("card_health_mismatch", holders, ["person_id"])


def _health(alive, ins, hos, reg) -> list[dict]:
    ok = ins[(ins["year"] == C) & ((ins["basic"] == "是") | ins["exempt"].notna())]
    old = alive[alive["birth_date"].isna() | (alive["birth_date"] + pd.Timedelta(days=90) < A)]
    un = old[~old["id_number"].isin(set(ok["id_number"]))]
    h = hos.assign(base=hos["eligible_cost"])
    st = h.groupby(["id_number", "admitted"]).agg(r=("reimbursed", "sum"), e=("eligible_cost", "sum"),
                                                  ne=("eligible_cost", "count"), t=("total_cost", "sum"),
                                                  d=("discharged", "max")).reset_index()
    den = st["e"].where(st["ne"] > 0, st["t"])
    st = st[(st["admitted"].dt.year == C) & (st["d"] <= A) & (st["r"] / den < TARGET)]
    low = st.merge(reg[["id_number", "person_id"]], on="id_number")
    return _rows("uninsured", un, ["person_id"]) + _rows("reimbursement_low", low, ["person_id", "admitted"])


def _school(alive, en, aid, reg) -> list[dict]:
    en = en.assign(term=en["term"].replace({"2019年秋季": "2019秋", "2018-2019学年第二学期": "2019春"}))
    age = _age(alive["birth_date"], pd.Timestamp("2019-08-31"))
    band = alive[(age >= AGE_MIN) & (age <= AGE_MAX)]
    cur = en[en["term"] == "2019秋"]
    drop = band[band["id_number"].isin(set(cur.loc[cur["status"] == "辍学", "id_number"]))]
    grad = set(en.loc[(en["stage"] == "初中") & (en["status"] == "毕业"), "id_number"])
    nf = band[~band["id_number"].isin(set(cur["id_number"])) & ~band["id_number"].isin(grad)]
    a = aid.assign(term=aid["term"].replace({"2019秋季学期": "2019秋"})).merge(
        reg[["id_number", "person_id"]], on="id_number")
    n = a.groupby(["person_id", "term", "programme"]).size().reset_index(name="n")
    rep = n[n["n"] > 1]
    ch = a[a["stage"] == "高校"].groupby(["person_id", "term"])["channel"].nunique().reset_index(name="k")
    multi = ch[ch["k"] > MAX_CHANNELS]
    return (_rows("dropout", drop, ["person_id"]) + _rows("enrollment_not_found", nf, ["person_id"])
            + _rows("aid_repeat", rep, ["person_id", "term", "programme"])
            + _rows("aid_multi_channel", multi, ["person_id", "term"]))


def _posts(posts, reg, ids) -> list[dict]:
    lo = A - pd.DateOffset(months=12)
    p = posts.merge(reg[["id_number", "person_id"]], on="id_number", how="left")
    p["person_key"] = np.where(p["person_id"].isna(), person_key(p["id_number"], DEMO_KEY), None)
    p["first"] = p["start"].where(p["start"] > lo, lo + pd.Timedelta(days=1))
    p["last"] = p["end"].fillna(A).where(p["end"].fillna(A) < A, A)
    inw = p[p["first"] <= p["last"]]
    pair = inw.merge(inw, on="id_number", suffixes=("", "_2"))
    pair = pair[(pair["post_id"] != pair["post_id_2"])
                & (np.maximum(pair["first"], pair["first_2"]) <= np.minimum(pair["last"], pair["last_2"]))]
    out = _rows("post_multiple", pair[pair["person_id"].notna()], ["person_id"])
    out += _rows("post_multiple", pair[pair["person_id"].isna()], ["person_key"])
    short = inw.assign(short=inw["end"].notna()
                       & (inw["end"] + pd.Timedelta(days=1) < inw["start"] + pd.DateOffset(months=MIN_SPELL)))
    g = short.groupby("post_id").agg(n=("id_number", "nunique"), all_short=("short", "all")).reset_index()
    out += _rows("post_rotation", g[(g["n"] >= 2) & g["all_short"]], ["post_id"])
    ext = p[p["person_id"].isna() & p["post_type"].isin(POOR_POSTS) & _active(p, A)]
    return out + _rows("post_not_registered", ext, ["person_key", "post_id"])


def truth(tables: dict[str, pd.DataFrame]) -> dict:
    """``truth.json["departments"]``: the expected ``dept_mismatch`` rows, their count per rule,
    and the planted cases and decoys of each rule (``_case`` of the rolls, with their file and row)."""
    rows = expected_mismatches(tables)
    cases = []
    for name in ("welfare", "disability", "insurance", "hospital", "enrollment", "student_aid",
                 "posts", "deaths"):
        df = tables[name]
        c = df[df["_case"] != ""]
        cases += [{"table": name, "case": k, "file": f, "row": int(r)} for k, f, r in
                  zip(c["_case"], c["_file"], c["_row"], strict=True)]
    counts = pd.Series([r["rule"] for r in rows], dtype="str").value_counts().sort_index()
    return {"dept_mismatch": rows, "rules": {k: int(v) for k, v in counts.items()},
            "cases": sorted(cases, key=lambda x: (x["table"], x["case"], x["file"], x["row"]))}
