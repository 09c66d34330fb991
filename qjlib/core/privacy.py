"""Personal information (PIPL): masking names, ID numbers, phone and bank-card numbers.

Reports and ledgers are masked by default; full values appear only when the user asks for them
(``qj report --pii full``, recorded in the manifest). The household id ``hh_id`` is not personal
information and stays, so a town can act on a ledger.

Masking rules (characters, not bytes; the masked text keeps the length of the original):

=========  ===========================================  ==========================================
kind       rule                                         example
=========  ===========================================  ==========================================
``name``   keep the first and the last character;       ``张三明`` → ``张*明``, ``欧阳小明`` →
           two characters keep the first; one → ``*``   ``欧**明``, ``张三`` → ``张*``
``id``     keep the first 6 (the region) and the        ``610830199001011234`` →
           last 4; 10 characters or fewer: all ``*``    ``610830********1234``
``phone``  keep the first 3 and the last 4; 7 or        ``13812345678`` → ``138****5678``
           fewer: all ``*``
``bank``   keep the first 4 and the last 4; 8 or        ``6222021234567890123`` →
           fewer: all ``*``                             ``6222***********0123``
=========  ===========================================  ==========================================

Which columns are personal: every column flagged ``pii`` in :mod:`qjlib.schema` (by its canonical
name and its Chinese aliases), plus ledger columns named like ``*_name`` (except names of places,
projects and organisations), ``*id_number``, ``*phone``, ``*bank*``/``*card*``. In the
``rejects``/``findings`` ledgers the ``value`` cell is masked where its ``column`` is personal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from qjlib.core import schema
from qjlib.core.errors import QjError

PII_MODES = ("masked", "full")
KINDS = ("name", "id", "phone", "bank")

# (head, tail) characters kept as a function of the length of the text.
_RULES: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "name": lambda n: (np.where(n >= 2, 1, 0), np.where(n >= 3, 1, 0)),
    "id": lambda n: (np.where(n > 10, 6, 0), np.where(n > 10, 4, 0)),
    "phone": lambda n: (np.where(n > 7, 3, 0), np.where(n > 7, 4, 0)),
    "bank": lambda n: (np.where(n > 8, 4, 0), np.where(n > 8, 4, 0)),
}

# ``*_name`` columns that name places, projects or organisations, not people.
NOT_PERSONAL_PREFIXES = (
    "project", "town", "village", "hamlet", "county", "unit", "entity", "file", "sheet", "scope",
    "category", "industry", "team", "fund", "table", "column", "ledger", "kind",
)


def _mask_one(text: str, kind: str) -> str:
    n = len(text)
    heads, tails = _RULES[kind](np.array([n]))
    head, tail = int(heads[0]), int(tails[0])
    return text[:head] + "*" * (n - head - tail) + text[n - tail:]


def mask_name(name: str) -> str:
    """``"张三明"`` → ``"张*明"``; ``"张三"`` → ``"张*"``; ``"欧阳小明"`` → ``"欧**明"``."""
    return _mask_one(str(name), "name")


def mask_id(id_number: str) -> str:
    """``"610830199001011234"`` → ``"610830********1234"`` (region and last four kept)."""
    return _mask_one(str(id_number), "id")


def mask_phone(phone: str) -> str:
    """``"13812345678"`` → ``"138****5678"``."""
    return _mask_one(str(phone), "phone")


def mask_bank(card: str) -> str:
    """Bank card or account number: the first 4 and the last 4 characters kept."""
    return _mask_one(str(card), "bank")


def mask_series(values: pd.Series, kind: str) -> pd.Series:
    """Mask every non-missing value of ``values`` by ``kind`` (vectorised: one pass per distinct
    (head, tail) pair, not per row). Missing values stay missing; the result is ``str`` dtype."""
    if kind not in _RULES:
        raise ValueError(f"unknown PII kind {kind!r}; one of {KINDS}")
    present = values.notna()
    out = pd.Series(pd.NA, index=values.index, dtype="str")
    if not present.any():
        return out
    s = values[present].astype("str")
    n = s.str.len().to_numpy(dtype=np.int64)
    head, tail = _RULES[kind](n)
    stars = pd.Series("*", index=s.index, dtype="str").str.repeat(list(n - head - tail))
    masked = pd.Series("", index=s.index, dtype="str")
    for h, t in sorted(set(zip(head.tolist(), tail.tolist(), strict=True))):
        m = (head == h) & (tail == t)
        part = s[m]
        masked[m] = part.str.slice(0, h) + stars[m] + (part.str.slice(-t) if t else "")
    out[present] = masked
    return out


def _schema_kind(col: schema.Column) -> str:
    if col.kind == "idnum":
        return "id"
    if "phone" in col.name:
        return "phone"
    if "bank" in col.name or "card" in col.name:
        return "bank"
    return "name"


# (table, column or Chinese alias) -> kind, for every PII column of the schema; and the same by
# column name alone (a column that is personal in any table).
_TABLE_PII: dict[tuple[str, str], str] = {}
_NAME_PII: dict[str, str] = {}
for _t in schema.TABLES.values():
    for _c in _t.columns:
        if _c.pii:
            for _label in (_c.name, *_c.aliases):
                _TABLE_PII[(_t.name, _label)] = _schema_kind(_c)
                _NAME_PII[_label] = _schema_kind(_c)


def pii_kind(column: str, table: str | None = None, label: str | None = None) -> str | None:
    """The PII kind of a column name (canonical or Chinese), or None when it is not personal.

    With ``table`` given and known to :mod:`qjlib.schema`, the schema decides (``name`` is personal
    in ``members`` and ``helpers``, not in ``projects``); otherwise the name rules of this module.
    A ledger's Chinese ``label`` for the column that names a thing, not a person (``项目名称``,
    ``单位名称``: ends with 名称 and has no 姓名), makes a ``name`` column not personal.
    """
    column = str(column)
    if label is not None and label.endswith("名称") and "姓名" not in label:
        return None
    if table in schema.TABLES:
        t = schema.TABLES[table]
        if any(column in (c.name, *c.aliases) for c in t.columns):
            return _TABLE_PII.get((table, column))
    if column in _NAME_PII:
        return _NAME_PII[column]
    low = column.lower()
    if low.endswith("id_number") or "身份证" in column or "证件号码" in column:
        return "id"
    if "phone" in low or "电话" in column or "手机" in column:
        return "phone"
    if "bank" in low or "card" in low or "银行" in column or "卡号" in column:
        return "bank"
    if low == "name" or "姓名" in column or (
        low.endswith("_name") and not low.startswith(NOT_PERSONAL_PREFIXES)
    ):
        return "name"
    return None


def check_pii_mode(pii: str) -> str:
    """``pii`` if it is ``masked`` or ``full``; anything else is an error."""
    if pii not in PII_MODES:
        raise QjError(f"个人信息模式应为 masked 或 full，得到 {pii!r} / pii must be masked or full")
    return pii


def mask_frame(
    df: pd.DataFrame,
    pii: str = "masked",
    extra: Mapping[str, str] | None = None,
    table: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A copy of ``df`` with every personal column masked (``pii="full"``: unchanged copy).

    ``extra`` maps further column names to a kind (``LedgerSpec.pii``); ``table`` names the schema
    table the frame comes from, if any; ``labels`` are the Chinese headers (``LedgerSpec.columns_zh``). When the frame has ``column`` and ``value`` columns (the
    rejects and findings ledgers), each ``value`` is masked by the kind of its ``column`` (and of
    its ``table`` when that column is present).
    """
    check_pii_mode(pii)
    out = df.copy()
    if pii == "full":
        return out
    extra, labels = dict(extra or {}), dict(labels or {})
    for col in out.columns:
        kind = extra.get(col) or pii_kind(col, table, labels.get(col))
        if kind is not None and col != "value":
            out[col] = mask_series(out[col], kind)
    if {"column", "value"} <= set(out.columns) and len(out):
        cols = out["column"].astype("str")
        tables = out["table"].astype("str") if "table" in out.columns else None
        pairs = pd.DataFrame({"t": tables if tables is not None else "", "c": cols})
        uniq = pairs.drop_duplicates()
        uniq_kind = [pii_kind(c, t or None) for t, c in zip(uniq["t"], uniq["c"], strict=True)]
        kinds = pairs.merge(
            uniq.assign(kind=pd.Series(uniq_kind, index=uniq.index, dtype="object")),
            on=["t", "c"], how="left",
        )["kind"].to_numpy()
        value = out["value"].astype("str").where(out["value"].notna())
        for kind in KINDS:
            m = kinds == kind
            if m.any():
                value[m] = mask_series(value[m], kind)
        out["value"] = value
    return out
