"""load_package checks: duplicate keys, orphan rows, totals that do not add up, dates and years
that contradict each other. Rejects stop a row; findings keep it."""

from __future__ import annotations

import datetime as dt

from fixtures.build import HH_HEADER, households, write_csv, write_xlsx

from qjlib.io.issues import KINDS
from qjlib.io.load import load_package

INCOME_HEADER = ["户编号", "年度", "年度家庭人口数", "工资性收入", "生产经营性收入", "生产经营性支出",
                 "财产性收入", "转移性收入"]


def kinds(ledger) -> list[tuple]:
    return list(zip(ledger["table"], ledger["row"], ledger["column"], ledger["kind"], strict=True))


def test_duplicate_keys_keep_the_first_and_say_whether_rows_differ(tmp_path):
    write_csv(tmp_path / "households.csv", [
        HH_HEADER, ["H1", "宽州镇", "东村", 3, "未脱贫"], ["H2", "宽州镇", "东村", 2, "未脱贫"],
        ["H1", "宽州镇", "东村", 3, "未脱贫"], ["H1", "宽州镇", "西村", 4, "未脱贫"]])
    pkg = load_package(tmp_path)
    hh = pkg["households"]
    assert hh["hh_id"].tolist() == ["H1", "H2"] and hh["size"].tolist() == [3, 2]
    r = pkg.rejects
    assert kinds(r) == [("households", 4, "hh_id", "duplicate_key"),
                        ("households", 5, "hh_id", "duplicate_key")]
    assert r["reason_zh"].tolist() == ["键与 households.csv 第 2 行重复（内容相同），保留先出现的行",
                                       "键与 households.csv 第 2 行重复（内容不同），保留先出现的行"]
    assert r["value"].tolist() == ["hh_id=H1", "hh_id=H1"]


def test_duplicates_across_yearly_files_and_a_rejected_first_row_does_not_count(tmp_path):
    households(tmp_path / "households.csv", ["H1"])
    write_xlsx(tmp_path / "收入信息" / "a.xlsx", [INCOME_HEADER, ["H1", 2018, 3, "?", 0, 0, 0, 0],
                                                  ["H1", 2019, 3, 1, 0, 0, 0, 0]])
    write_xlsx(tmp_path / "收入信息" / "b.xlsx", [INCOME_HEADER, ["H1", 2018, 3, 2, 0, 0, 0, 0],
                                                  ["H1", "2019年", 3, 1, 0, 0, 0, 0]])
    pkg = load_package(tmp_path)
    assert pkg["income"]["wage"].tolist() == [1.0, 2.0]  # 2018 from b.xlsx: a.xlsx's was rejected
    r = pkg.rejects
    assert list(zip(r["file"], r["row"], r["kind"], strict=True)) == [
        ("收入信息/a.xlsx", 2, "unparseable_number"), ("收入信息/b.xlsx", 3, "duplicate_key")]
    assert r["reason_zh"].iloc[1] == "键与 收入信息/a.xlsx 第 3 行重复（内容相同），保留先出现的行"
    assert r["key"].iloc[1] == "hh_id=H1,year=2019"


def test_a_row_with_several_problems_is_rejected_once_for_the_first(tmp_path):
    write_csv(tmp_path / "households.csv", [HH_HEADER, ["H0", "镇", "村", 1, "未脱贫"],
                                            ["", "镇", "", "0", "未脱贫"]])
    pkg = load_package(tmp_path)
    assert kinds(pkg.rejects) == [("households", 3, "hh_id", "missing_required")]
    assert pkg.accounting["rejected"].tolist() == [1]


