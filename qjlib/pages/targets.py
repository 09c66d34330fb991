"""What notebook 80 (the plan's dated targets, the two-weekly dispatch sheet) shows: the dispatch
sheet (one line per target, red / amber / green, sized to be read across a meeting room and to
print on one A4 landscape page), the key figures, the reading, and per family its ledger and a
chart of progress against the checkpoints over the year.

Every figure comes from :mod:`qjlib.analyses.targets` (``evaluation``, ``progress``, ``summary``);
nothing here computes a metric of its own.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from qjlib.core.fmt import MISSING, fmt_int, fmt_pct
from qjlib.core.schema import TABLES
from qjlib.pages import plotting

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

FAMILY_ZH = {"visits": "三级书记遍访", "funds": "资金支出进度", "loans": "扶贫小额信贷",
             "housing": "危房改造", "relocation": "易地扶贫搬迁", "health": "健康扶贫", "posts": "公益岗位"}
TARGET_ZH = {
    "visits.exit_households": "计划脱贫户遍访", "visits.exit_villages": "计划退出村遍访",
    "visits.edge_households": "非贫边缘户遍访", "funds.poverty": "财政专项扶贫资金支出",
    "funds.integrated": "涉农整合资金支出", "funds.previous_year": "上年度资金支付",
    "loans.overdue_rate": "小额信贷逾期率", "loans.overdue_cleared": "逾期贷款清零",
    "housing.rebuilt": "危房改造竣工", "housing.moved_in": "危房改造入住",
    "relocation.moved_in": "搬迁户实际入住", "relocation.reclaimed": "旧宅腾退复垦",
    "health.insured_rate": "参合率", "health.critical_rate": "大病保险覆盖率",
    "health.reimbursement_ratio": "住院费用实际补助比例", "health.family_doctor_rate": "家庭医生签约覆盖率",
    "posts.special": "就业扶贫公益特岗", "posts.institutional": "机关事业单位公益专岗",
}
LEDGERS_BY_FAMILY = {"visits": ("visit_missing", "visit_monthly"), "funds": ("funds_behind",),
                     "loans": ("loan_overdue", "loan_ineligible"),
                     "housing": ("housing_behind",), "relocation": ("relocation_behind", "relocation_mismatch")}
OTHER_TABLES_ZH = {"villages": "行政村表", "edge_households": "边缘户表", "housing": "住房安全表",
                   "posts": "公益岗位表"}
"""Chinese names of the other contracts' tables, until their schemas are merged."""
RAG = {"green": ("#1a7f37", "达标"), "red": ("#c62828", "未达标"), "amber": ("#e69f00", "未到期"),
       "grey": ("#9e9e9e", "无法衡量")}


def rag(e: dict) -> str:
    """The traffic light of a target: green when met (or, before its first checkpoint, already at
    the next step), red when not met, amber when its next step is due and not yet reached, grey
    when not measurable."""
    if e["status"] == "met":
        return "green"
    if e["status"] == "not_met":
        return "red"
    if e["status"] == "not_measurable" or e["value"] is None:
        return "grey"
    at_least = e["direction"] == "at_least"
    ok = e["value"] >= e["threshold"] if at_least else e["value"] <= e["threshold"]
    return "green" if ok else "amber"


def value_text(e: dict, v: float | None) -> str:
    """A target's value as the sheet shows it (a share, or a count of loans / persons)."""
    if v is None:
        return MISSING
    if e["unit"] != "ratio":
        return fmt_int(v)
    t = e["threshold"]
    short = v < t if e["direction"] == "at_least" else v > t
    if short and fmt_pct(v, 1) == fmt_pct(t, 1):  # 99.99…% is not 100 %: never print it so
        return ("<" if e["direction"] == "at_least" else ">") + fmt_pct(t, 1)
    return fmt_pct(v, 1)


def _threshold_text(e: dict) -> str:
    op = "≥" if e["direction"] == "at_least" else "≤"
    t = e["threshold"]
    return f"{op} {fmt_pct(t, 0) if e['unit'] == 'ratio' else fmt_int(t)}"


def _date_text(e: dict) -> str:
    if e["every_date"]:
        return "随时"
    d = pd.Timestamp(e["date"])
    return f"{d.month}月{d.day}日"


