"""The comparison rules of ``shared/contract/departments.md`` for 教体 (enrolment, student aid) and
for 林业/人社 (public-welfare posts): pure, vectorised functions on canonical frames returning
their ledger rows, in the shape of :mod:`qjlib.analyses.departments_rules` (the other rules).
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
from qjlib.analyses.departments_rules import _money, _no_ref, _person_out, finish, joined
from qjlib.core.spells import (
    active_on,
    age_reference_date,
    clip_to_window,
    current_term,
    full_years,
    overlap,
    shorter_than_months,
)

DROPOUT_STATUS = "辍学"
GRADUATED_STATUS = "毕业"
JUNIOR_STAGE = "初中"
COLLEGE_STAGE = "高校"
RANGER = "生态护林员"


def post_dept(post_type: pd.Series) -> pd.Series:
    """The department of a post: 林业 for 生态护林员, 人社 for the other public-welfare posts."""
    return pd.Series(np.where(post_type.eq(RANGER).fillna(False), "林业", "人社"),
                     index=post_type.index, dtype="str")


# --------------------------------------------------------------------------------------------
# 教体: enrolment


def school_age(persons: pd.DataFrame, asof: pd.Timestamp, age_min: int, age_max: int) -> pd.DataFrame:
    """Counted registered persons alive on ``asof`` aged ``age_min``–``age_max`` (both included) on
    31 August of the current term's school year (:func:`qjlib.core.spells.age_reference_date`)."""
    age = full_years(persons["birth"], persons["id_number"], age_reference_date(current_term(asof)))
    band = (age >= age_min) & (age <= age_max)
    keep = (persons["counted"].to_numpy(dtype=bool) & persons["alive"].to_numpy(dtype=bool)
            & band.fillna(False).to_numpy(dtype=bool))
    return persons[keep].assign(age=age[keep].astype("Int64"))


def dropout(band: pd.DataFrame, enrollment: pd.DataFrame, asof: pd.Timestamp) -> pd.DataFrame:
    """辍学: persons of :func:`school_age` whose ``enrollment`` row for the current term has status
    辍学 (the first such row)."""
    term = current_term(asof)
    e = enrollment[(enrollment["term"] == term).fillna(False).to_numpy()
                   & (enrollment["status"] == DROPOUT_STATUS).fillna(False).to_numpy()]
    m = first_rows(match(e, band, ("person_id", "hh_id", "age")), ["person_id"])
    out = _person_out(m, band)
    if out.empty:
        return finish(out, "", "")
    detail = f"{term}学籍状态：辍学；" + out["age"].astype("str") + "周岁（当学年8月31日）"
    return finish(out, detail, f"义务教育阶段适龄人口辍学（{term}）")


def enrollment_not_found(band: pd.DataFrame, enrollment: pd.DataFrame,
                         asof: pd.Timestamp) -> pd.DataFrame:
    """学籍未找到: persons of :func:`school_age` with no ``enrollment`` row for the current term and
    no 初中 毕业 row in any term (a school outside the county is possible: a list to check)."""
    term = current_term(asof)
    keys = enrollment["id_key"].to_numpy()
    now = keys[(enrollment["term"] == term).fillna(False).to_numpy()]
    done = keys[((enrollment["stage"] == JUNIOR_STAGE) & (enrollment["status"] == GRADUATED_STATUS))
                .fillna(False).to_numpy()] if "stage" in enrollment.columns else keys[:0]
    seen = np.concatenate([now, done])
    k = band["id_key"].to_numpy()
    out = _no_ref(band[~key_in(k, seen) | (k < 0)])
    if out.empty:
        return finish(out, "", "")
    detail = f"{term}无学籍记录，亦无初中毕业记录；" + out["age"].astype("str") + "周岁（当学年8月31日）"
    return finish(out, detail, "适龄人口未找到当学期学籍（可能在县外就读，请核实）")


# --------------------------------------------------------------------------------------------
# 教体: student aid


