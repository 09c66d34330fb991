"""The register against the departments' rolls (plan R4, R13, R16–R18;
``shared/contract/departments.md``): the eighteen rules, the ``dept_mismatch`` ledger and the
``departments.*`` figures (the ``health.*`` and ``education.*`` figures are
:mod:`qjlib.analyses.departments_health` and :mod:`qjlib.analyses.departments_education`).

Matching is by ID number only (:mod:`qjlib.analyses.departments_match`); the rules are pure
functions in :mod:`qjlib.analyses.departments_rules` and :mod:`qjlib.analyses.departments_school`,
their date logic :mod:`qjlib.core.spells`. A rule whose table (or column) is absent is switched
off with a note (``departments.rules_off``), never reported as zero. A person outside the register
is keyed by ``person_key`` (:func:`qjlib.core.pseudonym.person_key` under the county key).

In a town's scope the register is the town's; rows of persons outside the register are those
whose roll row names the town.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qjlib.analyses import departments_rules as r
from qjlib.analyses import departments_school as s
from qjlib.analyses.departments_match import is_registered, registered_persons, roll
from qjlib.core.context import Context, per_context
from qjlib.core.errors import QjError
from qjlib.core.ids import positions
from qjlib.core.ledgers import LedgerSpec
from qjlib.core.tables_departments import COUNTED_MEMBER_STATUSES, POOR_POST_TYPES

NAME = "departments"  # its part of summary.json and its key in qjlib.analyses.REGISTRY
NOTEBOOK_RESULTS: dict[str, tuple[str, ...]] = {"analyse": ("county", "towns")}

DEPT_TABLES = ("welfare", "disability", "insurance", "hospital", "enrollment", "student_aid",
               "posts", "deaths")

#: rule → (Chinese name, department, tables it needs besides the register).
RULES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "dibao_eligible_unpaid": ("应保未保", "民政", ("welfare", "income")),
    "dibao_register_mismatch": ("低保身份不一致", "民政", ("welfare",)),
    "welfare_pay_mismatch": ("低保特困金额不符", "民政", ("welfare", "income")),
    "welfare_not_registered": ("在保不在档", "民政", ("welfare",)),
    "dibao_dropped_at_exit": ("脱贫即脱保", "民政", ("welfare",)),
    "deceased_paid": ("死亡仍享受", "民政", ("deaths",)),
    "deceased_pending": ("死亡待减员", "公安", ("deaths",)),
    "disability_no_card": ("残疾无证", "残联", ("disability",)),
    "card_health_mismatch": ("持证未标残疾", "残联", ("disability",)),
    "uninsured": ("未参保", "医保", ("insurance",)),
    "reimbursement_low": ("住院报销比例低", "医保", ("hospital",)),
    "dropout": ("辍学", "教体", ("enrollment",)),
    "enrollment_not_found": ("学籍未找到", "教体", ("enrollment",)),
    "aid_repeat": ("重复资助", "教体", ("student_aid",)),
    "aid_multi_channel": ("多头资助", "教体", ("student_aid",)),
    "post_multiple": ("一人多岗", "林业", ("posts",)),
    "post_rotation": ("轮流上岗", "林业", ("posts",)),
    "post_not_registered": ("非建档立卡人员上岗", "林业", ("posts",)),
}

#: rule → the columns that identify its subject (the contract's "key"; ``person_id or person_key``
#: rules name both: a registered person by ``person_id``, anyone else by ``person_key``).
RULE_KEYS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("dibao_eligible_unpaid", "welfare_pay_mismatch", "dibao_dropped_at_exit"), ("hh_id",)),
    **dict.fromkeys(("dibao_register_mismatch", "deceased_pending", "disability_no_card",
                     "card_health_mismatch", "uninsured", "dropout", "enrollment_not_found"),
                    ("person_id",)),
    "welfare_not_registered": ("person_key",),
    "deceased_paid": ("person_id", "person_key"),
    "post_multiple": ("person_id", "person_key"),
    "reimbursement_low": ("person_id", "admitted"),
    "aid_repeat": ("person_id", "term", "programme"),
    "aid_multi_channel": ("person_id", "term"),
    "post_rotation": ("post_id",),
    "post_not_registered": ("person_key", "post_id"),
}

LEDGER_COLUMNS = ("rule", "rule_zh", "dept", "hh_id", "person_id", "person_key", "post_id",
                  "admitted", "term", "programme", "name", "id_number", "file", "row", "town",
                  "village", "detail", "reason")
LEDGER_KEY = ("rule", "hh_id", "person_id", "person_key", "post_id", "admitted", "term", "programme")

LEDGERS = {
    "dept_mismatch": LedgerSpec(
        name="dept_mismatch",
        title_zh="建档立卡档案与部门数据比对台账",
        key=LEDGER_KEY,
        columns_zh={"rule": "规则代码", "rule_zh": "比对规则", "dept": "部门", "person_key": "人员假名编号",
                    "programme": "项目", "name": "姓名", "detail": "比对依据",
                    "file": "部门文件", "row": "部门文件行号"},
        plan="R4, R13, R16–R18",
    ),
}


@dataclass(frozen=True)
class DepartmentsAnalysis:
    """What the ledger, the summaries and the notebook show, computed once per context."""

    as_of: pd.Timestamp
    income_year: int
    ledger: pd.DataFrame
    rules_off: dict[str, str]
    matched: dict[str, int]
    unmatched: dict[str, int]
    persons: pd.DataFrame = field(repr=False)
    stays: pd.DataFrame | None = field(repr=False, default=None)
    school_age: pd.DataFrame | None = field(repr=False, default=None)
    insurance: pd.DataFrame | None = field(repr=False, default=None)
    notes: tuple[str, ...] = ()


def _missing(pkg, rule: str) -> str | None:
    """Why ``rule`` is off (Chinese / English), or None when its tables and columns are there."""
    for t in RULES[rule][2]:
        if not pkg.has(t):
            return f"未提供 {t} 表 / no {t} table"
    need = {"dibao_eligible_unpaid": ("households", "labor_capacity"),
            "dibao_register_mismatch": ("members", "dibao"),
            "welfare_pay_mismatch": ("welfare", "monthly_amount"),
            "disability_no_card": ("members", "health"),
            "card_health_mismatch": ("members", "health"),
            "aid_multi_channel": ("student_aid", "stage"),
            "dibao_dropped_at_exit": ("households", "exit_year")}.get(rule)
    if need and need[1] not in pkg[need[0]].columns:
        return f"{need[0]} 表缺少 {need[1]} 列 / {need[0]} has no {need[1]} column"
    if rule == "welfare_pay_mismatch" and not ({"dibao_pay", "wubao_pay"} & set(pkg["income"].columns)):
        return "收入表无低保金、五保金列 / income has no dibao_pay or wubao_pay"
    return None


def _run_rules(ctx: Context, p: pd.DataFrame, rolls: dict[str, pd.DataFrame],
               on: set[str]) -> dict[str, pd.DataFrame]:
    """Every switched-on rule's rows."""
    pkg, par, a, y = ctx.pkg, ctx.params, ctx.asof, ctx.income_year
    hh = pkg["households"]
    w, d, po = rolls.get("welfare"), rolls.get("deaths"), rolls.get("posts")
    out: dict[str, pd.DataFrame] = {}

    def run(rule: str, fn, *args) -> None:
        if rule in on:
            out[rule] = fn(*args)

    run("dibao_eligible_unpaid", lambda: r.dibao_eligible_unpaid(
        hh, p, pkg["income"], w, y, float(par.get("dept.dibao_standard")[y]), a))
    run("dibao_register_mismatch", lambda: r.dibao_register_mismatch(p, w, a))
    run("welfare_pay_mismatch", lambda: r.welfare_pay_mismatch(
        pkg["income"], p, w, y, float(par.get("dept.pay_tolerance"))))
    run("welfare_not_registered", lambda: r.welfare_not_registered(w, p, a))
    run("dibao_dropped_at_exit", lambda: r.dibao_dropped_at_exit(
        hh, p, w, a, int(par.get("dept.gradual_exit_months"))))
    if "deceased_paid" in on:
        parts = [w.assign(dept="民政")] if w is not None else []
        if po is not None:
            parts.append(po.assign(dept=s.post_dept(po["post_type"])))
        cols = ["id_key", "id_number", "name", "start", "end", "file", "row", "town", "village", "dept"]
        spells = pd.concat([x.reindex(columns=cols) for x in parts], ignore_index=True) if parts else None
        if spells is not None:
            out["deceased_paid"] = r.deceased_paid(d, spells, p, a, int(par.get("dept.death_grace_days")))
    run("deceased_pending", lambda: r.deceased_pending(p, d, a))
    run("disability_no_card", lambda: r.disability_no_card(p, rolls["disability"]))
    run("card_health_mismatch", lambda: r.card_health_mismatch(p, rolls["disability"]))
    run("uninsured", lambda: r.uninsured(p, rolls["insurance"], a))
    run("reimbursement_low", lambda: r.reimbursement_low(
        r.registered_stays(r.stays(rolls["hospital"], a), p), p,
        float(par.get("health.reimbursement_target"))))
    if "enrollment" in rolls:
        band = s.school_age(p, a, int(par.get("education.age_min")), int(par.get("education.age_max")))
        run("dropout", lambda: s.dropout(band, rolls["enrollment"], a))
        run("enrollment_not_found", lambda: s.enrollment_not_found(band, rolls["enrollment"], a))
    run("aid_repeat", lambda: s.aid_repeat(rolls["student_aid"], p))
    run("aid_multi_channel", lambda: s.aid_multi_channel(
        rolls["student_aid"], p, int(par.get("education.max_aid_channels"))))
    run("post_multiple", lambda: s.post_multiple(po, p, a))
    run("post_rotation", lambda: s.post_rotation(po, a, int(par.get("posts.min_spell_months"))))
    run("post_not_registered", lambda: s.post_not_registered(po, p, a, POOR_POST_TYPES))
    return out


