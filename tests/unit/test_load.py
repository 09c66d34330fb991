"""load_package: files found, quirks of real exports, canonical dtypes, accounting, derived columns.

Each test builds its package in ``tmp_path`` and states the exact rows kept and rejected."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest
from fixtures.build import HH_HEADER, households, write_csv, write_parquet, write_xls, write_xlsx

from qjlib.core.errors import InputError
from qjlib.io.load import load_package

INCOME_HEADER = ["户编号", "年度", "年度家庭人口数", "工资性收入", "生产经营性收入", "生产经营性支出",
                 "财产性收入", "转移性收入"]


def rej(pkg, table=None) -> list[tuple]:
    r = pkg.rejects if table is None else pkg.rejects[pkg.rejects["table"] == table]
    return list(zip(r["file"], r["row"], r["column"], r["kind"], strict=True))


def fnd(pkg, table=None) -> list[tuple]:
    f = pkg.findings if table is None else pkg.findings[pkg.findings["table"] == table]
    return list(zip(f["row"], f["column"], f["kind"], f["value"], strict=True))


def acc(pkg) -> list[tuple]:
    a = pkg.accounting
    return list(zip(a["table"], a["file"], a["read"], a["kept"], a["rejected"], strict=True))


# ---------------------------------------------------------------------------- files & quirks


def test_excel_with_title_blank_lines_and_totals_row(tmp_path):
    write_xlsx(tmp_path / "户信息.xlsx", [
        ["清涧县贫困户信息表"], [], HH_HEADER,
        ["H1", "宽州镇", "东村", 3, "未脱贫"],
        [],
        ["H2", "宽州镇", "西村", 2, "已脱贫"],
        ["合计", None, None, 5, None],
    ], sheet="贫困户")
    pkg = load_package(tmp_path)
    assert pkg["households"]["hh_id"].tolist() == ["H1", "H2"]
    assert pkg["households"]["_row"].tolist() == [4, 6]
    assert acc(pkg) == [("households", "户信息.xlsx", 3, 2, 1)]  # the blank line is not read
    r = pkg.rejects.iloc[0]
    assert (r["sheet"], r["row"], r["kind"], r["reason_zh"]) == (
        "贫困户", 7, "total_row", "合计/总计行，不是数据行")
    assert any("1 个空行" in n for n in pkg.notes)


@pytest.mark.parametrize("label,where", [
    ("总 计", 0), ("小计：", 0), ("全县合计", 0), ("合  计", 1), ("宽州镇小计", 1)])
def test_totals_lines_in_their_usual_spellings(tmp_path, label, where):
    lead = [None, label] if where else [label]
    header = (["序号"] if where else []) + HH_HEADER
    write_csv(tmp_path / "households.csv", [
        header, ([1] if where else []) + ["H1", "宽州镇", "东村", 3, "未脱贫"],
        lead + [None, None, 3, None]])
    pkg = load_package(tmp_path)
    assert rej(pkg) == [("households.csv", 3, "", "total_row")]
    assert len(pkg["households"]) == 1


def test_gb18030_and_utf8_bom_csv(tmp_path):
    households(tmp_path / "户信息.csv", ["H1", "H2"])
    (tmp_path / "户信息.csv").write_bytes(
        (tmp_path / "户信息.csv").read_text(encoding="utf-8").encode("gb18030"))
    write_csv(tmp_path / "人员信息.csv", [
        ["人编号", "户编号", "姓名", "与户主关系", "劳动技能"], ["P1", "H1", "张三", "户主", "普通劳动力"]],
        bom=True)
    pkg = load_package(tmp_path)
    assert pkg["households"]["town"].tolist() == ["宽州镇", "宽州镇"]
    assert pkg["members"]["name"].tolist() == ["张三"]
    assert pkg["members"]["hh_id"].tolist() == ["H1"]  # the BOM is not part of the first header


def test_xls_and_parquet_tables(tmp_path):
    write_xls(tmp_path / "户信息.xls", [["清涧县"], HH_HEADER, ["H1", "宽州镇", "东村", 3, "未脱贫"],
                                      ["H2", "宽州镇", "东村", "两", "未脱贫"]])
    write_parquet(tmp_path / "income.parquet", {
        "hh_id": ["H1", "H1"], "year": [2018, 2019], "size": [3, 3], "wage": [100.0, 200.0],
        "operating": [0.0, 0.0], "operating_cost": [0.0, 0.0], "property": [0.0, 0.0],
        "transfer": [10.0, None]})
    pkg = load_package(tmp_path)
    assert acc(pkg) == [("households", "户信息.xls", 2, 1, 1), ("income", "income.parquet", 2, 1, 1)]
    assert rej(pkg) == [("户信息.xls", 4, "size", "unparseable_number"),
                        ("income.parquet", 3, "transfer", "missing_required")]
    assert pkg["income"]["net_income"].tolist() == [110.0]


def test_folder_of_yearly_files_is_stacked_with_per_file_accounting(tmp_path):
    households(tmp_path / "households.csv", ["H1", "H2"])
    for year, rows in ((2017, [["H1", 2017, 3, 1, 0, 0, 0, 0]]),
                       (2018, [["H1", 2018, 3, 2, 0, 0, 0, 0], ["H2", 2018, 2, "x", 0, 0, 0, 0]])):
        write_xlsx(tmp_path / "收入信息" / f"{year}.xlsx", [[f"{year}年收入"], INCOME_HEADER, *rows],
                   sheet=f"{year}年")
    pkg = load_package(tmp_path)
    assert acc(pkg)[1:] == [("income", "收入信息/2017.xlsx", 1, 1, 0),
                            ("income", "收入信息/2018.xlsx", 2, 1, 1)]
    assert pkg.accounting["sheet"].tolist()[1:] == ["2017年", "2018年"]
    inc = pkg["income"]
    assert inc["year"].tolist() == [2017, 2018]
    assert inc["_file"].tolist() == ["收入信息/2017.xlsx", "收入信息/2018.xlsx"]
    assert inc["_row"].tolist() == [3, 3]
    assert rej(pkg) == [("收入信息/2018.xlsx", 4, "wage", "unparseable_number")]


def test_wan_yuan_header_and_full_width_headers(tmp_path):
    households(tmp_path / "households.csv", ["H1"])
    write_csv(tmp_path / "产业项目.csv", [
        ["项目编号", "实施年度", "项目类别", "项目性质", "投资金额（万元）", "保底分红（元/户）"],
        ["PJ1", "2018", "养殖业", "到户直补", "12.5", "300"]])
    write_csv(tmp_path / "项目受益.csv", [
        ["项 目 编 号", "户编号", "年度", "受益方式", "受益金额(元)"], ["PJ1", "H1", "2019", "分红", "１,２００"]])
    pkg = load_package(tmp_path)
    assert pkg["projects"]["investment"].tolist() == [125_000.0]
    assert pkg["projects"]["guaranteed_dividend"].tolist() == [300.0]
    assert pkg["benefits"]["amount"].tolist() == [1200.0]


def test_unknown_files_are_noted_and_two_sources_for_a_table_are_an_error(tmp_path):
    households(tmp_path / "户信息.csv", ["H1"])
    (tmp_path / "说明.txt").write_text("readme", encoding="utf-8")
    (tmp_path / "~$户信息.xlsx").write_bytes(b"lock")  # Excel's lock file: silently skipped
    pkg = load_package(tmp_path)
    assert any("说明.txt" in n for n in pkg.notes)
    assert not any("~$" in n for n in pkg.notes)
    households(tmp_path / "households.csv", ["H1"])
    with pytest.raises(InputError, match="多个来源") as e:
        load_package(tmp_path)
    assert "households.csv" in str(e.value) and "户信息.csv" in str(e.value)


def test_missing_optional_tables_are_notes(tmp_path):
    households(tmp_path / "households.csv", ["H1"])
    pkg = load_package(tmp_path)
    assert set(pkg.tables) == {"households"}
    assert not pkg.has("visits")
    assert any(n.startswith("未提供 visits（走访记录）表") and "/ no visits table" in n for n in pkg.notes)
    assert pkg["households"]["labor_capacity"].isna().all()


def test_missing_households_and_unusable_households_stop_with_a_message(tmp_path):
    write_csv(tmp_path / "members.csv", [["人编号", "户编号", "与户主关系", "劳动技能"]])
    with pytest.raises(InputError, match="没有户信息表"):
        load_package(tmp_path)
    write_csv(tmp_path / "households.csv", [HH_HEADER, ["H1", "镇", "村", 0, "未脱贫"]])
    with pytest.raises(InputError, match="户信息表没有可用的行") as e:
        load_package(tmp_path)
    assert e.value.file == "households.csv"
    with pytest.raises(InputError, match="文件夹"):
        load_package(tmp_path / "nope")


def test_inputs_record_path_sha256_and_bytes(tmp_path):
    p = households(tmp_path / "households.csv", ["H1"])
    write_xlsx(tmp_path / "收入信息" / "2019.xlsx", [INCOME_HEADER, ["H1", 2019, 3, 1, 0, 0, 0, 0]])
    pkg = load_package(tmp_path)
    assert [i["path"] for i in pkg.inputs] == ["households.csv", "收入信息/2019.xlsx"]
    assert pkg.inputs[0] == {"path": "households.csv", "bytes": p.stat().st_size,
                             "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}


# ------------------------------------------------------------------------------------ dtypes


def test_numbers_money_and_ints(tmp_path):
    households(tmp_path / "households.csv", [f"H{i}" for i in range(1, 9)])
    rows = [  # wage is required, dibao_pay optional
        ["H1", 2019, "3", "1,234.5", 0, 0, 0, 12, " 12 "],
        ["H2", 2019, 3.0, "１２３", 0, 0, 0, 0, ""],
        ["H3", 2019, 2, 10, 0, 0, 0, 0, "1234,5"],
        ["H4", 2019, 2, "", 0, 0, 0, 0, None],
        ["H5", 2019, 2, "1234,5", 0, 0, 0, 0, None],
        ["H6", 2019, "2.5", 1, 0, 0, 0, 0, None],
        ["H7", 2019, 2, "−50", 0, 0, 0, 0, "abc"],
        ["H8", 2019, "２", 7, 0, 0, 0, 0, None],
    ]
    write_xlsx(tmp_path / "income.xlsx", [[*INCOME_HEADER, "低保金"], *rows])
    pkg = load_package(tmp_path)
    inc = pkg["income"]
    assert inc["hh_id"].tolist() == ["H1", "H2", "H3", "H7", "H8"]
    assert inc["wage"].tolist() == [1234.5, 123.0, 10.0, -50.0, 7.0]
    assert inc["size"].dtype == "Int64" and inc["size"].tolist() == [3, 3, 2, 2, 2]
    assert inc["wage"].dtype == np.float64
    d = inc["dibao_pay"]
    assert d.iloc[0] == 12.0 and d.iloc[1:].isna().all()
    assert rej(pkg) == [("income.xlsx", 5, "wage", "missing_required"),
                        ("income.xlsx", 6, "wage", "unparseable_number"),
                        ("income.xlsx", 7, "size", "unparseable_number")]
    assert pkg.rejects["value"].tolist() == ["", "1234,5", "2.5"]
    assert fnd(pkg) == [(4, "dibao_pay", "unparseable_number", "1234,5"),
                        (8, "wage", "negative_money", "-50.00"),
                        (8, "dibao_pay", "unparseable_number", "abc")]
    assert pkg.findings["reason_zh"].iloc[0] == "「低保金」不是数字，已置为空"


def test_years(tmp_path):
    households(tmp_path / "households.csv", ["H1"])
    cells = [2016, "2017", "2018年", 2019.0, "2020年度", "16", "二〇一六", 2016.5, "1800"]
    rows = [["H1", y, 3, i, 0, 0, 0, 0] for i, y in enumerate(cells)]
    write_xlsx(tmp_path / "income.xlsx", [INCOME_HEADER, *rows])
    pkg = load_package(tmp_path)
    assert pkg["income"]["year"].dtype == "Int64"
    assert pkg["income"]["year"].tolist() == [2016, 2017, 2018, 2019, 2020]
    assert [r[1:] for r in rej(pkg)] == [(i, "year", "bad_year") for i in (7, 8, 9, 10)]


def test_dates(tmp_path):
    households(tmp_path / "households.csv", ["H1"])
    cells = [dt.date(2019, 9, 30), 43738, "2019-09-30", "2019/9/30", "2019年9月30日", "20190930",
             "2019.9.30", "2019-09-30 08:00:00", "2019-02-30", "9/30/2019", ""]
    rows = [[f"G{i}", "H1", c] for i, c in enumerate(cells)]
    write_xlsx(tmp_path / "结对关系.xlsx", [["帮扶责任人编号", "户编号", "帮扶开始时间"], *rows])
    pkg = load_package(tmp_path)
    start = pkg["pairings"]["start"]
    assert str(start.dtype) == "datetime64[us]"
    assert (start == pd.Timestamp("2019-09-30")).all() and len(start) == 8
    assert [r[1:] for r in rej(pkg)] == [(10, "start", "unparseable_date"), (11, "start", "unparseable_date"),
                                        (12, "start", "missing_required")]


def test_booleans_and_enums(tmp_path):
    write_csv(tmp_path / "households.csv", [
        [*HH_HEADER, "是否易地扶贫搬迁户", "贫困户属性"],
        ["H1", "镇", "村", 1, "已脱贫（享受政策）", "是", "低保户"],
        ["H2", "镇", "村", 1, "已脱贫(不再享受政策)", "N", "一般贫困户"],
        ["H3", "镇", "村", 1, " 返 贫 ", "TRUE", "五保户"],
        ["H4", "镇", "村", 1, "0", "0", ""],
        ["H5", "镇", "村", 1, "4", "有", "贫困户"],
        ["H6", "镇", "村", 1, "脱贫户", "", "低保特困供养贫困户"],
    ])
    write_xlsx(tmp_path / "members.xlsx", [
        ["人编号", "户编号", "与户主关系", "劳动技能", "性别"],
        ["P1", "H1", "户主", "弱劳动力", "m"], ["P2", "H1", "配偶", "丧失劳动力", "F"],
        ["P3", "H2", "户主", 1.0, "女"]])
    write_xlsx(tmp_path / "households_codes.xlsx", [["x"]])  # an unknown file: ignored
    pkg = load_package(tmp_path)
    hh = pkg["households"]
    assert hh["exit_status"].tolist() == ["exited", "exited", "returned", "not_exited", "exited", "脱贫户"]
    assert hh["relocated"].dtype == "boolean"
    assert hh["relocated"].tolist() == [True, False, True, False, pd.NA, pd.NA]
    assert hh["poverty_attr"].tolist()[:3] == ["低保贫困户", "一般贫困户", "特困供养贫困户"]
    assert pd.isna(hh["poverty_attr"].iloc[3])
    m = pkg["members"]
    assert m["labor_skill"].tolist() == ["弱劳动力或半劳动力", "丧失劳动力", "1"]
    assert m["sex"].tolist() == ["男", "女", "女"]
    assert fnd(pkg) == [
        (6, "poverty_attr", "not_in_list", "贫困户"),
        (6, "relocated", "not_in_list", "有"),
        (7, "exit_status", "not_in_list", "脱贫户"),
        (4, "labor_skill", "not_in_list", "1"),
    ]
    assert hh["labor_capacity"].tolist()[:2] == ["弱劳动能力", "无劳动能力"]


def test_text_ids_never_float(tmp_path):
    write_xlsx(tmp_path / "户信息.xlsx", [
        [*HH_HEADER, "户联系电话"],
        [6108300101.0, "镇", "村", 1, "未脱贫", 13812345678],
        ["  H2 ", "镇", "村", 1, "未脱贫", "138 1234 5678"],
        ["6.10830E+17", "镇", "村", 1, "未脱贫", None],
        [6.108301990010112e17, "镇", "村", 1, "未脱贫", None]])
    pkg = load_package(tmp_path)
    hh = pkg["households"]
    assert hh["hh_id"].dtype == "str"
    assert hh["hh_id"].tolist()[:3] == ["6108300101", "H2", "6.10830E+17"]
    assert hh["phone"].tolist()[:2] == ["13812345678", "138 1234 5678"]
    assert fnd(pkg) == [(4, "hh_id", "id_mangled", "6.10830E+17"),
                        (5, "hh_id", "id_mangled", "6.10830199001011e+17")]


def test_id_numbers(tmp_path):
    write_xlsx(tmp_path / "户信息.xlsx", [
        [*HH_HEADER, "户主证件号码"],
        ["H1", "镇", "村", 1, "未脱贫", "11010519491231002x"],
        ["H2", "镇", "村", 1, "未脱贫", 6.1083e17],
        ["H3", "镇", "村", 1, "未脱贫", "1101051949123100"],
        ["H4", "镇", "村", 1, "未脱贫", "110105194912310021"],
        ["H5", "镇", "村", 1, "未脱贫", "6.1083E+17"],
        ["H6", "镇", "村", 1, "未脱贫", None]])
    pkg = load_package(tmp_path)
    ids = pkg["households"]["head_id_number"]
    assert ids.tolist()[:5] == ["11010519491231002X", "6.1083E+17", "1101051949123100",
                                "110105194912310021", "6.1083E+17"]
    assert pd.isna(ids.iloc[5])
    assert [f[:3] for f in fnd(pkg)] == [(3, "head_id_number", "id_mangled"),
                                         (4, "head_id_number", "id_length"),
                                         (5, "head_id_number", "id_checksum"),
                                         (6, "head_id_number", "id_mangled")]
    f = pkg.findings
    assert f["key"].tolist()[0] == "hh_id=H2"
    assert "110105" not in "".join(f["reason_zh"]) + "".join(f["reason_en"])  # no PII in reasons


def test_canonical_english_headers_and_every_kind_dtype(tmp_path):
    write_csv(tmp_path / "households.csv", [
        ["hh_id", "town", "village", "size", "exit_status", "exit_year", "relocated", "head_id_number"],
        ["H1", "镇", "村", "3", "exited", "2018", "yes", "11010519491231002X"]])
    write_csv(tmp_path / "members.csv", [
        ["person_id", "hh_id", "relation", "labor_skill", "birth_date", "migrant_months"],
        ["P1", "H1", "户主", "技能劳动力", "1980-01-02", "6"]])
    pkg = load_package(tmp_path)
    hh, m = pkg["households"], pkg["members"]
    assert {c: str(hh[c].dtype) for c in ("hh_id", "size", "exit_year", "relocated", "town_code")} == {
        "hh_id": "str", "size": "Int64", "exit_year": "Int64", "relocated": "boolean",
        "town_code": "str"}
    assert str(m["birth_date"].dtype) == "datetime64[us]"
    assert m["migrant_months"].dtype == np.float64 and m["migrant_months"].tolist() == [6.0]
    assert hh["_row"].dtype == np.int64 and hh["_file"].dtype == "str"
    assert hh["labor_capacity"].tolist() == ["有劳动能力"]


# ------------------------------------------------------------------------------------ derived


def test_income_derived_columns_keep_the_reported_figures(tmp_path):
    households(tmp_path / "households.csv", ["H1", "H2"])
    write_csv(tmp_path / "income.csv", [
        [*INCOME_HEADER, "纯收入", "人均纯收入（元）"],
        ["H1", 2019, 4, 8000, 3000, 1000, 200, 1800, 12000, 3000],
        ["H2", 2019, 2, 1000, 0, 500, 0, 100, "", ""]])
    pkg = load_package(tmp_path)
    inc = pkg["income"]
    assert inc["operating_net"].tolist() == [2000.0, -500.0]
    assert inc["net_income"].tolist() == [12000.0, 600.0]
    assert inc["net_per_capita"].tolist() == [3000.0, 300.0]
    assert inc["net_income_reported"].iloc[0] == 12000.0 and np.isnan(inc["net_income_reported"].iloc[1])
    assert list(inc.columns[-7:]) == ["net_income_reported", "net_per_capita_reported", "operating_net",
                                      "net_income", "net_per_capita", "_file", "_row"]
    assert pkg.findings.empty


def test_no_exit_year_column_is_a_note_not_a_finding_per_household(tmp_path):
    households(tmp_path / "households.csv", ["H1", "H2"], status="已脱贫")
    pkg = load_package(tmp_path)
    assert pkg.findings.empty
    assert any("没有「脱贫年度」列" in n for n in pkg.notes)


def test_two_line_merged_header_and_a_header_repeated_on_every_page(tmp_path):
    top = ["户编号", "地址", None, "家庭人口数", "脱贫属性"]
    sub = ["户编号", "乡(镇)", "行政村", "家庭人口数", "脱贫属性"]
    rows = [["清涧县贫困户信息表"], top, [None, "乡(镇)", "行政村", None, None],
            ["H1", "宽州镇", "东村", 3, "未脱贫"], sub, ["H2", "宽州镇", "西村", 2, "未脱贫"]]
    # 户编号/家庭人口数/脱贫属性 merged over the two header lines, 地址 over 乡(镇) and 行政村
    write_xlsx(tmp_path / "户信息.xlsx", rows, merges=[(1, 0, 2, 0), (1, 1, 1, 2), (1, 3, 2, 3),
                                                       (1, 4, 2, 4)])
    pkg = load_package(tmp_path)
    assert pkg["households"]["hh_id"].tolist() == ["H1", "H2"]
    assert pkg["households"]["_row"].tolist() == [4, 6]
    assert rej(pkg) == [("户信息.xlsx", 5, "", "header_row")]


def test_national_exit_codes_as_excel_numbers_and_the_columns_provided(tmp_path):
    write_xlsx(tmp_path / "户信息.xlsx", [
        HH_HEADER, ["H1", "镇", "村", 1, 1.0], ["H2", "镇", "村", 1, 3], ["H3", "镇", "村", 1, 0],
        ["H4", "镇", "村", 1, 4.0], ["H5", "镇", "村", 1, 2]])
    pkg = load_package(tmp_path)
    assert pkg["households"]["exit_status"].tolist() == ["exited", "returned", "not_exited", "exited", "2"]
    assert fnd(pkg) == [(6, "exit_status", "not_in_list", "2")]
    assert pkg.provided == {"households": ("hh_id", "town", "village", "size", "exit_status")}
    assert "phone" in pkg["households"].columns and pkg["households"]["phone"].isna().all()


def test_a_file_named_almost_like_a_table_gets_a_hint(tmp_path):
    households(tmp_path / "清涧县户信息2019Q3.csv", ["H1"])
    with pytest.raises(InputError) as e:
        load_package(tmp_path)
    assert "已忽略 清涧县户信息2019Q3.csv：户信息表的文件名应为「户信息」或「households」" in str(e.value)


def test_numeric_ids_in_xls_keep_their_digits_unless_excel_lost_them(tmp_path):
    write_xls(tmp_path / "户信息.xls", [HH_HEADER, [6108300101, "镇", "村", 1, "未脱贫"],
                                      [6108301002010000204, "镇", "村", 1, "未脱贫"]])
    pkg = load_package(tmp_path)
    ids = pkg["households"]["hh_id"].tolist()
    assert ids[0] == "6108300101"
    assert ids[1] != "6108301002010000204"  # a double cannot hold 19 digits: Excel lost some
    assert fnd(pkg) == [(3, "hh_id", "id_mangled", ids[1])]
