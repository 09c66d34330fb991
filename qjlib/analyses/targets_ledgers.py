"""The ledgers of the plan's dated targets (``shared/contract/targets.md``): the items behind each
unmet target. Built by :func:`build` from the scope's :class:`~qjlib.analyses.targets_measures.TargetData`
and the targets of ``params/targets.yaml`` (their checkpoint dates and thresholds), with the
measures' own helpers — every definition is written once, in :mod:`qjlib.analyses.targets_measures`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qjlib.analyses import targets_measures as tm
from qjlib.analyses.targets_measures import TargetData
from qjlib.core.exact import fen, fraction
from qjlib.core.ids import isin, positions
from qjlib.core.ledgers import LedgerSpec
from qjlib.core.targets_params import Target

SPECS = {
    "visit_missing": LedgerSpec("visit_missing", "三级书记遍访未覆盖台账", ("target_type", "target"),
                                {"target_id": "目标", "deadline": "期限",
                                 "overdue": "已逾期"}, plan="R10"),
    "visit_monthly": LedgerSpec("visit_monthly", "三级书记遍访月度统计", ("month", "level", "town"),
                                {"month": "月份", "visits": "遍访次数", "targets_visited": "遍访对象数"},
                                plan="R10"),
    "funds_behind": LedgerSpec("funds_behind", "资金支出进度滞后台账", ("fund_id",),
                               {"type": "资金类型", "paid": "已支付", "ratio": "支出进度",
                                "checkpoint": "检查日", "threshold": "进度要求"}, plan="R11",
                               formats={"threshold": "share"}),
    "loan_overdue": LedgerSpec("loan_overdue", "扶贫小额信贷逾期台账", ("loan_id",),
                               {"days_overdue": "逾期天数", "should_be_cleared": "应于6月底前清零"},
                               plan="R12", formats={"days_overdue": "int"}),
    "loan_ineligible": LedgerSpec("loan_ineligible", "扶贫小额信贷不合规台账", ("loan_id",),
                                  {"age": "放款时年龄", "reasons": "问题代码"}, plan="R12",
                                  formats={"age": "int"}),
    "housing_behind": LedgerSpec("housing_behind", "危房改造竣工入住滞后台账", ("hh_id",),
                                 {"not_completed": "未按期竣工", "not_moved_in": "未入住",
                                  "overdue": "已逾期"}, plan="R15"),
    "relocation_behind": LedgerSpec("relocation_behind", "易地搬迁入住与旧宅复垦滞后台账", ("hh_id",),
                                    {"not_moved_in": "未入住", "overdue": "已逾期",
                                     "house_standing": "旧宅未拆除"}, plan="R15"),
    "relocation_mismatch": LedgerSpec("relocation_mismatch", "搬迁户身份不一致台账", ("hh_id",),
                                      {"in_relocation": "在搬迁台账中"}, plan="R15"),
}
COLUMNS = {
    "visit_missing": ["target_type", "target", "target_id", "town", "village", "deadline", "overdue", "reason"],
    "visit_monthly": ["month", "level", "town", "visits", "targets_visited"],
    "funds_behind": ["fund_id", "year", "town", "project_id", "type", "issued", "paid", "ratio",
                     "checkpoint", "threshold", "reason"],
    "loan_overdue": ["loan_id", "hh_id", "town", "village", "amount", "loan_date", "due_date", "balance",
                     "overdue_since", "days_overdue", "should_be_cleared", "reason"],
    "loan_ineligible": ["loan_id", "hh_id", "town", "village", "id_number", "amount", "loan_date", "age",
                        "reasons", "reason"],
    "housing_behind": ["hh_id", "town", "village", "not_completed", "not_moved_in", "overdue", "reason"],
    "relocation_behind": ["hh_id", "town", "village", "site", "moved_in", "moved_in_date", "old_house",
                          "not_moved_in", "overdue", "house_standing", "reason"],
    "relocation_mismatch": ["hh_id", "town", "village", "relocated", "in_relocation", "reason"],
}


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in COLUMNS[name]})


def _by_measure(targets: tuple[Target, ...], measure: str) -> Target | None:
    return next((t for t in targets if t.measure == measure), None)


def _passed(t: Target | None, data: TargetData) -> list[tuple[pd.Timestamp, float]]:
    """The target's checkpoints on or before A (day, threshold), in order."""
    if t is None:
        return []
    days = [(pd.Timestamp(year=data.year, month=c.month, day=c.day), c.threshold) for c in t.checkpoints]
    return [(d, thr) for d, thr in days if d <= data.asof]