def county_key_of(pkg) -> tuple[str | None, str | None]:
    """The county's pseudonymisation key for ``pkg`` (:func:`qjlib.core.pseudonym.county_key`
    beside its data) and a note when there is none (``person_key`` is then left blank)."""
    from qjlib.core.pseudonym import county_key

    key = getattr(pkg, "pseudonym_key", None)
    if key:
        return str(key), None
    root = getattr(pkg, "root", None)
    if root is None:
        return None, "无假名化密钥：档外人员的 person_key 留空 / no pseudonymisation key"
    try:
        return county_key(root)[0], None
    except QjError as e:
        return None, str(e)


def assemble(results: dict[str, pd.DataFrame], persons: pd.DataFrame, households: pd.DataFrame,
             key: str | None, scope: str | None) -> pd.DataFrame:
    """The ``dept_mismatch`` ledger from the rules' rows: rule names and departments, the
    household's town and village (the roll's own for a person outside the register; in a town's
    scope only those naming the town), ``person_key`` for persons outside the register."""
    from qjlib.core.pseudonym import person_key

    frames = []
    for rule, df in results.items():
        zh, dept, _ = RULES[rule]
        f = df.assign(rule=rule, rule_zh=zh)
        f["dept"] = f["dept"].fillna(dept) if "dept" in f.columns else dept
        frames.append(f.reindex(columns=[*LEDGER_COLUMNS, "id_key"]))
    led = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LEDGER_COLUMNS)
    ppos = positions(led["person_id"].fillna(""), persons["person_id"])
    led["hh_id"] = led["hh_id"].fillna(pd.Series(
        persons["hh_id"].to_numpy()[np.where(ppos >= 0, ppos, 0)], index=led.index).where(ppos >= 0))
    hpos = positions(led["hh_id"].fillna(""), households["hh_id"])
    inside = hpos >= 0
    for c in ("town", "village"):
        vals = households[c].to_numpy()[np.where(inside, hpos, 0)] if len(households) else None
        led[c] = led[c].where(~inside, pd.Series(vals, index=led.index)) if vals is not None else led[c]
    unhoused = led["hh_id"].isna() & led["person_id"].isna()  # outsiders and posts
    if scope is not None:
        led = led[~unhoused | (led["town"] == scope).fillna(False)]
    outside = (led["hh_id"].isna() & led["person_id"].isna() & led["id_number"].notna())
    led = led.copy()
    led["person_key"] = pd.Series(pd.NA, index=led.index, dtype="str")
    if key and outside.any():
        led.loc[outside, "person_key"] = person_key(led.loc[outside, "id_number"], key).to_numpy()
    led["row"] = led["row"].astype("Int64")
    led["admitted"] = pd.to_datetime(led["admitted"])
    for c in ("rule", "rule_zh", "dept", "hh_id", "person_id", "post_id", "term", "programme",
              "name", "id_number", "file", "town", "village", "detail", "reason"):
        led[c] = led[c].astype("str")
    return led[list(LEDGER_COLUMNS)].sort_values(list(LEDGER_KEY), na_position="last",
                                                 kind="stable").reset_index(drop=True)


