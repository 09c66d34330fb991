"""Loading the departments' rolls (contract/departments.md): every format the contract allows,
row accounting, the contract's findings and rejects, and a clear error for a missing column."""

from __future__ import annotations

import datetime as dt

import pytest
from fixtures.build import households, write_csv, write_xlsx

from qjlib.core.definitions import ID_CHECK_CHARS, ID_WEIGHTS
from qjlib.core.errors import InputError
from qjlib.io.issues import KINDS, REJECT_KINDS
from qjlib.io.load import load_package


def idn(body17: str) -> str:
    """A valid 18-character ID number from its first 17 digits."""
    return body17 + ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


P1, P2, P3 = idn("61083019800101001"), idn("61083020130901002"), idn("61083019900505003")
BAD = P1[:17] + ("0" if P1[17] != "0" else "1")  # check character wrong
D = dt.date


@pytest.fixture
def pkg_dir(tmp_path):
    root = tmp_path / "pkg"
    households(root / "户信息.csv", ["H01"])
    write_xlsx(root / "低保特困名册.xlsx", [
        ["清涧县农村低保特困人员名册"], [],
        ["证件号码", "姓名", "保障类型", "起始日期", "终止日期", "月保障金"],
        [P1, "张三", "农村低保", D(2018, 1, 1), None, 300],
        [P2, "李四", "五保", D(2019, 5, 1), D(2019, 4, 30), 500],
        [BAD, "王五", "低保", D(2018, 1, 1), None, 300],
        [P3, "赵六", "临时救助", D(2018, 1, 1), None, 100],
        [P1, "张三", "低保", None, None, 300],
        ["合计", None, None, None, None, 1500],
    ], merges=[(0, 0, 0, 5)])
    write_csv(root / "残疾人名册.csv", [
        ["证件号码", "姓名", "残疾人证号", "残疾类别", "残疾等级"],
        [P1, "张三", P1 + "42", "肢体", "二级"],
        [P2, "李四", P2 + "13", "视力", "3"],
        [P3, "赵六", P1 + "42", "视力残疾", "一级"],
        [P1, "张三", P1 + "42", "肢体", "二级"],
    ], encoding="gb18030")
    write_csv(root / "医保参保.csv", [
        ["证件号码", "参保年度", "基本医疗保险", "大病保险", "家庭医生签约", "免缴原因"],
        [P1, 2019, "是", "是", "是", None], [P1, 2018, "是", "否", "否", None],
        [P2, 2019, "否", None, None, "新生儿"],
    ], bom=True)
    write_xlsx(root / "住院报销" / "宽州镇.xlsx", [
        ["证件号码", "入院日期", "出院日期", "住院总费用", "政策范围内费用", "报销合计"],
        [P1, D(2019, 3, 1), D(2019, 3, 10), 10000, 8000, 6000],
        [P2, D(2019, 4, 1), D(2019, 3, 30), 2000, None, 1000],
    ])
    write_xlsx(root / "住院报销" / "石咀驿镇.xlsx", [
        ["宽州镇住院结算（续）"],
        ["证件号码", "入院日期", "出院日期", "住院总费用", "政策范围内费用", "报销合计"],
        [P1, D(2019, 3, 1), D(2019, 3, 10), 0, 0, 4500],
    ])
    write_csv(root / "学籍.csv", [
        ["证件号码", "学期", "学段", "学籍状态"],
        [P2, "2019秋", "小学", "在读"], [P2, "2018-2019学年第二学期", "小学", "在校"],
        [P3, "2019年秋季", "初中", "辍学"], [P3, "2019-1", "初中", "在校"],
    ], encoding="gb18030")
    write_xlsx(root / "学生资助.xlsx", [
        ["证件号码", "学期", "学段", "资助项目", "资助渠道", "资助金额"],
        [P3, "2019秋季学期", "高校", "新生入学资助", "教体", 1000],
        [P3, "2019秋季学期", "高校", "新生入学资助", "教体", 1000],
    ])
    write_xlsx(root / "公益岗位.xlsx", [
        ["岗位编号", "岗位类型", "证件号码", "上岗日期", "离岗日期"],
        ["G001", "生态护林员", P1, D(2019, 1, 1), D(2018, 12, 31)],
        ["G002", "就业扶贫公益特岗", P2, D(2019, 1, 1), None],
    ])
    write_csv(root / "死亡人员.csv", [
        ["证件号码", "姓名", "死亡日期"], [P1, "张三", "2019-08-01"], [P1, "张三", "2019-08-02"],
    ])
    return root


def _kinds(pkg, table):
    f = pkg.findings[pkg.findings["table"] == table]
    return sorted(zip(f["row"], f["kind"], strict=True))