def _aid_of_registered(aid: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Aid payments matched to counted registered persons."""
    cols = [c for c in ("id_key", "term", "programme", "channel", "amount", "stage", "file", "row")
            if c in aid.columns]
    return match_counted(aid[cols], persons)


def aid_repeat(aid: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """重复资助: a counted registered person paid the same ``programme`` more than once in one
    ``term`` (one row per person, term and programme)."""
    m = _aid_of_registered(aid, persons)
    by = ["person_id", "term", "programme"]
    g = m.groupby(by, as_index=False).agg(n=("amount", "size"), total=("amount", "sum"))
    g = g[g["n"] > 1]
    out = _person_out(g.merge(first_rows(m, by)[[*by, "hh_id", "file", "row"]], on=by), persons)
    if out.empty:
        return finish(out, "", "")
    detail = (out["term"] + "：" + out["programme"] + "发放" + out["n"].astype("str") + "次，合计"
              + _money(out["total"]) + "元")
    return finish(out, detail, "同一学期同一资助项目重复发放")


def aid_multi_channel(aid: pd.DataFrame, persons: pd.DataFrame, max_channels: int) -> pd.DataFrame:
    """多头资助: a counted registered person paid aid at stage 高校 (any programme) through more than
    ``max_channels`` distinct ``channel`` values in one ``term``."""
    a = aid[(aid["stage"] == COLLEGE_STAGE).fillna(False).to_numpy()]
    m = _aid_of_registered(a, persons)
    by = ["person_id", "term"]
    g = m.groupby(by, as_index=False).agg(n=("channel", "nunique"), total=("amount", "sum"))
    g = g[g["n"] > int(max_channels)]
    if g.empty:  # (joining empty Arrow-string keys fails in pandas)
        g = g.assign(channels=pd.Series(dtype="str"))
    else:
        ch = (m[[*by, "channel"]].merge(g[by], on=by).dropna().drop_duplicates()
              .sort_values([*by, "channel"], kind="stable").groupby(by)["channel"].agg("、".join))
        g = g.join(ch.rename("channels"), on=by)
    out = _person_out(g.merge(first_rows(m, by)[[*by, "hh_id", "file", "row"]], on=by), persons)
    if out.empty:
        return finish(out, "", "")
    detail = (out["term"] + "：经" + out["n"].astype("str") + "个渠道资助（" + out["channels"]
              + "），合计" + _money(out["total"]) + "元")
    return finish(out, detail, "新入学大学生同一学期多渠道重复资助（多头资助）")


# --------------------------------------------------------------------------------------------
# 林业 / 人社: posts


def _key_rows(rows: pd.DataFrame, persons: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Roll rows keyed by person: registered IDs by ``person_id`` (one row per holder of the ID,
    with the register's name, ID and household), others by ``id_key``."""
    reg = is_registered(rows, persons)
    inside = _person_out(match(rows[reg], persons), persons)
    inside = first_rows(inside, ["person_id", *[c for c in by if c != "id_key"]])
    return pd.concat([inside, rows[~reg]], ignore_index=True)


def post_multiple(posts: pd.DataFrame, persons: pd.DataFrame, asof: pd.Timestamp) -> pd.DataFrame:
    """一人多岗: a person (valid ID) with spells of two or more different ``post_id`` overlapping on
    at least one day within the window (A − 12 months, A] (:func:`qjlib.core.spells.clip_to_window`,
    :func:`~qjlib.core.spells.overlap`)."""
    p = posts[(posts["id_key"] >= 0).to_numpy()].copy()
    p["_s"], p["_e"] = clip_to_window(p["start"], p["end"], asof)
    p = p[p["_s"].notna().to_numpy()]
    cols = ["id_key", "post_id", "_s", "_e"]
    pairs = p[cols].merge(p[cols], on="id_key", suffixes=("", "_b"))
    pairs = pairs[(pairs["post_id"] < pairs["post_id_b"]).fillna(False).to_numpy()]
    both = overlap(pairs["_s"], pairs["_e"], pairs["_s_b"], pairs["_e_b"]).to_numpy(dtype=bool)
    hit = pairs.loc[both, "id_key"].unique()
    rows = p[key_in(p["id_key"].to_numpy(), hit)].assign(dept=lambda f: post_dept(f["post_type"]))
    posts_of = pd.DataFrame({"_posts": joined(rows, "id_key", "post_id"),
                             "dept": joined(rows, "id_key", "dept")})
    first = first_rows(rows, ["id_key"]).drop(columns=["dept"]).join(posts_of, on="id_key")
    out = _key_rows(first, persons, ["id_key"])
    out = out.drop(columns=["post_id"])
    if out.empty:
        return finish(out, "", "")
    return finish(out, "近12个月内同时在岗：" + out["_posts"], "同一人近12个月内同时占有两个及以上岗位（一人多岗）")


def post_rotation(posts: pd.DataFrame, asof: pd.Timestamp, min_months: int) -> pd.DataFrame:
    """轮流上岗: a ``post_id`` held by two or more different persons (by ID number) with spells
    touching the window (A − 12 months, A], each of those spells shorter than ``min_months``
    months (:func:`qjlib.core.spells.shorter_than_months`; a blank ``end`` is never shorter)."""
    first_day, _ = clip_to_window(posts["start"], posts["end"], asof)
    t = posts[first_day.notna().to_numpy()].copy()
    t["_short"] = shorter_than_months(t["start"], t["end"], min_months).to_numpy()
    g = t.groupby("post_id").agg(holders=("id_number", "nunique"), short=("_short", "all"),
                                 n=("_short", "size"))
    hit = g.index[(g["holders"] >= 2) & g["short"]]
    rows = t[t["post_id"].isin(hit).to_numpy()]
    spells = (rows.sort_values(["post_id", "start"], kind="stable")
              .assign(_t=lambda f: dates_text(f["start"]) + "至" + dates_text(f["end"]))
              .groupby("post_id")["_t"].agg("；".join))
    out = first_rows(rows, ["post_id"])
    out = out.assign(dept=post_dept(out["post_type"]), _n=out["post_id"].map(g["holders"]),
                     _spells=out["post_id"].map(spells))
    out = out.drop(columns=["id_number", "name", "id_key"], errors="ignore")
    if out.empty:
        return finish(out, "", "")
    detail = out["_n"].astype("str") + f"人先后在岗，各段均短于{int(min_months)}个月：" + out["_spells"]
    return finish(out, detail, "同一岗位近12个月由多人轮流短期上岗（轮流上岗）")


def post_not_registered(posts: pd.DataFrame, persons: pd.DataFrame, asof: pd.Timestamp,
                        poor_types: tuple[str, ...]) -> pd.DataFrame:
    """非建档立卡人员上岗: a spell of a post for the poor (``poor_types``) active on ``asof`` whose
    holder matches no registered person (an ID failing the checksum matches nobody); one row per
    ID number and ``post_id``."""
    p = posts[posts["post_type"].isin(poor_types).to_numpy()
              & active_on(posts["start"], posts["end"], asof).to_numpy(dtype=bool)
              & posts["id_number"].notna().to_numpy()]
    p = first_rows(p[~is_registered(p, persons)], ["id_number", "post_id"])
    out = p.assign(dept=post_dept(p["post_type"]))
    if out.empty:
        return finish(out, "", "")
    detail = out["post_type"].astype("str") + "，自" + dates_text(out["start"]) + "起在岗"
    return finish(out, detail, "扶贫公益岗位由非建档立卡人员在岗")
