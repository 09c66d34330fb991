"""Return-to-poverty monitoring (plan R6, ``shared/contract/monitoring.md``): the signals of every
past exited household, the candidate classes 拟返贫（待核实）/ 巩固提升（待核实）, the edge
households, the ledgers ``monitoring`` and ``monitoring_edge`` and the ``monitoring.*`` figures.

The population is the households with ``exit_status`` exited and ``exit_year`` < Y (返贫
households are poor again, not at risk: left out). The signals are the pure functions of
:mod:`qjlib.analyses.monitoring_signals`; a signal whose table is absent is *unavailable*: its
column is blank, it counts nowhere, and the summary names it in ``unavailable``.

- 拟返贫（待核实） ``about_to_return``: ``below_line``.
- 巩固提升（待核实） ``consolidate``: not ``below_line`` and at least one other signal
  (``no_income_row`` included).
- Edge households (``edge_households`` rows whose ``hh_id`` is not a registered household's), the
  first class that applies: ``below_line`` (``net_per_capita`` < the poverty line of its income
  year, in whole fen: 漏评线索), ``below_monitor_line``, ``special_group`` (大病户, 残疾户 or 危房户).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qjlib.analyses import monitoring_signals as sig
from qjlib.analyses.exit_items import department_rule_ids
from qjlib.core import exact
from qjlib.core.context import Context, per_context
from qjlib.core.fmt import yuan_texts
from qjlib.core.ledgers import LedgerSpec
from qjlib.core.params import Params, parse_period
from qjlib.core.schema import TABLES
from qjlib.core.tables_monitoring import EDGE_GROUP_SEPARATORS

#: The signals, in the contract's order, with their Chinese names.
SIGNALS_ZH: dict[str, str] = {
    "below_line": "收入低于贫困线",
    "below_monitor_line": "收入低于监测线",
    "income_fall": "收入大幅下降",
    "decline_run": "连续下降",
    "transfer_dependent": "依赖转移性收入",
    "medical_burden": "医疗负担重",
    "dropout": "有辍学",
    "no_safety_net": "无劳动能力未兜底",
    "unsafe_house": "住房不安全",
    "no_income_row": "无收入数据",
}
SIGNALS = tuple(SIGNALS_ZH)
#: The tables each signal needs (all must be present for it to be available).
SIGNAL_TABLES: dict[str, tuple[str, ...]] = {
    "below_line": ("income",), "below_monitor_line": ("income",), "income_fall": ("income",),
    "decline_run": ("income",), "transfer_dependent": ("income",), "no_income_row": ("income",),
    "medical_burden": ("hospital", "members"), "dropout": ("enrollment", "members"),
    "no_safety_net": ("welfare", "members"), "unsafe_house": ("housing",),
}
CLASSES_ZH = {"about_to_return": "拟返贫（待核实）", "consolidate": "巩固提升（待核实）"}
EDGE_CLASSES_ZH = {"below_line": "低于贫困线：漏评线索", "below_monitor_line": "低于监测线",
                   "special_group": "特殊群体"}
SPECIAL_GROUPS = ("大病户", "残疾户", "危房户")

LEDGER_COLUMNS = ("hh_id", "town", "village", "exit_year", "class", "class_zh", *SIGNALS, "signals",
                  "pc_before", "pc_now", "poverty_line", "monitor_line", "out_of_pocket_12m",
                  "labor_capacity", "helper_id", "reason")
EDGE_COLUMNS = ("hh_id", "town", "village", "size", "net_per_capita", "poverty_line", "monitor_line",
                "groups", "class", "class_zh", "reason")

NAME = "monitoring"
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"analyse": ("county", "towns")}
LEDGERS = {
    "monitoring": LedgerSpec(
        "monitoring", "防返贫监测对象（待核实）台账", ("hh_id",),
        {**SIGNALS_ZH, "class": "监测类别", "class_zh": "监测类别（中文）", "signals": "信号数",
         "pc_before": "上年人均纯收入（元）", "pc_now": "当年人均纯收入（元）",
         "poverty_line": "当年贫困线（元）", "monitor_line": "当年监测线（元）",
         "out_of_pocket_12m": "近12个月住院自付（元）", "helper_id": "截至日结对帮扶责任人编号"},
        plan="R6", formats={"out_of_pocket_12m": "money"}),
    "monitoring_edge": LedgerSpec(
        "monitoring_edge", "非贫边缘户监测台账", ("hh_id",),
        {"class": "监测类别", "class_zh": "监测类别（中文）", "poverty_line": "收入年度贫困线（元）",
         "monitor_line": "收入年度监测线（元）"},
        plan="R6"),
}


def monitor_line(params: Params, year: int) -> float:
    """The monitoring line of ``year`` (yuan per person): ``monitoring.line`` of the year when
    given; a year before the first given uses the first; from ``monitoring.line_factor_from`` on,
    ``monitoring.line_factor`` × the year's poverty line; else the latest given year before it."""
    lines = {int(k): float(v) for k, v in params.get("monitoring.line").items()}
    y = int(year)
    if y in lines:
        return lines[y]
    if y < min(lines):
        return lines[min(lines)]
    if y >= int(params.get("monitoring.line_factor_from")):
        return float(params.get("monitoring.line_factor")) * params.poverty_line(y)
    return lines[max(k for k in lines if k < y)]


