"""The signals of return-to-poverty monitoring (``shared/contract/monitoring.md``): one pure,
vectorised function per signal, each deciding its threshold exactly (:mod:`qjlib.core.exact`).

Every function takes the population's ``hh_id`` (the past exited households, in order) and the
tables it needs in canonical columns, and returns a ``boolean`` Series on ``hh_id``'s positions:
True / False, or ``<NA>`` where the signal cannot be told for the household (no income row for
an income signal). A signal whose *table* is absent is not computed at all: the analysis marks
it unavailable (:mod:`qjlib.analyses.monitoring`), never False.

Departments' tables (``departments.md``) are matched to the register by ``id_number`` only; an ID
that fails GB 11643 matches nobody.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.core import exact
from qjlib.core.definitions import id_checksum_ok
from qjlib.core.ids import isin, positions

NO_CAPACITY = "无劳动能力"
SAFE_GRADES = ("A", "B")
GRADE_RANK = {"A": 0, "B": 1, "C": 2, "D": 3}


def _bool(values: np.ndarray, known: np.ndarray | None = None) -> pd.Series:
    """``values`` as a nullable boolean Series, ``<NA>`` where ``known`` is False."""
    out = pd.Series(np.asarray(values, dtype=bool)).astype("boolean")
    if known is not None:
        out[~np.asarray(known, dtype=bool)] = pd.NA
    return out


def year_rows(hh_id: pd.Series, income: pd.DataFrame, year: int) -> tuple[np.ndarray, pd.DataFrame]:
    """(has a row, the rows aligned to ``hh_id``) of the income table's ``year``: ``net_income``
    and ``size`` (NaN where the household has no row)."""
    inc = income[income["year"] == int(year)]
    pos = positions(hh_id, inc["hh_id"])
    has = pos >= 0
    take = np.where(has, pos, 0)
    net = np.where(has, inc["net_income"].to_numpy(dtype=float, na_value=np.nan)[take] if len(inc) else np.nan,
                   np.nan)
    size = np.where(has, inc["size"].to_numpy(dtype=float, na_value=np.nan)[take] if len(inc) else np.nan,
                    np.nan)
    return has, pd.DataFrame({"net_income": net, "size": size})


def below_line(net_income, size, line: float, has_row) -> pd.Series:
    """收入低于贫困线: ``net_income ÷ size < line`` decided as ``fen(net) < fen(line) × size``
    (exactly at the line is not below); ``<NA>`` without an income row."""
    return _bool(exact.per_capita_below(net_income, size, line), has_row)


def below_monitor_line(net_income, size, line: float, monitor_line: float, has_row) -> pd.Series:
    """收入低于监测线: not below the poverty line and ``net_income ÷ size < monitor_line``
    (``fen(net) < fen(monitor_line) × size``; exactly at it is not below); ``<NA>`` without an
    income row."""
    hit = ~exact.per_capita_below(net_income, size, line) & exact.per_capita_below(net_income, size, monitor_line)
    return _bool(hit, has_row)


def income_fall(net_now, size_now, net_before, size_before, max_fall: float, has_now, has_before) -> pd.Series:
    """收入大幅下降: ``pc_Y < (1 − f) × pc_{Y−1}`` with ``f`` = ``monitoring.max_fall`` = p/q,
    decided as ``q × fen(net_Y) × size_{Y−1} < (q − p) × fen(net_{Y−1}) × size_Y`` (a fall of
    exactly f is not more than f); ``<NA>`` unless both years have a row."""
    p, q = exact.fraction(max_fall)
    lhs = q * exact.fen(net_now) * np.asarray(size_before, dtype=float)
    rhs = (q - p) * exact.fen(net_before) * np.asarray(size_now, dtype=float)
    return _bool(lhs < rhs, np.asarray(has_now, dtype=bool) & np.asarray(has_before, dtype=bool))


def in_ledger(hh_id: pd.Series, ledger_ids: pd.Series) -> pd.Series:
    """The household is in a ledger (``decline_run``: ``income_decline``; ``transfer_dependent``:
    ``income_transfer_dependent``): its ``hh_id`` is among ``ledger_ids``."""
    return _bool(isin(hh_id, ledger_ids))


def _person_households(members: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The department ``rows`` matched to registered persons by ``id_number`` (a valid GB 11643
    ID only; an ID held by several members matches each), with the member's ``hh_id``."""
    ok = id_checksum_ok(rows["id_number"]).to_numpy()
    rows = rows[ok]
    m = members[["hh_id", "id_number"]].dropna()
    return rows.merge(m, on="id_number", how="inner")


