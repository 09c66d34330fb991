"""Ledgers (台账): what each one is, its key and its Chinese column labels; writing them.

Each analysis module declares its ledgers as ``LEDGERS = {name: LedgerSpec(...)}`` and builds them
with ``build_ledgers(ctx) -> dict[str, DataFrame]`` (canonical English column names, a Chinese
``reason`` column, ``town``/``village`` where they apply).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LedgerSpec:
    name: str
    title_zh: str
    key: tuple[str, ...]
    columns_zh: dict[str, str] = field(default_factory=dict)  # canonical column -> Chinese header
    plan: str = ""  # the plan requirement, e.g. "R2"
