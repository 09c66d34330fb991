"""The data package's tables, written once: canonical columns, their Chinese aliases, kinds and
value lists (``shared/contract/inputs.md``).

Everything that reads, validates, generates or labels a table takes its facts from here: the
loaders (aliases, kinds, required columns), the demo county (the Chinese headers it writes), the
ledgers (Chinese column labels) and privacy (which columns are personal information).

Column kinds (the canonical dtype after loading):

========  =====================================================================
kind      canonical dtype
========  =====================================================================
``id``    text (``str``), stripped; never a float (``610830...`` stays text)
``idnum`` 18-character resident ID number as text, trailing ``x`` upper-cased
``text``  text
``money`` float64 yuan (a ``（万元）`` header multiplies by 10,000)
``int``   nullable Int64
``year``  nullable Int64 (a four-digit year)
``date``  datetime64 (day precision)
``bool``  nullable boolean from 是/否, Y/N, 1/0, true/false
``enum``  text normalised through the column's value list (``VALUE_LISTS``)
``float`` float64
========  =====================================================================
"""

from __future__ import annotations

from qjlib.core import tables_departments, tables_exit, tables_monitoring, tables_targets
from qjlib.core.columns import (  # noqa: F401  (re-exported: the one place to import them from)
    HELPER_ID,
    HH_ID,
    PROJECT_ID,
    TOWN,
    VILLAGE,
    YEAR,
    C,
    Column,
    Table,
)
from qjlib.core.columns import required as _req