def out_of_pocket_12m(hh_id: pd.Series, members: pd.DataFrame, hospital: pd.DataFrame,
                      asof: pd.Timestamp) -> pd.Series:
    """Σ out-of-pocket (yuan) of the household's members' stays admitted in the 12-month window
    (A − 12 months, A]; a row's out-of-pocket is ``out_of_pocket``, else ``total_cost −
    reimbursed``. 0 for a household without such stays (float Series on ``hh_id``'s positions)."""
    start = pd.Timestamp(asof) - pd.DateOffset(months=12)
    h = hospital[(hospital["admitted"] > start) & (hospital["admitted"] <= asof)]
    oop = h["total_cost"].astype(float) - h["reimbursed"].astype(float)
    if "out_of_pocket" in h.columns:
        oop = h["out_of_pocket"].astype(float).fillna(oop)
    rows = h.assign(_oop=oop.to_numpy())[["id_number", "_oop"]]
    rows = rows.reset_index(names="_r")
    matched = _person_households(members, rows).drop_duplicates(["_r", "hh_id"])
    total = matched.groupby("hh_id")["_oop"].sum()
    pos = positions(hh_id, pd.Series(total.index, dtype="str"))
    return pd.Series(np.where(pos >= 0, total.to_numpy()[np.maximum(pos, 0)] if len(total) else 0.0, 0.0))


def medical_burden(oop_12m, threshold: float) -> pd.Series:
    """医疗负担重: out-of-pocket of the 12-month window > ``monitoring.oop_threshold``, compared
    in whole fen (exactly at the threshold is not above)."""
    return _bool(exact.fen(oop_12m) > exact.fen(threshold))


def no_safety_net(hh_id: pd.Series, labor_capacity: pd.Series, members: pd.DataFrame,
                  welfare: pd.DataFrame, asof: pd.Timestamp) -> pd.Series:
    """无劳动能力未兜底: labour capacity 无劳动能力 and no member has a ``dibao`` or ``tekun`` spell
    active on A (``start ≤ A`` and ``end`` blank or ``≥ A``). A household whose capacity is
    unknown (no members rows) is ``<NA>``."""
    w = welfare[welfare["programme"].isin(("dibao", "tekun"))]
    active = (w["start"] <= asof) & (w["end"].isna() | (w["end"] >= asof))
    covered = _person_households(members, w[active.to_numpy()][["id_number"]])["hh_id"]
    cap = pd.Series(labor_capacity, copy=False).reset_index(drop=True)
    hit = (cap == NO_CAPACITY).fillna(False).to_numpy(dtype=bool) & ~isin(hh_id, covered)
    return _bool(hit, cap.notna().to_numpy())


def dropout(hh_id: pd.Series, dropout_person_ids: pd.Series, members: pd.DataFrame) -> pd.Series:
    """有辍学: a member of the household is in rule ``dropout`` of ``dept_mismatch``
    (``dropout_person_ids``: the rule's ``person_id``)."""
    hh_of = members.loc[isin(members["person_id"], dropout_person_ids), "hh_id"]
    return _bool(isin(hh_id, hh_of))


