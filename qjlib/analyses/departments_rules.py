"""The comparison rules of ``shared/contract/departments.md`` for 民政, 公安, 残联 and 医保: each a
pure, vectorised function on canonical frames returning its ledger rows (the education and post
rules are in :mod:`qjlib.analyses.departments_school`).

Inputs: ``persons`` (:func:`qjlib.analyses.departments_match.registered_persons`) and department
rolls passed through :func:`~qjlib.analyses.departments_match.roll` (``id_key``, ``file``, ``row``).
Every rule returns a frame with its subject's key (``hh_id``, ``person_id``, or ``id_key`` for a
person outside the register, plus ``admitted``/``term``/``programme``/``post_id`` where the rule
names them), ``id_number``, ``name``, ``file``, ``row`` (the department line it rests on; blank when
the finding is an absence), ``detail`` (the deciding figures and dates) and ``reason`` (Chinese).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.analyses.departments_match import (
    dates_text,
    first_rows,
    is_registered,
    key_in,
    match,
    match_counted,
)
from qjlib.core.exact import fen, fraction, per_capita_below, share_below
from qjlib.core.fmt import yuan_texts
from qjlib.core.ids import positions
from qjlib.core.schema import LABOR_CAPACITY
from qjlib.core.spells import active_on, months_active

WELFARE_PROGRAMMES = ("dibao", "tekun")
PROGRAMME_ZH = {"dibao": "低保", "tekun": "特困供养"}
OUT_COLUMNS = ("hh_id", "person_id", "id_key", "post_id", "admitted", "term", "programme",
               "id_number", "name", "file", "row", "town", "village", "dept", "detail", "reason")


_money = yuan_texts  # money in reasons: the one formatter (core.fmt)


def finish(df: pd.DataFrame, detail: pd.Series | str, reason: pd.Series | str) -> pd.DataFrame:
    """A rule's rows with ``detail`` and ``reason`` set and only :data:`OUT_COLUMNS` kept."""
    out = df.reset_index(drop=True)
    for col, v in (("detail", detail), ("reason", reason)):
        v = np.asarray(v, dtype=object) if isinstance(v, pd.Series | np.ndarray) else v
        out[col] = pd.Series(v, index=out.index, dtype="str") if len(out) else ""
    return out[[c for c in OUT_COLUMNS if c in out.columns]]


