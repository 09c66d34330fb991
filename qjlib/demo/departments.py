"""The demo county's department rolls (``shared/contract/departments.md``): a stage run after the
data-quality problems with its own random stream, so every earlier table stays byte-identical.

Realistic rolls, mostly consistent with the register: a 低保 spell for every member the register
says is on 低保 (its monthly amount the household's 2019 低保金 shared out), a 特困 spell for the head
of every household paid 五保金; a disability card for 90 % of members whose health includes 残疾;
2018 and 2019 insurance rows; inpatient stays of the ill, reimbursed 91–95 %; 2019春 and 2019秋
enrolment of the members of school age (6–15 on 31 August 2019) and of older students; aid
payments; forest-ranger and public-welfare posts on yearly contracts; a few deaths; and people
outside the register (welfare and posts).

Planted cases (``_case``, one per planted row, ``""`` for the ordinary rows) for every rule of the
contract, and decoys at the contract's edges (``decoy_*``): a spell ending exactly on the as-of
date, a death exactly ``death_grace_days`` before it, ages exactly at the band's ends, a stay
reimbursed exactly 90 % in two rows, an allowance ending exactly when the 渐退期 does, one aid
programme paid in two terms, a pupil enrolled outside the county, an outsider on a post not for
the poor, a rotation spell of exactly 12 months, two post spells touching without overlap, a newborn exactly 90 days old on it, a child exactly 6 on 31 August
(born on that day). The findings of the loader's checks are planted too (``_q``/``_qtype``/``_qcol`` as in
:mod:`qjlib.demo.quality`). Every row keeps its provenance (``_file``/``_row`` are added by the
writer). :mod:`qjlib.demo.departments_truth` computes the expected ledger from these tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.core.tables_departments import DISABILITY_CATEGORY_DIGIT, DISABILITY_GRADE_DIGIT
from qjlib.demo.base import ASOF, id_numbers, person_names

A = pd.Timestamp(ASOF)
T = pd.Timestamp
STREAM = 16  # this stage's number in the seed sequence [seed, 610830, 16]
OUT_REGION = "610829"  # outsiders were born in the neighbouring county


def _kept(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["_qtype"].to_numpy() != "reject"] if "_qtype" in df.columns else df


def register_people(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The registered persons the rolls draw from: kept members without a planted problem and
    with a unique ID, with their household's town, village, exit status and year."""
    m = _kept(tables["members"])
    m = m[(m["_q"] == "") & ~m["id_number"].duplicated(keep=False)]
    hh = _kept(tables["households"])[["hh_id", "town", "village", "exit_status", "exit_year"]]
    out = m[["person_id", "hh_id", "name", "id_number", "birth_date", "health", "dibao",
             "labor_skill", "male"]].merge(hh, on="hh_id", how="inner")
    return out.reset_index(drop=True)


class _Pool:
    """Registered persons handed out once each to the plants (no person in two plants)."""

    def __init__(self, rng: np.random.Generator, people: pd.DataFrame) -> None:
        self.p = people
        self.used = np.zeros(len(people), dtype=bool)
        self.rng = rng

    def born(self, day: str, otherwise: np.ndarray) -> pd.DataFrame:
        """One person born on ``day`` (an edge of a rule's dates) when the register holds one not
        taken yet, else one of ``otherwise``."""
        exact = (self.p["birth_date"] == T(day)).to_numpy() & ~self.used
        return self.take(exact if exact.any() else otherwise)

    def take(self, mask: np.ndarray, n: int = 1) -> pd.DataFrame:
        """``n`` persons among ``mask`` not taken before (in a county too small to hold one,
        any person not taken: the truth is computed from the rows, not from the plan)."""
        idx = np.flatnonzero(mask & ~self.used)
        if len(idx) < n:
            idx = np.flatnonzero(~self.used)
        pick = self.rng.choice(idx, size=n, replace=False)
        self.used[pick] = True
        return self.p.iloc[pick]


def _row(person, **cols) -> dict:
    return {"id_number": person["id_number"], "name": person["name"], **cols}