def test_orphan_rows_are_findings_and_the_rows_are_kept(tmp_path):
    write_csv(tmp_path / "households.csv", [HH_HEADER, ["H1", "宽州镇", "东村", 2, "未脱贫"],
                                            ["H2", "宽州镇", "东村", 0, "未脱贫"]])
    write_csv(tmp_path / "members.csv", [["人编号", "户编号", "与户主关系", "劳动技能"],
                                         ["P1", "H1", "户主", "普通劳动力"], ["P9", "H9", "户主", "无劳动力"]])
    write_csv(tmp_path / "income.csv", [INCOME_HEADER, ["H1", 2019, 2, 1, 0, 0, 0, 0],
                                        ["H2", 2019, 2, 1, 0, 0, 0, 0]])
    write_csv(tmp_path / "projects.csv", [["项目编号", "实施年度", "项目类别", "项目性质", "投资金额"],
                                          ["PJ1", 2018, "养殖业", "到户直补", 100]])
    write_csv(tmp_path / "benefits.csv", [["项目编号", "户编号", "年度", "受益方式", "受益金额"],
                                          ["PJ1", "H1", 2019, "直补", 10], ["PJ7", "H1", 2019, "直补", 10]])
    write_csv(tmp_path / "helpers.csv", [["帮扶责任人编号", "姓名"], ["G1", "王干部"]])
    write_csv(tmp_path / "pairings.csv", [["帮扶责任人编号", "户编号", "帮扶开始时间"],
                                          ["G1", "H1", "2018-01-01"], ["G2", "H1", "2018-01-01"]])
    write_csv(tmp_path / "reviews.csv", [["帮扶责任人编号", "测评日期", "测评方式", "得分", "户编号"],
                                         ["G1", "2019-06-01", "领导点评", 90, ""],
                                         ["G1", "2019-06-02", "群众测评", 80, "H5"]])
    pkg = load_package(tmp_path)
    assert len(pkg["members"]) == 2 and len(pkg["benefits"]) == 2 and len(pkg["pairings"]) == 2
    assert kinds(pkg.findings) == [
        ("members", 3, "hh_id", "orphan_member"),
        ("income", 3, "hh_id", "orphan_row"),
        ("benefits", 3, "project_id", "orphan_row"),
        ("pairings", 3, "helper_id", "orphan_row"),
        ("reviews", 3, "hh_id", "orphan_row"),
    ]
    f = pkg.findings.set_index(["table", "row"])
    assert f.loc[("income", 3), "reason_zh"] == "「户编号」在户信息表中的行已被剔除（见 rejects）"
    assert f.loc[("members", 3), "reason_zh"] == "「户编号」不在户信息表中"
    assert f.loc[("benefits", 3), "town"] == "宽州镇"  # its household is known
    assert f.loc[("benefits", 3), "key"] == "project_id=PJ7,hh_id=H1,year=2019,benefit_type=直补"
    assert f.loc[("pairings", 3), "value"] == "G2"


def test_reported_totals_that_do_not_add_up(tmp_path):
    households(tmp_path / "households.csv", ["H1", "H2", "H3", "H4"])
    header = [*INCOME_HEADER, "低保金", "养老金或离退休金", "纯收入", "人均纯收入"]
    write_csv(tmp_path / "income.csv", [
        header,
        ["H1", 2019, 2, 1000, 500, 100, 0, 600, 400, 200, 2000, 1000],   # all consistent
        ["H2", 2019, 2, 1000, 500, 100, 0, 600, 400, 200, 2001.5, 1000],  # net +1.5 > 1 yuan
        ["H3", 2019, 2, 1000, 500, 100, 0, 600, 400, 300, 2000.5, 1000.9],  # items 700 > 600
        ["H4", 2019, 2, 1000, 500, 100, 0, 600, 0, 0, "", 900]])  # per capita 900 vs 1000
    pkg = load_package(tmp_path)
    assert len(pkg["income"]) == 4
    assert kinds(pkg.findings) == [("income", 3, "net_income", "net_income_mismatch"),
                                   ("income", 4, "transfer", "transfer_items_mismatch"),
                                   ("income", 5, "net_per_capita", "net_per_capita_mismatch")]
    f = pkg.findings
    assert f["value"].tolist() == ["2001.50", "600.00", "900.00"]
    assert f["reason_zh"].tolist()[0] == "文件中的纯收入 2001.50 元与重算值 2000.00 元相差 1.50 元（容差 1 元）"
    assert f["key"].tolist()[0] == "hh_id=H2,year=2019"
    # a wider tolerance (a parameter) makes the 1.50 difference acceptable
    assert "net_income_mismatch" not in set(load_package(tmp_path, total_tolerance=2).findings["kind"])


