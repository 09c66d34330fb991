"""Matching the departments' rolls to the register (``shared/contract/departments.md``): the
registered persons, integer keys of ID numbers, the join of a roll on them, ages and the school
term of the as-of date. Pure functions on canonical frames; the rules that use them are in
:mod:`qjlib.analyses.departments_rules`.

- **Matching is by ID number only**: a valid (GB 11643) ID number is turned into one integer,
  ``first 17 digits × 11 + check value`` (``X`` = 10), and rolls are joined to the register on it.
  A department ID that fails the checksum has key −1 and matches nobody; an ID number held by
  several registered persons matches each of them.
- **Counted** members: ``member_status`` blank or 正常 (the subjects of the person rules and rates).
- **Alive on A**: no ``deaths`` row dated on or before A.
- Spells, terms and ages: :mod:`qjlib.core.spells` (written once for every rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from qjlib.core.definitions import ID_CHECK_CHARS, ID_WEIGHTS
from qjlib.core.ids import arrow_strings, positions
from qjlib.core.spells import birth_dates

_CHECK_BYTES = np.frombuffer(ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)

PERSON_COLUMNS = ("person_id", "hh_id", "name", "id_number", "health", "dibao")


def id_keys(ids: pd.Series) -> np.ndarray:
    """One int64 per resident ID number: ``int(first 17 digits) × 11 + check`` (``X`` = 10), −1 for a
    value that is not a valid GB 11643 number (missing, malformed or failing the checksum; the
    check of :func:`qjlib.core.definitions.id_checksum_ok`, a lower-case ``x`` read as ``X``).
    Read from the Arrow buffer of the 18-byte values in one pass, a column of digits at a time
    (no Python strings, no regex, no n × 17 integer matrix)."""
    arr = arrow_strings(ids)
    n = len(arr)
    keys = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return keys
    off = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    shaped = np.diff(off) == 18
    if arr.null_count:
        shaped &= arr.is_valid().to_numpy(zero_copy_only=False)
    where = np.flatnonzero(shaped)
    if not len(where):
        return keys
    good = arr if len(where) == n else pc.filter(arr, pa.array(shaped))
    good = good.combine_chunks() if isinstance(good, pa.ChunkedArray) else good
    first = int(np.frombuffer(good.buffers()[1], dtype=np.int64, count=1, offset=good.offset * 8)[0])
    raw = np.frombuffer(good.buffers()[2], dtype=np.uint8, count=18 * len(good), offset=first).reshape(-1, 18)
    ok = np.ones(len(raw), dtype=bool)
    total = np.zeros(len(raw), dtype=np.int32)
    value = np.zeros(len(raw), dtype=np.int64)
    for i in range(17):
        d = raw[:, i] - np.uint8(48)  # below '0' wraps around to > 9
        ok &= d <= 9
        total += int(ID_WEIGHTS[i]) * d.astype(np.int32)
        value *= 10
        value += d
    last = np.where(raw[:, 17] == ord("x"), np.uint8(ord("X")), raw[:, 17])
    ok &= last == _CHECK_BYTES[total % 11]
    check = np.where(last == ord("X"), 10, last.astype(np.int64) - ord("0"))
    keys[where[ok]] = (value * 11 + check)[ok]
    return keys


def registered_persons(households: pd.DataFrame, members: pd.DataFrame,
                       deaths: pd.DataFrame | None, asof: pd.Timestamp,
                       counted_statuses: tuple[str, ...]) -> pd.DataFrame:
    """Every registered person (a row of ``members``) with what the rules read.

    Columns: ``person_id, hh_id, name, id_number, health, dibao`` (those present; ``health``
    and ``dibao`` NA when absent), ``town, village, exit_status, exit_year`` of the household,
    ``id_key`` (:func:`id_keys`), ``birth`` (:func:`qjlib.core.spells.birth_dates`), ``counted`` (``member_status``
    blank or in ``counted_statuses``) and ``alive`` (no ``deaths`` row with a valid ID dated on or
    before ``asof``)."""
    p = pd.DataFrame({c: members[c] for c in PERSON_COLUMNS if c in members.columns})
    for c in ("name", "id_number", "health"):
        if c not in p.columns:
            p[c] = pd.Series(pd.NA, index=p.index, dtype="str")
    if "dibao" not in p.columns:
        p["dibao"] = pd.Series(pd.NA, index=p.index, dtype="boolean")
    pos = positions(p["hh_id"], households["hh_id"])
    found = pos >= 0
    for c in ("town", "village", "exit_status", "exit_year"):
        if c not in households.columns or not len(households):
            p[c] = pd.NA
            continue
        taken = households[c].iloc[np.where(found, pos, 0)].reset_index(drop=True)
        p[c] = taken.set_axis(p.index).where(found)
    p["id_key"] = id_keys(p["id_number"])
    bd = members["birth_date"] if "birth_date" in members.columns else pd.Series(
        pd.NaT, index=members.index, dtype="datetime64[us]")
    p["birth"] = birth_dates(bd, p["id_number"]).to_numpy()
    status = members["member_status"] if "member_status" in members.columns else None
    p["counted"] = True if status is None else (status.isna() | status.isin(counted_statuses)
                                                ).to_numpy(dtype=bool)
    p["alive"] = True
    if deaths is not None and len(deaths):
        dead = id_keys(deaths["id_number"])[(deaths["death_date"] <= asof).to_numpy(dtype=bool)]
        p["alive"] = ~key_in(p["id_key"].to_numpy(), dead)
    return p.reset_index(drop=True)


def roll(frame: pd.DataFrame) -> pd.DataFrame:
    """A department roll with its integer key (``id_key``) and provenance as ledger columns
    (``file`` ← ``_file``, ``row`` ← ``_row``; NA when the frame was built without them)."""
    out = frame.copy()
    out["id_key"] = id_keys(frame["id_number"]) if "id_number" in frame.columns else -1
    out["file"] = frame["_file"] if "_file" in frame.columns else pd.Series(pd.NA, index=frame.index,
                                                                             dtype="str")
    out["row"] = (frame["_row"] if "_row" in frame.columns
                  else pd.Series(pd.NA, index=frame.index)).astype("Int64")
    return out


_INDEX: dict[str, tuple[pd.DataFrame, pd.Index | None]] = {}  # the last persons frame's key index


def _key_index(persons: pd.DataFrame) -> pd.Index | None:
    """A hash index of the persons' ``id_key`` (a blank key −1 made distinct as −1 − position),
    or None when two persons share a valid key. Kept for the last frame passed (the analysis
    hands every rule the same persons frame; a rule's subset gets its own)."""
    cached = _INDEX.get("last")
    if cached is not None and cached[0] is persons:
        return cached[1]
    k = persons["id_key"].to_numpy()
    idx = pd.Index(np.where(k >= 0, k, -1 - np.arange(len(k), dtype=np.int64)))
    out = idx if idx.is_unique else None
    _INDEX["last"] = (persons, out)
    return out


def match(rows: pd.DataFrame, persons: pd.DataFrame,
          person_cols: tuple[str, ...] = ("person_id", "hh_id")) -> pd.DataFrame:
    """The roll's rows joined to the registered persons on ``id_key`` (rows with key −1 and
    rows matching nobody dropped; a row matching two persons appears twice). The roll's columns
    keep their names; the persons' ``person_cols`` are added (``_reg`` appended to a name the
    roll already has). A hash lookup when every registered key is distinct, else a merge."""
    keys = _key_index(persons)
    if keys is None:
        right = persons.loc[persons["id_key"].to_numpy() >= 0, ["id_key", *person_cols]]
        left = rows[rows["id_key"].to_numpy() >= 0]
        return left.merge(right, on="id_key", how="inner", suffixes=("", "_reg"))
    lk = rows["id_key"].to_numpy()
    pos = keys.get_indexer(lk)
    hit = np.flatnonzero((pos >= 0) & (lk >= 0))
    out = rows.take(hit).reset_index(drop=True)
    taken = persons[list(person_cols)].take(pos[hit]).reset_index(drop=True)
    for c in person_cols:
        out[c + "_reg" if c in out.columns else c] = taken[c]
    return out


def match_counted(rows: pd.DataFrame, persons: pd.DataFrame,
                  person_cols: tuple[str, ...] = ("person_id", "hh_id")) -> pd.DataFrame:
    """:func:`match` to the counted persons only (``counted``: ``member_status`` blank or
    正常), through the index of all of them."""
    m = match(rows, persons, (*person_cols, "counted"))
    col = "counted_reg" if "counted" in rows.columns else "counted"
    return m[m[col].to_numpy(dtype=bool)].drop(columns=[col]).reset_index(drop=True)


def is_registered(rows: pd.DataFrame, persons: pd.DataFrame) -> np.ndarray:
    """Whether each roll row's ID matches a registered person (False for an invalid ID)."""
    keys = _key_index(persons)
    lk = rows["id_key"].to_numpy()
    if keys is None:
        return key_in(lk, persons["id_key"].to_numpy())
    return (keys.get_indexer(lk) >= 0) & (lk >= 0)


def key_in(keys: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Whether each valid key (≥ 0) is one of the valid keys ``among`` (a hash lookup)."""
    keys = np.asarray(keys)
    among = np.asarray(among)
    return pd.Series(keys).isin(among[among >= 0]).to_numpy(dtype=bool) & (keys >= 0)


def first_rows(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per ``by`` group: the first by (``file``, ``row``) — the department line a ledger
    row points to when several support it."""
    if not len(df):
        return df
    codes, files = pd.factorize(df["file"], sort=True)  # file names in sorted order, blank −1
    codes = np.where(codes < 0, len(files), codes)  # blanks last
    row = pd.to_numeric(df["row"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    order = np.lexsort((np.where(np.isnan(row), np.inf, row), codes))  # stable
    keep = ~df[by].take(order).duplicated(keep="first").to_numpy()
    return df.take(order[keep])


def dates_text(s: pd.Series) -> pd.Series:
    """Dates as ``YYYY-MM-DD`` text (``空`` for a blank)."""
    return s.dt.strftime("%Y-%m-%d").fillna("空").astype("str")