def _outsiders(rng: np.random.Generator, n: int) -> pd.DataFrame:
    birth = np.datetime64("1960-01-01") + rng.integers(0, 365 * 35, n).astype("timedelta64[D]")
    male = rng.random(n) < 0.5
    return pd.DataFrame({"id_number": id_numbers(OUT_REGION, birth, male, rng, seq_offset=500),
                         "name": person_names(rng, male)})


def draw_departments(seed: int, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The eight department rolls of the demo county (canonical columns, ``_case`` and the
    private quality columns), drawn from ``np.random.default_rng([seed, 610830, 16])``."""
    rng = np.random.default_rng([seed, 610830, STREAM])
    people = register_people(tables)
    pool = _Pool(rng, people)
    rows: dict[str, list[dict]] = {k: [] for k in (
        "welfare", "disability", "insurance", "hospital", "enrollment", "student_aid", "posts", "deaths")}
    base = _base_rolls(rng, tables, people)
    _plant_welfare(rng, pool, people, rows, base)
    _plant_people(rng, pool, people, rows, base)
    _plant_school(pool, people, rows, base)
    _plant_posts(rng, pool, rows)
    out = {}
    for name, b in base.items():
        extra = pd.DataFrame(rows[name])
        df = pd.concat([b, extra], ignore_index=True) if len(extra) else b
        df["_case"] = df["_case"].fillna("") if "_case" in df.columns else ""
        for c in ("_q", "_qtype", "_qcol"):
            df[c] = df[c].fillna("") if c in df.columns else ""
        out[name] = df
    return out


# ------------------------------------------------------------------------------ ordinary rolls


def _base_rolls(rng, tables, people) -> dict[str, pd.DataFrame]:
    """The ordinary, consistent rows of every roll."""
    inc = _kept(tables["income"])
    inc = inc[inc["year"] == 2019].set_index("hh_id")
    pe = people
    # 低保: every member on 低保 in the register; the household's 2019 低保金 shared out by month
    d = pe[pe["dibao"] == "是"]
    n_d = d.groupby("hh_id")["person_id"].transform("size")
    pay = d["hh_id"].map(inc["dibao_pay"]).fillna(0.0)
    start = T("2015-01-01") + pd.to_timedelta(rng.integers(0, 47, len(d)) * 31, unit="D")
    welfare = pd.DataFrame({
        "id_number": d["id_number"], "name": d["name"], "programme": "低保",
        "class": rng.choice(["A类", "B类", "C类"], len(d)), "start": start.to_period("M").to_timestamp(),
        "end": pd.NaT, "monthly_amount": (pay / n_d / 12).round(2), "town": d["town"],
        "village": d["village"]})
    welfare = welfare[welfare["monthly_amount"] > 0]
    heads = pe[pe["person_id"].str.endswith("01")]
    wpay = heads["hh_id"].map(inc["wubao_pay"]).fillna(0.0)
    h = heads[wpay > 0]
    tekun = pd.DataFrame({"id_number": h["id_number"], "name": h["name"], "programme": "特困供养",
                          "start": T("2016-01-01"), "end": pd.NaT,
                          "monthly_amount": (wpay[wpay > 0] / 12).round(2), "town": h["town"],
                          "village": h["village"]})
    dis = pe[pe["health"].str.contains("残疾") & (rng.random(len(pe)) < 0.9)]
    cat = rng.choice(list(DISABILITY_CATEGORY_DIGIT), len(dis))
    grade = rng.choice(list(DISABILITY_GRADE_DIGIT), len(dis))
    card = (dis["id_number"] + pd.Series(cat, index=dis.index).map(DISABILITY_CATEGORY_DIGIT)
            + pd.Series(grade, index=dis.index).map(DISABILITY_GRADE_DIGIT))
    disability = pd.DataFrame({"id_number": dis["id_number"], "name": dis["name"],
                               "card_number": card, "category": cat, "grade": grade,
                               "issued": T("2016-06-01")})
    ins = pd.concat([pd.DataFrame({"id_number": pe["id_number"], "name": pe["name"], "year": y,
                                   "basic": "是", "scheme": "城乡居民", "critical": "是",
                                   "family_doctor": np.where(rng.random(len(pe)) < 0.85, "是", "否")})
                     for y in (2018, 2019)], ignore_index=True)
    ill = pe[pe["health"].str.contains("大病|慢性病") & (rng.random(len(pe)) < 0.15)]
    adm = T("2019-01-05") + pd.to_timedelta(rng.integers(0, 230, len(ill)), unit="D")
    tot = rng.integers(30, 300, len(ill)) * 100.0
    elig = (tot * 0.9).round(0)
    hospital = pd.DataFrame({"id_number": ill["id_number"], "name": ill["name"], "admitted": adm,
                             "discharged": adm + pd.to_timedelta(rng.integers(3, 20, len(ill)), unit="D"),
                             "total_cost": tot, "eligible_cost": elig,
                             "reimbursed": (elig * rng.uniform(0.91, 0.95, len(ill))).round(2),
                             "hospital_name": "清涧县医院", "town": ill["town"]})
    age = _age(pe, T("2019-08-31"))
    kids = pe[(age >= 6) & (age <= 15)]
    stage = np.where(_age(kids, T("2019-08-31")) >= 12, "初中", "小学")
    enrollment = pd.concat([pd.DataFrame({"id_number": kids["id_number"], "name": kids["name"],
                                          "term": t, "school": "清涧县宽州镇中心学校", "stage": stage,
                                          "status": "在校"}) for t in ("2019春", "2019秋")],
                           ignore_index=True)
    aid_kids = kids[rng.random(len(kids)) < 0.3]
    student_aid = pd.DataFrame({"id_number": aid_kids["id_number"], "name": aid_kids["name"],
                                "term": "2019秋", "stage": "初中", "programme": "家庭经济困难学生生活补助",
                                "channel": "教体", "amount": 625.0})
    adults = pe[(age >= 25) & (age <= 55)]
    rangers = adults.iloc[rng.choice(len(adults), 120, replace=False)]
    posts = pd.DataFrame({"post_id": [f"HLY{i:04d}" for i in range(1, len(rangers) + 1)],
                          "post_type": "生态护林员", "id_number": rangers["id_number"].to_numpy(),
                          "name": rangers["name"].to_numpy(), "start": T("2017-01-01"), "end": pd.NaT,
                          "monthly_pay": 833.0, "town": rangers["town"].to_numpy(),
                          "village": rangers["village"].to_numpy()})
    deaths = pd.DataFrame(columns=["id_number", "name", "death_date"])
    return {"welfare": pd.concat([welfare, tekun], ignore_index=True), "disability": disability,
            "insurance": ins, "hospital": hospital, "enrollment": enrollment,
            "student_aid": student_aid, "posts": posts, "deaths": deaths}


def _age(pe: pd.DataFrame, on: pd.Timestamp) -> np.ndarray:
    b = pe["birth_date"]
    return (on.year - b.dt.year - ((b.dt.month * 100 + b.dt.day) > on.month * 100 + on.day)).to_numpy()


def _drop(base: dict[str, pd.DataFrame], table: str, ids) -> None:
    """Remove ``ids``'s ordinary rows of ``table`` (a plant replaces them)."""
    df = base[table]
    base[table] = df[~df["id_number"].isin(list(ids))].reset_index(drop=True)


# ------------------------------------------------------------------------------ plants: 民政


def _plant_welfare(rng, pool: _Pool, pe: pd.DataFrame, rows, base) -> None:
    """低保/特困 plants and decoys (rules dibao_* , welfare_*, deceased_*)."""
    w = rows["welfare"]
    on_dibao = (pe["dibao"] == "是").to_numpy()
    wel_ids = set(base["welfare"]["id_number"])
    has_spell = pe["id_number"].isin(wel_ids).to_numpy()
    # register 是, spell ended the day before A: a mismatch; ended on A: still active (decoy)
    for end, case in ((A - pd.Timedelta(days=1), "dibao_register_mismatch"),
                      (A, "decoy_spell_ends_on_asof")):
        p = pool.take(on_dibao & has_spell).iloc[0]
        _drop(base, "welfare", [p["id_number"]])
        w.append(_row(p, programme="低保", start=T("2017-01-01"), end=end, monthly_amount=120.0,
                      town=p["town"], village=p["village"], _case=case))
    # register 否 with an active 低保 spell
    p = pool.take(~on_dibao & ~has_spell).iloc[0]
    w.append(_row(p, programme="最低生活保障", start=T("2019-01-01"), end=pd.NaT, monthly_amount=100.0,
                  town=p["town"], village=p["village"], _case="dibao_register_mismatch"))
    # welfare_pay_mismatch: one household's roll doubled; a decoy 5 % up
    for factor, case in ((2.0, "welfare_pay_mismatch"), (1.05, "decoy_pay_within_tolerance")):
        p = pool.take(on_dibao & has_spell).iloc[0]
        df = base["welfare"]
        m = df["id_number"] == p["id_number"]
        df.loc[m, "monthly_amount"] = (df.loc[m, "monthly_amount"] * factor).round(2)
        df.loc[m, "_case"] = case
    # dibao_dropped_at_exit: household exited in 2018, spells ended 2018-12-31 (dropped) or
    # exactly 2019-06-30 (the 渐退期's end: not dropped)
    ex18 = ((pe["exit_status"] == "exited") & (pe["exit_year"] == 2018)).to_numpy()
    for end, case in ((T("2018-12-31"), "dibao_dropped_at_exit"), (T("2019-06-30"), "decoy_gradual_exit_end")):
        hh = pool.take(ex18 & on_dibao & has_spell).iloc[0]["hh_id"]
        df = base["welfare"]
        ids = set(pe.loc[pe["hh_id"] == hh, "id_number"])
        m = df["id_number"].isin(ids)
        df.loc[m, "end"] = end
        df.loc[m, "_case"] = case
        pool.used |= pe["hh_id"].to_numpy() == hh
    # dibao_eligible_unpaid: a 无劳动能力 household on 低保 whose spells are missing
    able = pe["labor_skill"].isin(["普通劳动力", "技能劳动力", "弱劳动力或半劳动力"])
    nolab = able.groupby(pe["hh_id"]).transform("any").to_numpy()
    hh = pool.take(~nolab & on_dibao & has_spell).iloc[0]["hh_id"]
    ids = set(pe.loc[pe["hh_id"] == hh, "id_number"])
    _drop(base, "welfare", ids)
    pool.used |= pe["hh_id"].to_numpy() == hh
    # outsiders: active 低保 (listed), ended the day before A (not), ended on A (listed);
    # a failing checksum (a finding, matches nobody)
    out = _outsiders(rng, 8)
    for i, (end, case) in enumerate(((pd.NaT, "welfare_not_registered"),
                                     (A - pd.Timedelta(days=1), "decoy_outsider_ended"),
                                     (A, "welfare_not_registered"))):
        o = out.iloc[i]
        w.append(_row(o, programme="农村低保", start=T("2018-03-01"), end=end, monthly_amount=200.0,
                      town="宽州镇", village="", _case=case))
    bad = out.iloc[3]["id_number"]
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    w.append({"id_number": bad, "name": out.iloc[3]["name"], "programme": "低保", "start": T("2018-03-01"),
              "end": pd.NaT, "monthly_amount": 200.0, "town": "宽州镇", "_case": "finding_checksum",
              "_q": "id_checksum", "_qtype": "finding", "_qcol": "id_number"})
    # a spell ending before it starts (finding)
    o = out.iloc[4]
    w.append(_row(o, programme="特困", start=T("2019-05-01"), end=T("2019-04-30"), monthly_amount=400.0,
                  town="宽州镇", _case="finding_end_before_start", _q="end_before_start",
                  _qtype="finding", _qcol="end"))
    # deaths: registered on 低保 and paid more than 31 days after death (listed twice: paid
    # and pending); exactly 31 days before A (pending only); after A (neither); an outsider
    deaths = rows["deaths"]
    for dd, case in ((T("2019-05-10"), "deceased_paid"), (A - pd.Timedelta(days=31), "decoy_death_grace"),
                     (A + pd.Timedelta(days=1), "decoy_death_after_asof")):
        p = pool.take(on_dibao & has_spell).iloc[0]
        deaths.append(_row(p, death_date=dd, _case=case))
    o = out.iloc[5]
    w.append(_row(o, programme="低保", start=T("2017-01-01"), end=pd.NaT, monthly_amount=200.0,
                  town="石咀驿镇", _case="deceased_paid"))
    deaths.append(_row(o, death_date=T("2019-01-15"), _case="deceased_paid"))
    deaths.append(_row(o, death_date=T("2019-01-16"), _case="finding_death_twice",
                       _q="duplicate_id_number", _qtype="finding", _qcol="id_number"))


# ------------------------------------------------------------------------ plants: 残联, 医保


def _plant_people(rng, pool: _Pool, pe: pd.DataFrame, rows, base) -> None:
    """Disability, insurance and hospital plants, decoys and findings."""
    disabled = pe["health"].str.contains("残疾").to_numpy()
    carded = pe["id_number"].isin(set(base["disability"]["id_number"])).to_numpy()
    # disability_no_card: every 残疾 member without a card is listed (10 % of them, drawn above)
    p = pool.take(~disabled & ~carded).iloc[0]  # card_health_mismatch: a card, health says no 残疾
    rows["disability"].append(_row(p, card_number=p["id_number"] + "42", category="肢体", grade="二级",
                                   _case="card_health_mismatch"))
    for bad_card, q in ((lambda i: i[:17] + "0" + "42", "card_id_mismatch"),
                        (lambda i: i + "13", "card_code_mismatch")):
        p = pool.take(disabled & carded).iloc[0]
        _drop(base, "disability", [p["id_number"]])
        rows["disability"].append(_row(p, card_number=bad_card(p["id_number"]), category="肢体",
                                       grade="二级", _case=f"finding_{q}", _q=q, _qtype="finding",
                                       _qcol="card_number"))
    ins = rows["insurance"]
    # uninsured: no 2019 row (only 2018); basic 否 without reason; decoy: 否 with 服役
    for case, basic, exempt in (("uninsured", None, None), ("uninsured", "否", None),
                                ("decoy_exempt", "否", "服役")):
        p = pool.take(np.ones(len(pe), dtype=bool)).iloc[0]
        _drop(base, "insurance", [p["id_number"]])
        ins.append(_row(p, year=2018, basic="是", critical="是", family_doctor="否", _case=case))
        if basic is not None:
            ins.append(_row(p, year=2019, basic=basic, critical="否", exempt=exempt, _case=case))
    # older than 90 days on A is a subject: a newborn of A − 91 days (listed) and one of exactly
    # A − 90 days (not), each with a 2019 row 否 without reason (when the register holds them)
    for days, case in ((91, "uninsured"), (90, "decoy_exactly_90_days_old")):
        exact = (pe["birth_date"] == A - pd.Timedelta(days=days)).to_numpy() & ~pool.used
        if exact.any():
            p = pool.take(exact).iloc[0]
            _drop(base, "insurance", [p["id_number"]])
            ins.append(_row(p, year=2019, basic="否", critical="否", family_doctor="否", _case=case))
    p = pool.take(np.ones(len(pe), dtype=bool)).iloc[0]  # basic 是, critical 否: a finding
    base["insurance"].loc[(base["insurance"]["id_number"] == p["id_number"])
                          & (base["insurance"]["year"] == 2019), ["critical", "_case", "_q", "_qtype", "_qcol"]] = [
        "否", "finding_basic_without_critical", "basic_without_critical", "finding", "critical"]
    hos = rows["hospital"]
    cases = (  # admitted, discharged, rows of (total, eligible, reimbursed), case
        (T("2019-03-01"), T("2019-03-12"), ((10000.0, 8000.0, 6000.0),), "reimbursement_low"),
        (T("2019-04-01"), T("2019-04-09"), ((5000.0, np.nan, 4000.0),), "reimbursement_low"),
        (T("2019-05-01"), T("2019-05-10"), ((10000.0, 8000.0, 6000.0), (0.0, 0.0, 1200.0)),
         "decoy_ratio_exactly_target"),
        (T("2019-09-20"), T("2019-10-02"), ((10000.0, 8000.0, 5000.0),), "decoy_discharged_after_asof"),
        (T("2018-12-31"), T("2019-01-08"), ((10000.0, 8000.0, 5000.0),), "decoy_admitted_last_year"),
        (T("2019-06-01"), T("2019-06-05"), ((3000.0, 3000.0, 2000.0), (0.0, 0.0, 1500.0)),
         "finding_reimbursed_over_total"),
        (T("2019-07-01"), T("2019-06-28"), ((4000.0, 4000.0, 3800.0),), "finding_end_before_start"),
    )
    for adm, dis, parts, case in cases:
        p = pool.take(np.ones(len(pe), dtype=bool)).iloc[0]
        _drop(base, "hospital", [p["id_number"]])
        for k, (tot, elig, reimb) in enumerate(parts):
            q = {}
            if case.startswith("finding_") and k == 0:
                q = {"_q": case[8:], "_qtype": "finding",
                     "_qcol": "reimbursed" if "reimbursed" in case else "discharged"}
            hos.append(_row(p, admitted=adm, discharged=dis, total_cost=tot, eligible_cost=elig,
                            reimbursed=reimb, hospital_name="榆林市第一医院", town=p["town"],
                            _case=case, **q))


# ------------------------------------------------------------------------------ plants: 教体


def _plant_school(pool: _Pool, pe: pd.DataFrame, rows, base) -> None:
    """Enrolment and student-aid plants and decoys (ages on 31 August 2019)."""
    age = _age(pe, T("2019-08-31"))
    en, aid = rows["enrollment"], rows["student_aid"]

    def kid(a: int, born: str | None = None):
        p = (pool.born(born, age == a) if born else pool.take(age == a)).iloc[0]
        _drop(base, "enrollment", [p["id_number"]])
        _drop(base, "student_aid", [p["id_number"]])
        return p

    # the band's ends on 31 August: 6 exactly on that day (born 2013-08-31, when the register holds
    # such a child) and 15; 16 and 5 are outside
    for a, case, born in ((15, "dropout", "2003-09-01"), (6, "dropout", "2013-08-31"),
                          (16, "decoy_age_above_band", "2003-08-31"),
                          (5, "decoy_age_below_band", "2013-09-01")):
        p = kid(a, born)
        en.append(_row(p, term="2019春", stage="初中" if a > 11 else "学前", status="在校", _case=case))
        en.append(_row(p, term="2019年秋季", stage="初中" if a > 11 else "小学", status="辍学", _case=case))
    p = kid(10)  # enrolled outside the county: no row for 2019秋
    en.append(_row(p, term="2019春", stage="小学", status="在校", _case="enrollment_not_found"))
    p = kid(15)  # completed 初中 in 2019春: compulsory education done
    en.append(_row(p, term="2018-2019学年第二学期", stage="初中", status="毕业",
                   _case="decoy_junior_graduate"))
    p = kid(12)  # an unreadable term: rejected; the good row stays
    en.append(_row(p, term="2019秋", stage="初中", status="在校"))
    en.append(_row(p, term="2019-1", stage="初中", status="在校", _case="reject_term",
                   _q="unparseable_term", _qtype="reject", _qcol="term"))
    prog = "家庭经济困难学生生活补助"
    p = kid(13)
    en.append(_row(p, term="2019秋", stage="初中", status="在校"))
    aid.extend(_row(p, term="2019秋", stage="初中", programme=prog, channel="教体", amount=625.0,
                    _case="aid_repeat") for _ in range(2))
    p = kid(14)
    en.append(_row(p, term="2019秋", stage="初中", status="在校"))
    aid.extend(_row(p, term=t, stage="初中", programme=prog, channel="教体", amount=625.0,
                    _case="decoy_aid_two_terms") for t in ("2019春", "2019秋季学期"))
    for chans, progs, case in ((("教体", "扶贫办"), ("新生入学资助", "雨露计划"), "aid_multi_channel"),
                               (("民政", "民政"), ("新生入学资助", "助学金"), "decoy_one_channel")):
        p = kid(18)
        aid.extend(_row(p, term="2019秋", stage="高校", programme=g, channel=c, amount=3000.0,
                        _case=case) for c, g in zip(chans, progs, strict=True))


# ----------------------------------------------------------------------------- plants: 林业


def _plant_posts(rng, pool: _Pool, rows) -> None:
    """Post plants and decoys: several posts at once, rotation, outsiders on posts for the poor."""
    pe = pool.p
    age = _age(pe, T("2019-08-31"))
    adult = (age >= 25) & (age <= 55)
    po = rows["posts"]

    def spell(p, post, ptype, start, end, case):
        po.append({"post_id": post, "post_type": ptype, "id_number": p["id_number"], "name": p["name"],
                   "start": T(start), "end": T(end) if end else pd.NaT, "monthly_pay": 833.0,
                   "town": p.get("town", "宽州镇"), "village": p.get("village", ""), "_case": case})

    p = pool.take(adult).iloc[0]  # two posts overlapping in the window
    spell(p, "HLY9001", "生态护林员", "2019-01-01", None, "post_multiple")
    spell(p, "GY9001", "公益特岗", "2019-06-01", "2019-08-31", "post_multiple")
    p = pool.take(adult).iloc[0]  # touching, not overlapping
    spell(p, "HLY9002", "生态护林员", "2019-01-01", "2019-03-31", "decoy_posts_touch")
    spell(p, "GY9002", "公益岗位", "2019-04-01", None, "decoy_posts_touch")
    p = pool.take(adult).iloc[0]  # overlapping only before the window
    spell(p, "HLY9003", "生态护林员", "2017-01-01", "2018-06-30", "decoy_overlap_before_window")
    spell(p, "GY9003", "保洁员", "2018-01-01", "2018-09-30", "decoy_overlap_before_window")
    # rotation: three holders of six months each; a decoy post whose second spell is 12 months
    for post, spells_ in (("HLY9101", (("2018-10-01", "2019-03-31"), ("2019-04-01", "2019-09-30"))),
                          ("HLY9102", (("2018-04-01", "2018-12-31"), ("2019-01-01", "2019-12-31")))):
        case = "post_rotation" if post == "HLY9101" else "decoy_rotation_full_year"
        for s, e in spells_:
            spell(pool.take(adult).iloc[0], post, "生态护林员", s, e, case)
    out = _outsiders(rng, 5)
    o = out.iloc[0]  # an outsider ranger (listed), on A exactly (listed), the day before (not)
    o2, o3, o4 = out.iloc[1], out.iloc[2], out.iloc[3]
    spell(o, "HLY9201", "生态护林员", "2018-01-01", None, "post_not_registered")
    spell(o2, "GY9202", "公益特岗", "2018-01-01", "2019-09-30", "post_not_registered")
    spell(o3, "GY9203", "公益岗位", "2018-01-01", "2019-09-29", "decoy_outsider_post_ended")
    spell(o4, "ZG9204", "公益专岗", "2018-01-01", None, "decoy_outsider_not_poor_post")
    # a deceased ranger still in post
    p = pool.take(adult).iloc[0]
    spell(p, "HLY9301", "生态护林员", "2017-01-01", None, "deceased_paid")
    rows["deaths"].append(_row(p, death_date=T("2019-03-01"), _case="deceased_paid"))
    p = pool.take(adult).iloc[0]  # a post spell ending before it starts (finding)
    po.append({"post_id": "GY9401", "post_type": "公益岗位", "id_number": p["id_number"],
               "name": p["name"], "start": T("2019-05-01"), "end": T("2019-04-01"),
               "town": p["town"], "_case": "finding_end_before_start", "_q": "end_before_start",
               "_qtype": "finding", "_qcol": "end"})
