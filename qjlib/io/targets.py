"""Checks of the tables of ``shared/contract/targets.md`` (:mod:`qjlib.core.tables_targets`).

:func:`qjlib.io.checks.row_checks` calls ``ROW_CHECKS[table]`` on each file's converted rows, and
:func:`qjlib.io.checks.cross_checks` calls every ``PACKAGE_CHECKS`` function once the package's
tables are read (for checks across tables).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ROW_CHECKS: dict[str, Callable[..., None]] = {}
"""Table name → ``f(df, raw, issues, add, as_of)``: ``df`` one file's converted rows (index =
position in the table), ``add(mask, kind, col, value, zh, en, reject)`` records a finding or a
reject of the masked rows (:func:`qjlib.io.checks.row_checks`)."""

PACKAGE_CHECKS: tuple[Callable[[dict[str, Any], dict[str, Any]], None], ...] = ()
"""Functions ``f(loaded, tables)`` run after every table is read (``loaded``: table name →
:class:`qjlib.io.issues.Loaded`; ``tables``: the derived frames)."""
