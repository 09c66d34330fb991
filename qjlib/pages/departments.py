"""What notebook 50 (the register against the departments' rolls, plan R4, R13, R16–R18) shows:
key figures, the reading (Chinese prose), matched and unmatched rows per department, the rules'
counts by department and town as a heat-map table, the health targets against the plan's, drop-outs
and student aid, rangers and posts, and where each list is.

Every figure comes from :mod:`qjlib.analyses.departments` (and its ``health``/``education``
summaries); nothing here computes a metric of its own.
"""

from __future__ import annotations

import html

import pandas as pd

from qjlib.analyses.departments import DEPT_TABLES, RULES, DepartmentsAnalysis
from qjlib.core import schema
from qjlib.core.fmt import MISSING, fmt_int, fmt_pct
from qjlib.core.ledgers import LedgerSpec

TABLE_ZH: dict[str, str] = {t: schema.TABLES[t].zh for t in DEPT_TABLES}
"""Department tables' Chinese names."""

LEDGER_VIEW: list[str] = ["rule_zh", "person_id", "person_key", "post_id", "name", "id_number", "town",
                          "file", "row", "detail"]
"""The ledger's columns a notebook shows (the full row, with department, household and village,
is in ``ledgers.xlsx``): few enough that the 比对依据 column keeps its width on a page."""


def target_pct(x: float) -> str:
    """A rate whose target is 100 %: one decimal, but two when one would round a shortfall up to
    ``100.0%`` (99.98 % is not the target met)."""
    shown = fmt_pct(x)
    return fmt_pct(x, 2) if shown == "100.0%" and float(x) < 1 else shown


def key_figures(sd: dict, sh: dict, se: dict) -> dict[str, object]:
    """The opening figures from the ``departments``, ``health`` and ``education`` summaries."""
    if not sd.get("available"):
        return {"部门名册 department rolls": 0, "开启的规则 rules on": 0, "未开展的规则 rules off": len(RULES)}
    rows = sum(sd["rules"].values())
    out: dict[str, object] = {
        "比对不一致 mismatches": (rows, f"{len(sd['rules'])} 条规则开启，{len(sd['rules_off'])} 条关闭"),
        "匹配到档案的部门记录 matched rows": sum(sd["matched"].values()),
        "未匹配的部门记录 unmatched rows": sum(sd["unmatched"].values()),
    }
    if sh.get("insured_rate") is not None:
        out["参合率 insured"] = (target_pct(sh["insured_rate"]), f"{fmt_int(sh['insured'])}/{fmt_int(sh['persons'])}")
    if sh.get("reimbursement_ratio") is not None:
        out["实际补助比例 reimbursed"] = (fmt_pct(sh["reimbursement_ratio"]), "目标 ≥ 90%")
    if "dropouts" in se:
        out["辍学 drop-outs"] = (se["dropouts"], f"适龄 {fmt_int(se['school_age'])} 人")
    return out


def reading(sd: dict, sh: dict, se: dict, scope_name: str) -> str:
    """A one-paragraph reading of the summaries in Chinese."""
    if not sd.get("available"):
        return f"{scope_name}：{sd.get('reason', '无部门数据')}，本篇比对未开展。"
    counts = {k: v for k, v in sd["rules"].items() if v}
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    parts = [f"{scope_name}截至 {sd['as_of']}，{len(sd['matched'])} 个部门名册与建档立卡档案按身份证号比对，"
             f"共发现 {fmt_int(sum(counts.values()))} 条不一致"]
    if top:
        parts.append("，最多的是" + "、".join(f"{RULES[k][0]}（{fmt_int(v)} 条）" for k, v in top))
    text = "".join(parts) + "。"
    if sh.get("insured_rate") is not None:
        text += (f"参合率 {target_pct(sh['insured_rate'])}、大病保险覆盖率 "
                 f"{target_pct(sh['critical_rate']) if sh.get('critical_rate') is not None else MISSING}"
                 f"（目标均为 100%）")
    if sh.get("reimbursement_ratio") is not None:
        text += f"，住院费用实际补助比例 {fmt_pct(sh['reimbursement_ratio'])}（目标 ≥ 90%）"
    if sh.get("available"):
        text += "。"
    if "dropouts" in se:
        text += (f"义务教育适龄人口 {fmt_int(se['school_age'])} 人中，辍学 {fmt_int(se['dropouts'])} 人，"
                 f"学籍未找到 {fmt_int(se['not_found'])} 人（可能在县外就读，须逐一核实）。")
    if sd["rules_off"]:
        text += f"缺少相应部门数据的 {len(sd['rules_off'])} 条规则未开展（见文末），不能视为没有问题。"
    return text


def standard_line(sd: dict) -> str:
    """The notebook's line when the county has not set its own 低保 standard (``""`` when it has):
    应保未保 is then measured against the year's poverty line, only a floor under "两线合一"."""
    if sd.get("dibao_standard_set", True):
        return ""
    v = sd.get("dibao_standard")
    value = MISSING if v is None else fmt_int(v)
    return (f"> **提示**：县未设定本县农村低保标准（参数 `dept.dibao_standard`），应保未保暂按 "
            f"{sd.get('income_year', '')} 年扶贫标准 {value} 元/人·年测算——这只是“两线合一”的下限，"
            "本县标准更高时应保未保会更多。请在参数文件中设定本县标准。")


