"""Data quality: what the loader read, kept and rejected, and the problems it found (R4).

The loader (:mod:`qjlib.io.load`) accounts for every row (``pkg.accounting``: read = kept +
rejected, per table and file), lists the rows it could not use (``pkg.rejects``) and the problems
in rows it kept (``pkg.findings``), each with a stable ``kind`` code and a Chinese reason. This
module turns them into the ``rejects`` and ``findings`` ledgers and the summary figures (what
the notebook shows of them is in :mod:`qjlib.pages.quality`).

Ledger columns: those of ``pkg.rejects`` / ``pkg.findings`` (:data:`qjlib.io.issues.REJECT_COLUMNS`,
:data:`~qjlib.io.issues.FINDING_COLUMNS`), the ledger's key first, ``reason_zh`` named ``reason``.

Definitions (all counts of ledger rows, for the run's scope):

- ``rows.read`` / ``rows.kept`` / ``rows.rejected``: sums of ``pkg.accounting`` over every table
  and file (the whole package; a town's report shows the county's accounting);
- ``rejects`` / ``findings``: rows of the two ledgers; a town's are those whose household is in
  the town (``pkg.restrict_to_town``); ``rejects_no_town``: rejects whose town is unknown (e.g.
  a blank 户编号), which appear only in the county's figures;
- ``rejects_by_kind`` / ``findings_by_kind`` / ``…_by_table``: the same counts per code / table;
- ``findings_households``: distinct households (``hh_id``-keyed tables) with at least one finding.

Besides the loader's findings, the ``findings`` ledger holds one finding the loader cannot make,
because it needs the run's income year: every income row of the income year whose net income is
≤ 0 (in whole fen, :mod:`qjlib.core.exact`) — kind ``net_income_nonpositive``. Such a household
has no income shares and is in neither share ledger (outputs contract), so the town hears of it
here.
"""

from __future__ import annotations

import pandas as pd

from qjlib.core import exact, schema
from qjlib.core.context import Context, per_context
from qjlib.core.ledgers import LedgerSpec
from qjlib.io import issues

NAME = "quality"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {}  # nothing saved for the notebooks
# `kind` is a problem's code here, not the visit type the schema's `kind` column is.
_KIND_ZH = {"kind": "问题类型"}
LEDGERS: dict[str, LedgerSpec] = {
    "rejects": LedgerSpec(
        "rejects", "无法使用的输入行（已剔除）", ("file", "row"), dict(_KIND_ZH), "R4",
    ),
    "findings": LedgerSpec(
        "findings", "数据质量问题（行已保留）", ("table", "key"), dict(_KIND_ZH), "R4",
    ),
}
NO_TOWN = "（乡镇不详）"


def _ledger_columns(columns: list[str], key: tuple[str, ...]) -> list[str]:
    """A ledger's columns: its ``key`` first, then the loader's ``columns`` in their order,
    ``reason_zh`` named ``reason``."""
    rest = [c for c in columns if c not in key]
    return ["reason" if c == "reason_zh" else c for c in (*key, *rest)]


REJECT_LEDGER_COLUMNS = _ledger_columns(issues.REJECT_COLUMNS, LEDGERS["rejects"].key)
FINDING_LEDGER_COLUMNS = _ledger_columns(issues.FINDING_COLUMNS, LEDGERS["findings"].key)


