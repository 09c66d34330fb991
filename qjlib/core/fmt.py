"""Numbers as people read them, and as summary.json holds them: one formatter of each kind.

Every module that turns a number into text (ledger reasons, key figures, tables, chart labels)
uses these, so a share reads the same everywhere.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

MISSING = "—"  # how a missing number is shown


def is_missing(x: Any) -> bool:
    """``None``, ``pd.NA`` or a float NaN."""
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def fmt_int(x: Any) -> str:
    """``12345`` → ``"12,345"``; missing → ``"—"``."""
    return MISSING if is_missing(x) else f"{round(float(x)):,d}"


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A share as a percentage: ``0.1234`` → ``"12.3%"``; missing or infinite → ``"—"``."""
    return MISSING if is_missing(x) or not math.isfinite(float(x)) else f"{float(x) * 100:.{digits}f}%"


def fmt_pp(d: float) -> str:
    """A change of a share in percentage points, in words: ``0.012`` → ``"上升 1.2 个百分点"``."""
    return f"{'上升' if d > 0 else '下降'} {abs(d) * 100:.1f} 个百分点"


def fmt_yuan(x: Any, digits: int = 0, unit: str = "元") -> str:
    """Money: ``12345.6`` → ``"12,346 元"``; ``unit="万元"`` divides by 10,000 (``"1.2 万元"``
    with ``digits=1``); missing → ``"—"``."""
    if is_missing(x):
        return MISSING
    v = float(x) / (10_000 if unit == "万元" else 1)
    return f"{v:,.{digits}f} {unit}"


def yuan_texts(x: Any) -> pd.Series:
    """Money as text for a ledger's reasons, vectorised: thousands separators, whole yuan without
    decimals and two decimals when the amount has fen — so 3,217.99 beside a line of 3,218 never
    reads "3,218" (missing → ``"—"``)."""
    v = pd.to_numeric(pd.Series(x, copy=False), errors="coerce").astype("float64")
    fen = (v * 100).round()
    whole = (fen % 100 == 0).to_numpy()
    txt = np.where(whole, v.round(0).map("{:,.0f}".format, na_action="ignore"),
                   (fen / 100).map("{:,.2f}".format, na_action="ignore"))
    return pd.Series(txt, index=v.index, dtype=object).where(v.notna(), MISSING).astype("str")


def json_number(x: Any) -> float | None:
    """A figure for summary.json: a float, ``None`` for a missing, unparseable or non-finite value,
    and ``-0.0`` written as ``0.0``. The report rounds every figure once, when it writes the file."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v + 0.0 if math.isfinite(v) else None