def _place(data: TargetData, hh_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(town, village) of each ``hh_id`` from the register (None when not registered)."""
    hh = data["households"]
    pos = positions(hh_ids, hh["hh_id"])
    ok = pos >= 0
    town = np.where(ok, hh["town"].to_numpy(dtype=object)[np.where(ok, pos, 0)], None) if len(hh) else np.full(len(pos), None)
    vil = np.where(ok, hh["village"].to_numpy(dtype=object)[np.where(ok, pos, 0)], None) if len(hh) else np.full(len(pos), None)
    return town, vil


def visit_missing(data: TargetData, targets: tuple[Target, ...]) -> pd.DataFrame:
    """Targets of ``visits.*`` with no qualifying visit up to A; ``deadline`` = the target's last
    checkpoint in C, ``overdue`` = deadline ≤ A."""
    parts = []
    for tid, (ttype, _, table) in tm.VISIT_FAMILIES.items():
        t = next((x for x in targets if x.id == tid), None)
        if t is None or not t.checkpoints or not data.has("secretary_visits") or not data.has(table):
            continue
        pool = tm.visit_pools(data, tid)
        miss = pool[~isin(pool["target"], tm.qualifying_visits(data, tid, data.asof)["target"])]
        last = t.checkpoints[-1]
        deadline = pd.Timestamp(year=data.year, month=last.month, day=last.day)
        parts.append(miss.assign(target_type=ttype, target_id=tid, deadline=deadline,
                                 overdue=deadline <= data.asof))
    if not parts:
        return _empty("visit_missing")
    out = pd.concat(parts, ignore_index=True)
    out["reason"] = np.where(out["overdue"], "期限已过仍未遍访", "尚未遍访（未到期限）")
    return out[COLUMNS["visit_missing"]].sort_values(["target_type", "target"]).reset_index(drop=True)


def visit_monthly(data: TargetData) -> pd.DataFrame:
    """Per month of C up to A, level and the visited target's town: visits and distinct targets
    (visits of targets unknown in the scope are not counted)."""
    if not data.has("secretary_visits"):
        return _empty("visit_monthly")
    hh = data["households"]
    known = [pd.DataFrame({"target_type": "household", "target": hh["hh_id"], "town": hh["town"]})]
    if data.has("edge_households"):
        e = data["edge_households"]
        e = e[~isin(e["hh_id"], hh["hh_id"])]
        known.append(pd.DataFrame({"target_type": "household", "target": e["hh_id"], "town": e["town"]}))
    if data.has("villages"):
        v = data["villages"]
        known.append(pd.DataFrame({"target_type": "village", "target": v["village_code"], "town": v["town"]}))
    k = pd.concat(known, ignore_index=True).drop_duplicates(["target_type", "target"])
    v = data["secretary_visits"]
    start = pd.Timestamp(year=data.year, month=1, day=1)
    v = v[((v["date"] >= start) & (v["date"] <= data.asof)).fillna(False).to_numpy(dtype=bool)]
    v = v[["target_type", "target", "level", "date"]].merge(k, on=["target_type", "target"], how="inner")
    if v.empty:
        return _empty("visit_monthly")
    v["month"] = v["date"].dt.strftime("%Y-%m")
    v["town"] = v["town"].fillna("未知")
    v["tkey"] = v["target_type"].astype(str) + ":" + v["target"].astype(str)
    out = v.groupby(["month", "level", "town"], as_index=False).agg(
        visits=("tkey", "size"), targets_visited=("tkey", "nunique"))
    return out[COLUMNS["visit_monthly"]].sort_values(["month", "level", "town"]).reset_index(drop=True)


def _below(paid: np.ndarray, issued: np.ndarray, thr: float) -> np.ndarray:
    """``paid ÷ issued < thr`` exactly (fen), for ``issued`` > 0."""
    p, q = fraction(thr)
    return (issued > 0) & (q * paid < p * issued)


def funds_behind(data: TargetData, targets: tuple[Target, ...]) -> pd.DataFrame:
    """Allocations of year C (poverty, integrated) whose own ratio on the latest passed checkpoint
    of their type is below its threshold (issued by that day), and every allocation of C − 1 not
    fully paid (below the ``funds.previous_year`` threshold) on its latest passed checkpoint."""
    if not (data.has("funds") and data.has("fund_payments")):
        return _empty("funds_behind")
    f = data["funds"]
    issued = fen(f["issued"])
    year = f["year"].to_numpy(dtype="float64", na_value=np.nan)
    rows = []
    for measure, typ, sel in (
        ("funds_poverty", "poverty", (year == data.year) & tm._flag(f, "poverty_fund")),
        ("funds_integrated", "integrated", (year == data.year) & tm._flag(f, "integrated")),
        ("funds_previous_year", "previous_year", year == data.year - 1),
    ):
        passed = _passed(_by_measure(targets, measure), data)
        if not passed:
            continue
        day, thr = passed[-1]
        paid = tm.fund_paid(data, day).to_numpy()
        m = sel & tm.issued_by(f, day) & _below(paid, issued, thr)
        rows.append(pd.DataFrame({"pos": np.flatnonzero(m), "type": typ, "paid": paid[m] / 100,
                                  "checkpoint": day, "threshold": thr}))
    if not rows:
        return _empty("funds_behind")
    b = pd.concat(rows, ignore_index=True).sort_values(["pos", "threshold"], ascending=[True, False])
    types = b.groupby("pos")["type"].agg(lambda s: "、".join(sorted(s)))
    b = b.drop_duplicates("pos").set_index("pos")
    b["type"] = types
    sub = f.iloc[b.index.to_numpy()]
    out = pd.DataFrame({
        "fund_id": sub["fund_id"].to_numpy(), "year": sub["year"].to_numpy(), "town": sub["town"].to_numpy()
        if "town" in sub.columns else None,
        "project_id": sub["project_id"].to_numpy() if "project_id" in sub.columns else None,
        "type": b["type"].to_numpy(), "issued": sub["issued"].to_numpy(dtype=float),
        "paid": b["paid"].to_numpy(), "checkpoint": b["checkpoint"].to_numpy(),
        "threshold": b["threshold"].to_numpy(),
    })
    out["ratio"] = out["paid"] / out["issued"]
    zh = {"poverty": "扶贫资金", "integrated": "整合资金", "previous_year": "上年度资金"}
    out["reason"] = [f"{'、'.join(zh[x] for x in t.split('、'))}：截至 {c:%m月%d日} 支出 {r:.1%}，要求 {h:.0%}"
                     for t, c, r, h in zip(out["type"], pd.to_datetime(out["checkpoint"]), out["ratio"],
                                           out["threshold"], strict=True)]
    return out[COLUMNS["funds_behind"]].sort_values("fund_id").reset_index(drop=True)


def loan_overdue(data: TargetData, targets: tuple[Target, ...]) -> pd.DataFrame:
    """Every loan overdue on A (:func:`~qjlib.analyses.targets_measures.overdue_on`):
    ``days_overdue`` = A − the earliest of (``due_date`` when before A, ``overdue_since`` when on or
    before A); ``should_be_cleared``: overdue already on a passed checkpoint of
    ``loans.overdue_cleared`` (06-30)."""
    if not data.has("loans"):
        return _empty("loan_overdue")
    ln = data["loans"]
    a = data.asof
    m = tm.overdue_on(ln, a)
    sub = ln[m]
    due = sub["due_date"].where(sub["due_date"] < a)
    since = sub["overdue_since"].where(sub["overdue_since"] <= a)
    start = pd.concat([due, since], axis=1).min(axis=1)
    passed = _passed(_by_measure(targets, "loans_overdue_cleared"), data)
    clear = tm.overdue_on(sub, passed[-1][0]) if passed else np.zeros(len(sub), dtype=bool)
    town, vil = _place(data, sub["hh_id"])
    out = pd.DataFrame({
        "loan_id": sub["loan_id"].to_numpy(), "hh_id": sub["hh_id"].to_numpy(), "town": town, "village": vil,
        "amount": sub["amount"].to_numpy(dtype=float), "loan_date": sub["loan_date"].to_numpy(),
        "due_date": sub["due_date"].to_numpy(), "balance": sub["balance"].to_numpy(dtype=float),
        "overdue_since": sub["overdue_since"].to_numpy(),
        "days_overdue": (a - start).dt.days.to_numpy(dtype="int64"), "should_be_cleared": clear,
    })
    out["reason"] = np.where(clear, "逾期未清零（应于6月底前清零）", "逾期")
    return out[COLUMNS["loan_overdue"]].sort_values("loan_id").reset_index(drop=True)


def _age(birth: pd.Series, day: pd.Series) -> np.ndarray:
    """Completed years of age on ``day`` (NaN when the birth date is unknown)."""
    b, d = pd.to_datetime(birth), pd.to_datetime(day)
    before = (d.dt.month * 100 + d.dt.day) < (b.dt.month * 100 + b.dt.day)
    return (d.dt.year - b.dt.year - before.astype("float64")).to_numpy(dtype="float64", na_value=np.nan)


_INELIGIBLE_ZH = {"not_registered": "借款户不是建档立卡户", "not_member": "借款人不是该户成员",
                  "too_young": "放款时未满最低年龄", "too_old": "放款时超过最高年龄",
                  "over_amount": "贷款金额超过上限"}


def loan_ineligible(data: TargetData) -> pd.DataFrame:
    """Loans whose household is not registered, whose borrower (``id_number``) is not a member of
    it (needs ``members``; a blank ``id_number`` is not judged), who was younger than
    ``loans.age_min`` or older than ``loans.age_max`` on ``loan_date`` (completed years; birth date
    of the matched member, else the ID number's), or whose ``amount`` exceeds ``loans.max_amount``
    (fen). ``reasons`` lists the codes."""
    if not data.has("loans"):
        return _empty("loan_ineligible")
    ln = data["loans"]
    hh = data["households"]
    flags = {"not_registered": ~isin(ln["hh_id"], hh["hh_id"])}
    idn = ln["id_number"] if "id_number" in ln.columns else pd.Series(pd.NA, index=ln.index, dtype="str")
    birth = pd.to_datetime(idn.str.slice(6, 14), format="%Y%m%d", errors="coerce")
    if data.has("members") and "id_number" in data["members"].columns:
        mem = data["members"]
        key = mem["hh_id"].astype("str") + "|" + mem["id_number"].astype("str")
        lkey = ln["hh_id"].astype("str") + "|" + idn.astype("str")
        pos = positions(lkey, key)
        flags["not_member"] = idn.notna().to_numpy() & (pos < 0) & ~flags["not_registered"]
        if "birth_date" in mem.columns:
            mb = mem["birth_date"].to_numpy()[np.where(pos >= 0, pos, 0)]
            birth = pd.Series(np.where((pos >= 0) & ~pd.isna(mb), mb, birth.to_numpy()), index=ln.index)
    age = _age(birth, ln["loan_date"])
    p = data.params
    flags["too_young"] = age < p.get("loans.age_min")
    flags["too_old"] = age > p.get("loans.age_max")
    flags["over_amount"] = fen(ln["amount"]) > fen(p.get("loans.max_amount"))
    f = pd.DataFrame({k: np.asarray(v, dtype=bool) for k, v in flags.items()})
    m = f.any(axis=1).to_numpy()
    if not m.any():
        return _empty("loan_ineligible")
    sub, fs = ln[m], f[m]
    codes = [",".join(c for c in fs.columns if r[c]) for r in fs.to_dict("records")]
    town, vil = _place(data, sub["hh_id"])
    out = pd.DataFrame({
        "loan_id": sub["loan_id"].to_numpy(), "hh_id": sub["hh_id"].to_numpy(), "town": town, "village": vil,
        "id_number": idn[m].to_numpy(dtype=object), "amount": sub["amount"].to_numpy(dtype=float),
        "loan_date": sub["loan_date"].to_numpy(), "age": pd.array(age[m], dtype="Int64"),
        "reasons": codes, "reason": ["；".join(_INELIGIBLE_ZH[x] for x in c.split(",")) for c in codes],
    })
    return out[COLUMNS["loan_ineligible"]].sort_values("loan_id").reset_index(drop=True)


def housing_behind(data: TargetData, targets: tuple[Target, ...]) -> pd.DataFrame:
    """The year's 危房改造 households not completed by the latest passed checkpoint of
    ``housing.rebuilt``, or not moved in on A (``overdue`` once a checkpoint of
    ``housing.moved_in`` has passed)."""
    if not data.has("housing"):
        return _empty("housing_behind")
    rb = _passed(_by_measure(targets, "housing_rebuilt"), data)
    now = tm.rebuild_households(data, data.asof)
    done = tm.rebuild_households(data, rb[-1][0])["completed"].to_numpy() if rb else np.ones(len(now), dtype=bool)
    not_done, not_in = ~done, ~now["moved_in"].to_numpy()
    m = not_done | not_in
    overdue = bool(_passed(_by_measure(targets, "housing_moved_in"), data))
    sub = now[m]
    town, vil = _place(data, sub["hh_id"])
    out = pd.DataFrame({"hh_id": sub["hh_id"].to_numpy(), "town": town, "village": vil,
                        "not_completed": not_done[m], "not_moved_in": not_in[m],
                        "overdue": not_in[m] & overdue})
    out["reason"] = [
        "；".join(x for x, on in (("未按期竣工", a), ("逾期未入住" if o else "尚未入住", b)) if on)
        for a, b, o in zip(out["not_completed"], out["not_moved_in"], out["overdue"], strict=True)]
    return out[COLUMNS["housing_behind"]].sort_values("hh_id").reset_index(drop=True)


def relocation_behind(data: TargetData, targets: tuple[Target, ...]) -> pd.DataFrame:
    """Relocated households not moved in on A (``overdue`` once a checkpoint of
    ``relocation.moved_in`` has passed), or whose old house stands (``old_house`` standing)."""
    if not data.has("relocation"):
        return _empty("relocation_behind")
    rel = data["relocation"]
    not_in = ~tm.moved_in_by(rel, data.asof)
    standing = (rel["old_house"] == "standing").fillna(False).to_numpy(dtype=bool)
    m = not_in | standing
    overdue = bool(_passed(_by_measure(targets, "relocation_moved_in"), data))
    sub = rel[m]
    town, vil = _place(data, sub["hh_id"])
    out = pd.DataFrame({
        "hh_id": sub["hh_id"].to_numpy(), "town": town, "village": vil,
        "site": sub["site"].to_numpy() if "site" in sub.columns else None,
        "moved_in": sub["moved_in"].to_numpy(), "moved_in_date": sub["moved_in_date"].to_numpy(),
        "old_house": sub["old_house"].to_numpy(), "not_moved_in": not_in[m],
        "overdue": not_in[m] & overdue, "house_standing": standing[m],
    })
    out["reason"] = [
        "；".join(x for x, on in (("逾期未入住" if o else "尚未入住", a), ("旧宅未拆除", b)) if on)
        for a, b, o in zip(out["not_moved_in"], out["house_standing"], out["overdue"], strict=True)]
    return out[COLUMNS["relocation_behind"]].sort_values("hh_id").reset_index(drop=True)


def relocation_mismatch(data: TargetData) -> pd.DataFrame:
    """Registered households whose ``relocated`` is 是 with no ``relocation`` row, and
    ``relocation`` rows of registered households whose ``relocated`` is 否 (blank: no mismatch)."""
    hh = data["households"]
    if not data.has("relocation") or "relocated" not in hh.columns:
        return _empty("relocation_mismatch")
    inrel = isin(hh["hh_id"], data["relocation"]["hh_id"])
    says = hh["relocated"]
    m = ((says == True) & ~inrel) | ((says == False) & inrel)  # noqa: E712 - nullable booleans
    m = m.fillna(False).to_numpy(dtype=bool)
    sub = hh[m]
    out = pd.DataFrame({"hh_id": sub["hh_id"].to_numpy(), "town": sub["town"].to_numpy(),
                        "village": sub["village"].to_numpy(), "relocated": sub["relocated"].to_numpy(),
                        "in_relocation": inrel[m]})
    out["reason"] = np.where(out["in_relocation"], "户信息为非搬迁户，但在搬迁台账中", "户信息为搬迁户，但不在搬迁台账中")
    return out[COLUMNS["relocation_mismatch"]].sort_values("hh_id").reset_index(drop=True)


def build(data: TargetData, targets: tuple[Target, ...]) -> dict[str, pd.DataFrame]:
    """Every ledger of :data:`SPECS` for the scope."""
    return {
        "visit_missing": visit_missing(data, targets), "visit_monthly": visit_monthly(data),
        "funds_behind": funds_behind(data, targets), "loan_overdue": loan_overdue(data, targets),
        "loan_ineligible": loan_ineligible(data), "housing_behind": housing_behind(data, targets),
        "relocation_behind": relocation_behind(data, targets),
        "relocation_mismatch": relocation_mismatch(data),
    }
