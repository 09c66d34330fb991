"""Spells, windows, school terms and ages: the date logic of the departments' rolls, written once
(``shared/contract/departments.md``, "Years and dates").

==========================  ==========================================================================
name                        definition
==========================  ==========================================================================
:func:`active_on`           a spell is active on D: ``start ≤ D`` and (``end`` blank or ``end ≥ D``)
:func:`window_bounds`       the 12-month window (A − 12 months, A]: its exclusive low, inclusive high
:func:`clip_to_window`      a spell's days inside the window (blank ``end`` runs to A); empty → NaT
:func:`overlap`             two day ranges ``[s₁, e₁]``, ``[s₂, e₂]`` share a day: ``max(s) ≤ min(e)``
:func:`months_active`       calendar months of a year on whose 1st the spell is active (0–12)
:func:`shorter_than_months` a spell ``[start, end]`` shorter than n months: ``end + 1 day <
                            start + n months`` (a blank ``end`` is never shorter); a yearly contract
                            2018-07-01 … 2019-06-30 is exactly 12 months, not shorter
:func:`parse_terms`         ``2019春``, ``2019年春季``, ``2019春季学期``, ``2018-2019学年第二学期`` →
                            ``2019春``; ``…第一学期`` → autumn of the first year; else unparseable
:func:`term_start`          spring: 1 March of its year; autumn: 1 September
:func:`current_term`        the latest term started on or before A (2019-09-30 → ``2019秋``)
:func:`age_reference_date`  31 August before the term's school year (the school year starts on
                            1 September of the autumn term's year; a spring term's, the year before)
:func:`full_years`          age in full years on a date, from ``birth_date``, else from characters
                            7–14 of the ID number; NA when neither gives a date
==========================  ==========================================================================

Dates are day precision; every function is vectorised over Series (a scalar date broadcasts).
The cadre pairings (:func:`qjlib.analyses.cadres_metrics.active_pairings`) use the same notion of
"active on a date" as :func:`active_on`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

DateLike = Any  # a Timestamp, a date, or a Series of dates


def active_on(start: pd.Series, end: pd.Series, d: DateLike) -> pd.Series:
    """Boolean: the spell is active on ``d`` — ``start ≤ d`` and (``end`` blank or ``end ≥ d``),
    both bounds inclusive. A blank ``start`` is never active."""
    d = _ts(d)
    return ((start <= d) & (end.isna() | (end >= d))).fillna(False).astype(bool)


def window_bounds(as_of: DateLike, months: int = 12) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(low, high)`` of the window ``(A − months, A]``: ``low`` (exclusive) is the same day
    ``months`` calendar months before A (month-end clipped: 2020-02-29 → 2019-02-28), ``high`` = A."""
    a = pd.Timestamp(as_of).normalize()
    return (a - pd.DateOffset(months=months)).normalize(), a


def clip_to_window(start: pd.Series, end: pd.Series, as_of: DateLike,
                   months: int = 12) -> tuple[pd.Series, pd.Series]:
    """The days of each spell inside the window ``(A − months, A]``: ``(first, last)`` with a blank
    ``end`` running to A; both NaT when the spell has no day in the window (it touches the window
    exactly when ``start ≤ A`` and (``end`` blank or ``end > A − months``))."""
    low, high = window_bounds(as_of, months)
    first = start.where(start.isna() | (start > low), low + pd.Timedelta(days=1))
    last = end.fillna(high).where(end.fillna(high) < high, high)
    inside = (first <= last).fillna(False)
    return first.where(inside), last.where(inside)


def overlap(s1: pd.Series, e1: pd.Series, s2: pd.Series, e2: pd.Series) -> pd.Series:
    """Boolean: the day ranges ``[s1, e1]`` and ``[s2, e2]`` (inclusive, no blanks: clip them
    first) share at least one day — ``max(s1, s2) ≤ min(e1, e2)``."""
    lo = s1.where(s1 >= s2, s2)
    hi = e1.where(e1 <= e2, e2)
    return (lo <= hi).fillna(False).astype(bool)