def house_safe_on(hh_id: pd.Series, housing: pd.DataFrame, day: pd.Timestamp,
                  relocation: pd.DataFrame | None = None) -> pd.Series:
    """Whether the household's house is safe on ``day`` (``exit.md``): its latest assessment on
    or before ``day`` (two on one day: the worse grade) grades it A or B; or works following that
    assessment are finished by ``day`` (a repair ``completed``, a rebuild ``moved_in`` on or before
    it); or the household is in ``relocation`` (``targets.md``) with ``moved_in`` 是 on or before
    ``day`` (``moved_in_date`` ≤ ``day``; a blank date with 是 counts). ``<NA>`` (unknown) with
    none of these and no assessment on or before ``day``."""
    h = housing[housing["assessed"] <= day].copy()
    h["_rank"] = h["grade"].map(GRADE_RANK)
    h = h.sort_values(["hh_id", "assessed", "_rank"], kind="stable", na_position="first")
    last = h.drop_duplicates("hh_id", keep="last")
    works = last["works"] if "works" in last.columns else pd.Series(pd.NA, index=last.index)
    done_repair = (works == "repair").fillna(False) & (
        last["completed"] <= day if "completed" in last.columns else False)
    done_rebuild = (works == "rebuild").fillna(False) & (
        last["moved_in"] <= day if "moved_in" in last.columns else False)
    safe_last = last["grade"].isin(SAFE_GRADES) | done_repair.fillna(False) | done_rebuild.fillna(False)
    pos = positions(hh_id, last["hh_id"])
    known = pos >= 0
    vals = safe_last.to_numpy(dtype=bool)[np.maximum(pos, 0)] if len(last) else np.zeros(len(pos), bool)
    if relocation is not None and len(relocation):
        r = relocation[relocation["moved_in"].astype(object).isin([True, "是"]).to_numpy()]
        if "moved_in_date" in r.columns:
            r = r[(r["moved_in_date"].isna() | (r["moved_in_date"] <= day)).to_numpy()]
        moved = isin(hh_id, r["hh_id"])
        vals, known = vals | moved, known | moved
    return _bool(vals, known)


def unsafe_house(hh_id: pd.Series, housing: pd.DataFrame, asof: pd.Timestamp,
                 relocation: pd.DataFrame | None = None) -> pd.Series:
    """住房不安全: the house is known and not safe on A (:func:`house_safe_on`, ``relocation``
    when present); an unknown house is no signal (False)."""
    safe = house_safe_on(hh_id, housing, asof, relocation)
    return _bool((safe == False).fillna(False).to_numpy(dtype=bool))  # noqa: E712 (nullable)


def school_year_start(term: str) -> pd.Timestamp:
    """1 September of the school year of a ``YYYY春`` / ``YYYY秋`` term (spring: the year before)."""
    y = int(term[:4])
    return pd.Timestamp(year=y if term.endswith("秋") else y - 1, month=9, day=1)


def current_term(asof: pd.Timestamp) -> str:
    """The latest term started on or before A: ``YYYY秋`` from 1 September, ``YYYY春`` from
    1 March, else the autumn term of the year before."""
    a = pd.Timestamp(asof)
    if a >= pd.Timestamp(year=a.year, month=9, day=1):
        return f"{a.year}秋"
    if a >= pd.Timestamp(year=a.year, month=3, day=1):
        return f"{a.year}春"
    return f"{a.year - 1}秋"


def full_years(birth: pd.Series, day: pd.Timestamp) -> pd.Series:
    """Age in full years on ``day`` from dates of birth (NaN where unknown)."""
    b = pd.to_datetime(birth)
    years = day.year - b.dt.year
    before = (b.dt.month > day.month) | ((b.dt.month == day.month) & (b.dt.day > day.day))
    return (years - before.astype("Int64")).astype("Float64")


def dropout_persons(members: pd.DataFrame, enrollment: pd.DataFrame, deaths: pd.DataFrame | None,
                    asof: pd.Timestamp, age_min: int, age_max: int) -> pd.Series:
    """``person_id`` of rule ``dropout`` (``departments.md``): a registered person alive on A
    (no ``deaths`` row dated on or before A), aged ``age_min``–``age_max`` on 31 August of the
    current school year (from ``birth_date``, else ID characters 7–14), whose ``enrollment`` row
    of the current term (:func:`current_term`) has status 辍学."""
    term = current_term(asof)
    aug31 = school_year_start(term) - pd.Timedelta(days=1)
    birth = pd.to_datetime(members["birth_date"]) if "birth_date" in members else pd.Series(pd.NaT, index=members.index)
    from_id = pd.to_datetime(members["id_number"].str.slice(6, 14), format="%Y%m%d", errors="coerce")
    age = full_years(birth.fillna(from_id), aug31)
    in_band = ((age >= age_min) & (age <= age_max)).fillna(False).to_numpy(dtype=bool)
    e = enrollment[(enrollment["term"] == term) & (enrollment["status"] == "辍学")]
    e = e[id_checksum_ok(e["id_number"]).to_numpy()]
    hit = in_band & isin(members["id_number"], e["id_number"])
    if deaths is not None and len(deaths):
        dead = deaths[deaths["death_date"] <= asof]["id_number"]
        hit &= ~isin(members["id_number"], dead)
    return members.loc[hit, "person_id"].reset_index(drop=True)
