"""The tables of ``shared/contract/departments.md``: the departments' rolls (welfare, disability, insurance, hospital, enrollment, student_aid, posts, deaths).

Written with the blocks of :mod:`qjlib.core.columns`; :mod:`qjlib.core.schema` adds them to its
``TABLES``, ``VALUE_LISTS`` (keys ``table.column`` for one table's column, ``column`` for all)
and ``CODE_LABELS_ZH``.

Keys. The contract names no key for a department row, and every natural one would hold the ID
number (personal: a findings ledger shows its rows' keys unmasked). Each department row is
therefore its own: the key is its file and row (``_file``, ``_row``), so no row is rejected as a
repeat — a payment or settlement made twice is exactly what the rules look for. The same person
twice in ``deaths`` (or holding two ``disability`` cards) is the finding ``duplicate_id_number``
(:data:`UNIQUE_ID_TABLES`).
"""

from __future__ import annotations

from qjlib.core.columns import TOWN, VILLAGE, YEAR, C, Column, Table

_ROW_KEY = ("_file", "_row")

# People: resident ID number (required, GB 11643) and name, as the departments head them.
ID_NUMBER = C("id_number", "idnum", "证件号码", "身份证号", "身份证号码", "公民身份号码", required=True,
              pii=True)
NAME = C("name", "text", "姓名", pii=True)
TERM = C("term", "text", "学期", "学年学期", required=True)
"""A school term as the department writes it; the loader rewrites it to ``YYYY春``/``YYYY秋``
(:func:`qjlib.core.spells.parse_terms`) and rejects a term it cannot read (``unparseable_term``)."""


TABLES: tuple[Table, ...] = (
    Table(
        "welfare", "低保特困名册", ("welfare", "低保特困", "低保特困名册", "民政救助"), _ROW_KEY,
        (
            ID_NUMBER, NAME,
            C("programme", "enum", "保障类型", "救助类型", required=True),
            C("class", "text", "保障类别", "分类施保类别"),
            C("start", "date", "起始日期", "纳入日期", "享受起始日期", required=True),
            C("end", "date", "终止日期", "退出日期"),
            C("monthly_amount", "money", "月保障金", "月保障金额"),
            TOWN, VILLAGE,
        ),
        uses=("应保未保、低保身份与金额核对、在保不在档、脱贫即脱保关闭",
              "dibao coverage, status and payment checks, welfare outside the register off"),
    ),
    Table(
        "disability", "残疾人名册", ("disability", "残疾人", "残疾人名册"), _ROW_KEY,
        (
            ID_NUMBER, NAME,
            C("card_number", "id", "残疾人证号", "残疾证号", required=True, pii=True),
            C("category", "enum", "残疾类别", required=True),
            C("grade", "enum", "残疾等级", required=True),
            C("issued", "date", "发证日期"),
        ),
        uses=("残疾无证、持证未标残疾核对关闭", "disability card checks off"),
    ),
    Table(
        "insurance", "医保参保名单", ("insurance", "医保参保", "参保名单"), _ROW_KEY,
        (
            ID_NUMBER, NAME,
            Column("year", "year", "参保年度", ("参保年度", *YEAR.aliases), True),
            C("basic", "bool", "基本医疗保险", "是否参保", required=True),
            C("scheme", "text", "参保类型"),
            C("critical", "bool", "大病保险"),
            C("family_doctor", "bool", "家庭医生签约"),
            C("exempt", "enum", "免缴原因", "未参保原因"),
        ),
        uses=("未参保核对、参合率与大病保险覆盖率关闭", "insurance coverage checks and rates off"),
    ),
    Table(
        "hospital", "住院报销", ("hospital", "住院报销", "住院结算"), _ROW_KEY,
        (
            ID_NUMBER, NAME,
            C("admitted", "date", "入院日期", required=True),
            C("discharged", "date", "出院日期"),
            C("total_cost", "money", "住院总费用", "医疗总费用", required=True),
            C("eligible_cost", "money", "政策范围内费用", "合规费用"),
            C("reimbursed", "money", "报销合计", "补偿合计", required=True),
            C("out_of_pocket", "money", "个人自付"),
            C("hospital_name", "text", "医疗机构名称", "医院名称", "就诊医院"),
        ),
        uses=("住院报销比例核对与实际补助比例关闭", "inpatient reimbursement checks and ratio off"),
    ),
    Table(
        "enrollment", "学籍", ("enrollment", "学籍"), _ROW_KEY,
        (
            ID_NUMBER, NAME, TERM,
            C("school", "text", "学校", "就读学校"),
            C("stage", "enum", "学段"),
            C("status", "enum", "学籍状态", "在校状态", required=True),
        ),
        uses=("辍学、学籍未找到核对关闭", "drop-out and enrolment checks off"),
    ),
    Table(
        "student_aid", "学生资助", ("student_aid", "学生资助"), _ROW_KEY,
        (
            ID_NUMBER, NAME, TERM,
            C("stage", "enum", "学段"),
            C("programme", "text", "资助项目", required=True),
            C("channel", "enum", "资助渠道", "发放单位", required=True),
            C("amount", "money", "资助金额", "金额", required=True),
        ),
        uses=("重复资助、多头资助核对关闭", "repeated and multi-channel student aid checks off"),
    ),
    Table(
        "posts", "公益岗位人员", ("posts", "公益岗位", "生态护林员", "岗位人员"), _ROW_KEY,
        (
            C("post_id", "id", "岗位编号", required=True),
            C("post_type", "enum", "岗位类型", required=True),
            ID_NUMBER, NAME,
            C("start", "date", "上岗日期", "聘用起始日期", required=True),
            C("end", "date", "离岗日期", "聘用终止日期"),
            C("monthly_pay", "money", "月工资", "月补助"),
            TOWN, VILLAGE,
        ),
        uses=("一人多岗、轮流上岗、非建档立卡人员上岗核对关闭", "post checks off"),
    ),
    Table(
        "deaths", "死亡人员", ("deaths", "死亡人员", "死亡注销"), _ROW_KEY,
        (
            ID_NUMBER, NAME,
            C("death_date", "date", "死亡日期", "注销日期", required=True),
        ),
        uses=("死亡仍享受、死亡待减员核对关闭", "deceased checks off"),
    ),
)
"""The area's tables, in contract order."""

