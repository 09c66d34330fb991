"""The tables of ``shared/contract/exit.md``: exit indicators (housing, water, villages, assessment).

Written with the blocks of :mod:`qjlib.core.columns`; :mod:`qjlib.core.schema` adds them to its
``TABLES``, ``VALUE_LISTS`` (keys ``table.column`` for one table's column, ``column`` for all)
and ``CODE_LABELS_ZH``.

- ``housing``: one row per house assessment (危房鉴定) and the works that follow it; two
  assessments of one household on one day are both kept (the worse grade decides), so the key is
  ``hh_id`` + ``assessed`` + ``grade``.
- ``water``: one row per household (饮水安全).
- ``villages``: one row per administrative village (行政村), keyed by ``village_code``.
- ``assessment``: one row per sampled household of a third-party exit assessment (第三方评估);
  its answers are never listed anywhere, only the rates.
"""

from __future__ import annotations

from qjlib.core.columns import HH_ID, TOWN, VILLAGE, C, Table, required

_VILLAGE_CODE = C("village_code", "id", "村代码", "行政区划代码", required=True)

TABLES: tuple[Table, ...] = (
    Table(
        "housing", "住房安全", ("housing", "住房安全", "危房鉴定"), ("hh_id", "assessed", "grade"),
        (
            HH_ID,
            C("assessed", "date", "鉴定日期", required=True),
            C("grade", "enum", "鉴定等级", "危房等级", required=True),
            C("works", "enum", "改造方式"),
            C("rebuild_year", "year", "改造年度"),
            C("completed", "date", "竣工日期"),
            C("moved_in", "date", "入住日期"),
        ),
        uses=("住房安全有保障（退出指标）、危房改造进度", "the safe-housing exit item and the rebuilding targets"),
    ),
    Table(
        "water", "饮水安全", ("water", "饮水安全"), ("hh_id",),
        (
            HH_ID,
            C("safe", "bool", "饮水安全", "是否安全饮水", required=True),
            C("source", "text", "水源类型"),
            C("checked", "date", "核验日期"),
        ),
        uses=("饮水安全有保障（退出指标）", "the safe-water exit item"),
    ),
    Table(
        "villages", "行政村", ("villages", "行政村", "村信息"), ("village_code",),
        (
            _VILLAGE_CODE,
            required(TOWN),
            required(VILLAGE),
            C("poor_village", "bool", "是否贫困村", required=True),
            C("exit_status", "enum", "退出状态"),
            C("exit_year", "year", "退出年度"),
            C("planned_exit_year", "year", "计划退出年度"),
            C("rural_population", "int", "农业户籍人口", "户籍人口", required=True),
            C("road", "bool", "通硬化路"),
            C("water_rate", "float", "安全饮水覆盖率"),
            C("electricity_rate", "float", "通电率"),
            C("clinic", "bool", "标准化卫生室"),
            C("clinic_covered", "bool", "纳入服务覆盖半径"),
            C("collective_income", "money", "村集体经济收入"),
            C("cooperative", "bool", "有农民专业合作社"),
            C("mutual_fund", "bool", "有互助资金协会"),
            C("broadband", "bool", "通宽带"),
        ),
        uses=("贫困村退出七项指标、县级577指标、综合贫困发生率",
              "the village exit items, the county's 577 items and the comprehensive incidence"),
    ),
    Table(
        "assessment", "评估抽样", ("assessment", "评估抽样", "第三方评估"), ("hh_id",),
        (
            HH_ID,
            _VILLAGE_CODE,
            C("stratum", "enum", "样本类型", required=True),
            C("persons", "int", "家庭人口数", required=True),
            C("wrongly_exited", "bool", "错退"),
            C("missed", "bool", "漏评"),
            C("approval", "enum", "认可度", "是否认可"),
        ),
        uses=("三率一度（错退率、漏评率、群众认可度）及综合贫困发生率",
              "the assessment's rates (wrong exits, missed households, approval) and the comprehensive incidence"),
    ),
)
"""The area's tables, in contract order."""

VALUE_LISTS: dict[str, dict[str, tuple[str, ...]]] = {
    "housing.grade": {"A": ("A级",), "B": ("B级",), "C": ("C级",), "D": ("D级",)},
    "housing.works": {"rebuild": ("重建", "拆除重建"), "repair": ("修缮加固", "修缮", "加固")},
    "villages.exit_status": {"not_exited": ("未退出",), "exited": ("已退出",)},
    "assessment.stratum": {
        "exited": ("已脱贫户",), "not_exited": ("未脱贫户",), "non_registered": ("非建档立卡户",),
    },
    "assessment.approval": {
        "approve": ("认可",), "basic": ("基本认可",), "disapprove": ("不认可",), "unsure": ("说不清",),
    },
}
"""Canonical value → accepted spellings, per ``table.column`` (or ``column``)."""

CODE_LABELS_ZH: dict[str, dict[str, str]] = {
    "works": {"rebuild": "重建", "repair": "修缮加固"},
    "stratum": {"exited": "已脱贫户", "not_exited": "未脱贫户", "non_registered": "非建档立卡户"},
    "approval": {"approve": "认可", "basic": "基本认可", "disapprove": "不认可", "unsure": "说不清"},
}
"""Chinese labels of canonical codes, per column."""