_AREAS = (tables_departments, tables_monitoring, tables_exit, tables_targets)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "households", "户信息", ("households", "户信息"), ("hh_id",),
            (
                HH_ID,
                C("county", "text", "县", "县(市、区、旗)"),
                _req(TOWN),
                _req(VILLAGE),
                C("hamlet", "text", "自然村"),
                C("head_name", "text", "户主姓名", "户主", pii=True),
                C("head_id_number", "idnum", "户主证件号码", "户主身份证号", pii=True),
                C("size", "int", "家庭人口数", "当前家庭人口数", "人数", required=True),
                C("poverty_attr", "enum", "贫困户属性"),
                C("exit_status", "enum", "脱贫属性", "脱贫状态", required=True),
                C("exit_year", "year", "脱贫年度"),
                C("planned_exit_year", "year", "计划脱贫年度"),
                C("identified_year", "year", "识别年度", "首次识别时间"),
                C("main_cause", "enum", "主要致贫原因", "致贫原因1"),
                C("phone", "text", "户联系电话", "联系电话", pii=True),
                C("relocated", "bool", "是否易地扶贫搬迁户", "是否搬迁户"),
            ),
        ),
        Table(
            "members", "人员信息", ("members", "人员信息"), ("person_id",),
            (
                C("person_id", "id", "人编号", "人口编号", required=True),
                HH_ID,
                C("name", "text", "姓名", pii=True),
                C("id_number", "idnum", "证件号码", "身份证号", pii=True),
                C("relation", "enum", "与户主关系", required=True),
                C("sex", "enum", "性别"),
                C("birth_date", "date", "出生日期"),
                C("education", "text", "文化程度"),
                C("school_status", "text", "在校生状况"),
                C("health", "text", "健康状况"),
                C("labor_skill", "enum", "劳动技能", required=True),
                C("migrant_months", "float", "务工时间（月）"),
                C("medical_insured", "bool", "是否参加城乡居民基本医疗保险",
                  "是否参加新型农村合作医疗（城乡居民基本医疗保险）"),
                C("critical_illness_insured", "bool", "是否参加大病保险"),
                C("dibao", "bool", "是否享受农村居民最低生活保障", "是否享受低保"),
                tables_departments.MEMBER_STATUS,  # departments.md: 正常 members count in person rules
            ),
        ),
        Table(
            "income", "收入信息", ("income", "收入信息"), ("hh_id", "year"),
            (
                HH_ID,
                YEAR,
                C("size", "int", "年度家庭人口数", "家庭人口数", required=True),
                C("wage", "money", "工资性收入", required=True),
                C("operating", "money", "生产经营性收入", required=True),
                C("operating_cost", "money", "生产经营性支出", required=True),
                C("property", "money", "财产性收入", required=True),
                C("transfer", "money", "转移性收入", required=True),
                C("family_planning", "money", "计划生育金"),
                C("dibao_pay", "money", "低保金", "最低生活保障金"),
                C("wubao_pay", "money", "五保金", "特困人员救助供养金"),
                C("pension", "money", "养老保险金", "养老金或离退休金"),
                C("eco_comp", "money", "生态补偿金"),
                C("other_transfer", "money", "其他转移性收入"),
                C("net_income", "money", "纯收入", "家庭年纯收入", "纯收入（元）"),
                C("net_per_capita", "money", "人均纯收入", "人均纯收入（元）"),
            ),
        ),
        Table(
            "projects", "产业项目", ("projects", "产业项目"), ("project_id",),
            (
                PROJECT_ID,
                C("name", "text", "项目名称"),
                YEAR,
                TOWN,
                VILLAGE,
                C("category", "enum", "项目类别", required=True),
                C("industry", "text", "产业"),
                C("nature", "enum", "项目性质", "带动方式", required=True),
                C("entity", "text", "带动主体", "经营主体"),
                C("investment", "money", "投资金额（元）", "投资金额", "投资金额（万元）", required=True),
                C("fund_source", "text", "资金来源"),
                C("planned_households", "int", "计划带动贫困户数"),
                C("guaranteed_dividend", "money", "保底分红（元/户）"),
                C("dividend_due", "date", "分红截止日期", "计划分红时间"),
            ),
        ),
        Table(
            "benefits", "项目受益", ("benefits", "项目受益"), ("project_id", "hh_id", "year", "benefit_type"),
            (
                PROJECT_ID,
                HH_ID,
                YEAR,
                C("benefit_type", "enum", "受益方式", required=True),
                # A blank amount of a 分红 row means "entitled, not yet paid" (contract/outputs.md).
                Column("amount", "money", "受益金额（元）", ("受益金额（元）", "受益金额"), True, False, True),
                C("paid_date", "date", "到账日期", "兑付日期"),
            ),
        ),
        Table(
            "helpers", "帮扶责任人", ("helpers", "帮扶责任人"), ("helper_id",),
            (
                HELPER_ID,
                C("name", "text", "姓名", pii=True),
                C("id_number", "idnum", "证件号码", pii=True),
                C("phone", "text", "联系电话", "联系人电话", pii=True),
                C("unit", "text", "单位名称", "工作单位"),
                C("rank", "text", "职务", "职级"),
                C("team", "text", "队伍类别"),
            ),
        ),
        Table(
            "pairings", "结对关系", ("pairings", "结对关系"), ("helper_id", "hh_id", "start"),
            (
                HELPER_ID,
                HH_ID,
                C("start", "date", "帮扶开始时间", required=True),
                C("end", "date", "帮扶结束时间"),
            ),
        ),
        Table(
            "visits", "走访记录", ("visits", "走访记录"), ("helper_id", "hh_id", "date"),
            (
                HELPER_ID,
                HH_ID,
                C("date", "date", "走访日期", required=True),
                C("kind", "text", "走访类型"),
            ),
        ),
        Table(
            "reviews", "帮扶测评", ("reviews", "帮扶测评"), ("helper_id", "date", "source", "hh_id"),
            (
                HELPER_ID,
                C("date", "date", "测评日期", required=True),
                C("source", "enum", "测评方式", required=True),
                C("score", "float", "得分", required=True),
                Column("hh_id", "id", "户编号", ("户编号",), False, False),
            ),
        ),
    ]
}

REGISTER_TABLES = tuple(TABLES)
"""The register's tables (``inputs.md``), before the added contracts' tables."""

# The added contracts' tables, each area in its own module (``qjlib.core.tables_*``).
for _area in _AREAS:
    for _t in _area.TABLES:
        if _t.name in TABLES:
            raise ValueError(f"table {_t.name} defined twice")  # pragma: no cover - a developer's slip
        TABLES[_t.name] = _t

# households is the one table without which nothing runs; the others switch analyses off.
REQUIRED_TABLES = ("households",)

