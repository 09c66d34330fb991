"""Writing the demo county as the national system would export it (the input contract).

* Chinese file stems and headers, taken from :mod:`qjlib.core.schema` (``Column.zh`` and its aliases),
  varied a little: full-width brackets (``乡（镇）``), units (``投资金额（万元）`` with the amount in
  万元), synonyms (``人口编号``, ``特困人员救助供养金``);
* ``.xlsx`` (xlsxwriter, ``constant_memory``) with a merged title line and a blank line above the
  header, ids written as text, dates as Excel dates; one workbook without a title line;
* income as a yearly folder ``收入信息/2014.xlsx … 2019.xlsx``;
* ``走访记录.csv`` in GB18030 and ``帮扶测评.csv`` in UTF-8 with BOM;
* byte-identical for the same county: fixed document properties, rows sorted by key.

:func:`write_package` returns, for each row that carries a planted problem, where the loader will
see it: file (relative), sheet, row number as the user sees it (Excel: 1-based counting the title
and header lines; CSV: the line, header = 1), the problem kind and its treatment.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from qjlib.core import schema
from qjlib.core.pseudonym import DEMO_KEY, KEY_FILE
from qjlib.demo.base import COUNTY, INCOME_YEAR, YEARS

EXCEL_EPOCH = np.datetime64("1899-12-30")
FIXED_CREATED = dt.datetime(2019, 10, 8, 9, 0, 0)


def _h(table: str, col: str, header: str | None = None) -> tuple[str, str]:
    """(canonical column, header): the header must be one of the schema's aliases for the column,
    up to the bracket and unit normalisation the contract promises."""
    c = schema.TABLES[table].column(col)
    return col, header or c.zh


# table -> file (relative), sheet, title (None = header on the first line), columns
LAYOUT: dict[str, dict] = {
    "households": {
        "file": "户信息.xlsx", "sheet": "贫困户信息", "title": f"{COUNTY}建档立卡贫困户信息表",
        "columns": [
            _h("households", "hh_id"), _h("households", "county", "县（市、区、旗）"),
            _h("households", "town", "乡（镇）"), _h("households", "village"),
            _h("households", "hamlet"), _h("households", "head_name"),
            _h("households", "head_id_number"), _h("households", "size"),
            _h("households", "poverty_attr"), _h("households", "exit_status"),
            _h("households", "exit_year"), _h("households", "planned_exit_year"),
            _h("households", "identified_year"), _h("households", "main_cause"),
            _h("households", "phone"), _h("households", "relocated"),
        ],
    },
    "members": {
        "file": "人员信息.xlsx", "sheet": "贫困人口信息", "title": f"{COUNTY}建档立卡贫困人口信息表",
        "columns": [
            _h("members", "person_id", "人口编号"), _h("members", "hh_id"), _h("members", "name"),
            _h("members", "id_number"), _h("members", "relation"), _h("members", "sex"),
            _h("members", "birth_date"), _h("members", "education"),
            _h("members", "school_status"), _h("members", "health"),
            _h("members", "labor_skill"), _h("members", "migrant_months", "务工时间(月)"),
            _h("members", "medical_insured"), _h("members", "critical_illness_insured"),
            _h("members", "dibao", "是否享受低保"),
        ],
    },
    "income": {
        "file": "收入信息/{year}.xlsx", "sheet": "{year}年度收入", "title": f"{COUNTY}贫困户收入信息表（{{year}}年度）",
        "columns": [
            _h("income", "hh_id"), _h("income", "year"), _h("income", "size"),
            _h("income", "wage"), _h("income", "operating"), _h("income", "operating_cost"),
            _h("income", "property"), _h("income", "transfer"),
            _h("income", "family_planning"), _h("income", "dibao_pay"),
            _h("income", "wubao_pay", "特困人员救助供养金"), _h("income", "pension", "养老金或离退休金"),
            _h("income", "eco_comp"), _h("income", "other_transfer"),
            _h("income", "net_income", "纯收入（元）"), _h("income", "net_per_capita", "人均纯收入（元）"),
        ],
    },
    "projects": {
        "file": "产业项目.xlsx", "sheet": "产业项目", "title": f"{COUNTY}扶贫产业项目库（2014—2019年）",
        "columns": [
            _h("projects", "project_id"), _h("projects", "name"), _h("projects", "year", "实施年度"),
            _h("projects", "town", "乡（镇）"), _h("projects", "village"),
            _h("projects", "category"), _h("projects", "industry"), _h("projects", "nature"),
            _h("projects", "entity"), _h("projects", "investment", "投资金额（万元）"),
            _h("projects", "fund_source"), _h("projects", "planned_households"),
            _h("projects", "guaranteed_dividend"), _h("projects", "dividend_due"),
        ],
    },
    "benefits": {
        "file": "项目受益.xlsx", "sheet": "受益户台账", "title": f"{COUNTY}产业扶贫项目受益户台账",
        "columns": [
            _h("benefits", "project_id"), _h("benefits", "hh_id"), _h("benefits", "year"),
            _h("benefits", "benefit_type"), _h("benefits", "amount"),
            _h("benefits", "paid_date", "到账日期"),
        ],
    },
    "helpers": {
        "file": "帮扶责任人.xlsx", "sheet": "帮扶责任人", "title": None,
        "columns": [
            _h("helpers", "helper_id"), _h("helpers", "name"), _h("helpers", "id_number"),
            _h("helpers", "phone"), _h("helpers", "unit", "工作单位"), _h("helpers", "rank"),
            _h("helpers", "team"),
        ],
    },
    "pairings": {
        "file": "结对关系.xlsx", "sheet": "结对关系", "title": f"{COUNTY}结对帮扶关系表",
        "columns": [
            _h("pairings", "helper_id"), _h("pairings", "hh_id"), _h("pairings", "start"),
            _h("pairings", "end"),
        ],
    },
    "visits": {
        "file": "走访记录.csv", "encoding": "gb18030",
        "columns": [
            _h("visits", "helper_id"), _h("visits", "hh_id"), _h("visits", "date"),
            _h("visits", "kind"),
        ],
    },
    "reviews": {
        "file": "帮扶测评.csv", "encoding": "utf-8-sig",
        "columns": [
            _h("reviews", "helper_id"), _h("reviews", "date"), _h("reviews", "source"),
            _h("reviews", "score"), _h("reviews", "hh_id"),
        ],
    },
    # issue #17: the edge households (边缘户), a CSV as the town offices keep them
    "edge_households": {
        "file": "边缘户.csv", "encoding": "utf-8-sig",
        "columns": [
            _h("edge_households", "hh_id"), _h("edge_households", "town", "乡镇"),
            _h("edge_households", "village"), _h("edge_households", "size"),
            _h("edge_households", "net_per_capita"), _h("edge_households", "income_year"),
            _h("edge_households", "groups"),
        ],
    },
    # issue 18 (contract/exit.md): houses and villages as workbooks, water and the sample as CSV
    "housing": {
        "file": "住房安全.xlsx", "sheet": "危房鉴定", "title": f"{COUNTY}农村住房安全鉴定及改造台账",
        "columns": [_h("housing", c) for c in ("hh_id", "assessed", "grade", "works", "rebuild_year",
                                               "completed", "moved_in")],
    },
    "water": {
        "file": "饮水安全.csv", "encoding": "gb18030",
        "columns": [_h("water", c) for c in ("hh_id", "safe", "source", "checked")],
    },
    "villages": {
        "file": "行政村.xlsx", "sheet": "行政村", "title": f"{COUNTY}行政村基本情况",
        "columns": [_h("villages", c.name) for c in schema.TABLES["villages"].columns],
    },
    "assessment": {
        "file": "评估抽样.csv", "encoding": "utf-8-sig",
        "columns": [_h("assessment", c.name) for c in schema.TABLES["assessment"].columns],
    },
    # issue #19, the plan's dated targets: xlsx and CSV mixed, as the departments send them
    "secretary_visits": {
        "file": "三级书记遍访.csv", "encoding": "utf-8-sig",
        "columns": [_h("secretary_visits", c) for c in ("visitor_id", "visitor_name", "level", "post",
                                                         "target_type", "target", "date", "problems")],
    },
    "funds": {
        "file": "扶贫资金.xlsx", "sheet": "资金台账", "title": f"{COUNTY}财政扶贫资金及涉农整合资金台账",
        "columns": [_h("funds", "fund_id"), _h("funds", "year"), _h("funds", "poverty_fund"),
                    _h("funds", "integrated"), _h("funds", "level"), _h("funds", "project_id"),
                    _h("funds", "town", "乡（镇）"), _h("funds", "issued", "下达金额（万元）"),
                    _h("funds", "issued_date")],
    },
    "fund_payments": {
        "file": "资金支出.csv", "encoding": "gb18030",
        "columns": [_h("fund_payments", c) for c in ("fund_id", "date", "amount")],
    },
    "loans": {
        "file": "扶贫小额信贷.xlsx", "sheet": "小额信贷", "title": f"{COUNTY}扶贫小额信贷台账（截至2019年9月30日）",
        "columns": [_h("loans", c) for c in ("loan_id", "hh_id", "id_number", "bank", "amount", "loan_date",
                                             "due_date", "balance", "overdue_since", "repaid_date")],
    },
    "relocation": {
        "file": "易地搬迁.xlsx", "sheet": "搬迁户", "title": None,
        "columns": [_h("relocation", c) for c in ("hh_id", "site", "moved_in", "moved_in_date", "old_house",
                                                  "reclaimed_date")],
    },
}

SORT_KEYS = {
    "households": ["hh_id"], "members": ["hh_id"], "income": ["year", "hh_id"],
    "projects": ["_total", "project_id"], "benefits": ["project_id", "hh_id", "year", "benefit_type"],
    "helpers": ["helper_id"], "pairings": ["hh_id", "start", "helper_id"],
    "visits": ["date", "helper_id", "hh_id"], "reviews": ["date", "helper_id", "source", "hh_id"],
    "edge_households": ["hh_id"],
    "housing": ["hh_id", "assessed", "grade"], "water": ["hh_id"], "villages": ["village_code"],
    "assessment": ["village_code", "hh_id"],
    "secretary_visits": ["date", "visitor_id", "target"], "funds": ["fund_id"],
    "fund_payments": ["date", "fund_id", "amount"], "loans": ["loan_id"], "relocation": ["hh_id"],
}

_EXIT_ZH = {"not_exited": "未脱贫", "exited": "已脱贫", "returned": "返贫"}
_NATURE_ZH = schema.CODE_LABELS_ZH["nature"]


def _as_written(name: str, df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Values as the export shows them (Chinese labels, 万元, a few national codes)."""
    df = df.copy()
    if name == "households":
        zh = df["exit_status"].map(_EXIT_ZH).to_numpy(dtype=object)
        u = rng.random(len(df))
        zh = np.where((zh == "已脱贫") & (u < 0.05), "已脱贫（享受政策）", zh)
        zh = np.where((zh == "已脱贫") & (u > 0.99), "1", zh)  # the national system's code
        df["exit_status"] = zh
    for col in ("poverty_fund", "integrated", "moved_in"):  # issue #19: booleans as 是/否
        if col in df.columns and name in ("funds", "relocation"):
            df[col] = np.where(df[col].astype(bool), "是", "否")
    if name == "secretary_visits":
        df["target_type"] = df["target_type"].map(schema.CODE_LABELS_ZH["target_type"])
    if name == "relocation":
        df["old_house"] = df["old_house"].map(schema.CODE_LABELS_ZH["old_house"])
    if name == "funds":
        df["issued"] = (df["issued"] / 10_000).round(6)
    if name == "projects":
        df["nature"] = df["nature"].map(_NATURE_ZH)
        df["investment"] = (df["investment"] / 10_000).round(2)
    return df