def _match_counts(rolls: dict[str, pd.DataFrame], persons: pd.DataFrame,
                  scope: str | None) -> tuple[dict[str, int], dict[str, int]]:
    """Rows of each roll whose ID matches a registered person, and those matching none (in a
    town's scope: rows naming the town; tables without a ``town`` column count none)."""
    matched, unmatched = {}, {}
    for t, df in rolls.items():
        reg = is_registered(df, persons)
        matched[t] = int(reg.sum())
        mine = np.ones(len(df), dtype=bool)
        if scope is not None:
            mine = (df["town"] == scope).fillna(False).to_numpy(dtype=bool) if "town" in df else ~mine
        unmatched[t] = int((~reg & mine).sum())
    return matched, unmatched


@per_context
def analyse(ctx: Context) -> DepartmentsAnalysis | None:
    """The rules on the scope's register and the departments' rolls; None when the package holds
    no department table or no members."""
    pkg = ctx.pkg
    present = [t for t in DEPT_TABLES if pkg.has(t)]
    if not present or not pkg.has("members"):
        return None
    rolls = {t: roll(pkg[t]) for t in present}
    hh = pkg["households"]
    p = registered_persons(hh, pkg["members"], rolls.get("deaths"), ctx.asof, COUNTED_MEMBER_STATUSES)
    off = {rule: why for rule in RULES if (why := _missing(pkg, rule))}
    results = _run_rules(ctx, p, rolls, set(RULES) - set(off))
    key, note = county_key_of(pkg)
    ledger = assemble(results, p, hh, key, ctx.scope)
    matched, unmatched = _match_counts(rolls, p, ctx.scope)
    st = None
    if "hospital" in rolls:
        st = r.registered_stays(r.stays(rolls["hospital"], ctx.asof), p).drop_duplicates(
            ["id_key", "admitted"])
    band = None
    if "enrollment" in rolls:
        band = s.school_age(p, ctx.asof, int(ctx.params.get("education.age_min")),
                            int(ctx.params.get("education.age_max")))
    return DepartmentsAnalysis(
        as_of=ctx.asof, income_year=int(ctx.income_year), ledger=ledger, rules_off=off,
        matched=matched, unmatched=unmatched, persons=p, stays=st, school_age=band,
        insurance=rolls.get("insurance"), notes=(note,) if note else (),
    )