def test_transfer_items_falling_short_count_only_when_the_catch_all_item_is_present(tmp_path):
    households(tmp_path / "households.csv", ["H1"])
    write_csv(tmp_path / "income.csv", [[*INCOME_HEADER, "低保金"], ["H1", 2019, 1, 0, 0, 0, 0, 600, 100]])
    assert load_package(tmp_path).findings.empty  # other items may make up the 500
    write_csv(tmp_path / "income.csv", [[*INCOME_HEADER, "低保金", "其他转移性收入"],
                                        ["H1", 2019, 1, 0, 0, 0, 0, 600, 100, ""]])
    assert kinds(load_package(tmp_path).findings) == [("income", 2, "transfer", "transfer_items_mismatch")]


def test_size_below_one_is_rejected_and_negative_money_is_a_finding(tmp_path):
    households(tmp_path / "households.csv", ["H1"])
    write_csv(tmp_path / "income.csv", [[*INCOME_HEADER, "纯收入"],
                                        ["H1", 2018, 0, 100, 0, 0, 0, 0, ""],
                                        ["H1", 2019, 1, 100, -20, 0, 0, 0, -1000]])
    pkg = load_package(tmp_path)
    assert kinds(pkg.rejects) == [("income", 2, "size", "size_lt_1")]
    assert pkg.rejects["reason_zh"].tolist() == ["「年度家庭人口数」小于 1"]
    # a negative reported net income may be true (a loss year); a negative operating income is not
    assert kinds(pkg.findings) == [("income", 3, "operating", "negative_money"),
                                   ("income", 3, "net_income", "net_income_mismatch")]


def test_households_years_members_birth_dates_and_pairing_dates(tmp_path):
    write_csv(tmp_path / "households.csv", [
        [*HH_HEADER, "脱贫年度", "识别年度"],
        ["H1", "镇", "村", 1, "已脱贫", 2016, 2014],
        ["H2", "镇", "村", 1, "已脱贫", 2013, 2014],
        ["H3", "镇", "村", 1, "返贫", "", 2014],
        ["H4", "镇", "村", 1, "未脱贫", "", 2014]])
    future = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    write_csv(tmp_path / "members.csv", [["人编号", "户编号", "与户主关系", "劳动技能", "出生日期"],
                                         ["P1", "H1", "户主", "普通劳动力", "1960-01-01"],
                                         ["P2", "H1", "之子", "无劳动力", future]])
    write_csv(tmp_path / "pairings.csv", [["帮扶责任人编号", "户编号", "帮扶开始时间", "帮扶结束时间"],
                                          ["G1", "H1", "2018-01-01", "2017-12-31"],
                                          ["G1", "H2", "2018-01-01", ""]])
    pkg = load_package(tmp_path)
    assert kinds(pkg.findings) == [
        ("households", 3, "exit_year", "exit_before_identified"),
        ("households", 4, "exit_year", "exit_year_missing"),
        ("members", 3, "birth_date", "birth_date_future"),
        ("pairings", 2, "end", "end_before_start"),
    ]
    assert pkg.findings["value"].tolist()[2:] == [future, "2017-12-31"]


def test_findings_and_rejects_carry_town_and_village(tmp_path):
    write_csv(tmp_path / "households.csv", [HH_HEADER, ["H1", "宽州镇", "东村", 1, "未脱贫"],
                                            ["H2", "石咀驿镇", "西村", 1, "未脱贫"]])
    write_csv(tmp_path / "income.csv", [INCOME_HEADER, ["H2", 2019, 1, "x", 0, 0, 0, 0],
                                        ["H1", 2019, 1, -1, 0, 0, 0, 0]])
    pkg = load_package(tmp_path)
    assert pkg.rejects[["town", "village"]].values.tolist() == [["石咀驿镇", "西村"]]
    assert pkg.findings[["town", "village"]].values.tolist() == [["宽州镇", "东村"]]


def test_ledger_columns_and_kinds_are_the_documented_ones(tmp_path):
    households(tmp_path / "households.csv", ["H1"])
    pkg = load_package(tmp_path)
    assert list(pkg.rejects.columns) == ["table", "file", "sheet", "row", "column", "value", "kind",
                                         "reason_zh", "reason_en", "key", "town", "village"]
    assert list(pkg.findings.columns) == ["table", "file", "sheet", "row", "key", "column", "value",
                                          "kind", "reason_zh", "reason_en", "town", "village"]
    assert list(pkg.accounting.columns) == ["table", "file", "sheet", "read", "kept", "rejected"]
    assert {"total_row", "missing_required", "duplicate_key", "id_checksum", "id_mangled",
            "orphan_member", "orphan_row", "net_income_mismatch"} <= set(KINDS)


