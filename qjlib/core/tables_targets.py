"""The tables of ``shared/contract/targets.md``: the dated targets (secretary_visits, funds, fund_payments, loans, relocation).

Written with the blocks of :mod:`qjlib.core.columns`; :mod:`qjlib.core.schema` adds them to its
``TABLES``, ``VALUE_LISTS`` (keys ``table.column`` for one table's column, ``column`` for all)
and ``CODE_LABELS_ZH``. Money read from a ``（万元）`` header is multiplied by 10,000 by the loader
(generic); a refund is a negative payment (``fund_payments.amount`` is signed).
"""

from __future__ import annotations

from qjlib.core.columns import HH_ID, TOWN, C, Table

TABLES: tuple[Table, ...] = (
    Table(
        "secretary_visits", "三级书记遍访", ("secretary_visits", "遍访记录", "三级书记遍访"),
        ("visitor_id", "target_type", "target", "date"),
        (
            C("visitor_id", "id", "遍访人编号", required=True),
            C("visitor_name", "text", "遍访人", "姓名", pii=True),
            C("level", "enum", "层级", "书记层级", required=True),
            C("post", "text", "职务"),
            C("target_type", "enum", "遍访对象类型", required=True),
            C("target", "id", "遍访对象编号", required=True),
            C("date", "date", "遍访日期", required=True),
            C("problems", "text", "发现问题"),
        ),
        ("三级书记遍访进度（方案 五.2）", "the secretaries' visits targets (plan 5.2)"),
    ),
    Table(
        "funds", "扶贫资金台账", ("funds", "资金台账", "扶贫资金"), ("fund_id",),
        (
            C("fund_id", "id", "资金编号", "指标文号", required=True),
            C("year", "year", "资金年度", required=True),
            C("poverty_fund", "bool", "是否财政专项扶贫资金", required=True),
            C("integrated", "bool", "是否纳入统筹整合", required=True),
            C("level", "enum", "资金级次"),
            C("project_id", "id", "项目编号"),
            TOWN,
            C("issued", "money", "下达金额", required=True),
            C("issued_date", "date", "下达日期"),
        ),
        ("资金支出进度（方案 二.8(1)）", "the funds' spending targets (plan 2.8(1))"),
    ),
    Table(
        "fund_payments", "资金支出明细", ("fund_payments", "资金支出", "支出明细"),
        ("fund_id", "date", "amount"),
        (
            C("fund_id", "id", "资金编号", "指标文号", required=True),
            C("date", "date", "支付日期", required=True),
            C("amount", "money", "支付金额", required=True),
        ),
        ("资金支出进度（方案 二.8(1)）", "the funds' spending targets (plan 2.8(1))"),
    ),
    Table(
        "loans", "扶贫小额信贷", ("loans", "小额信贷", "扶贫小额信贷"), ("loan_id",),
        (
            C("loan_id", "id", "贷款编号", "借据编号", required=True),
            HH_ID,
            C("id_number", "idnum", "借款人证件号码", pii=True),
            C("bank", "text", "贷款银行"),
            C("amount", "money", "贷款金额", required=True),
            C("loan_date", "date", "放款日期", required=True),
            C("due_date", "date", "到期日期", required=True),
            C("balance", "money", "贷款余额", required=True),
            C("overdue_since", "date", "逾期日期"),
            C("repaid_date", "date", "结清日期"),
        ),
        ("小额信贷逾期与合规（方案 二.8(2)）", "micro-credit overdue and eligibility (plan 2.8(2))"),
    ),
    Table(
        "relocation", "易地扶贫搬迁", ("relocation", "易地搬迁", "搬迁户"), ("hh_id",),
        (
            HH_ID,
            C("site", "text", "安置点"),
            C("moved_in", "bool", "是否实际入住", required=True),
            C("moved_in_date", "date", "入住日期"),
            C("old_house", "enum", "旧宅处置"),
            C("reclaimed_date", "date", "复垦日期"),
        ),
        ("搬迁入住与旧宅复垦（方案 二.2）", "relocation moved-in and reclaimed (plan 2.2)"),
    ),
)
"""The area's tables, in contract order."""

VALUE_LISTS: dict[str, dict[str, tuple[str, ...]]] = {
    "secretary_visits.level": {"县级": ("县", "县级书记"), "镇级": ("镇", "乡镇", "镇级书记"),
                               "村级": ("村", "村级书记")},
    "secretary_visits.target_type": {"household": ("户",), "village": ("村",)},
    "funds.level": {"中央": (), "省": ("省级",), "市": ("市级",), "县": ("县级",)},
    "relocation.old_house": {"reclaimed": ("已拆除复垦",), "standing": ("未拆除",)},
}
"""Canonical value → accepted spellings, per ``table.column`` (or ``column``)."""

CODE_LABELS_ZH: dict[str, dict[str, str]] = {
    "target_type": {"household": "户", "village": "村"},
    "old_house": {"reclaimed": "已拆除复垦", "standing": "未拆除"},
}
"""Chinese labels of canonical codes, per column."""