def empty_ledger() -> pd.DataFrame:
    """``dept_mismatch`` with its columns and no rows."""
    return pd.DataFrame({c: pd.Series(dtype="str") for c in LEDGER_COLUMNS})


def build_ledgers(ctx: Context) -> dict[str, pd.DataFrame]:
    """``dept_mismatch`` for the scope (empty with its columns when there is no department table)."""
    res = analyse(ctx)
    return {"dept_mismatch": empty_ledger() if res is None else res.ledger}


def standard_warning(ctx: Context) -> str | None:
    """The run's warning when 应保未保 is computed and the county has not set its own
    ``dept.dibao_standard`` (the default, the year's poverty line, is only a floor under "两线合一");
    None when it has set it or the rule is off (no welfare or income table)."""
    pkg = ctx.pkg
    if not (pkg.has("welfare") and pkg.has("income")) or standard_set(ctx.params):
        return None
    value = ctx.params.get("dept.dibao_standard").get(int(ctx.income_year))
    shown = "未知 unknown" if value is None else f"{float(value):,.0f}"
    return (f"警告：县未设定本县农村低保标准（参数 dept.dibao_standard），应保未保按 {ctx.income_year} 年扶贫标准 "
            f"{shown} 元/人·年测算（两线合一的下限）/ warning: the county has not set dept.dibao_standard; "
            "应保未保 uses the year's poverty line (a floor)")


def standard_set(params) -> bool:
    """Whether the run's ``dept.dibao_standard`` is the county's own (overridden in its parameter
    file or on the command line) rather than the default poverty line."""
    return params.sources.get("dept.dibao_standard", "").startswith("覆盖")


def summary(ctx: Context) -> dict:
    """``departments.*``: ``rules.<rule>`` (rows in ``dept_mismatch``; switched-off rules are not
    counted but listed in ``rules_off`` with why), ``matched.<table>`` / ``unmatched.<table>``,
    ``dibao_standard`` (yuan per person, year Y) and ``dibao_standard_set`` (False: the county has
    not set its own 低保 standard and the default — the poverty line — is used)."""
    res = analyse(ctx)
    if res is None:
        return {"available": False, "reason": "未提供部门数据 / no department table"}
    counts = res.ledger["rule"].value_counts()
    return {
        "available": True,
        "as_of": res.as_of.date().isoformat(),
        "income_year": res.income_year,
        "rules": {k: int(counts.get(k, 0)) for k in RULES if k not in res.rules_off},
        "rules_off": dict(res.rules_off),
        "matched": dict(res.matched),
        "unmatched": dict(res.unmatched),
        "dibao_standard": ctx.params.get("dept.dibao_standard").get(int(res.income_year)),
        "dibao_standard_set": standard_set(ctx.params),
        "notes": list(res.notes),
    }
