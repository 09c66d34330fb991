"""The tables of ``shared/contract/targets.md``: the dated targets (secretary_visits, funds, fund_payments, loans, relocation).

Written with the blocks of :mod:`qjlib.core.columns`; :mod:`qjlib.core.schema` adds them to its
``TABLES``, ``VALUE_LISTS`` (keys ``table.column`` for one table's column, ``column`` for all)
and ``CODE_LABELS_ZH``.
"""

from __future__ import annotations

from qjlib.core.columns import Table

TABLES: tuple[Table, ...] = ()
"""The area's tables, in contract order."""

VALUE_LISTS: dict[str, dict[str, tuple[str, ...]]] = {}
"""Canonical value → accepted spellings, per ``table.column`` (or ``column``)."""

CODE_LABELS_ZH: dict[str, dict[str, str]] = {}
"""Chinese labels of canonical codes, per column."""