def test_the_same_id_number_twice_in_a_table(tmp_path):
    households(tmp_path / "households.csv", ["H1", "H2"])
    write_csv(tmp_path / "members.csv", [
        ["人编号", "户编号", "与户主关系", "劳动技能", "证件号码"],
        ["P1", "H1", "户主", "普通劳动力", "11010519491231002X"],
        ["P2", "H1", "配偶", "普通劳动力", "110105194912310038"],
        ["P3", "H2", "户主", "普通劳动力", "11010519491231002x"],
        ["P4", "H2", "之子", "普通劳动力", ""], ["P5", "H2", "之女", "普通劳动力", ""]])
    pkg = load_package(tmp_path)
    assert kinds(pkg.findings) == [("members", 4, "id_number", "duplicate_id_number")]
    f = pkg.findings.iloc[0]
    assert f["reason_zh"] == "「证件号码」与 members.csv 第 2 行相同（同一人重复登记）"
    assert (f["key"], f["value"], f["town"]) == ("person_id=P3", "11010519491231002X", "宽州镇")


def test_a_blank_dividend_amount_is_kept_as_entitled_not_yet_paid(tmp_path):
    """contract/outputs.md: a 分红 row with a blank amount means "entitled, not yet paid": the row
    is kept without a finding; a blank amount on another benefit type is kept with a finding."""
    households(tmp_path / "households.csv", ["H1", "H2"])
    write_csv(tmp_path / "projects.csv", [["项目编号", "实施年度", "项目类别", "项目性质", "投资金额"],
                                          ["P1", 2019, "养殖业", "新型经营主体带动", 100000]])
    write_csv(tmp_path / "benefits.csv", [["项目编号", "户编号", "年度", "受益方式", "受益金额", "到账日期"],
                                          ["P1", "H1", 2019, "分红", None, None],
                                          ["P1", "H2", 2019, "直补", None, None],
                                          ["P1", "H2", 2018, "分红", 300, "2018-09-20"]])
    pkg = load_package(tmp_path)
    b = pkg["benefits"].sort_values(["hh_id", "year"])
    assert len(b) == 3 and pkg.rejects.empty
    assert b["amount"].isna().tolist() == [True, False, True]
    assert kinds(pkg.findings) == [("benefits", 3, "amount", "amount_blank")]
    assert pkg.findings["key"].str.contains("hh_id=H2").all()


def test_birth_dates_are_checked_against_the_as_of_date(tmp_path, monkeypatch):
    """A report's findings do not depend on the day it runs: births after the run's as-of date
    are findings, and the cached package is kept per as-of date."""
    monkeypatch.setenv("QJLIB_CACHE", str(tmp_path / "cache"))
    households(tmp_path / "pkg" / "households.csv", ["H1"])
    write_csv(tmp_path / "pkg" / "members.csv",
              [["人编号", "户编号", "与户主关系", "劳动技能", "出生日期"],
               ["P1", "H1", "户主", "普通劳动力", "1960-01-01"],
               ["P2", "H1", "之子", "无劳动力", "2019-10-02"]])
    before = load_package(tmp_path / "pkg", cache=True, as_of="2019-09-30")
    assert kinds(before.findings) == [("members", 3, "birth_date", "birth_date_future")]
    assert before.findings["reason_zh"].tolist() == ["出生日期晚于截至日期 2019-09-30"]
    after = load_package(tmp_path / "pkg", cache=True, as_of="2019-12-31")
    assert after.findings.empty
    again = load_package(tmp_path / "pkg", cache=True, as_of="2019-09-30")  # from the cache
    assert kinds(again.findings) == kinds(before.findings)
    assert len(list((tmp_path / "cache").glob("package-*.pkl"))) == 2
    assert load_package(tmp_path / "pkg").findings.empty  # today, without an as-of date