def test_every_row_is_accounted_for_in_every_format(pkg_dir):
    pkg = load_package(pkg_dir, as_of="2019-09-30")
    a = pkg.accounting.set_index(["table", "file"])
    assert (a["read"] == a["kept"] + a["rejected"]).all()
    got = {k: (int(r.read), int(r.kept), int(r.rejected)) for k, r in a.iterrows() if k[0] != "households"}
    assert got == {
        ("welfare", "低保特困名册.xlsx"): (6, 4, 2),
        ("disability", "残疾人名册.csv"): (4, 4, 0),
        ("insurance", "医保参保.csv"): (3, 3, 0),
        ("hospital", "住院报销/宽州镇.xlsx"): (2, 2, 0),
        ("hospital", "住院报销/石咀驿镇.xlsx"): (1, 1, 0),
        ("enrollment", "学籍.csv"): (4, 3, 1),
        ("student_aid", "学生资助.xlsx"): (2, 2, 0),
        ("posts", "公益岗位.xlsx"): (2, 2, 0),
        ("deaths", "死亡人员.csv"): (2, 2, 0),
    }
    assert set(pkg.rejects["kind"]) <= set(REJECT_KINDS) and set(pkg.findings["kind"]) <= set(KINDS)


def test_values_are_normalised(pkg_dir):
    pkg = load_package(pkg_dir, as_of="2019-09-30")
    w = pkg.tables["welfare"]
    assert w["programme"].tolist() == ["dibao", "tekun", "dibao", "临时救助"]
    assert pkg.tables["enrollment"]["term"].tolist() == ["2019秋", "2019春", "2019秋"]
    assert pkg.tables["enrollment"]["status"].tolist() == ["在校", "在校", "辍学"]
    assert pkg.tables["student_aid"]["term"].tolist() == ["2019秋", "2019秋"]
    assert pkg.tables["posts"]["post_type"].tolist() == ["生态护林员", "公益特岗"]
    assert pkg.tables["disability"]["category"].tolist() == ["肢体", "视力", "视力", "肢体"]
    assert pkg.tables["disability"]["grade"].tolist() == ["二级", "三级", "一级", "二级"]


def test_rejects_name_the_row_and_the_problem(pkg_dir):
    pkg = load_package(pkg_dir, as_of="2019-09-30")
    r = pkg.rejects[pkg.rejects["table"] != "households"]
    assert sorted(zip(r["table"], r["row"], r["kind"], r["column"], strict=True)) == [
        ("enrollment", 5, "unparseable_term", "term"),
        ("welfare", 8, "missing_required", "start"),
        ("welfare", 9, "total_row", ""),
    ]
    assert r.loc[r["kind"] == "unparseable_term", "value"].tolist() == ["2019-1"]


def test_the_contract_findings(pkg_dir):
    pkg = load_package(pkg_dir, as_of="2019-09-30")
    assert _kinds(pkg, "welfare") == [(5, "end_before_start"), (6, "id_checksum"), (7, "not_in_list")]
    # row 4 (P3 holding P1's card …42) disagrees with its ID and with 视力 (1) 一级 (1); row 3
    # (…13, 视力 三级) agrees
    assert _kinds(pkg, "disability") == [(4, "card_code_mismatch"), (4, "card_id_mismatch"),
                                         (5, "duplicate_id_number")]
    assert _kinds(pkg, "insurance") == [(3, "basic_without_critical")]
    # the stay of P1 settled in two files: 6000 + 4500 > 10000 + 0, on its first row
    h = pkg.findings[pkg.findings["table"] == "hospital"]
    assert sorted(zip(h["file"], h["row"], h["kind"], strict=True)) == [
        ("住院报销/宽州镇.xlsx", 2, "reimbursed_over_total"),
        ("住院报销/宽州镇.xlsx", 3, "end_before_start")]
    assert _kinds(pkg, "posts") == [(2, "end_before_start")]
    assert _kinds(pkg, "deaths") == [(3, "duplicate_id_number")]
    # a person with rows in several years, terms or payments is no duplicate
    assert _kinds(pkg, "enrollment") == [] and _kinds(pkg, "student_aid") == []
    # personal values are masked in the findings ledger's value column by the report, and the
    # key names only the file and row (no ID number)
    assert not pkg.findings["key"].str.contains(P1[6:14]).any()


def test_a_missing_required_column_stops_with_file_and_column(tmp_path):
    root = tmp_path / "pkg"
    households(root / "户信息.csv", ["H01"])
    write_csv(root / "医保参保.csv", [["证件号码", "参保年度"], [P1, 2019]])
    with pytest.raises(InputError) as e:
        load_package(root, as_of="2019-09-30")
    assert "医保参保.csv" in str(e.value) and "基本医疗保险" in str(e.value)