def _status_text(e: dict, colour: str) -> str:
    if colour == "grey":
        miss = "、".join(TABLES[t].zh if t in TABLES else OTHER_TABLES_ZH.get(t, t) for t in e["missing"])
        return f"无法衡量（缺{miss}）" if miss else "无法衡量（无对象）"
    if e["status"] == "due":
        return "已达下一步" if colour == "green" else "未到期"
    return RAG[colour][1]


def checkpoint_text(e: dict) -> str:
    """When the status comes from a passed checkpoint whose value differs from the value on A
    (240 persons in post on 06-30, 239 on A), that checkpoint's value (``6月30日：240``); else ''."""
    if e["every_date"] or e["status"] not in ("met", "not_met"):
        return ""
    cp = next((c for c in e["checkpoints"] if c["date"] == e["date"]), None)
    if cp is None or cp["value"] is None:
        return ""
    shown = value_text(e, cp["value"])
    return "" if shown == value_text(e, e["value"]) else f"{_date_text(e)}：{shown}"


def dispatch_table(ev: list[dict], asof: pd.Timestamp) -> pd.DataFrame:
    """One row per target: family, target, the plan's section and sentence, value on A (and
    :func:`checkpoint_text`), threshold, its date, status text and colour."""
    rows = []
    for e in ev:
        colour = rag(e)
        rows.append({"family": FAMILY_ZH[e["family"]], "target": TARGET_ZH.get(e["id"], e["id"]),
                     "plan": e["plan"], "sentence": e["sentence"], "value": value_text(e, e["value"]),
                     "at_checkpoint": checkpoint_text(e),
                     "threshold": _threshold_text(e), "date": _date_text(e),
                     "status": _status_text(e, colour), "colour": colour, "id": e["id"]})
    return pd.DataFrame(rows)


def dispatch_html(ev: list[dict], asof: pd.Timestamp, scope_name: str) -> str:
    """The dispatch sheet as one HTML table with inline styles (large type, coloured status
    cells), sized for one A4 landscape page."""
    t = dispatch_table(ev, asof)
    td = "padding:1px 6px;border-bottom:1px solid #bbb;vertical-align:middle;font-size:15px;text-align:left"
    th = "padding:4px 6px;background:#1f3b5c;color:white;font-size:15px;text-align:left"
    head = ["类别", "目标", "方案", "方案原文", f"{asof.month}月{asof.day}日值", "要求", "期限", "状态"]
    out = [f'<div class="qj-dispatch" style="max-width:1100px">'
           f'<p style="font-size:20px;font-weight:700;margin:2px 0">{html.escape(scope_name)} 脱贫攻坚目标调度表'
           f'（截至 {asof:%Y年%m月%d日}）</p>'
           f'<table style="border-collapse:collapse;table-layout:auto;margin-left:0;width:100%">'
           "<tr>" + "".join(f'<th style="{th}">{h}</th>' for h in head) + "</tr>"]
    for r in t.to_dict("records"):
        c = RAG[r["colour"]][0]
        cells = [
            (r["family"], "font-weight:600;white-space:nowrap"), (r["target"], "white-space:nowrap;font-weight:600"),
            (r["plan"], "white-space:nowrap"), (r["sentence"], "font-size:11px;color:#333;max-width:430px;line-height:1.15"),
            (r["value"], "font-size:17px;font-weight:700;text-align:right;white-space:nowrap;line-height:1.15"),
            (r["threshold"], "white-space:nowrap;text-align:right"), (r["date"], "white-space:nowrap"),
            (r["status"], f"background:{c};color:white;font-size:16px;font-weight:700;text-align:center;"
                          "white-space:nowrap"),
        ]
        text = [html.escape(str(v)) for v, _ in cells]
        if r["at_checkpoint"]:  # the value the status was judged on, under the value on A
            text[4] += ('<br><span style="font-size:11px;font-weight:400;color:#333">'
                        f'{html.escape(r["at_checkpoint"])}</span>')
        out.append("<tr>" + "".join(f'<td style="{td};{s}">{t}</td>' for t, (_, s) in zip(text, cells, strict=True))
                   + "</tr>")
    out.append("</table></div>")
    return "".join(out)


def key_figures(s: dict) -> dict[str, object]:
    """The opening figures: targets per status."""
    st = s["statuses"]
    return {"达标 met": st["met"], "未达标 not met": st["not_met"], "未到期 due": st["due"],
            "无法衡量 not measurable": st["not_measurable"]}