def report_due(period: str) -> str:
    """The quarter's report date: the 20th of its last month (``2019Q3`` → ``2019-09-20``)."""
    year, q, _ = parse_period(period)
    return f"{year:04d}-{3 * q:02d}-20"


@dataclass(frozen=True)
class MonitoringAnalysis:
    """One run's monitoring: ``frame`` (one row per past exited household, sorted by hh_id: its
    signals, figures and class, ``class`` blank when not listed), ``available`` (signal →
    bool), ``notes`` (why a signal is off), ``ledger`` and ``edge`` (the two ledgers),
    ``edge_count`` (edge households of the scope, registered ids left out)."""

    income_year: int
    frame: pd.DataFrame
    available: dict[str, bool]
    notes: dict[str, str]
    ledger: pd.DataFrame
    edge: pd.DataFrame
    edge_count: int


def _table(ctx: Context, name: str) -> pd.DataFrame | None:
    return ctx.pkg[name] if ctx.pkg.has(name) else None


def past_exited_exited(households: pd.DataFrame, year: int) -> pd.DataFrame:
    """The population: ``exit_status`` exited (not 返贫) and ``exit_year`` < ``year``, sorted by
    hh_id."""
    ey = households["exit_year"].astype("Float64") if "exit_year" in households else pd.Series(
        np.nan, index=households.index)
    m = (households["exit_status"] == "exited") & (ey < int(year)).fillna(False)
    cols = [c for c in ("hh_id", "town", "village", "exit_year", "labor_capacity") if c in households]
    return households.loc[m.to_numpy(), cols].sort_values("hh_id", kind="stable").reset_index(drop=True)


def signal_frame(ctx: Context, pop: pd.DataFrame, y: int) -> tuple[pd.DataFrame, dict[str, bool], dict[str, str]]:
    """The population's signals and figures (:func:`signals_of` on the context's tables, with the
    ``income_decline``, ``income_transfer_dependent`` and ``dept_mismatch`` rule ``dropout``
    ledgers of the registered analyses)."""
    from qjlib.analyses import decline, income

    tables = {t: _table(ctx, t) for t in ("income", "members", "hospital", "enrollment", "welfare",
                                          "housing", "relocation")}
    ledger_ids: dict[str, pd.Series | None] = {"decline_run": None, "transfer_dependent": None, "dropout": None}
    if tables["income"] is not None:
        ledger_ids["decline_run"] = decline.build_ledgers(ctx)["income_decline"]["hh_id"]
        ledger_ids["transfer_dependent"] = income.build_ledgers(ctx)["income_transfer_dependent"]["hh_id"]
    if tables["enrollment"] is not None:
        drop = department_rule_ids(ctx, "enrollment", ("dropout",))  # the shared per-context ledger
        ledger_ids["dropout"] = None if drop is None else drop["dropout"]
    return signals_of(pop, y, ctx.params, ctx.asof, tables, ledger_ids)