def months_active(start: pd.Series, end: pd.Series, year: int) -> pd.Series:
    """For each spell, the number of calendar months of ``year`` on whose 1st it is active
    (:func:`active_on`; a spell still open counts through December): 0–12, int64."""
    out = np.zeros(len(start), dtype=np.int64)
    for m in range(1, 13):
        out += active_on(start, end, pd.Timestamp(year=int(year), month=m, day=1)).to_numpy()
    return pd.Series(out, index=start.index, name="months_active")


def shorter_than_months(start: pd.Series, end: pd.Series, months: int) -> pd.Series:
    """Boolean: the spell ``[start, end]`` (inclusive) lasts fewer than ``months`` calendar months
    — ``end + 1 day < start + months`` (so 2018-07-01 … 2019-06-30 is 12 months, not shorter than
    12); a blank ``end`` is never shorter."""
    limit = _add_months(start, months)
    return ((end + pd.Timedelta(days=1)) < limit).fillna(False).astype(bool)


def _add_months(s: pd.Series, months: int) -> pd.Series:
    """``s`` plus ``months`` calendar months, day clipped to the month's end (vectorised)."""
    d = s.dt
    total = d.year * 12 + (d.month - 1) + int(months)
    year, month = total // 12, total % 12 + 1
    first = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}), errors="coerce")
    last_day = (first + pd.offsets.MonthEnd(0)).dt.day
    day = np.minimum(d.day, last_day)
    return (first + pd.to_timedelta(day - 1, unit="D")).astype(s.dtype)


# ------------------------------------------------------------------------------------- terms

_TERM_SIMPLE = re.compile(r"^(\d{4})年?(春|秋)季?(?:学期)?$")
_TERM_YEARS = re.compile(r"^(\d{4})[-~至到](\d{4})学年?第?(一|二|1|2)学期$")


def _parse_term(text: str) -> str | None:
    """One term text → ``YYYY春``/``YYYY秋``, or None."""
    t = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).replace("—", "-").replace("–", "-")
    m = _TERM_SIMPLE.match(t)
    if m:
        return f"{m.group(1)}{m.group(2)}"
    m = _TERM_YEARS.match(t)
    if m and int(m.group(2)) == int(m.group(1)) + 1:
        return f"{m.group(1)}秋" if m.group(3) in ("一", "1") else f"{m.group(2)}春"
    return None


def parse_terms(terms: pd.Series) -> pd.Series:
    """Canonical terms ``YYYY春``/``YYYY秋`` (``str``; NA where blank or unparseable).

    Accepted: ``YYYY春``/``YYYY秋``, ``YYYY年春季``, ``YYYY春季学期`` (and ``YYYY年秋季学期``…),
    ``YYYY-YYYY学年第一学期`` (autumn of the first year) / ``第二学期`` (spring of the second). A bare
    ``2019-1`` is not a term. Each distinct text is parsed once."""
    s = pd.Series(terms, copy=False).astype("str")
    uniq = s.dropna().unique()
    mapping = {u: _parse_term(u) for u in uniq}
    return s.map(mapping).astype("str").rename(s.name)


def term_start(terms: pd.Series) -> pd.Series:
    """The first day of each canonical term: 1 March (春) or 1 September (秋) of its year."""
    s = pd.Series(terms, copy=False).astype("str")
    year = pd.to_numeric(s.str.slice(0, 4), errors="coerce")
    month = np.where(s.str.slice(4, 5) == "春", 3, 9)
    out = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}), errors="coerce")
    return out.where(year.notna()).astype("datetime64[us]")


def current_term(as_of: DateLike) -> str:
    """The latest term started on or before A: ``YYYY秋`` from 1 September, ``YYYY春`` from 1 March,
    else the autumn term of the year before (2019-09-30 → ``2019秋``, 2019-08-31 → ``2019春``,
    2019-02-28 → ``2018秋``)."""
    a = pd.Timestamp(as_of)
    if a.month >= 9:
        return f"{a.year}秋"
    if a.month >= 3:
        return f"{a.year}春"
    return f"{a.year - 1}秋"