def _ledger(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``df`` with ``reason_zh`` named ``reason``, as ``columns`` (a missing one all-NA)."""
    out = df.rename(columns={"reason_zh": "reason"})
    for c in columns:
        if c not in out.columns:
            out[c] = pd.Series(pd.NA, index=out.index, dtype="str")
    return out[columns].reset_index(drop=True)


def rejects_ledger(rejects: pd.DataFrame) -> pd.DataFrame:
    """The ``rejects`` ledger: one row per rejected input row (file, Excel row number), with the
    first problem that rejected it, its Chinese and English reason, and town/village if known."""
    return _ledger(rejects, REJECT_LEDGER_COLUMNS)


def findings_ledger(findings: pd.DataFrame) -> pd.DataFrame:
    """The ``findings`` ledger: one row per problem in a kept row (table, key of the row)."""
    return _ledger(findings, FINDING_LEDGER_COLUMNS)


def nonpositive_income(income: pd.DataFrame, households: pd.DataFrame, year: int,
                       accounting: pd.DataFrame) -> pd.DataFrame:
    """Findings (columns of ``pkg.findings``) for the income rows of ``year`` with net income
    ≤ 0 yuan (``fen(net_income) ≤ 0``): where the row is (file, sheet, row), its key, the value,
    the household's town and village."""
    rows = income[income["year"].eq(year).fillna(False).to_numpy()
                  & (exact.fen(income["net_income"]) <= 0)]
    places = households.drop_duplicates("hh_id").set_index("hh_id")[["town", "village"]]
    sheets = accounting.loc[accounting["table"].eq("income")].drop_duplicates("file").set_index(
        "file")["sheet"]
    out = pd.DataFrame({
        "table": "income",
        "file": rows["_file"].to_numpy(),
        "sheet": rows["_file"].map(sheets).to_numpy(),
        "row": rows["_row"].to_numpy(),
        "key": issues.key_text(rows, schema.TABLES["income"].key).to_numpy(),
        "column": "net_income",
        "value": rows["net_income"].map("{:.2f}".format).to_numpy(),
        "kind": "net_income_nonpositive",
        "reason_zh": f"{year} 年纯收入为零或负：没有收入占比，不列入收入结构台账，请核实（经营支出是否大于收入，或录入错误）",
        "reason_en": f"net income ≤ 0 in {year}: no income shares, in neither share ledger; check it",
        "town": rows["hh_id"].map(places["town"]).to_numpy(),
        "village": rows["hh_id"].map(places["village"]).to_numpy(),
    }, columns=issues.FINDING_COLUMNS)
    return out.astype({c: "str" for c in issues.FINDING_COLUMNS if c != "row"})


@per_context
def findings(ctx: Context) -> pd.DataFrame:
    """The run's findings: the loader's (``pkg.findings``) and :func:`nonpositive_income` of the
    income year."""
    pkg = ctx.pkg
    if not pkg.has("income"):
        return pkg.findings
    extra = nonpositive_income(pkg["income"], pkg["households"], ctx.income_year, pkg.accounting)
    if not len(extra):
        return pkg.findings
    return pd.concat([pkg.findings, extra.astype(pkg.findings.dtypes.to_dict())],
                     ignore_index=True)


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """The ``rejects`` and ``findings`` ledgers of the context's package."""
    return {"rejects": rejects_ledger(ctx.pkg.rejects), "findings": findings_ledger(findings(ctx))}


def counts(df: pd.DataFrame, by: str) -> dict[str, int]:
    """Rows per value of ``by`` (missing → :data:`NO_TOWN` for towns/villages, else ``""``),
    as a dict sorted by key."""
    s = df[by].astype("str").fillna(NO_TOWN if by in ("town", "village") else "")
    return {str(k): int(v) for k, v in s.value_counts(sort=False).sort_index().items()}


def summary(ctx: Context) -> dict:
    """Summary figures (module docstring). County scope adds the package accounting."""
    pkg = ctx.pkg
    rej, fin = pkg.rejects, findings(ctx)
    out: dict = {
        "available": True,
        "households": int(len(pkg["households"])),
        "rejects": int(len(rej)),
        "findings": int(len(fin)),
        "rejects_by_kind": counts(rej, "kind"),
        "findings_by_kind": counts(fin, "kind"),
        "rejects_by_table": counts(rej, "table"),
        "findings_by_table": counts(fin, "table"),
        "findings_households": finding_households(fin, pkg["households"]),
    }
    if ctx.scope is None:
        acc = pkg.accounting
        out["rows"] = {k: int(acc[k].sum()) for k in ("read", "kept", "rejected")}
        out["files"] = int(acc["file"].nunique())
        out["tables"] = sorted(pkg.tables)
        out["rejects_no_town"] = int(rej["town"].isna().sum())
        out["notes"] = len(pkg.notes)
    return out


def finding_households(findings: pd.DataFrame, households: pd.DataFrame) -> int:
    """Distinct households with at least one finding: the ``hh_id=…`` part of the finding's key
    (the loader writes keys as ``hh_id=H001,year=2017``), counted only when it is a household of
    ``households`` (so a member-keyed or malformed key cannot invent households)."""
    if not len(findings):
        return 0
    hh = findings["key"].astype("str").str.extract(r"(?:^|,)hh_id=([^,]*)", expand=False)
    return int(hh[hh.isin(households["hh_id"])].nunique())