def signals_of(pop: pd.DataFrame, y: int, params: Params, asof: pd.Timestamp,
               tables: dict[str, pd.DataFrame | None], ledger_ids: dict[str, pd.Series | None]
               ) -> tuple[pd.DataFrame, dict[str, bool], dict[str, str]]:
    """The population's signals and figures (columns of :data:`LEDGER_COLUMNS` but class and
    reason), which signals are available, and the notes on those that are not. ``tables``: the
    canonical tables by name (None = absent); ``ledger_ids``: the ``hh_id`` of ``decline_run``,
    ``transfer_dependent`` and ``dropout`` (None = the ledger was not built: ``dropout`` is
    then unavailable)."""
    ids = pop["hh_id"]
    n = len(pop)
    available = {s: all(tables.get(t) is not None for t in SIGNAL_TABLES[s]) for s in SIGNALS}
    notes = {s: "缺少" + "、".join(f"{TABLES[t].zh}（{t}）" for t in SIGNAL_TABLES[s] if tables.get(t) is None)
             + "表" for s in SIGNALS if not available[s]}
    f = pop.copy()
    na_bool = pd.Series(pd.NA, index=range(n), dtype="boolean")
    for s in SIGNALS:
        f[s] = na_bool.copy()
    line, mline = params.poverty_line(y), monitor_line(params, y)
    f["poverty_line"], f["monitor_line"] = line, mline
    f["pc_before"] = f["pc_now"] = np.nan
    f["out_of_pocket_12m"] = np.nan
    if available["below_line"]:
        inc = tables["income"]
        has, now = sig.year_rows(ids, inc, y)
        had, before = sig.year_rows(ids, inc, y - 1)
        f["pc_now"] = now["net_income"] / now["size"]
        f["pc_before"] = before["net_income"] / before["size"]
        f["below_line"] = sig.below_line(now["net_income"], now["size"], line, has)
        f["below_monitor_line"] = sig.below_monitor_line(now["net_income"], now["size"], line, mline, has)
        f["income_fall"] = sig.income_fall(now["net_income"], now["size"], before["net_income"],
                                           before["size"], params.get("monitoring.max_fall"), has, had)
        f["no_income_row"] = pd.Series(~has).astype("boolean")
        f["decline_run"] = sig.in_ledger(ids, ledger_ids["decline_run"])
        f["transfer_dependent"] = sig.in_ledger(ids, ledger_ids["transfer_dependent"])
    keys = sig.MemberKeys.of(ids, tables["members"]) if tables.get("members") is not None and (
        available["medical_burden"] or available["no_safety_net"]) else None
    if available["medical_burden"]:
        f["out_of_pocket_12m"] = sig.out_of_pocket_12m(ids, tables["members"], tables["hospital"], asof, keys)
        f["medical_burden"] = sig.medical_burden(f["out_of_pocket_12m"], params.get("monitoring.oop_threshold"))
    if available["dropout"]:
        if ledger_ids.get("dropout") is None:
            available["dropout"] = False
            notes["dropout"] = "未运行部门比对（departments.md 的辍学规则）"
        else:
            f["dropout"] = sig.dropout(ids, ledger_ids["dropout"])
    if available["no_safety_net"]:
        cap = f["labor_capacity"] if "labor_capacity" in f else pd.Series(pd.NA, index=f.index, dtype="str")
        f["no_safety_net"] = sig.no_safety_net(ids, cap, tables["members"], tables["welfare"], asof, keys)
    if available["unsafe_house"]:
        f["unsafe_house"] = sig.unsafe_house(ids, tables["housing"], asof, tables.get("relocation"))
    return f, available, notes


def classify(signals: pd.DataFrame) -> pd.Series:
    """The class of each household from its signal columns (:data:`SIGNALS`; ``<NA>`` = not
    raised): ``about_to_return`` when ``below_line``; else ``consolidate`` when any other signal;
    else ``<NA>`` (not listed)."""
    raised = signals[list(SIGNALS)].fillna(False).to_numpy(dtype=bool)
    below = raised[:, 0]
    other = raised[:, 1:].any(axis=1)
    out = np.where(below, "about_to_return", np.where(other, "consolidate", None))
    return pd.Series(out, index=signals.index, dtype="str")


_money = yuan_texts  # money in reasons: the one formatter (core.fmt)


