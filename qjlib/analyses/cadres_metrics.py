"""Helper cadres (帮扶责任人) paired with households: the compliance rules and the pairings'
outcomes, as pure functions on canonical frames (``pairings``: helper_id, hh_id, start, end;
``visits``; ``households``; ``members``; ``income``). Their thresholds are arguments, read from
``params/standards.yaml`` (``helpers.*``) by :mod:`qjlib.analyses.cadres`, whose docstring lists
the definitions and which runs them for a context (ledgers, review, summary).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.analyses.comparison import residuals
from qjlib.core.ids import isin
from qjlib.core.params import ParamError
from qjlib.core.spells import active_on

# --------------------------------------------------------------------------------------------
# Compliance metrics (pure functions on canonical frames)
# --------------------------------------------------------------------------------------------

def active_pairings(pairings: pd.DataFrame, asof: pd.Timestamp) -> pd.Series:
    """Boolean mask: the pairing is active on ``asof`` — ``start ≤ asof`` and (``end`` blank or
    ``end ≥ asof``), both bounds inclusive (:func:`qjlib.core.spells.active_on`, the one
    definition the departments' spells share)."""
    return active_on(pairings["start"], pairings["end"], asof)


def helper_loads(pairings: pd.DataFrame, asof: pd.Timestamp) -> pd.Series:
    """Distinct households in active pairings on ``asof`` per helper (households; helpers with
    no active pairing are absent). Two active rows of one helper–household pair count once."""
    act = pairings.loc[active_pairings(pairings, asof), ["helper_id", "hh_id"]].drop_duplicates()
    return act.groupby("helper_id").size().rename("n_households").sort_index()


def unpaired_households(households: pd.DataFrame, pairings: pd.DataFrame,
                        asof: pd.Timestamp) -> pd.DataFrame:
    """Registered households (every row of ``households``) with no active pairing on ``asof``.

    Returns ``hh_id, town, village, exit_status, n_pairings, last_helper_id, last_start,
    last_end, reason`` sorted by ``hh_id``; ``last_*`` describe the household's pairing with
    the latest start (blank when it never had one)."""
    paired = pairings.loc[active_pairings(pairings, asof), "hh_id"].unique()
    cols = [c for c in ("hh_id", "town", "village", "exit_status") if c in households.columns]
    out = households.loc[~isin(households["hh_id"], paired), cols].copy()
    hist = pairings[isin(pairings["hh_id"], out["hh_id"])]
    last = (hist.sort_values(["hh_id", "start", "helper_id"])
            .drop_duplicates("hh_id", keep="last")[["hh_id", "helper_id", "start", "end"]]
            .rename(columns={"helper_id": "last_helper_id", "start": "last_start", "end": "last_end"}))
    out = out.merge(last, on="hh_id", how="left")
    n = hist["hh_id"].value_counts().astype("int64")
    out["n_pairings"] = out["hh_id"].map(n).fillna(0).astype("Int64")
    start_s = out["last_start"].dt.strftime("%Y-%m-%d")
    end_s = out["last_end"].dt.strftime("%Y-%m-%d")
    never = out["n_pairings"].eq(0).to_numpy(dtype=bool)
    future = (out["last_start"] > asof).to_numpy(dtype=bool)
    out["reason"] = np.select(
        [never, future],
        ["从未结对帮扶责任人",
         ("结对尚未开始（最近结对开始于" + start_s + "），截至报告日无在帮帮扶责任人").to_numpy(object)],
        default=("结对已于" + end_s.fillna("?") + "结束，未重新结对帮扶责任人").to_numpy(object),
    )
    return out.sort_values("hh_id").reset_index(drop=True)


def overloaded_helpers(pairings: pd.DataFrame, asof: pd.Timestamp,
                       max_households: int) -> pd.DataFrame:
    """Helpers with more than ``max_households`` distinct households in active pairings on
    ``asof`` ("一帮多"; exactly the limit is allowed). Returns ``helper_id, n_households,
    limit, reason`` sorted by ``helper_id``."""
    load = helper_loads(pairings, asof)
    out = load[load > max_households].reset_index()
    out["limit"] = int(max_households)
    out["reason"] = ("在帮贫困户" + out["n_households"].astype(str) + "户，超过上限"
                     + str(int(max_households)) + "户（一帮多）")
    return out.sort_values("helper_id").reset_index(drop=True)


def window_start(asof: pd.Timestamp, months: int) -> pd.Timestamp:
    """The exclusive lower bound of the change window ``(asof − months, asof]``: the same day
    ``months`` calendar months earlier (month-end clipped, e.g. 2020-02-29 → 2019-02-28 for 12;
    ``months`` = ``helpers.change_window_months``)."""
    return (pd.Timestamp(asof) - pd.DateOffset(months=months)).normalize()


def pairing_changes(pairings: pd.DataFrame, asof: pd.Timestamp, months: int) -> pd.Series:
    """Boolean mask: the pairing is a *change* — its ``start`` is in ``(asof − months, asof]``
    and later than the household's earliest ``start`` (its first pairing ever)."""
    first = pairings.groupby("hh_id")["start"].transform("min")
    start = pairings["start"]
    return (start > window_start(asof, months)) & (start <= asof) & (start > first)


def frequent_changes(pairings: pd.DataFrame, asof: pd.Timestamp, max_changes: int,
                     months: int) -> pd.DataFrame:
    """Households with more than ``max_changes`` helper changes (see :func:`pairing_changes`) in
    the ``months`` months to ``asof``. Returns ``hh_id, n_changes, limit, helpers, reason`` sorted
    by ``hh_id``; ``helpers`` lists the helpers of the window's changes in start order."""
    ch = pairings[pairing_changes(pairings, asof, months)].sort_values(["hh_id", "start", "helper_id"])
    g = ch.groupby("hh_id")
    out = pd.DataFrame({"n_changes": g.size(), "helpers": g["helper_id"].agg("、".join)})
    out = out[out["n_changes"] > max_changes].reset_index()
    out["limit"] = int(max_changes)
    out["reason"] = (f"近{months}个月（" + window_start(asof, months).strftime("%Y-%m-%d") + "后至"
                     + pd.Timestamp(asof).strftime("%Y-%m-%d") + "）调换帮扶责任人"
                     + out["n_changes"].astype(str) + "次，超过上限" + str(int(max_changes)) + "次")
    return out[["hh_id", "n_changes", "limit", "helpers", "reason"]].sort_values("hh_id").reset_index(drop=True)


def invalid_pairings(pairings: pd.DataFrame) -> pd.DataFrame:
    """Pairings whose ``end`` is before their ``start`` (kind ``end_before_start``), and pairings
    that start before another pairing of the same household has ended (kind ``overlap``:
    ``start₁ ≤ start₂ < end₁``, blank ``end₁`` = open; a same-day hand-over is fine). For an
    overlap the later-starting pairing is listed, with the other helper in ``other_helper_id``.
    Returns ``hh_id, helper_id, start, end, kind, other_helper_id, reason``."""
    p = pairings[["hh_id", "helper_id", "start", "end"]].sort_values(["hh_id", "start", "helper_id"])
    bad = p[p["end"] < p["start"]].assign(kind="end_before_start", other_helper_id=None)
    bad["reason"] = "结对结束时间早于开始时间"
    ok = p[~(p["end"] < p["start"])]
    ok = ok.assign(_i=np.arange(len(ok)))
    pairs = ok.merge(ok, on="hh_id", suffixes=("", "_o"))
    earlier = (pairs["start_o"] < pairs["start"]) | (
        (pairs["start_o"] == pairs["start"]) & (pairs["_i_o"] < pairs["_i"]))
    over = pairs[earlier & (pairs["end_o"].isna() | (pairs["start"] < pairs["end_o"]))]
    over = (over.sort_values(["hh_id", "start", "helper_id", "start_o", "helper_id_o"])
            .drop_duplicates(["hh_id", "helper_id", "start"]))
    over = over.assign(kind="overlap", other_helper_id=over["helper_id_o"])
    over["reason"] = ("与帮扶责任人" + over["helper_id_o"] + "的结对（"
                      + over["start_o"].dt.strftime("%Y-%m-%d") + "开始）时间重叠")
    cols = ["hh_id", "helper_id", "start", "end", "kind", "other_helper_id", "reason"]
    out = pd.concat([bad[cols].astype({"other_helper_id": "str"}), over[cols]], ignore_index=True)
    return out.sort_values(["hh_id", "helper_id", "start", "kind"]).reset_index(drop=True)


def _norm_id(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip().str.upper()


def registered_poor_helpers(helpers: pd.DataFrame, households: pd.DataFrame,
                            members: pd.DataFrame | None) -> pd.DataFrame:
    """Helpers whose ``id_number`` equals a registered household head's ``head_id_number`` or a
    member's ``id_number`` (compared as upper-cased text). Returns ``helper_id, hh_id, role
    (户主/成员), reason`` sorted by ``helper_id, hh_id``."""
    h = helpers.loc[helpers["id_number"].notna(), ["helper_id", "id_number"]]
    h = h.assign(_id=_norm_id(h["id_number"]))
    parts = []
    if "head_id_number" in households.columns:
        hd = households.loc[households["head_id_number"].notna(), ["hh_id", "head_id_number"]]
        parts.append(pd.DataFrame({"hh_id": hd["hh_id"], "_id": _norm_id(hd["head_id_number"]),
                                   "role": "户主"}))
    if members is not None and "id_number" in members.columns:
        m = members.loc[members["id_number"].notna(), ["hh_id", "id_number"]]
        parts.append(pd.DataFrame({"hh_id": m["hh_id"], "_id": _norm_id(m["id_number"]),
                                   "role": "成员"}))
    if not parts:
        return pd.DataFrame(columns=["helper_id", "hh_id", "role", "reason"])
    people = pd.concat(parts, ignore_index=True).sort_values(["hh_id", "role"])
    people = people.drop_duplicates(["hh_id", "_id"])  # a head is usually also a member row
    out = h.merge(people, on="_id")[["helper_id", "hh_id", "role"]]
    out["reason"] = "帮扶责任人证件号码与建档立卡贫困户" + out["role"] + "相同"
    return out.sort_values(["helper_id", "hh_id"]).reset_index(drop=True)


def period_start(asof: pd.Timestamp, months: int) -> pd.Timestamp:
    """First day of the calendar period of ``months`` months (a divisor of 12: 3 = the quarter,
    ``helpers.visit_period_months``) that contains ``asof``: month ``⌊(m − 1)/months⌋·months + 1``
    of its year."""
    if 12 % int(months):
        raise ParamError(f"helpers.visit_period_months 应能整除 12（1、2、3、4、6、12），得到 {months} / "
                         "visit_period_months must divide 12")
    a = pd.Timestamp(asof)
    return pd.Timestamp(year=a.year, month=(a.month - 1) // int(months) * int(months) + 1, day=1)


def visits_in_period(visits: pd.DataFrame, asof: pd.Timestamp, months: int) -> pd.Series:
    """Visits per helper dated in ``[period_start(asof, months), asof]`` (count of visit rows;
    named ``visits_quarter`` after the default period)."""
    d = visits["date"]
    v = visits[(d >= period_start(asof, months)) & (d <= asof)]
    return v.groupby("helper_id").size().rename("visits_quarter")



# --------------------------------------------------------------------------------------------
# Outcomes: change of log per-capita income against comparable households
# --------------------------------------------------------------------------------------------

def age_structure(members: pd.DataFrame, hh_year: pd.DataFrame,
                  ages: tuple[int, int]) -> pd.DataFrame:
    """For each ``(hh_id, year)`` of ``hh_year``: ``share_60plus`` and ``share_under16`` among the
    household's members with a known birth date, age in a year = ``year − birth year`` (the age
    reached during that year), ``ages = (old, child)`` (``helpers.old_age``, ``helpers.child_age``:
    60, 16): "60+" means ``≥ old``, "under 16" means ``< child`` (the column names keep the default
    ages). NaN when no member has a birth date."""
    keys = hh_year[["hh_id", "year"]].drop_duplicates()
    m = members.loc[members["birth_date"].notna(), ["hh_id", "birth_date"]]
    j = keys.merge(m.assign(_by=m["birth_date"].dt.year), on="hh_id")
    age = j["year"].astype("int64") - j["_by"]
    old, child = ages
    j = j.assign(_old=(age >= old).astype(float), _young=(age < child).astype(float))
    sh = j.groupby(["hh_id", "year"], as_index=False).agg(
        share_60plus=("_old", "mean"), share_under16=("_young", "mean"))
    return keys.merge(sh, on=["hh_id", "year"], how="left")


def pairing_outcomes(pairings: pd.DataFrame, income: pd.DataFrame, households: pd.DataFrame,
                     members: pd.DataFrame | None, income_year: int,
                     asof: pd.Timestamp, ages: tuple[int, int]) -> pd.DataFrame:
    """One row per pairing with an outcome: ``helper_id, hh_id, start_year, end_year, y`` where
    ``y = ln pc[end_year] − ln pc[start_year]`` (pc = recomputed ``net_per_capita``, yuan per
    person), ``start_year`` = year of ``start``, ``end_year = min(year of end, income_year)``;
    plus the baseline covariates ``log_pc0, size0, labor_capacity, main_cause, town,
    share_60plus, share_under16`` (:func:`age_structure` with ``ages``). Pairings starting after
    ``asof``, ending before they start, with ``end_year ≤ start_year``, a missing year or
    ``pc ≤ 0`` have no outcome and are left out."""
    p = pairings[(pairings["start"] <= asof) & ~(pairings["end"] < pairings["start"])]
    p = p[["helper_id", "hh_id", "start", "end"]].copy()
    p["start_year"] = p["start"].dt.year.astype("int64")
    end_year = p["end"].dt.year.fillna(income_year).astype("int64")
    p["end_year"] = np.minimum(end_year, int(income_year))
    p = p[p["end_year"] > p["start_year"]]
    inc = income.loc[income["year"].notna(), ["hh_id", "year", "net_per_capita", "size"]].copy()
    inc["year"] = inc["year"].astype("int64")
    inc = inc.drop_duplicates(["hh_id", "year"])
    p = p.merge(inc.rename(columns={"year": "start_year", "net_per_capita": "pc0", "size": "size0"}),
                on=["hh_id", "start_year"])
    p = p.merge(inc[["hh_id", "year", "net_per_capita"]].rename(
        columns={"year": "end_year", "net_per_capita": "pc1"}), on=["hh_id", "end_year"])
    p = p[(p["pc0"] > 0) & (p["pc1"] > 0)]
    p["log_pc0"] = np.log(p["pc0"].astype(float))
    p["y"] = np.log(p["pc1"].astype(float)) - p["log_pc0"]
    p["size0"] = p["size0"].astype(float)
    hcols = [c for c in ("hh_id", "town", "labor_capacity", "main_cause") if c in households.columns]
    p = p.merge(households[hcols], on="hh_id", how="left")
    for c in ("town", "labor_capacity", "main_cause"):
        if c not in p.columns:
            p[c] = pd.NA
    if members is not None and "birth_date" in members.columns:
        shares = age_structure(members, p.rename(columns={"start_year": "year"})[["hh_id", "year"]],
                               ages)
        p = p.merge(shares.rename(columns={"year": "start_year"}), on=["hh_id", "start_year"],
                    how="left")
    else:
        p["share_60plus"] = np.nan
        p["share_under16"] = np.nan
    cols = ["helper_id", "hh_id", "start", "start_year", "end_year", "y", "log_pc0", "size0",
            "labor_capacity", "main_cause", "town", "share_60plus", "share_under16"]
    return p[cols].sort_values(["helper_id", "hh_id", "start"]).reset_index(drop=True)


OUTCOME_NUMERIC = ("log_pc0", "size0", "share_60plus", "share_under16")
OUTCOME_CATEGORICAL = ("labor_capacity", "main_cause", "town", "start_year", "end_year")


def outcome_residuals(obs: pd.DataFrame) -> pd.Series:
    """The pairings' outcomes against comparable households: OLS residuals of ``y`` (log points)
    on :data:`OUTCOME_NUMERIC` and :data:`OUTCOME_CATEGORICAL`
    (:func:`qjlib.analyses.comparison.residuals`)."""
    return residuals(obs, OUTCOME_NUMERIC, OUTCOME_CATEGORICAL)
