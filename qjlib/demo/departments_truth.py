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


def _rows(rule: str, df: pd.DataFrame, cols: list[str], ref: bool = False) -> list[dict]:
    """One expected row per distinct ``cols``; with ``ref``, ``df`` holds the department rows the
    finding rests on (``_file``/``_row``) and the row names the first of them, as the contract's
    ``file``/``row`` do ("the first one when several"): by file name, then line."""
    if ref:
        df = df.sort_values(["_file", "_row"], kind="stable")
    out = df.drop_duplicates(cols).sort_values(cols)
    keep = [*cols, "_file", "_row"] if ref else cols
    return [{"rule": rule, **{c: _text(v) for c, v in zip(cols, r, strict=False)},
             **({"file": str(r[-2]), "row": int(r[-1])} if ref else {})}
            for r in out[keep].itertuples(index=False)]


def _text(v) -> str:
    return v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v)


def expected_mismatches(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Every expected ``dept_mismatch`` row, sorted by rule then key; a row resting on department
    lines names the first of them (``file``, ``row``), one resting on an absence names none."""
    m = _kept(tables["members"])
    hh = _kept(tables["households"])
    reg = m[["person_id", "hh_id", "id_number", "health", "dibao", "birth_date", "labor_skill"]]
    status = m["member_status"] if "member_status" in m.columns else pd.Series(pd.NA, index=m.index)
    cnt = reg[(status.isna() | (status == "正常")).to_numpy()]  # the subjects of the person rules
    ids = set(reg["id_number"])
    t = {k: _kept(tables[k]).copy() for k in ("welfare", "disability", "insurance", "hospital",
                                              "enrollment", "student_aid", "posts", "deaths")}
    for k, df in t.items():  # the rolls' provenance exists once they are written (write.py)
        if "_file" not in df.columns:
            t[k] = df.assign(_file="", _row=0)
    w = t["welfare"]
    w["programme"] = w["programme"].replace({"低保": "dibao", "农村低保": "dibao", "最低生活保障": "dibao",
                                             "特困供养": "tekun", "特困": "tekun", "五保": "tekun"})
    w = w[w["programme"].isin(["dibao", "tekun"])]
    wr = w.merge(reg[["id_number", "person_id", "hh_id"]], on="id_number")
    deaths = t["deaths"]
    dead_by_a = set(deaths.loc[deaths["death_date"] <= A, "id_number"])
    alive = cnt[~cnt["id_number"].isin(dead_by_a)]
    out: list[dict] = []
    # 应保未保 (rests on an absence: no file/row)
    inc = _kept(tables["income"])
    inc = inc[(inc["year"] == Y).to_numpy() & inc["hh_id"].isin(set(hh["hh_id"])).to_numpy()].copy()
    net = inc["wage"] + inc["operating"] - inc["operating_cost"] + inc["property"] + inc["transfer"]
    excl = (net - inc["dibao_pay"].fillna(0) - inc["wubao_pay"].fillna(0)) / inc["size"]
    able = reg["labor_skill"].isin(["普通劳动力", "技能劳动力", "弱劳动力或半劳动力"]).groupby(reg["hh_id"]).any()
    none_able = set(able[~able].index)
    covered = set(wr.loc[_active(wr, A), "hh_id"])
    low = inc[(excl < STANDARD).to_numpy() & inc["hh_id"].isin(none_able).to_numpy()]
    out += _rows("dibao_eligible_unpaid", low[~low["hh_id"].isin(covered)], ["hh_id"])
    # 低保身份不一致: 是 without an active 低保 spell (an absence); 否 with one (its first line)
    act_d = wr[_active(wr, A) & (wr["programme"] == "dibao")]
    on = set(act_d["person_id"])
    out += _rows("dibao_register_mismatch", cnt[(cnt["dibao"] == "是") & ~cnt["person_id"].isin(on)],
                 ["person_id"])
    no = set(cnt.loc[cnt["dibao"] == "否", "person_id"])
    out += _rows("dibao_register_mismatch", act_d[act_d["person_id"].isin(no)], ["person_id"], ref=True)
    out += _pay(inc, wr)
    # 在保不在档
    outside = w[_active(w, A) & ~w["id_number"].isin(ids)].copy()
    outside["person_key"] = person_key(outside["id_number"], DEMO_KEY)
    out += _rows("welfare_not_registered", outside, ["person_key"], ref=True)
    out += _dropped_at_exit(wr, hh)
    out += _deceased(w, t["posts"], deaths, reg, cnt)
    out += _disability(alive, t["disability"], cnt)
    out += _health(alive, t["insurance"], t["hospital"], cnt)
    out += _school(alive, t["enrollment"], t["student_aid"], cnt)
    out += _posts(t["posts"], reg, ids)
    return sorted(out, key=lambda r: (r["rule"], tuple(sorted((k, str(v)) for k, v in r.items()))))


def _pay(inc: pd.DataFrame, wr: pd.DataFrame) -> list[dict]:
    """低保特困金额不符 over every registered household with an income row of Y: the roll's figure
    is 0 for a household without a spell (a roll figure of 0 against more than 100 yuan is a
    mismatch); a household with a paid month of a spell without ``monthly_amount`` is left out.
    The row rests on the household's first spell line (none when the roll has no spell)."""
    months = sum(_active(wr, pd.Timestamp(year=Y, month=k, day=1)).astype(int) for k in range(1, 13))
    roll = (wr["monthly_amount"] * months).groupby(wr["hh_id"]).sum()
    unknown = set(wr.loc[(months > 0) & wr["monthly_amount"].isna(), "hh_id"])
    inc_pay = (inc["dibao_pay"].fillna(0) + inc["wubao_pay"].fillna(0)).groupby(inc["hh_id"]).sum()
    both = pd.DataFrame({"inc": inc_pay, "roll": roll.reindex(inc_pay.index).fillna(0.0)})
    both = both[~both.index.isin(unknown)]
    fen_inc, fen_roll = (both["inc"] * 100).round(), (both["roll"] * 100).round()  # whole fen
    diff = (fen_inc - fen_roll).abs()
    bad = both[(diff * round(1 / TOL) > fen_roll) & (diff > 100 * 100)].index
    with_spell = wr[wr["hh_id"].isin(bad)]
    no_spell = pd.DataFrame({"hh_id": bad[~bad.isin(set(wr["hh_id"]))]})
    return (_rows("welfare_pay_mismatch", with_spell, ["hh_id"], ref=True)
            + _rows("welfare_pay_mismatch", no_spell, ["hh_id"]))


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
    return _rows("dibao_dropped_at_exit", j[j["hh_id"].isin(hit) & j["later"]], ["hh_id"], ref=True)


def _deceased(w, posts, deaths, reg, cnt) -> list[dict]:
    cols = ["id_number", "start", "end", "_file", "_row"]
    spells = pd.concat([w[cols], posts[cols]])
    j = spells.merge(deaths[["id_number", "death_date"]], on="id_number")
    limit = j["death_date"] + pd.Timedelta(days=GRACE)
    paid = j[(j["end"].isna() & (A > limit)) | (j["end"] > limit)]
    r = paid.merge(reg[["id_number", "person_id"]], on="id_number", how="left")
    reg_rows = r[r["person_id"].notna()]
    out_rows = r[r["person_id"].isna()].assign(person_key=lambda d: person_key(d["id_number"], DEMO_KEY))
    pending = deaths[deaths["death_date"] <= A].merge(cnt[["id_number", "person_id"]], on="id_number")
    return (_rows("deceased_paid", reg_rows, ["person_id"], ref=True)
            + _rows("deceased_paid", out_rows, ["person_key"], ref=True)
            + _rows("deceased_pending", pending, ["person_id"], ref=True))


def _disability(alive, dis, cnt) -> list[dict]:
    card = set(dis["id_number"])
    no_card = alive[alive["health"].fillna("").str.contains("残疾") & ~alive["id_number"].isin(card)]
    holders = dis.merge(cnt[~cnt["health"].fillna("").str.contains("残疾")], on="id_number")
    return (_rows("disability_no_card", no_card, ["person_id"])
            + _rows("card_health_mismatch", holders, ["person_id"], ref=True))


def _health(alive, ins, hos, cnt) -> list[dict]:
    of_c = ins[ins["year"] == C]
    ok = of_c[(of_c["basic"] == "是") | of_c["exempt"].notna()]
    old = alive[alive["birth_date"].isna() | (alive["birth_date"] + pd.Timedelta(days=90) < A)]
    un = old[~old["id_number"].isin(set(ok["id_number"]))]
    with_row = un.merge(of_c[["id_number", "_file", "_row"]], on="id_number")  # a row of C saying 否
    without = un[~un["id_number"].isin(set(of_c["id_number"]))]  # no row of C at all
    h = hos.assign(base=hos["eligible_cost"])
    h = h.sort_values(["_file", "_row"])
    st = h.groupby(["id_number", "admitted"]).agg(r=("reimbursed", "sum"), e=("eligible_cost", "sum"),
                                                  ne=("eligible_cost", "count"), t=("total_cost", "sum"),
                                                  d=("discharged", "max"), _file=("_file", "first"),
                                                  _row=("_row", "first")).reset_index()
    den = st["e"].where(st["ne"] > 0, st["t"])
    st = st[(st["admitted"].dt.year == C) & (st["d"] <= A) & (st["r"] / den < TARGET)]
    low = st.merge(cnt[["id_number", "person_id"]], on="id_number")
    return (_rows("uninsured", without, ["person_id"]) + _rows("uninsured", with_row, ["person_id"], ref=True)
            + _rows("reimbursement_low", low, ["person_id", "admitted"], ref=True))


def _school(alive, en, aid, cnt) -> list[dict]:
    en = en.assign(term=en["term"].replace({"2019年秋季": "2019秋", "2018-2019学年第二学期": "2019春"}))
    age = _age(alive["birth_date"], pd.Timestamp("2019-08-31"))
    band = alive[(age >= AGE_MIN) & (age <= AGE_MAX)]
    cur = en[en["term"] == "2019秋"]
    drop = cur[cur["status"] == "辍学"].merge(band[["id_number", "person_id"]], on="id_number")
    grad = set(en.loc[(en["stage"] == "初中") & (en["status"] == "毕业"), "id_number"])
    nf = band[~band["id_number"].isin(set(cur["id_number"])) & ~band["id_number"].isin(grad)]
    a = aid.assign(term=aid["term"].replace({"2019秋季学期": "2019秋"})).merge(
        cnt[["id_number", "person_id"]], on="id_number")
    n = a.groupby(["person_id", "term", "programme"])["amount"].transform("size")
    rep = a[n > 1]
    hi = a[a["stage"] == "高校"]
    k = hi.groupby(["person_id", "term"])["channel"].transform("nunique")
    multi = hi[k > MAX_CHANNELS]
    return (_rows("dropout", drop, ["person_id"], ref=True) + _rows("enrollment_not_found", nf, ["person_id"])
            + _rows("aid_repeat", rep, ["person_id", "term", "programme"], ref=True)
            + _rows("aid_multi_channel", multi, ["person_id", "term"], ref=True))


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
    both = pd.concat([pair[["person_id", "person_key", "_file", "_row"]],
                      pair[["person_id", "person_key", "_file_2", "_row_2"]].set_axis(
                          ["person_id", "person_key", "_file", "_row"], axis=1)])
    out = _rows("post_multiple", both[both["person_id"].notna()], ["person_id"], ref=True)
    out += _rows("post_multiple", both[both["person_id"].isna()], ["person_key"], ref=True)
    short = inw.assign(short=inw["end"].notna()
                       & (inw["end"] + pd.Timedelta(days=1) < inw["start"] + pd.DateOffset(months=MIN_SPELL)))
    g = short.groupby("post_id").agg(n=("id_number", "nunique"), all_short=("short", "all"))
    hit = g.index[(g["n"] >= 2) & g["all_short"]]
    out += _rows("post_rotation", inw[inw["post_id"].isin(hit)], ["post_id"], ref=True)
    ext = p[p["person_id"].isna() & p["post_type"].isin(POOR_POSTS) & _active(p, A)]
    return out + _rows("post_not_registered", ext, ["person_key", "post_id"], ref=True)


def truth(tables: dict[str, pd.DataFrame]) -> dict:
    """``truth.json["departments"]``: the expected ``dept_mismatch`` rows, their count per rule,
    and the planted cases and decoys of each rule (``_case`` of the rolls, with their file and row)."""
    rows = expected_mismatches(tables)
    cases = []
    for name in ("welfare", "disability", "insurance", "hospital", "enrollment", "student_aid",
                 "posts", "deaths"):
        df = tables[name]
        c = df[df["_case"] != ""]
        if "_file" not in c.columns:  # not written yet (no provenance)
            c = c.assign(_file="", _row=0)
        cases += [{"table": name, "case": k, "file": f, "row": int(r)} for k, f, r in
                  zip(c["_case"], c["_file"], c["_row"], strict=True)]
    counts = pd.Series([r["rule"] for r in rows], dtype="str").value_counts().sort_index()
    return {"dept_mismatch": rows, "rules": {k: int(v) for k, v in counts.items()},
            "cases": sorted(cases, key=lambda x: (x["table"], x["case"], x["file"], x["row"]))}