def _reason(f: pd.DataFrame, y: int, oop_threshold: float) -> pd.Series:
    """The Chinese reason: each raised signal in words with its figures, joined by ；."""
    pc, pcb = _money(f["pc_now"]), _money(f["pc_before"])
    words = {
        "below_line": f"{y}年人均纯收入" + pc + "元，低于贫困线" + _money(f["poverty_line"]) + "元",
        "below_monitor_line": f"{y}年人均纯收入" + pc + "元，低于监测线" + _money(f["monitor_line"]) + "元",
        "income_fall": f"人均纯收入由{y - 1}年" + pcb + "元降至" + pc + "元，降幅"
        + ((1 - f["pc_now"] / f["pc_before"]) * 100).round(1).map("{:.1f}%".format, na_action="ignore")
        .fillna("—").astype("str"),
        "decline_run": pd.Series("在连续下降台账中", index=f.index),
        "transfer_dependent": pd.Series("在转移性收入依赖台账中", index=f.index),
        "medical_burden": "近12个月住院自付" + _money(f["out_of_pocket_12m"]) + f"元，超过{oop_threshold:,.0f}元",
        "dropout": pd.Series("家中有辍学学生", index=f.index),
        "no_safety_net": pd.Series("无劳动能力且无低保/特困供养", index=f.index),
        "unsafe_house": pd.Series("住房鉴定为不安全且未改造完成", index=f.index),
        "no_income_row": pd.Series(f"无{y}年收入数据，须入户核实", index=f.index),
    }
    out = pd.Series("", index=f.index, dtype="str")
    for s in SIGNALS:
        hit = f[s].fillna(False).to_numpy(dtype=bool)
        piece = words[s].astype("str")
        out = out.where(~hit, out.where(out == "", out + "；") + piece)
    return out


def _helpers_on(ctx: Context, ids: pd.Series) -> pd.Series:
    """The helper(s) paired on A with each household (``、``-joined; blank if none)."""
    from qjlib.analyses.cadres_metrics import active_pairings

    if not ctx.pkg.has("pairings"):
        return pd.Series(pd.NA, index=ids.index, dtype="str")
    pr = ctx.pkg["pairings"]
    act = pr.loc[active_pairings(pr, ctx.asof).to_numpy(), ["hh_id", "helper_id"]].drop_duplicates()
    joined = act.sort_values("helper_id").groupby("hh_id")["helper_id"].agg("、".join)
    return pd.Series(ids.map(joined).to_numpy(), index=ids.index, dtype="str")


def edge_frame(ctx: Context, y: int) -> tuple[pd.DataFrame, int]:
    """(the ``monitoring_edge`` ledger, the number of edge households of the scope). Rows whose
    ``hh_id`` is a registered household's are not edge households."""
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in EDGE_COLUMNS})
    if not ctx.pkg.has("edge_households"):
        return empty, 0
    e = ctx.pkg["edge_households"]
    scope = getattr(ctx.pkg, "scope", None) or ctx.scope
    if scope is not None:
        e = e[(e["town"] == scope).to_numpy()]
    from qjlib.io.monitoring import registered_edge_rows

    e = e[~registered_edge_rows(e, ctx.pkg["households"])].reset_index(drop=True)
    year = e["income_year"].astype("Float64").fillna(y).astype(int) if "income_year" in e else pd.Series(y, index=e.index)
    years = sorted(set(year.tolist()))
    pl = year.map({yy: ctx.params.poverty_line(yy) for yy in years}).astype(float)
    ml = year.map({yy: monitor_line(ctx.params, yy) for yy in years}).astype(float)
    npc = e["net_per_capita"]
    below = exact.fen(npc) < exact.fen(pl)
    below_m = ~below & (exact.fen(npc) < exact.fen(ml))
    groups = e["groups"].astype("str") if "groups" in e else pd.Series(pd.NA, index=e.index, dtype="str")
    tok = groups.fillna("").astype("str").str.split(EDGE_GROUP_SEPARATORS, regex=True).explode()
    tok = tok.astype(object).fillna("").astype("str").str.strip()
    special = tok[tok.isin(SPECIAL_GROUPS)]
    spec_text = special.groupby(level=0).agg("、".join).reindex(e.index)
    is_special = spec_text.notna().to_numpy()
    cls = np.select([below, below_m, is_special], list(EDGE_CLASSES_ZH), default="")
    out = pd.DataFrame({
        "hh_id": e["hh_id"], "town": e["town"], "village": e["village"], "size": e["size"],
        "net_per_capita": npc.astype(float), "poverty_line": pl, "monitor_line": ml, "groups": groups,
        "class": cls,
    })
    out = out[cls != ""].copy()
    out["class_zh"] = out["class"].map(EDGE_CLASSES_ZH).astype("str")
    yr = year[out.index].astype("str")
    reason = np.select(
        [out["class"] == "below_line", out["class"] == "below_monitor_line"],
        [yr + "年人均纯收入" + _money(out["net_per_capita"]) + "元，低于贫困线" + _money(out["poverty_line"])
         + "元：漏评线索，须入户核实",
         yr + "年人均纯收入" + _money(out["net_per_capita"]) + "元，低于监测线" + _money(out["monitor_line"]) + "元"],
        default="特殊群体：" + spec_text[out.index].fillna("").astype("str"))
    out["reason"] = pd.Series(reason, index=out.index, dtype="str")
    return out[list(EDGE_COLUMNS)].sort_values("hh_id", kind="stable").reset_index(drop=True), len(e)


