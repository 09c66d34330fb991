"""Checks of the tables of ``shared/contract/monitoring.md`` (:mod:`qjlib.core.tables_monitoring`).

:func:`qjlib.io.checks.row_checks` calls ``ROW_CHECKS[table]`` on each file's converted rows, and
:func:`qjlib.io.checks.cross_checks` calls every ``PACKAGE_CHECKS`` function once the package's
tables are read (for checks across tables).

``edge_households``:

- a ``groups`` token that is none of :data:`qjlib.core.tables_monitoring.EDGE_GROUPS` is the
  finding ``not_in_list`` (the row is kept; the token is ignored by the rules);
- an ``hh_id`` that is also a registered household's is the finding ``edge_registered`` (the row
  is kept, and is not an edge household for the rules: ``monitoring.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core.ids import isin
from qjlib.core.tables_monitoring import EDGE_GROUP_SEPARATORS, EDGE_GROUPS


def group_tokens(groups: pd.Series) -> pd.DataFrame:
    """The ``groups`` cells split into tokens: one row per (row label ``row``, token ``group``),
    blanks dropped, each token stripped."""
    s = pd.Series(groups, copy=False).astype("str")
    parts = s.str.split(EDGE_GROUP_SEPARATORS, regex=True).explode()
    parts = parts.str.strip()
    parts = parts[parts.notna() & (parts != "")]
    return pd.DataFrame({"row": parts.index, "group": parts.to_numpy(dtype=object)})


def unknown_groups(groups: pd.Series) -> pd.Series:
    """Per row of ``groups``: the tokens outside :data:`EDGE_GROUPS` joined by 、 ("" if none)."""
    tok = group_tokens(groups)
    bad = tok[~tok["group"].isin(EDGE_GROUPS)]
    joined = bad.groupby("row")["group"].agg("、".join)
    return pd.Series(joined, index=pd.Series(groups, copy=False).index).fillna("").astype("str")


def _edge_row_checks(df: pd.DataFrame, raw: Any, issues: Any, add: Callable[..., None],
                     as_of: Any) -> None:
    """``groups`` tokens outside the plan's five special groups: finding ``not_in_list``."""
    if "groups" not in df.columns or not df["groups"].notna().any():
        return
    bad = unknown_groups(df["groups"])
    add(bad != "", "not_in_list", "groups", bad,
        "「特殊群体」含取值表以外的类型（仅认 " + "、".join(EDGE_GROUPS) + "）",
        "groups holds a value outside " + ", ".join(EDGE_GROUPS), False)


def registered_edge_rows(edge: pd.DataFrame, households: pd.DataFrame) -> np.ndarray:
    """Bool per row of ``edge``: its ``hh_id`` is a registered household's (not an edge
    household: ``monitoring.md``)."""
    return isin(edge["hh_id"], households["hh_id"])


def _edge_registered(loaded: dict[str, Any], tables: dict[str, Any]) -> None:
    """An edge household's ``hh_id`` that is also a registered household's: finding
    ``edge_registered`` (the row is kept)."""
    if "edge_households" not in tables or "households" not in tables:
        return
    edge = tables["edge_households"]
    m = registered_edge_rows(edge, tables["households"])
    if m.any():
        loaded["edge_households"].issues.add(
            edge.index.to_numpy()[m], "edge_registered", "hh_id", edge["hh_id"][m].to_numpy(dtype=object),
            "「户编号」是建档立卡户的编号，不作为边缘户",
            "hh_id is a registered household's: not an edge household", False)


ROW_CHECKS: dict[str, Callable[..., None]] = {"edge_households": _edge_row_checks}
"""Table name → ``f(df, raw, issues, add, as_of)``: ``df`` one file's converted rows (index =
position in the table), ``add(mask, kind, col, value, zh, en, reject)`` records a finding or a
reject of the masked rows (:func:`qjlib.io.checks.row_checks`)."""

PACKAGE_CHECKS: tuple[Callable[[dict[str, Any], dict[str, Any]], None], ...] = (_edge_registered,)
"""Functions ``f(loaded, tables)`` run after every table is read (``loaded``: table name →
:class:`qjlib.io.issues.Loaded`; ``tables``: the derived frames)."""