def _excel_serial(s: pd.Series) -> np.ndarray:
    d = s.to_numpy(dtype="datetime64[D]")
    out = (d - EXCEL_EPOCH).astype("timedelta64[D]").astype(np.float64)
    out[np.isnat(d)] = np.nan
    return out


def _write_xlsx(path: Path, sheet: str, title: str | None, headers: list[str], cols: list[list], kinds: list[str]) -> int:
    """Write one workbook; returns the Excel row number (1-based) of the first data row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": title or sheet, "author": "全国扶贫开发信息系统（模拟）",
                       "company": "清涧县扶贫开发办公室（模拟数据）", "created": FIXED_CREATED})
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True, "align": "center"})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    r = 0
    if title:
        ws.merge_range(0, 0, 0, len(headers) - 1, title, bold)
        r = 2  # a blank line between the title and the header
    for c, h in enumerate(headers):
        ws.write_string(r, c, h, bold)
    r += 1
    first = r + 1
    ws.freeze_panes(r, 0)
    ws_s, ws_n = ws.write_string, ws.write_number
    nrow = len(cols[0]) if cols else 0
    for i in range(nrow):
        rr = r + i
        for c, kind in enumerate(kinds):
            v = cols[c][i]
            if v is None or v != v or v == "":
                continue
            if kind == "d":
                ws_n(rr, c, v, datef)
            elif isinstance(v, str):
                ws_s(rr, c, v)
            else:
                ws_n(rr, c, v)
    wb.close()
    return first


def _kind(table: str, col: str) -> str:
    k = schema.TABLES[table].column(col).kind
    return {"date": "d", "money": "n", "int": "n", "year": "n", "float": "n"}.get(k, "s")


def _cell_lists(table: str, df: pd.DataFrame, cols: list[str]) -> tuple[list[list], list[str]]:
    out, kinds = [], []
    for col in cols:
        k = _kind(table, col)
        if col not in df.columns:
            out.append([None] * len(df))
        elif k == "d":
            out.append(_excel_serial(df[col]).tolist())
        elif k == "n":
            s = df[col]
            if s.dtype == object:  # a planted unparseable value stays text
                out.append([x if isinstance(x, str) else (None if x != x else float(x)) for x in s])
            else:
                vals = s.to_numpy(dtype=float)
                out.append([None if x != x else (int(x) if x == int(x) else x) for x in vals.tolist()])
        else:
            s = df[col]
            out.append([None if (x is None or (isinstance(x, float) and x != x)) else
                        (x if isinstance(x, (str, float)) else str(x)) for x in s.tolist()])
        kinds.append(k)
    return out, kinds


def write_package(tables: dict[str, pd.DataFrame], out: Path, rng: np.random.Generator) -> tuple[list[dict], list[dict]]:
    """Write every table into ``out``; return (files written, planted problems with their rows)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written, problems = [], []
    for name, lay in LAYOUT.items():
        df = _as_written(name, tables[name], rng)
        df["_total"] = (df["_q"] == "total_row") if "_q" in df.columns else False
        df = df.sort_values(SORT_KEYS[name], kind="stable").reset_index(drop=True)
        cols = [c for c, _ in lay["columns"]]
        headers = [h for _, h in lay["columns"]]
        parts = [(y, df[df["year"] == y].reset_index(drop=True)) for y in YEARS] if name == "income" else [(None, df)]
        for year, part in parts:
            rel = lay["file"].format(year=year)
            path = out / rel
            if rel.endswith(".csv"):
                first = _write_csv(name, path, part, cols, headers, lay["encoding"])
                sheet = None
            else:
                sheet = lay["sheet"].format(year=year)
                title = lay["title"].format(year=year) if lay["title"] else None
                cells, kinds = _cell_lists(name, part, cols)
                first = _write_xlsx(path, sheet, title, headers, cells, kinds)
            written.append({"table": name, "file": rel, "rows": len(part)})
            if "_q" in part.columns:
                q, qt, qc = (part[c].to_numpy() for c in ("_q", "_qtype", "_qcol"))
                for i in np.flatnonzero(q != ""):
                    problems.append({"table": name, "file": rel, "sheet": sheet, "row": int(first + i),
                                     "index": int(i), "kind": q[i], "treatment": qt[i], "column": qc[i],
                                     "frame": part})
    if "welfare" in tables:
        w2, p2 = write_departments(tables, out)
        written += w2
        problems += p2
    return written, problems


