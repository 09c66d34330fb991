"""The household's exit items (contract/exit.md, "The household's items"): Shaanxi's five, the
national water item and the rule that a household identified this year cannot exit this year —
each **met**, **not met** or **unknown**, never guessed — and the one definition of a **safe
house on a date D** (:func:`house_safe_on`), which the monitoring and targets analyses use too.

Years: A = the run's as-of date, Y = its income year, C = the calendar year of A.

| item | met when | not met when | unknown when |
|---|---|---|---|
| ``income`` | net income of Y ≥ line(Y) × size (exact, in fen) | below | no income row for Y, or no line for Y |
| ``not_new`` | ``identified_year`` ≠ C | = C | no ``identified_year`` |
| ``housing`` | :func:`house_safe_on` A is True | False | NA (no assessment, not relocated) |
| ``education`` | no member in rule ``dropout`` | a member in it | no ``enrollment`` table, the department comparison not run, or a member in ``enrollment_not_found`` |
| ``medical`` | no member in rule ``uninsured`` | a member in it | no ``insurance`` table, or the comparison not run |
| ``water`` | ``water.safe`` 是 | 否 | no ``water`` row (or a blank) |

The education and medical items read the department comparison's rules (``departments.md``,
ledger ``dept_mismatch``) through whichever registered analysis builds that ledger; they are
never re-derived here from the register's ``school_status`` / ``medical_insured`` (self-declared
fields the comparison exists to check).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.core.context import Context
from qjlib.core.definitions import net_income
from qjlib.core.exact import per_capita_at_or_above
from qjlib.core.ids import isin, positions

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"

#: The household items in contract order, with their Chinese names.
HOUSEHOLD_ITEMS_ZH: dict[str, str] = {
    "income": "收入稳定超过标准",
    "not_new": "非当年新识别",
    "housing": "住房安全有保障",
    "education": "义务教育有保障",
    "medical": "基本医疗有保障",
    "water": "饮水安全有保障",
}
HOUSEHOLD_ITEMS: tuple[str, ...] = tuple(HOUSEHOLD_ITEMS_ZH)
STATE_ZH = {MET: "达标", NOT_MET: "未达标", UNKNOWN: "待核实"}

UNSAFE_GRADES = ("C", "D")
SAFE_GRADES = ("A", "B")
_GRADE_RANK = {"A": 1, "B": 2, "C": 3, "D": 4}


def _latest_assessment_safe(housing: pd.DataFrame, ids: pd.Series, d: pd.Timestamp) -> tuple[pd.Series, np.ndarray]:
    """(the households of ``ids`` with an assessment on or before ``d``, each one once; whether
    each is safe by (1) or (2) of :func:`house_safe_on`). Grouped on integer positions, not on
    the id strings."""
    h = housing[(housing["assessed"] <= d).fillna(False).to_numpy(dtype=bool)]
    pos = positions(h["hh_id"], ids) if len(h) else np.zeros(0, dtype=np.int64)
    rows = np.flatnonzero((pos >= 0) & h["hh_id"].notna().to_numpy(dtype=bool))
    first, code = np.unique(pos[rows], return_inverse=True)  # a household: its first position in ids
    h = h.take(rows)
    n = len(first)
    when = h["assessed"].to_numpy().astype("datetime64[ns]").view(np.int64)
    latest = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(latest, code, when)
    day = np.flatnonzero(when == latest[code])
    h, code = h.take(day), code[day]
    rank = h["grade"].map(_GRADE_RANK).astype("float").fillna(5.0).to_numpy(dtype=float)
    works = h["works"] if "works" in h.columns else pd.Series(pd.NA, index=h.index)
    done = np.zeros(len(h), dtype=bool)
    if "completed" in h.columns:
        done |= (works.eq("repair") & (h["completed"] <= d)).fillna(False).to_numpy(dtype=bool)
    if "moved_in" in h.columns:
        done |= (works.eq("rebuild") & (h["moved_in"] <= d)).fillna(False).to_numpy(dtype=bool)
    worst = np.zeros(n)
    np.maximum.at(worst, code, rank)
    any_done = np.zeros(n, dtype=bool)
    any_done[code[done]] = True
    return ids.take(first).reset_index(drop=True), (worst <= _GRADE_RANK["B"]) | any_done


def house_safe_on(housing: pd.DataFrame | None, ids: pd.Series, on: pd.Timestamp,
                  relocation: pd.DataFrame | None = None) -> pd.Series:
    """Whether each household of ``ids`` has a **safe house on the date ``on``** (contract/exit.md,
    ``housing``): a nullable boolean Series aligned with ``ids`` (its index), True = safe,
    False = unsafe, NA = unknown.

    Safe when (1) its latest ``housing`` assessment on or before D (two on that day: the worse
    grade) grades it A or B; or (2) works follow that assessment and are finished by D — a
    ``repair`` with ``completed`` ≤ D, a ``rebuild`` with ``moved_in`` ≤ D (any row of that latest
    day counts); or (3) it is in ``relocation`` (targets.md) with ``moved_in`` 是 and
    ``moved_in_date`` ≤ D (a blank date with 是 counts, as targets.md counts it). Unsafe when the
    latest assessment grades it C or D (or an unknown grade) and none of (2), (3) holds. Unknown
    when there is no assessment on or before D and (3) does not hold. Assessments after D are not
    seen (a house is judged on what was known at D)."""
    d = pd.Timestamp(on)
    out = pd.Series(pd.NA, index=ids.index, dtype="boolean")
    if housing is not None and len(housing):
        groups, safe = _latest_assessment_safe(housing, ids, d)
        if len(safe):
            pos = positions(ids, groups)
            hit = pos >= 0
            vals = out.to_numpy(dtype=object)
            vals[hit] = safe[pos[hit]]
            out = pd.Series(vals, index=ids.index).astype("boolean")
    if relocation is not None and len(relocation) and "moved_in" in relocation.columns:
        r = relocation
        if "moved_in_date" in r.columns:  # a blank date with 是 counts (NaT <= D is False, so ask isna)
            date_ok = (r["moved_in_date"].isna() | (r["moved_in_date"] <= d)).to_numpy(dtype=bool)
        else:
            date_ok = np.ones(len(r), dtype=bool)
        moved = r["moved_in"].fillna(False).to_numpy(dtype=bool) & date_ok
        out = out.mask(isin(ids, r.loc[moved, "hh_id"]), True)
    return out


def _state(met: pd.Series, known: pd.Series) -> np.ndarray:
    """``met``/``not_met`` where ``known``, else ``unknown`` (object array)."""
    m = met.fillna(False).to_numpy(dtype=bool)
    k = known.to_numpy(dtype=bool)
    return np.where(~k, UNKNOWN, np.where(m, MET, NOT_MET)).astype(object)


def income_item(hh: pd.DataFrame, income: pd.DataFrame | None, year: int,
                line: float | None) -> tuple[np.ndarray, pd.Series]:
    """The ``income`` item and the per-capita net income of Y (NaN when unknown)."""
    pc = pd.Series(np.nan, index=hh.index)
    if income is None or line is None:
        return np.full(len(hh), UNKNOWN, dtype=object), pc
    inc = income[(income["year"] == year).to_numpy()]
    pos = positions(hh["hh_id"], inc["hh_id"])
    hit = pos >= 0
    net = np.full(len(hh), np.nan)
    size = np.full(len(hh), np.nan)
    net[hit] = net_income(inc).to_numpy(dtype=float)[pos[hit]]
    size[hit] = inc["size"].to_numpy(dtype=float, na_value=np.nan)[pos[hit]]
    known = pd.Series(hit & np.isfinite(net) & (size >= 1), index=hh.index)
    ok = np.zeros(len(hh), dtype=bool)
    k = known.to_numpy()
    ok[k] = per_capita_at_or_above(net[k], size[k], line)
    pc[k] = net[k] / size[k]
    return _state(pd.Series(ok, index=hh.index), known), pc


def department_rule_ids(ctx: Context, table: str, rules: tuple[str, ...]) -> dict[str, pd.Series] | None:
    """hh_id of the registered persons in each of ``rules`` of the department comparison's
    ``dept_mismatch`` ledger (departments.md; the ledger of that analysis's shared per-context
    result, not re-derived), a ``str`` Series per rule (repeats possible, no blanks); None when
    ``table`` is absent or no registered analysis builds that ledger (the item is then unknown,
    never guessed)."""
    from qjlib import analyses

    if not ctx.pkg.has(table):
        return None
    owner = None
    for name in analyses.names():
        mod = analyses.get(name)
        if "dept_mismatch" in getattr(mod, "LEDGERS", {}):
            owner = mod
            break
    if owner is None:
        return None
    led = owner.build_ledgers(ctx)["dept_mismatch"]
    rule = led["rule"].to_numpy()
    return {r: led["hh_id"][(rule == r) & led["hh_id"].notna().to_numpy(dtype=bool)].reset_index(drop=True)
            .astype("str") for r in rules}


def department_rule_households(ctx: Context, table: str, rules: tuple[str, ...]) -> dict[str, set] | None:
    """:func:`department_rule_ids` as sets."""
    found = department_rule_ids(ctx, table, rules)
    return None if found is None else {r: set(v) for r, v in found.items()}


def household_items(ctx: Context, hh: pd.DataFrame) -> pd.DataFrame:
    """Every item of :data:`HOUSEHOLD_ITEMS` for the households ``hh`` (rows of ``households``),
    one column each (``met`` / ``not_met`` / ``unknown``), plus the values that decide them:
    ``net_per_capita`` (Y), ``poverty_line`` (Y), ``house_safe``; index as ``hh``'s."""
    pkg, y, c = ctx.pkg, int(ctx.income_year), int(ctx.asof.year)
    line = ctx.params.get("poverty_line").get(y)
    inc = pkg["income"] if pkg.has("income") else None
    out = pd.DataFrame(index=hh.index)
    out["income"], out["net_per_capita"] = income_item(hh, inc, y, line)
    out["poverty_line"] = np.nan if line is None else float(line)
    if "identified_year" in hh.columns:
        iy = hh["identified_year"].astype("Float64")
        out["not_new"] = _state((iy != c).fillna(False), iy.notna())
    else:
        out["not_new"] = UNKNOWN
    reloc = pkg["relocation"] if pkg.has("relocation") else None
    safe = house_safe_on(pkg["housing"] if pkg.has("housing") else None, hh["hh_id"], ctx.asof, reloc)
    out["house_safe"] = safe
    out["housing"] = _state(safe.fillna(False), safe.notna())
    for item, table, rule, unknown_rule in (("education", "enrollment", "dropout", "enrollment_not_found"),
                                            ("medical", "insurance", "uninsured", None)):
        found = department_rule_households(ctx, table, tuple(r for r in (rule, unknown_rule) if r))
        if found is None:
            out[item] = UNKNOWN
            continue
        bad = hh["hh_id"].isin(found[rule]).to_numpy()
        unk = hh["hh_id"].isin(found.get(unknown_rule, set())).to_numpy() & ~bad
        out[item] = np.where(bad, NOT_MET, np.where(unk, UNKNOWN, MET)).astype(object)
    if pkg.has("water"):
        w = pkg["water"]
        pos = positions(hh["hh_id"], w["hh_id"])
        safe_w = pd.Series(pd.NA, index=hh.index, dtype="boolean")
        hit = pos >= 0
        vals = safe_w.to_numpy(dtype=object)
        vals[hit] = w["safe"].astype("boolean").to_numpy(dtype=object)[pos[hit]]
        safe_w = pd.Series(vals, index=hh.index).astype("boolean")
        out["water"] = _state(safe_w.fillna(False), safe_w.notna())
    else:
        out["water"] = UNKNOWN
    return out