UNIQUE_ID_TABLES = ("disability", "deaths")
"""Tables with one row per person: the same ID number twice is ``duplicate_id_number`` (in the
others a person has many rows: spells, years, stays, terms, payments)."""

MEMBER_STATUS = C("member_status", "enum", "成员状态", "人员状态")
"""Members' status (added to the register's members by :mod:`qjlib.core.schema`): only 正常 (or
blank) members are subjects of the person rules (:data:`COUNTED_MEMBER_STATUSES`)."""

COUNTED_MEMBER_STATUSES = ("正常",)
"""Member statuses (with blank) counted in person rules and rates."""

DISABILITY_CATEGORY_DIGIT = {"视力": "1", "听力": "2", "言语": "3", "肢体": "4", "智力": "5",
                             "精神": "6", "多重": "7"}
"""Disability category → the card's 19th character."""
DISABILITY_GRADE_DIGIT = {"一级": "1", "二级": "2", "三级": "3", "四级": "4"}
"""Disability grade → the card's 20th character."""

POOR_POST_TYPES = ("生态护林员", "公益特岗", "公益岗位")
"""Posts for the poor (``post_not_registered``)."""

VALUE_LISTS: dict[str, dict[str, tuple[str, ...]]] = {
    "welfare.programme": {
        "dibao": ("低保", "农村低保", "最低生活保障", "农村最低生活保障"),
        "tekun": ("特困", "特困供养", "五保", "特困人员供养"),
    },
    "disability.category": {
        k: (d, f"{k}残疾") for k, d in DISABILITY_CATEGORY_DIGIT.items()
    },
    "disability.grade": {
        k: (d, f"{d}级", f"{k[0]}") for k, d in DISABILITY_GRADE_DIGIT.items()
    },
    "insurance.exempt": {v: () for v in ("在校大学生", "服役", "服刑", "新生儿", "其他")},
    "enrollment.stage": {v: () for v in ("学前", "小学", "初中", "高中", "中职", "高校")},
    "student_aid.stage": {v: () for v in ("学前", "小学", "初中", "高中", "中职", "高校")},
    "enrollment.status": {
        "在校": ("在读",), "送教上门": (), "休学": (), "辍学": (), "毕业": (), "转学": (),
    },
    "student_aid.channel": {
        v: () for v in ("教体", "民政", "扶贫办", "工会", "妇联", "团委", "计生协会", "慈善", "其他")
    },
    "posts.post_type": {
        "生态护林员": ("护林员",),
        "公益特岗": ("就业扶贫公益特岗",),
        "公益专岗": ("机关事业单位公益专岗",),
        "公益岗位": ("其他公益岗位",),
        "保洁员": (),
        "其他": (),
    },
    "members.member_status": {v: () for v in ("正常", "迁出", "婚出", "死亡", "服役", "服刑")},
}
"""Canonical value → accepted spellings, per ``table.column`` (or ``column``)."""

CODE_LABELS_ZH: dict[str, dict[str, str]] = {
    "programme": {"dibao": "低保", "tekun": "特困供养"},
}
"""Chinese labels of canonical codes, per column."""