# issue #16: the departments' rolls, as the departments send them — xlsx with title lines, GB18030
# and BOM CSVs, and the hospital settlements as one file per town (住院报销/<town>.xlsx).
DEPT_LAYOUT: dict[str, dict] = {
    "welfare": {"file": "低保特困名册.xlsx", "title": f"{COUNTY}农村低保、特困供养人员名册"},
    "disability": {"file": "残疾人名册.csv", "encoding": "gb18030"},
    "insurance": {"file": "医保参保.xlsx", "title": f"{COUNTY}城乡居民医保参保名单"},
    "hospital": {"file": "住院报销/{town}.xlsx", "title": f"{COUNTY}{{town}}住院费用报销结算"},
    "enrollment": {"file": "学籍.csv", "encoding": "utf-8-sig"},
    "student_aid": {"file": "学生资助.xlsx", "title": None},
    "posts": {"file": "生态护林员.xlsx", "title": f"{COUNTY}生态护林员及公益岗位人员花名册"},
    "deaths": {"file": "死亡人员.csv", "encoding": "gb18030"},
}
DEPT_SORT = {"welfare": ["id_number", "start"], "disability": ["id_number"],
             "insurance": ["id_number", "year"], "hospital": ["id_number", "admitted"],
             "enrollment": ["id_number", "term"], "student_aid": ["id_number", "term"],
             "posts": ["post_id", "start"], "deaths": ["id_number", "death_date"]}