def match_table(sd: dict) -> pd.DataFrame:
    """One row per department table present: rows matched to a registered person, unmatched."""
    rows = [{"部门名册": TABLE_ZH[t], "匹配到档案": sd["matched"][t], "未匹配": sd["unmatched"][t]}
            for t in DEPT_TABLES if t in sd.get("matched", {})]
    return pd.DataFrame(rows, columns=["部门名册", "匹配到档案", "未匹配"])


def rule_heatmap(ledger: pd.DataFrame, sd: dict, area: str = "town") -> pd.DataFrame:
    """Rules (rows: 部门 · 规则) × areas (columns: towns or villages, then 合计): rows of
    ``dept_mismatch``; switched-off rules show as blank."""
    on = [k for k in RULES if k in sd.get("rules", {})]
    led = ledger.assign(_area=ledger[area].fillna("（未知）"))
    t = pd.crosstab(led["rule"], led["_area"]).reindex(on, fill_value=0)
    t["合计"] = t.sum(axis=1)
    idx = [f"{RULES[k][1]} · {RULES[k][0]}" for k in t.index]
    t.index = pd.Index(idx, name="部门 · 规则")
    t.columns.name = None
    return t.astype("int64")


def heatmap_html(table: pd.DataFrame) -> str:
    """A deterministic HTML heat-map table: each count's cell shaded by its share of the largest
    count outside the 合计 column (0 white → largest dark red)."""
    body = table.drop(columns=["合计"], errors="ignore")
    top = int(body.to_numpy().max()) if body.size else 0
    head = "".join(f'<th style="padding:2px 6px;text-align:right">{html.escape(str(c))}</th>'
                   for c in table.columns)
    rows = []
    for label, vals in zip(table.index, table.to_numpy(), strict=True):
        cells = []
        for c, v in zip(table.columns, vals, strict=True):
            a = 0.0 if c == "合计" or top == 0 else 0.85 * v / top
            rgb = (round(255 - a * 55), round(255 - a * 225), round(255 - a * 225))
            css = (f"padding:2px 6px;text-align:right;background-color:#{rgb[0]:02x}{rgb[1]:02x}"
                   f"{rgb[2]:02x};color:{'#000' if a < 0.5 else '#fff'}")
            cells.append(f'<td style="{css}">{"" if v == 0 else f"{v:,}"}</td>')
        rows.append(f'<tr><th style="padding:2px 6px;text-align:left;white-space:nowrap">'
                    f"{html.escape(str(label))}</th>{''.join(cells)}</tr>")
    return ('<table class="qj-table" style="border-collapse:collapse;font-size:90%"><thead><tr>'
            f'<th style="padding:2px 6px;text-align:left">{html.escape(str(table.index.name or ""))}</th>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def show_heatmap(table: pd.DataFrame) -> None:
    """Show :func:`heatmap_html` in the notebook."""
    from IPython.display import HTML, display

    display(HTML(heatmap_html(table)))


def health_targets(sh: dict) -> pd.DataFrame:
    """The plan's health targets against the scope's figures (numerator / denominator beside)."""
    rows = []
    for key, name, num, den, target in (
        ("insured_rate", "参合率（基本医疗保险）", "insured", "persons", 1.0),
        ("critical_rate", "大病保险覆盖率", "critical", "persons", 1.0),
        ("family_doctor_rate", "家庭医生签约率", "family_doctor", "persons", None),
        ("reimbursement_ratio", "住院费用实际补助比例", "reimbursed", "eligible_cost",
         sh.get("reimbursement_target")),
    ):
        if sh.get(key) is None:
            continue
        met = None if target is None else ("达标" if sh[key] >= target else "未达标")
        money = key == "reimbursement_ratio"
        num_t, den_t = ((f"{sh[num]:,.2f} 元", f"{sh[den]:,.2f} 元") if money
                        else (f"{fmt_int(sh[num])} 人", f"{fmt_int(sh[den])} 人"))
        rows.append({"指标": name, "实际": fmt_pct(sh[key], 2), "分子": num_t, "分母": den_t,
                     "目标": MISSING if target is None else f"≥ {fmt_pct(target)}",
                     "是否达标": met or MISSING})
    return pd.DataFrame(rows, columns=["指标", "实际", "分子", "分母", "目标", "是否达标"])


def rule_rows(ledger: pd.DataFrame, rules: tuple[str, ...]) -> pd.DataFrame:
    """The ledger's rows of ``rules`` in the notebook's view columns."""
    sub = ledger[ledger["rule"].isin(rules)]
    return sub[[c for c in LEDGER_VIEW if sub[c].notna().any()] or LEDGER_VIEW[:1]]


def rules_off_table(sd: dict) -> pd.DataFrame:
    """The switched-off rules and why (missing table or column)."""
    rows = [{"部门": RULES[k][1], "规则": RULES[k][0], "未开展原因": why}
            for k, why in sd.get("rules_off", {}).items()]
    return pd.DataFrame(rows, columns=["部门", "规则", "未开展原因"])


def ledger_columns_zh(spec: LedgerSpec) -> dict[str, str]:
    """Chinese headers of the ledger's view (the spec's overrides)."""
    return dict(spec.columns_zh)


def school_table(res: DepartmentsAnalysis | None, se: dict) -> pd.DataFrame:
    """Education figures: persons of school age, drop-outs, not found, aid rules' rows."""
    if res is None or not se.get("available"):
        return pd.DataFrame(columns=["项目", "人数/条数"])
    names = {"school_age": "义务教育适龄人口", "dropouts": "辍学", "not_found": "学籍未找到",
             "aid_repeat": "重复资助", "aid_multi_channel": "多头资助"}
    return pd.DataFrame([{"项目": z, "人数/条数": se[k]} for k, z in names.items() if k in se])