def age_reference_date(term: str) -> pd.Timestamp:
    """31 August before the term's school year: the school year starts on 1 September of the
    autumn term's year, for a spring term of the year before (``2019秋`` and ``2020春`` → 2019-08-31)."""
    year = int(term[:4])
    first_year = year if term[4:] == "秋" else year - 1
    return pd.Timestamp(year=first_year, month=8, day=31)


# -------------------------------------------------------------------------------------- ages


def birth_dates(birth_date: pd.Series, id_number: pd.Series) -> pd.Series:
    """``birth_date``, else the date in characters 7–14 of the ID number (``YYYYMMDD``); NaT when
    neither gives a valid date."""
    out = birth_date.astype("datetime64[us]")
    need = out.isna().to_numpy()
    if need.any():
        ids = pd.Series(id_number, copy=False).iloc[np.flatnonzero(need)]
        vals = out.to_numpy(copy=True)
        vals[need] = _ymd_dates(ids.astype("str").str.slice(6, 14)).to_numpy()
        out = pd.Series(vals, index=out.index, name=out.name)
    return out


def _ymd_dates(text: pd.Series) -> pd.Series:
    """``YYYYMMDD`` text → dates (``datetime64[us]``; NaT where not a valid date), as
    ``pd.to_datetime(format="%Y%m%d", errors="coerce")``: eight digits forming a real date of
    the years 1678–2261 are read arithmetically, any other text through ``to_datetime``."""
    digits = text.str.fullmatch(r"[0-9]{8}").fillna(False).to_numpy(dtype=bool)
    n = np.zeros(len(text), dtype=np.int64)
    if digits.any():
        raw = np.frombuffer("".join(text[digits].tolist()).encode("ascii"), dtype=np.uint8)
        n[digits] = (raw.reshape(-1, 8).astype(np.int64) - ord("0")) @ (10 ** np.arange(7, -1, -1))
    y, m, d = n // 10000, n // 100 % 100, n % 100
    simple = digits & (y >= 1678) & (y <= 2261) & (m >= 1) & (m <= 12) & (d >= 1)
    month = ((np.where(simple, y, 1970) - 1970) * 12 + np.where(simple, m, 1) - 1).astype("datetime64[M]")
    days_in = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
    simple &= d <= days_in
    out = (month.astype("datetime64[D]") + (np.where(simple, d, 1) - 1)).astype("datetime64[us]")
    out[~simple] = np.datetime64("NaT")
    rest = np.flatnonzero(text.notna().to_numpy(dtype=bool) & ~simple)
    if len(rest):  # anything else (short text, far years, impossible dates): as to_datetime reads it
        odd = pd.to_datetime(text.iloc[rest], format="%Y%m%d", errors="coerce")
        out[rest] = odd.astype("datetime64[us]").to_numpy()
    return pd.Series(out, index=text.index)


def full_years(birth_date: pd.Series, id_number: pd.Series, on: DateLike) -> pd.Series:
    """Age in full years on ``on`` (Int64; NA when :func:`birth_dates` gives none): years since
    birth, less one before the birthday (a 29 February birthday comes on 1 March)."""
    b = birth_dates(birth_date, id_number)
    d = _ts(on)
    if isinstance(d, pd.Series):
        dy, dmd = d.dt.year, d.dt.month * 100 + d.dt.day
    else:
        dy, dmd = d.year, d.month * 100 + d.day
    age = dy - b.dt.year - ((b.dt.month * 100 + b.dt.day) > dmd).astype("Int64")
    return age.astype("Int64").where(b.notna())


def _ts(d: DateLike) -> Any:
    """A scalar date as a day Timestamp; a Series as it is."""
    if isinstance(d, pd.Series):
        return d
    return pd.Timestamp(d).normalize()