@per_context
def analyse(ctx: Context) -> MonitoringAnalysis:
    """The scope's monitoring (module docstring), computed once per context."""
    y = int(ctx.income_year)
    pop = past_exited_exited(ctx.pkg["households"], y)
    f, available, notes = signal_frame(ctx, pop, y)
    f["class"] = classify(f)
    f["class_zh"] = f["class"].map(CLASSES_ZH).astype("str")
    f["signals"] = f[list(SIGNALS)].fillna(False).astype(int).sum(axis=1).astype("Int64")
    listed = f[f["class"].notna().to_numpy()].copy()
    listed["reason"] = _reason(listed, y, float(ctx.params.get("monitoring.oop_threshold")))
    listed["helper_id"] = _helpers_on(ctx, listed["hh_id"])
    listed["exit_year"] = listed["exit_year"].astype("Int64")
    for c in LEDGER_COLUMNS:
        if c not in listed:
            listed[c] = pd.Series(pd.NA, index=listed.index, dtype="str")
    ledger = listed[list(LEDGER_COLUMNS)].sort_values("hh_id", kind="stable").reset_index(drop=True)
    edge, n_edge = edge_frame(ctx, y)
    return MonitoringAnalysis(y, f, available, notes, ledger, edge, n_edge)


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """``monitoring`` and ``monitoring_edge`` of the scope."""
    res = analyse(ctx)
    return {"monitoring": res.ledger, "monitoring_edge": res.edge}


def summary(ctx: Context) -> dict:
    """``monitoring.*``: ``past_exited`` (the population), ``about_to_return``, ``consolidate``,
    ``signals.<signal>`` (households with each signal, listed or not; ``None`` when unavailable),
    ``unavailable`` (signal → why), ``edge_households`` (edge rows of the scope that are not
    registered households), ``edge.<class>``, ``report_due`` (the 20th of the quarter's last
    month) and ``by_town`` (the same counts per town)."""
    res = analyse(ctx)
    f = res.frame
    cls = f["class"]
    signals = {s: (int(f[s].fillna(False).sum()) if res.available[s] else None) for s in SIGNALS}
    town = f["town"].fillna("未知") if "town" in f else pd.Series("未知", index=f.index)
    by_town = pd.DataFrame({"town": town.to_numpy(), "a": (cls == "about_to_return").fillna(False).to_numpy(),
                            "c": (cls == "consolidate").fillna(False).to_numpy()}).groupby("town").agg(
        past_exited=("a", "size"), about_to_return=("a", "sum"), consolidate=("c", "sum"))
    edge_town = res.edge["town"].fillna("未知").value_counts()
    return {
        "available": True,
        "income_year": res.income_year,
        "as_of": ctx.asof.date().isoformat(),
        "report_due": report_due(ctx.period),
        "past_exited": len(f),
        "about_to_return": int((cls == "about_to_return").sum()),
        "consolidate": int((cls == "consolidate").sum()),
        "signals": signals,
        "unavailable": dict(sorted(res.notes.items())),
        "edge_households": int(res.edge_count),
        "edge": {k: int((res.edge["class"] == k).sum()) for k in EDGE_CLASSES_ZH},
        "by_town": {
            str(t): {"past_exited": int(r.past_exited), "about_to_return": int(r.about_to_return),
                     "consolidate": int(r.consolidate), "edge_listed": int(edge_town.get(t, 0))}
            for t, r in by_town.iterrows()
        },
    }