def reading(ev: list[dict], scope_name: str, asof: pd.Timestamp) -> str:
    """One paragraph in Chinese: which targets are missed, which are not measurable."""
    red = [TARGET_ZH.get(e["id"], e["id"]) for e in ev if rag(e) == "red"]
    amber = [TARGET_ZH.get(e["id"], e["id"]) for e in ev if rag(e) == "amber"]
    grey = [TARGET_ZH.get(e["id"], e["id"]) for e in ev if rag(e) == "grey"]
    parts = [f"截至 {asof:%Y年%m月%d日}，{scope_name}方案所列 {len(ev)} 项有日期的目标中，"]
    parts.append(f"未达标 {len(red)} 项（{'、'.join(red)}），" if red else "没有已到期未达标的目标，")
    parts.append(f"下一节点前尚未达到要求的 {len(amber)} 项（{'、'.join(amber)}）。" if amber else "未到期的目标进度均已达到下一节点要求。")
    if grey:
        parts.append(f"{len(grey)} 项因缺少数据表无法衡量（{'、'.join(grey)}），不能视为达标，应尽快补报数据。")
    parts.append("各类目标未达标的具体对象见下文各节台账。")
    return "".join(parts)


def progress_chart(progress: pd.DataFrame, ev: list[dict], family: str, asof: pd.Timestamp) -> Figure | None:
    """The family's ratio targets month by month (lines) against their checkpoints (steps: the
    threshold due by each date), for the year up to A."""
    import matplotlib.pyplot as plt

    items = [e for e in ev if e["family"] == family and e["unit"] == "ratio" and not e["missing"]]
    items = [e for e in items if (progress["id"] == e["id"]).any()]
    if not items:
        return None
    fig, ax = plt.subplots(figsize=(10.0, 4.2), layout="constrained")
    for i, e in enumerate(items):
        col = plotting.OKABE_ITO[i % len(plotting.OKABE_ITO)]
        p = progress[progress["id"] == e["id"]]
        ax.plot(p["date"], p["value"], marker="o", color=col, label=TARGET_ZH.get(e["id"], e["id"]))
        if e["every_date"]:
            ax.axhline(e["threshold"], color=col, linestyle=":", linewidth=2)
            continue
        for c in e["checkpoints"]:
            d = pd.Timestamp(c["date"])
            ax.scatter([d], [c["threshold"]], marker="_", s=900, color=col, linewidths=3)
            ax.annotate(f"{fmt_pct(c['threshold'], 0)}", (d, c["threshold"]), textcoords="offset points",
                        xytext=(6, 4), fontsize=11, color=col)
    ax.axvline(asof, color="#555", linestyle="--", linewidth=1)
    ax.set_xlim(pd.Timestamp(year=asof.year, month=1, day=1), pd.Timestamp(year=asof.year, month=12, day=31))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda y, _: fmt_pct(y, 0)))
    top = max([1.0 if not e["every_date"] else 0.0 for e in items]
              + [float(progress.loc[progress["id"].isin([e["id"] for e in items]), "value"].max()) * 1.2,
                 *(e["threshold"] * 1.5 for e in items)])
    ax.set_ylim(0, min(1.05, top) if top <= 1.0 else 1.05)
    ax.set_title(f"{FAMILY_ZH[family]}：进度与节点要求（短横线 = 各节点要求，虚线 = 截至日）", loc="left")
    ax.legend(loc="lower right")
    return fig


def show_dispatch(ev: list[dict], asof: pd.Timestamp, scope_name: str) -> None:
    """Show :func:`dispatch_html` in the notebook."""
    from IPython.display import HTML, display

    display(HTML(dispatch_html(ev, asof, scope_name)))


def definitions_table(ev: list[dict]) -> pd.DataFrame:
    """What each target measures and its checkpoints, as ``params/targets.yaml`` states them."""
    return pd.DataFrame([{
        "目标": TARGET_ZH.get(e["id"], e["id"]), "编号": e["id"], "方案": e["plan"], "口径": e["measured"],
        "节点": "随时 " + _threshold_text(e) if e["every_date"] else "；".join(
            f"{pd.Timestamp(c['date']).month}月{pd.Timestamp(c['date']).day}日 "
            f"{fmt_pct(c['threshold'], 0) if e['unit'] == 'ratio' else fmt_int(c['threshold'])}"
            for c in e["checkpoints"]),
    } for e in ev])