def write_departments(tables: dict[str, pd.DataFrame], out: Path) -> tuple[list[dict], list[dict]]:
    """Write the department rolls; each table's frame gains ``_file``/``_row`` (where the loader
    sees the row). Returns (files written, planted problems) as :func:`write_package` does. The
    demo county's fixed pseudonymisation key goes beside them as its ``.qj-key`` (contract: "the
    demo county ships its own fixed demo key"), so the ``person_key`` of its outsiders are filled and reproducible."""
    written, problems = [], []
    (out / KEY_FILE).write_text(DEMO_KEY + "\n", encoding="utf-8")
    for name, lay in DEPT_LAYOUT.items():
        df = tables[name].sort_values(DEPT_SORT[name], kind="stable").reset_index(drop=True)
        t = schema.TABLES[name]
        cols = [c.name for c in t.columns if c.name in df.columns]
        headers = [t.column(c).zh for c in cols]
        for c in cols:
            if t.column(c).kind == "date":
                df[c] = pd.to_datetime(df[c])
        if name == "hospital":
            town = df["town"].fillna("其他").astype(str)
            parts = [(tw, df[town == tw]) for tw in sorted(town.unique())]
        else:
            parts = [(None, df)]
        df["_file"], df["_row"] = "", 0
        for tw, part in parts:
            rel = lay["file"].format(town=tw)
            if rel.endswith(".csv"):
                first = _write_csv(name, out / rel, part, cols, headers, lay["encoding"])
                sheet = None
            else:
                sheet = "Sheet1"
                title = lay["title"].format(town=tw) if lay["title"] else None
                cells, kinds = _cell_lists(name, part.reset_index(drop=True), cols)
                first = _write_xlsx(out / rel, sheet, title, headers, cells, kinds)
            df.loc[part.index, "_file"] = rel
            df.loc[part.index, "_row"] = first + np.arange(len(part))
            written.append({"table": name, "file": rel, "rows": len(part)})
        tables[name] = df
        for i in np.flatnonzero(df["_q"].to_numpy() != ""):
            problems.append({"table": name, "file": df.loc[i, "_file"], "sheet": None if
                             df.loc[i, "_file"].endswith(".csv") else "Sheet1",
                             "row": int(df.loc[i, "_row"]), "index": int(i), "kind": df.loc[i, "_q"],
                             "treatment": df.loc[i, "_qtype"], "column": df.loc[i, "_qcol"], "frame": df})
    return written, problems


def _write_csv(table: str, path: Path, df: pd.DataFrame, cols: list[str], headers: list[str], encoding: str) -> int:
    w = pd.DataFrame({h: df[c] if c in df.columns else "" for c, h in zip(cols, headers, strict=True)})
    for c, h in zip(cols, headers, strict=True):
        if _kind(table, c) == "d":
            w[h] = pd.to_datetime(df[c]).dt.strftime("%Y-%m-%d")
        elif c == "score":
            w[h] = df[c].astype(int).astype(str)
    w.to_csv(path, index=False, encoding=encoding, lineterminator="\r\n")
    return 2


__all__ = ["LAYOUT", "write_package", "INCOME_YEAR"]