# Value lists: canonical value -> accepted spellings (the canonical value itself is accepted too).
# Anything else is a finding ("value not in list") and is kept as given.
VALUE_LISTS: dict[str, dict[str, tuple[str, ...]]] = {
    "exit_status": {
        "not_exited": ("未脱贫", "0"),
        "exited": ("已脱贫", "已脱贫（享受政策）", "已脱贫(享受政策)", "已脱贫（不再享受政策）",
                   "已脱贫(不再享受政策)", "1", "4"),
        "returned": ("返贫", "3"),
    },
    "poverty_attr": {
        "一般贫困户": ("一般户",),
        "低保贫困户": ("低保户",),
        "特困供养贫困户": ("五保户", "特困户"),
        "低保特困供养贫困户": (),
    },
    "labor_skill": {
        "普通劳动力": (),
        "技能劳动力": (),
        "弱劳动力或半劳动力": ("弱劳动力", "半劳动力"),
        "丧失劳动力": (),
        "无劳动力": (),
    },
    "main_cause": {
        "因病": (), "因残": (), "因学": (), "因灾": (), "缺土地": (), "缺水": (), "缺技术": (),
        "缺劳力": ("缺劳动力",), "缺资金": (), "交通条件落后": (), "自身发展动力不足": (),
        "因婚": (), "因丧": (), "其他": (),
    },
    "relation": {
        v: () for v in (
            "户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女", "之外孙子",
            "之外孙女", "之父", "之母", "之岳父", "之岳母", "之公公", "之婆婆", "之祖父", "之祖母",
            "之外祖父", "之外祖母", "之兄弟姐妹", "其他",
        )
    },
    "sex": {"男": ("M", "male"), "女": ("F", "female")},
    "nature": {
        "direct": ("到户直补", "直补到户"),
        "entity_led": ("新型经营主体带动", "经营主体带动"),
        "collective": ("村集体经济",),
        "asset_income": ("资产收益",),
    },
    "category": {
        v: () for v in ("种植业", "养殖业", "设施农业", "光伏扶贫", "加工业", "乡村旅游", "电商",
                        "村集体经济", "其他")
    },
    "benefit_type": {
        v: () for v in ("直补", "分红", "务工", "订单收购", "土地流转", "本金返还")
    },
    "source": {
        "villagers": ("群众测评",),
        "leaders": ("领导点评",),
        "interview": ("干部访谈",),
    },
}

# Chinese labels of canonical codes, for people (ledgers.xlsx, notebooks).
CODE_LABELS_ZH: dict[str, dict[str, str]] = {
    "exit_status": {"not_exited": "未脱贫", "exited": "已脱贫", "returned": "返贫"},
    "nature": {"direct": "到户直补", "entity_led": "新型经营主体带动", "collective": "村集体经济",
               "asset_income": "资产收益"},
    "source": {"villagers": "群众测评", "leaders": "领导点评", "interview": "干部访谈"},
}

# The areas' value lists and code labels. A key ``table.column`` holds for that table's column
# only (a disability ``category`` is not a project's); a bare ``column`` key for every table.
for _area in _AREAS:
    for _k, _v in _area.VALUE_LISTS.items():
        if _k in VALUE_LISTS:
            raise ValueError(f"value list {_k} defined twice")  # pragma: no cover
        VALUE_LISTS[_k] = _v
    CODE_LABELS_ZH.update(_area.CODE_LABELS_ZH)


def value_list_key(table: str, column: str) -> str:
    """The key of :data:`VALUE_LISTS` that holds for ``table``'s ``column``: ``table.column``
    when there is one, else ``column``."""
    qualified = f"{table}.{column}"
    return qualified if qualified in VALUE_LISTS else column


BOOL_TRUE = ("是", "y", "yes", "1", "true", "t", "√")
BOOL_FALSE = ("否", "n", "no", "0", "false", "f", "×")

# Rows whose first text cell is one of these are totals lines of an Excel export: dropped, counted.
TOTAL_MARKERS = ("合计", "总计", "小计", "合  计", "总  计")

# Header units: a bracketed unit after a header name multiplies money by this factor.
UNIT_FACTORS = {"元": 1.0, "万元": 10_000.0, "元/户": 1.0, "月": 1.0}

LABOR_CAPACITY = ("有劳动能力", "弱劳动能力", "无劳动能力")


def pii_columns(table: str) -> tuple[str, ...]:
    """The table's columns that hold personal information (masked in outputs)."""
    return tuple(c.name for c in TABLES[table].columns if c.pii)