def _no_ref(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of a finding of absence: no department line to point to."""
    return df.assign(file=pd.Series(pd.NA, index=df.index, dtype="str"),
                     row=pd.Series(pd.NA, index=df.index, dtype="Int64"))


def joined(df: pd.DataFrame, by: str, col: str, sep: str = "、") -> pd.Series:
    """Per ``by`` value, the distinct values of ``col`` sorted and joined by ``sep``."""
    u = df[[by, col]].dropna().drop_duplicates().sort_values([by, col], kind="stable")
    return u.groupby(by, sort=True)[col].agg(sep.join)


def _cols(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """``df`` narrowed to those of ``cols`` it has (a rule joins only the columns it reads)."""
    return df[[c for c in cols if c in df.columns]]


def _income_of(income: pd.DataFrame, year: int) -> pd.DataFrame:
    """The first income row of ``year`` of each household, with the columns the rules read."""
    inc = _cols(income, "hh_id", "year", "size", "net_income", "dibao_pay", "wubao_pay")
    return inc[(inc["year"] == year).fillna(False).to_numpy()].drop_duplicates("hh_id")


def welfare_spells(welfare: pd.DataFrame) -> pd.DataFrame:
    """The roll's ``dibao`` and ``tekun`` spells."""
    return welfare[welfare["programme"].isin(WELFARE_PROGRAMMES).to_numpy(dtype=bool)]


def _person_out(m: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Matched rows keyed by ``person_id`` with the register's ``hh_id``, name and ID number."""
    m = m.drop(columns=[c for c in ("name", "id_number") if c in m.columns]).reset_index(drop=True)
    pos = positions(m["person_id"].fillna(""), persons["person_id"])
    found = pos >= 0
    for c in ("name", "id_number"):
        vals = persons[c].take(np.where(found, pos, 0)).reset_index(drop=True) if len(persons) else None
        m[c] = (vals.where(found) if vals is not None
                else pd.Series(pd.NA, index=m.index, dtype=persons[c].dtype))
    return m


# --------------------------------------------------------------------------------------------
# 民政: welfare


def dibao_eligible_unpaid(households: pd.DataFrame, persons: pd.DataFrame, income: pd.DataFrame,
                          welfare: pd.DataFrame, year: int, standard: float,
                          asof: pd.Timestamp) -> pd.DataFrame:
    """应保未保: households of labour capacity 无劳动能力 whose per-capita net income of ``year``
    excluding ``dibao_pay`` and ``wubao_pay`` is below ``standard`` (net ≤ 0 is below; exactly at
    the standard is not), none of whose members (any status) has a ``dibao``/``tekun`` spell
    active on ``asof``. Needs ``labor_capacity`` and an income row of ``year``."""
    hh = households[(households["labor_capacity"] == LABOR_CAPACITY[2]).fillna(False).to_numpy()]
    inc = _income_of(income, year)
    inc = inc[positions(inc["hh_id"], hh["hh_id"]) >= 0]
    pay = sum((inc[c].astype(float).fillna(0.0) for c in ("dibao_pay", "wubao_pay") if c in inc),
              pd.Series(0.0, index=inc.index))
    net = inc["net_income"].astype(float) - pay
    below = (fen(net) <= 0) | per_capita_below(net, inc["size"], standard)
    inc = inc.assign(_net=net)[below]
    spells = welfare_spells(_cols(welfare, "id_key", "programme", "start", "end"))
    act = spells[active_on(spells["start"], spells["end"], asof).to_numpy(dtype=bool)]
    covered = pd.Series(match(act, persons)["hh_id"].unique(), dtype="str")
    out = _no_ref(inc[positions(inc["hh_id"], covered) < 0][["hh_id", "_net", "size"]])
    pc = out["_net"] / out["size"].astype(float)
    if out.empty:
        return finish(out, "", "")
    detail = (f"{year}年家庭纯收入（不含低保金、五保金）" + _money(out["_net"]) + "元，"
              + out["size"].astype("str") + "人，人均" + _money(pc) + f"元；低保标准{standard:g}元")
    reason = f"无劳动能力户人均纯收入低于低保标准，截至报告日家庭成员无在保低保或特困供养（{year}年）"
    return finish(out, detail, reason)


def dibao_register_mismatch(persons: pd.DataFrame, welfare: pd.DataFrame,
                            asof: pd.Timestamp) -> pd.DataFrame:
    """低保身份不一致: counted registered persons whose register ``dibao`` is 是 with no ``dibao``
    spell active on ``asof``, or who have one while the register says 否 (blank: no mismatch)."""
    w = _cols(welfare, "id_key", "programme", "start", "end", "file", "row")
    w = w[(w["programme"] == "dibao").fillna(False).to_numpy()]
    act = first_rows(match(w[active_on(w["start"], w["end"], asof).to_numpy(dtype=bool)],
                           persons), ["person_id"])
    p = persons[persons["counted"].to_numpy(dtype=bool)]
    reg = p["dibao"].astype("boolean")
    has = key_in(p["id_key"].to_numpy(), act["id_key"].to_numpy())  # act: matched on id_key
    yes_none = (reg.fillna(False).to_numpy(dtype=bool)) & ~has
    no_has = (~reg.fillna(True)).to_numpy(dtype=bool) & has
    out = p[yes_none | no_has][["person_id", "hh_id", "name", "id_number"]]
    out = out.merge(act[["person_id", "file", "row", "start"]], on="person_id", how="left")
    flag_yes = out["file"].isna() & out["row"].isna() & out["start"].isna()
    if out.empty:
        return finish(out, "", "")
    detail = np.where(flag_yes, "档案：享受低保；民政名册：报告日无在保低保",
                      "档案：未享受低保；民政名册：低保自" + dates_text(out["start"]) + "起在保")
    reason = np.where(flag_yes, "档案标注享受低保，民政名册报告日无在保低保",
                      "民政名册报告日在保低保，档案标注未享受低保")
    return finish(out, pd.Series(detail, dtype="str"), pd.Series(reason, dtype="str"))


def welfare_pay_mismatch(income: pd.DataFrame, persons: pd.DataFrame, welfare: pd.DataFrame,
                         year: int, tolerance: float) -> pd.DataFrame:
    """低保特困金额不符: households with an income row of ``year`` whose ``dibao_pay + wubao_pay``
    (blank = 0) differs from the roll's payments for ``year`` — Σ over its members' ``dibao`` /
    ``tekun`` spells of ``monthly_amount`` × :func:`qjlib.core.spells.months_active` — by more than ``tolerance`` × the
    roll's figure **and** more than 100 yuan (compared in whole fen). A household with no spell has
    a roll figure of 0; one with a paid month of a spell without ``monthly_amount`` is left out."""
    inc = _income_of(income, year)
    reg = sum((inc[c].astype(float).fillna(0.0) for c in ("dibao_pay", "wubao_pay") if c in inc),
              pd.Series(0.0, index=inc.index))
    spells = welfare_spells(_cols(welfare, "id_key", "programme", "start", "end", "monthly_amount",
                                  "file", "row"))
    m = match(spells.assign(_i=np.arange(len(spells))), persons)
    m = m.drop_duplicates(["_i", "hh_id"])
    months = months_active(m["start"], m["end"], year).to_numpy()
    m["_pay"] = m["monthly_amount"].astype(float) * months
    unknown = m.loc[(months > 0) & m["_pay"].isna().to_numpy(), "hh_id"].unique()
    rolled = m.groupby("hh_id")["_pay"].sum()
    ref = first_rows(m, ["hh_id"]).set_index("hh_id")[["file", "row"]]
    df = pd.DataFrame({"hh_id": inc["hh_id"].to_numpy(), "_reg": reg.to_numpy()})
    df = df[~df["hh_id"].isin(unknown).to_numpy()]
    df["_roll"] = df["hh_id"].map(rolled).fillna(0.0).to_numpy()
    diff = np.abs(fen(df["_reg"]) - fen(df["_roll"]))
    p, q = fraction(tolerance)
    bad = (diff * q > p * fen(df["_roll"])) & (diff > fen(100))
    out = df[bad].join(ref, on="hh_id")
    if out.empty:
        return finish(out, "", "")
    detail = (f"{year}年收入表低保金+五保金" + _money(out["_reg"]) + "元；民政名册按月测算"
              + _money(out["_roll"]) + "元")
    return finish(out, detail, "收入表低保金、五保金与民政名册应发金额不符")


def welfare_not_registered(welfare: pd.DataFrame, persons: pd.DataFrame,
                           asof: pd.Timestamp) -> pd.DataFrame:
    """在保不在档: persons with a ``dibao``/``tekun`` spell active on ``asof`` who match no
    registered person (an ID failing the checksum matches nobody: it is listed too, and is a
    finding of the load); one row per ID number, the first such spell's."""
    spells = welfare_spells(welfare)
    act = spells[active_on(spells["start"], spells["end"], asof).to_numpy(dtype=bool)]
    act = act[act["id_number"].notna().to_numpy() & ~is_registered(act, persons)]
    out = first_rows(act, ["id_number"])
    if out.empty:
        return finish(out, "", "")
    detail = (out["programme"].map(PROGRAMME_ZH).fillna(out["programme"]).astype("str")
              + "自" + dates_text(out["start"]) + "起在保")
    return finish(out, detail, "民政名册在保，但不在建档立卡档案中（请核实是否漏评）")


def _deadline(exit_year: pd.Series, months: int) -> pd.Series:
    """31 December of ``exit_year`` plus ``months`` months (the month's last day)."""
    total = exit_year.astype("int64").to_numpy() * 12 + 11 + int(months) - 1970 * 12
    last = (total + 1).astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D")
    return pd.Series(last.astype("datetime64[us]"), index=exit_year.index)


def dibao_dropped_at_exit(households: pd.DataFrame, persons: pd.DataFrame, welfare: pd.DataFrame,
                          asof: pd.Timestamp, months: int) -> pd.DataFrame:
    """脱贫即脱保: exited households (exit year E) some member of which had a ``dibao``/``tekun``
    spell active on 1 January of E, all of whose members' spells active on or after that day had
    ended (``end`` ≤ ``asof``) strictly before 31 December of E + ``months`` months."""
    hh = households[(households["exit_status"] == "exited").fillna(False).to_numpy()
                    & households["exit_year"].notna().to_numpy()][["hh_id", "exit_year"]]
    m = match(welfare_spells(_cols(welfare, "id_key", "programme", "start", "end", "file", "row")),
              persons)
    m = m.merge(hh, on="hh_id", how="inner")
    jan1 = pd.Series((m["exit_year"].astype("int64").to_numpy() - 1970).astype("datetime64[Y]")
                     .astype("datetime64[us]"), index=m.index)
    m["_deadline"] = _deadline(m["exit_year"], months)
    on_jan1 = active_on(m["start"], m["end"], jan1).to_numpy(dtype=bool)
    later = (m["end"].isna() | (m["end"] >= jan1)).to_numpy(dtype=bool)
    stopped = (m["end"].notna() & (m["end"] <= asof) & (m["end"] < m["_deadline"])).to_numpy(bool)
    g = pd.DataFrame({"hh_id": m["hh_id"], "on": on_jan1, "bad": later & ~stopped})
    agg = g.groupby("hh_id").agg(on=("on", "any"), bad=("bad", "any"))
    hit = agg.index[agg["on"] & ~agg["bad"]]
    s = m[m["hh_id"].isin(hit).to_numpy() & later]
    last = s.groupby("hh_id")["end"].max()
    out = first_rows(s, ["hh_id"])[["hh_id", "exit_year", "_deadline", "file", "row"]]
    out = out.join(last.rename("_last"), on="hh_id")
    if out.empty:
        return finish(out, "", "")
    detail = (out["exit_year"].astype("Int64").astype("str") + "年脱贫；低保/特困于" + dates_text(out["_last"])
              + "停发，渐退期应至" + dates_text(out["_deadline"]))
    return finish(out, detail, "脱贫后低保、特困供养未经渐退期即停发（脱贫即脱保）")


# --------------------------------------------------------------------------------------------
# 公安 / 民政 / 林业: deaths


def death_dates(deaths: pd.DataFrame) -> pd.DataFrame:
    """One row per valid ID of ``deaths``: the earliest ``death_date`` and its line."""
    d = deaths[(deaths["id_key"] >= 0).to_numpy() & deaths["death_date"].notna().to_numpy()]
    d = d.sort_values(["id_key", "death_date", "file", "row"], kind="stable")
    return d.drop_duplicates("id_key")


def deceased_paid(deaths: pd.DataFrame, spells: pd.DataFrame, persons: pd.DataFrame,
                  asof: pd.Timestamp, grace_days: int) -> pd.DataFrame:
    """死亡仍享受: persons in ``deaths`` with a welfare or post spell (``spells``: both rolls with a
    ``dept`` column) still running more than ``grace_days`` after the death date —
    ``end`` blank and ``asof`` > death + grace, or ``end`` > death + grace. Registered persons are
    keyed by ``person_id`` (each holder of the ID), others by ``id_key``."""
    d = death_dates(deaths)[["id_key", "death_date"]]
    s = spells[spells["id_key"] >= 0].merge(d, on="id_key", how="inner")
    limit = s["death_date"] + pd.Timedelta(days=int(grace_days))
    run = (s["end"].isna() & (asof > limit)) | (s["end"] > limit)
    s = s[run.to_numpy(dtype=bool)]
    depts = joined(s, "id_key", "dept")
    s = first_rows(s, ["id_key"]).assign(dept=lambda f: f["id_key"].map(depts))
    reg = is_registered(s, persons)
    regd = _person_out(match(s[reg].drop(columns=["hh_id"], errors="ignore"), persons), persons)
    out = pd.concat([regd, s[~reg]], ignore_index=True)
    if out.empty:
        return finish(out, "", "")
    detail = ("死亡日期" + dates_text(out["death_date"]) + "；" + out["dept"].astype("str") + "名册"
              + "终止日期" + dates_text(out["end"]))
    return finish(out, detail, f"死亡超过{int(grace_days)}天仍在享受低保特困或岗位补助")


def deceased_pending(persons: pd.DataFrame, deaths: pd.DataFrame, asof: pd.Timestamp) -> pd.DataFrame:
    """死亡待减员: counted registered persons with a ``deaths`` row dated on or before ``asof``."""
    d = _cols(death_dates(deaths), "id_key", "death_date", "file", "row")
    d = d[(d["death_date"] <= asof).to_numpy(dtype=bool)]
    m = _person_out(match_counted(d, persons), persons)
    if m.empty:
        return finish(m, "", "")
    return finish(m, "死亡日期" + dates_text(m["death_date"]), "已死亡，档案仍在册，待动态调整减员")


# --------------------------------------------------------------------------------------------
# 残联: disability cards


def _has_disability(health: pd.Series) -> np.ndarray:
    """Whether the register's ``health`` names 残疾 (among values joined by 、 or ,)."""
    return health.astype("str").str.contains("残疾", regex=False).fillna(False).to_numpy(dtype=bool)


def disability_no_card(persons: pd.DataFrame, disability: pd.DataFrame) -> pd.DataFrame:
    """残疾无证: counted registered persons alive on A whose ``health`` includes 残疾 and who hold
    no ``disability`` card (matched by ID number)."""
    p = persons[persons["counted"].to_numpy(dtype=bool) & persons["alive"].to_numpy(dtype=bool)
                & _has_disability(persons["health"])]
    cards = disability["id_key"].to_numpy()
    out = _no_ref(p[~key_in(p["id_key"].to_numpy(), cards)])
    return finish(out, "档案健康状况：残疾；残联名册：无残疾人证", "档案标注残疾，残联无持证记录")


def card_health_mismatch(persons: pd.DataFrame, disability: pd.DataFrame) -> pd.DataFrame:
    """持证未标残疾: counted registered persons holding a ``disability`` card whose ``health`` does
    not include 残疾 (the card's row; never its category or grade)."""
    m = first_rows(match_counted(_cols(disability, "id_key", "file", "row"), persons,
                                 ("person_id", "hh_id", "health")), ["person_id"])
    out = _person_out(m[~_has_disability(m["health"])], persons)
    if out.empty:
        return finish(out, "", "")
    detail = "残联名册：持残疾人证；档案健康状况：" + out["health"].fillna("空").astype("str")
    return finish(out, detail, "持有残疾人证，档案健康状况未标注残疾")


# --------------------------------------------------------------------------------------------
# 医保: insurance and inpatient stays


def uninsured(persons: pd.DataFrame, insurance: pd.DataFrame, asof: pd.Timestamp) -> pd.DataFrame:
    """未参保: counted registered persons alive on ``asof``, older than 90 days on it (birth known),
    with no ``insurance`` row for the year of ``asof`` with ``basic`` 是 and none with an
    ``exempt`` reason."""
    year = pd.Timestamp(asof).year
    ins = _cols(insurance, "id_key", "year", "basic", "exempt", "file", "row")
    ins = ins[(ins["year"] == year).fillna(False).to_numpy()]
    ok = ins["basic"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "exempt" in ins.columns:
        ok |= ins["exempt"].notna().to_numpy()
    good = ins["id_key"].to_numpy()[ok]
    p = persons[persons["counted"].to_numpy(dtype=bool) & persons["alive"].to_numpy(dtype=bool)
                & ((pd.Timestamp(asof) - persons["birth"]).dt.days > 90).fillna(False).to_numpy()]
    p = p[~key_in(p["id_key"].to_numpy(), good) | (p["id_key"] < 0).to_numpy()]
    rows = first_rows(match(ins, p), ["person_id"])[["person_id", "file", "row"]]
    out = p.merge(rows, on="person_id", how="left")
    if out.empty:
        return finish(out, "", "")
    detail = np.where(out["file"].notna(), f"{year}年参保名单：未参加基本医疗保险，无免缴原因",
                      f"{year}年参保名单：无此人")
    return finish(out, pd.Series(detail, dtype="str"), f"{year}年未参加基本医疗保险")


def stays(hospital: pd.DataFrame, asof: pd.Timestamp) -> pd.DataFrame:
    """Inpatient stays admitted in the year of ``asof`` and discharged on or before it: the rows of
    one (``id_key``, ``admitted``) summed — ``reimbursed``, ``base`` (Σ ``eligible_cost``, else
    ``total_cost``, row by row), ``discharged`` (the latest), the first line (``file``, ``row``) and
    the number of settlement rows. Rows with an invalid ID are left out."""
    h = _cols(hospital, "id_key", "admitted", "discharged", "total_cost", "eligible_cost", "reimbursed",
              "file", "row")
    h = h[(h["id_key"] >= 0).to_numpy()
                 & (h["admitted"].dt.year == pd.Timestamp(asof).year).to_numpy()]
    base = h["total_cost"].astype(float)
    if "eligible_cost" in h.columns:
        base = h["eligible_cost"].astype(float).fillna(base)
    h = h.assign(_base=base, _reimb=h["reimbursed"].astype(float),
                 _dis=h["discharged"] if "discharged" in h.columns else pd.NaT)
    g = h.groupby(["id_key", "admitted"], as_index=False).agg(
        reimbursed=("_reimb", "sum"), base=("_base", "sum"), discharged=("_dis", "max"),
        n_rows=("_reimb", "size"))
    g = g.merge(first_rows(h, ["id_key", "admitted"])[["id_key", "admitted", "file", "row"]],
                on=["id_key", "admitted"], how="left")
    return g[(g["discharged"] <= asof).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def registered_stays(stays_: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """The stays of counted registered persons, one row per (person, stay)."""
    return match_counted(stays_, persons)


def reimbursement_low(reg_stays: pd.DataFrame, persons: pd.DataFrame, target: float) -> pd.DataFrame:
    """住院报销比例低: stays of :func:`registered_stays` whose Σ ``reimbursed`` ÷ Σ base is below
    ``target`` (exactly at it is not below; cross-multiplied in whole fen)."""
    low = share_below(reg_stays["reimbursed"], reg_stays["base"], target)
    out = _person_out(reg_stays[low], persons)
    ratio = out["reimbursed"] / out["base"]
    if out.empty:
        return finish(out, "", "")
    detail = ("入院" + dates_text(out["admitted"]) + "，出院" + dates_text(out["discharged"]) + "；报销合计"
              + _money(out["reimbursed"]) + "元÷政策范围内费用" + _money(out["base"]) + "元＝"
              + (ratio * 100).map("{:.2f}%".format) + "（结算" + out["n_rows"].astype("str") + "行）")
    return finish(out, detail, f"住院费用实际补助比例低于{target:.0%}")
