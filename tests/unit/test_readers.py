"""qjlib.readers: encodings, header rows, header normalisation, Excel/xls/CSV/Parquet quirks;
content sniffed, not names (HTML saved as .xls, ; separators, error cells)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pytest
from fixtures.build import csv_bytes, write_csv, write_parquet, write_xls, write_xlsx

from qjlib.core import schema
from qjlib.core.errors import InputError
from qjlib.io.load import load_package
from qjlib.io.readers import (
    alias_map,
    decode_bytes,
    match_header,
    norm_header,
    read_table,
    sniff_delimiter,
    split_unit,
)
from qjlib.io.sniff import content_kind, html_tables

HH = schema.TABLES["households"]
INCOME = schema.TABLES["income"]
PROJECTS = schema.TABLES["projects"]


# ------------------------------------------------------------------------------ encodings


@pytest.mark.parametrize("encoding,data,expect", [
    ("utf-8", "户编号,乡(镇)\n".encode(), "utf-8"),
    ("utf-8-sig", b"\xef\xbb\xbf" + "户编号\n".encode(), "utf-8-sig"),
    ("gb18030", "户编号,乡(镇)\n".encode("gb18030"), "gb18030"),
    ("gbk", "清涧县贫困户信息表\n".encode("gbk"), "gb18030"),
    ("utf-16", "户编号\t乡(镇)\n".encode("utf-16"), "utf-16"),
])
def test_decode_detects_the_encoding(encoding, data, expect):
    text, enc = decode_bytes(data, "x.csv")
    assert enc == expect
    assert text.lstrip("\ufeff").startswith(("户编号", "清涧县"))


def test_undecodable_bytes_name_the_file():
    with pytest.raises(InputError) as e:
        decode_bytes("户编号,年度\n".encode("gbk") + b"H1,\xff2019\n", "收入信息.csv")
    assert e.value.file == "收入信息.csv"
    assert "GB18030" in str(e.value) and "收入信息.csv" in str(e.value)


def test_bom_followed_by_invalid_utf8_is_an_error_not_a_guess():
    with pytest.raises(InputError, match="UTF-8 BOM"):
        decode_bytes(b"\xef\xbb\xbf" + "户编号".encode("gbk"), "a.csv")


# ------------------------------------------------------------------------ header matching


def test_norm_header_and_units():
    assert norm_header(" 投资金额（万元） ") == "投资金额(万元)"
    assert norm_header("户 编\u3000号") == "户编号"
    assert norm_header("HH_ID") == "hh_id"
    assert split_unit("投资金额(万元)") == ("投资金额", "万元")
    assert split_unit("户编号") == ("户编号", None)


def test_every_alias_and_the_english_name_match_their_column():
    for name, table in schema.TABLES.items():
        assert alias_map(name)  # builds: no alias names two columns of a table
        for col in table.columns:
            for header in (col.name, col.name.upper(), col.zh, *col.aliases):
                assert match_header([header], table).columns == {col.name: 0}, (name, header)


def test_match_header_units_full_width_spaces_and_english():
    m = match_header(["项目编号", "实施年度", "项目类别", "项目性质", "投资金额（万元）", "备注"], PROJECTS)
    assert m.columns == {"project_id": 0, "year": 1, "category": 2, "nature": 3, "investment": 4}
    assert m.factors["investment"] == 10_000.0
    assert m.unmatched == ("备注",)
    m = match_header(["project_id", "YEAR", " 项目 类别 ", "带动方式", "投资金额(元)"], PROJECTS)
    assert set(m.columns) == {"project_id", "year", "category", "nature", "investment"}
    assert m.factors["investment"] == 1.0
    m = match_header(["户编号", "年度", "家庭人口数（人）", "受益金额（元）"], INCOME)
    assert m.columns["size"] == 2 and m.unmatched == ("受益金额（元）",)


def test_money_header_with_an_unknown_unit_is_not_matched():
    m = match_header(["投资金额（千元）"], PROJECTS)
    assert "investment" not in m.columns
    assert m.unknown_units == ("投资金额（千元）",)


def test_two_headers_for_one_column_are_reported():
    m = match_header(["户编号", "年度家庭人口数", "家庭人口数"], INCOME)
    assert m.doubles == {"size": ("年度家庭人口数", "家庭人口数")}


# ---------------------------------------------------------------------------- read_table


def hh_rows():
    return [["H1", "宽州镇", "东村", 3, "未脱贫"], ["H2", "宽州镇", "西村", 2, "已脱贫"]]


def test_excel_title_and_blank_lines_above_the_header(tmp_path):
    p = write_xlsx(tmp_path / "户信息.xlsx", [
        ["清涧县贫困户信息表"], [None], ["填报单位：扶贫办", None, "2019年9月"], [],
        ["户编号", "乡(镇)", "行政村", "家庭人口数", "脱贫属性"], *hh_rows(), [], ["H3", "镇", "村", 1, "未脱贫"],
    ], sheet="贫困户")
    raw = read_table(p, "户信息.xlsx", HH)
    assert raw.sheet == "贫困户"
    assert raw.header_row == 5
    assert raw.rows.tolist() == [6, 7, 9]  # Excel row numbers; the blank row 8 is skipped
    assert raw.blank_rows == 1
    assert raw.cells["hh_id"].tolist() == ["H1", "H2", "H3"]
    assert raw.cells["size"].tolist() == [3.0, 2.0, 1.0]


def test_missing_required_column_message_names_file_and_columns(tmp_path):
    p = write_xlsx(tmp_path / "户信息.xlsx", [
        ["清涧县贫困户信息表"], ["户编号", "乡(镇)", "脱贫属性"], ["H1", "宽州镇", "未脱贫"]])
    with pytest.raises(InputError) as e:
        read_table(p, "户信息.xlsx", HH)
    assert str(e.value) == (
        "文件 户信息.xlsx，工作表 Sheet1，第 2 行，列 village, size：缺少必需列：行政村（village）、"
        "家庭人口数（size）（已检查前 30 行，最接近的表头在第 2 行） / missing required column(s): "
        "village, size (best header candidate: row 2)"
    )
    assert (e.value.file, e.value.sheet, e.value.row, e.value.column) == (
        "户信息.xlsx", "Sheet1", 2, "village, size")


def test_duplicate_column_is_an_error(tmp_path):
    p = write_csv(tmp_path / "income.csv", [
        ["户编号", "年度", "年度家庭人口数", "家庭人口数", "工资性收入", "生产经营性收入", "生产经营性支出",
         "财产性收入", "转移性收入"]])
    with pytest.raises(InputError, match="年度家庭人口数、家庭人口数") as e:
        read_table(p, "income.csv", INCOME)
    assert e.value.column == "size"


def test_corrupt_excel_file_is_an_input_error(tmp_path):
    p = tmp_path / "户信息.xlsx"
    p.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(InputError, match="无法读取 Excel 文件") as e:
        read_table(p, "户信息.xlsx", HH)
    assert e.value.file == "户信息.xlsx"


def test_empty_workbook_and_empty_csv(tmp_path):
    p = write_xlsx(tmp_path / "户信息.xlsx", [])
    with pytest.raises(InputError, match="没有数据"):
        read_table(p, "户信息.xlsx", HH)
    c = tmp_path / "households.csv"
    c.write_bytes(b"\n\n")
    with pytest.raises(InputError, match="文件为空"):
        read_table(c, "households.csv", HH)


def test_first_sheet_with_the_header_is_read_and_others_are_noted(tmp_path):
    p = write_xlsx(tmp_path / "户信息.xlsx", [], sheet="封面", extra_sheets={
        "填表说明": [["户编号：全国系统户编号"]],
        "数据": [["户编号", "乡(镇)", "行政村", "家庭人口数", "脱贫属性"], *hh_rows()],
        "汇总": [["户编号", "乡(镇)", "行政村", "家庭人口数", "脱贫属性"], ["合计", None, None, 5]]})
    raw = read_table(p, "户信息.xlsx", HH)
    assert raw.sheet == "数据"
    assert len(raw) == 2
    assert raw.notes == ["户信息.xlsx：读取了工作表「数据」，未读取 封面、填表说明、汇总"
                         " / sheet '数据' read; other sheets ignored"]


def test_no_sheet_with_the_header_reports_the_first_non_empty_sheet(tmp_path):
    p = write_xlsx(tmp_path / "户信息.xlsx", [["户编号", "乡(镇)"]], sheet="甲",
                   extra_sheets={"乙": [["户编号"]]})
    with pytest.raises(InputError) as e:
        read_table(p, "户信息.xlsx", HH)
    assert e.value.sheet == "甲" and e.value.column == "village, size, exit_status"


def test_merged_cells_fill_the_rows_they_span(tmp_path):
    rows = [["户编号", "乡(镇)", "行政村", "家庭人口数", "脱贫属性"],
            ["H1", "宽州镇", "东村", 3, "未脱贫"], ["H2", None, "东村", 2, "未脱贫"],
            ["H3", None, "西村", 1, "未脱贫"]]
    p = write_xlsx(tmp_path / "户信息.xlsx", rows, merges=[(1, 1, 3, 1)])
    raw = read_table(p, "户信息.xlsx", HH)
    assert raw.cells["town"].tolist() == ["宽州镇"] * 3


def test_xls_written_by_xlwt(tmp_path):
    p = write_xls(tmp_path / "户信息.xls", [
        ["清涧县贫困户信息表"], ["户编号", "乡(镇)", "行政村", "家庭人口数", "脱贫属性", "户主证件号码"],
        ["H1", "宽州镇", "东村", 3, "未脱贫", 610830199001011234],
        ["H2", "宽州镇", "西村", 2.0, "已脱贫", "61083019900101123X"]])
    raw = read_table(p, "户信息.xls", HH)
    assert raw.header_row == 2 and raw.rows.tolist() == [3, 4]
    assert raw.cells["hh_id"].tolist() == ["H1", "H2"]
    assert raw.cells["size"].tolist() == [3, 2]
    assert not isinstance(raw.cells["head_id_number"][0], str)  # a number, as Excel stored it
    assert raw.cells["head_id_number"][1] == "61083019900101123X"


def test_parquet_columns_are_the_header(tmp_path):
    p = write_parquet(tmp_path / "households.parquet", {
        "hh_id": ["H1", "H2"], "town": ["宽州镇", None], "village": ["东村", "西村"],
        "size": [3, 2], "exit_status": ["未脱贫", "已脱贫"]})
    raw = read_table(p, "households.parquet", HH)
    assert raw.header_row == 1 and raw.rows.tolist() == [2, 3]
    assert raw.cells["town"].tolist() == ["宽州镇", ""]
    assert raw.cells["size"].tolist() == [3, 2]


def test_csv_row_numbers_are_line_numbers_even_with_multiline_cells(tmp_path):
    p = tmp_path / "households.csv"
    p.write_text('标题行\n户编号,乡(镇),行政村,家庭人口数,脱贫属性\nH1,宽州镇,"东村\n一组",3,未脱贫\n\n'
                 "H2,宽州镇,西村,2,未脱贫\n", encoding="utf-8")
    raw = read_table(p, "households.csv", HH)
    assert raw.header_row == 2
    assert raw.rows.tolist() == [3, 6]
    assert raw.cells["village"].tolist() == ["东村\n一组", "西村"]


def test_tab_separated_csv_and_ragged_rows(tmp_path):
    p = tmp_path / "households.csv"
    p.write_text("户编号\t乡(镇)\t行政村\t家庭人口数\t脱贫属性\nH1\t宽州镇\t东村\t3\nH2\t宽州镇\t西村\t2\t未脱贫\textra\n",
                 encoding="utf-8")
    raw = read_table(p, "households.csv", HH)
    assert raw.cells["exit_status"].tolist() == ["", "未脱贫"]
    assert raw.cells["size"].tolist() == ["3", "2"]


def test_dates_come_as_dates_from_excel(tmp_path):
    p = write_xlsx(tmp_path / "结对关系.xlsx", [
        ["帮扶责任人编号", "户编号", "帮扶开始时间"], ["G1", "H1", dt.date(2019, 9, 30)]])
    raw = read_table(p, "结对关系.xlsx", schema.TABLES["pairings"])
    cell = raw.cells["start"][0]
    assert isinstance(cell, dt.date) and cell.isoformat().startswith("2019-09-30")


def test_lead_cells_hold_the_first_columns(tmp_path):
    p = write_csv(tmp_path / "households.csv", [
        ["序号", "户编号", "乡(镇)", "行政村", "家庭人口数", "脱贫属性"], ["1", "H1", "镇", "村", "3", "未脱贫"]])
    raw = read_table(p, "households.csv", HH)
    assert raw.lead.shape == (1, 4)
    assert np.array_equal(raw.lead[0], np.array(["1", "H1", "镇", "村"], dtype=object))


# -------------------------------------------------------- content, not names (issue #15, item 4)

HH_TABLE = [["清涧县贫困户信息表"], ["户编号", "乡(镇)", "行政村", "家庭人口数", "脱贫属性"],
            ["H1", "宽州镇", "东村", "3", "未脱贫"], ["H2", "宽州镇", "东村", "0", "未脱贫"],
            [None, None, None, None, None], ["H3", "宽州镇", "西村", "待核实", "已脱贫"],
            ["H1", "宽州镇", "东村", "3", "未脱贫"], ["合计", None, None, "6", None]]
BEN_TABLE = [["项目编号", "户编号", "年度", "受益方式", "受益金额（元）"],
             ["PJ1", "H1", "2019", "分红", "12,345"], ["PJ1", "H3", "2019", "直补", "1,200.50"],
             ["PJ1", "H2", "二〇一九", "分红", "300"]]


def html_page(rows: list[list], title: str = "") -> str:
    def td(v):
        return "<td></td>" if v is None else f"<td x:str>{v}</td>"
    body = "".join(f"<tr>{''.join(td(v) for v in r)}</tr>\n" for r in rows)
    return ('<!DOCTYPE html>\n<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>'
            f'<meta charset="utf-8"><title>{title}</title></head>\n<body><table border="1">\n'
            f"{body}</table></body></html>")


@pytest.mark.parametrize("head,kind", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1", "ole"), (b"PK\x03\x04", "zip"), (b"", "empty"),
    (b"\xef\xbb\xbf  \r\n<!DOCTYPE html>", "html"), (b"<table><tr>", "html"),
    ("<html>".encode("utf-16"), "html"), ("户编号,年度".encode(), "text"), (b"PAR1", "parquet"),
])
def test_content_kind_from_the_first_bytes(head, kind):
    assert content_kind(head) == kind


def test_html_tables_fill_spans_and_mark_horizontal_copies():
    (grid, hcopy), = html_tables(
        "<table><tr><th colspan=2>基本 信息<th>x<tr><td rowspan=2>A<td>b&amp;c<td>1"
        "<tr><td>d<br>e<td>&nbsp;</table>")
    assert grid.tolist() == [["基本 信息", "基本 信息", "x"], ["A", "b&c", "1"], ["A", "d\ne", ""]]
    assert hcopy.tolist() == [[False, True, False], [False] * 3, [False] * 3]


@pytest.mark.parametrize("delim", [",", "\t", ";"])
def test_the_separator_is_the_one_that_makes_a_header(delim):
    rows = [["清涧县,2019年,收入"], *[[("" if v is None else str(v)) for v in r] for r in BEN_TABLE]]
    text = "\n".join(delim.join(r) for r in rows) + "\n"
    assert sniff_delimiter(text, schema.TABLES["benefits"]) == delim
    # many thousands separators in a ; file do not make it a comma file
    text = ";".join(BEN_TABLE[0]) + "\n" + "PJ1;H1;2019;分红;1,234,567,890,123\n" * 5
    assert sniff_delimiter(text, schema.TABLES["benefits"]) == ";"


def test_html_saved_as_xls_reads_like_the_workbook(tmp_path):
    xls = read_table(write_xls(tmp_path / "a" / "户信息.xls", HH_TABLE), "户信息.xls", HH)
    p = tmp_path / "b" / "户信息.xls"
    p.parent.mkdir()
    p.write_text(html_page(HH_TABLE, "贫困户"), encoding="utf-8")
    raw = read_table(p, "户信息.xls", HH)
    assert raw.header_row == xls.header_row == 2
    assert raw.rows.tolist() == xls.rows.tolist() == [3, 4, 6, 7, 8]
    assert raw.cells["hh_id"].tolist() == xls.cells["hh_id"].tolist()
    assert "HTML" in raw.notes[0] and raw.notes[0].startswith("户信息.xls：")


def test_gbk_html_with_a_merged_title_and_header(tmp_path):
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            "</head><body><p>导出</p><table><tr><td colspan=5>清涧县贫困户</td></tr>"
            "<tr><td colspan=2>户编号</td><td>乡(镇)</td><td>行政村</td><td>家庭人口数</td>"
            "<td>脱贫属性</td></tr><tr><td>H1</td><td></td><td>宽州镇</td><td>东村</td><td>3</td>"
            "<td>未脱贫</td></tr></table></body></html>")
    p = tmp_path / "户信息.xls"
    p.write_bytes(page.encode("gbk"))
    raw = read_table(p, "户信息.xls", HH)
    assert raw.encoding == "gb18030" and raw.header_row == 2 and raw.rows.tolist() == [3]
    assert raw.cells["hh_id"].tolist() == ["H1"] and raw.cells["size"].tolist() == ["3"]


def test_xlsx_named_xls_is_read_as_xlsx(tmp_path):
    p = write_xlsx(tmp_path / "x.xlsx", HH_TABLE)
    q = tmp_path / "户信息.xls"
    q.write_bytes(p.read_bytes())
    raw = read_table(q, "户信息.xls", HH)
    assert raw.rows.tolist() == [3, 4, 6, 7, 8] and ".xlsx" in raw.notes[0]


def test_excel_error_cells_arrive_as_their_text(tmp_path):
    import xlsxwriter

    p = tmp_path / "户信息.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("户")
    ws.write_row(0, 0, HH_TABLE[1])
    ws.write_row(1, 0, ["H1", "宽州镇", "东村"])
    ws.write_formula(1, 3, "=NA()", None, "#N/A")
    ws.write_row(2, 0, ["H2", "宽州镇", "东村", 2])
    ws.write_formula(2, 4, "=1/0", None, "#DIV/0!")
    ws.write_formula(3, 0, '="a"+1', None, "#VALUE!")
    ws.write_formula(3, 3, "=1+2", None, 3)
    wb.close()
    raw = read_table(p, "户信息.xlsx", HH)
    assert raw.cells["size"].tolist() == ["#N/A", 2, 3]
    assert raw.cells["exit_status"].tolist() == ["", "#DIV/0!", ""]
    assert raw.cells["hh_id"].tolist() == ["H1", "H2", "#VALUE!"]
    assert any("3 个错误单元格" in n for n in raw.notes)


def test_csv_encodings_without_bom_truncated_and_inner_bom(tmp_path):
    rows = [HH_TABLE[1], ["H1", "宽州镇", "东村", "3", "未脱贫"]]
    p = tmp_path / "households.csv"
    p.write_bytes(csv_bytes(rows).decode().encode("utf-16-le"))
    raw = read_table(p, "households.csv", HH)
    assert raw.encoding == "utf-16-le" and raw.cells["hh_id"].tolist() == ["H1"]
    p.write_bytes(csv_bytes(rows)[:-2])  # "\n" and 2 of the 3 bytes of 性 cut off
    raw = read_table(p, "households.csv", HH)
    assert raw.cells["exit_status"].tolist() == ["未脱"] and "截断" in raw.notes[0]
    p.write_bytes(csv_bytes(rows, bom=True) + csv_bytes([["\ufeffH2", "宽州镇", "东村", "1", "未脱贫"]],
                                                         bom=True))
    raw = read_table(p, "households.csv", HH)
    assert raw.cells["hh_id"].tolist() == ["H1", "H2"] and "BOM" in raw.notes[0]


def test_empty_and_unreadable_files_name_themselves(tmp_path, monkeypatch):
    p = tmp_path / "户信息.xlsx"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="0 字节") as e:
        read_table(p, "户信息.xlsx", HH)
    assert e.value.file == "户信息.xlsx"
    d = tmp_path / "households.csv"
    d.mkdir()
    with pytest.raises(InputError, match="文件夹") as e:
        read_table(d, "households.csv", HH)
    q = write_csv(tmp_path / "h2.csv", [HH_TABLE[1]])
    real = open

    def locked(f, *a, **k):
        if str(f) == str(q):
            raise PermissionError(13, "Permission denied", str(f))
        return real(f, *a, **k)

    monkeypatch.setattr("builtins.open", locked)
    with pytest.raises(InputError, match="没有读取权限") as e:
        read_table(q, "h2.csv", HH)
    assert e.value.file == "h2.csv"


def _write_pkg(root, hh: str, ben: str):
    """One package, its households as a real .xls or an HTML page, benefits as , or ; CSV."""
    if hh == "xls":
        write_xls(root / "户信息.xls", HH_TABLE)
    else:
        root.mkdir(parents=True)
        (root / "户信息.xls").write_text(html_page(HH_TABLE), encoding="utf-8")
    buf = io.StringIO()
    csv.writer(buf, delimiter=ben, lineterminator="\n").writerows(
        [["" if v is None else v for v in r] for r in BEN_TABLE])
    data = buf.getvalue()
    (root / "项目受益.csv").write_text(data, encoding="utf-8")
    return root


def test_html_xls_and_semicolon_csv_load_like_their_proper_counterparts(tmp_path):
    a = load_package(_write_pkg(tmp_path / "proper", "xls", ","))
    b = load_package(_write_pkg(tmp_path / "sniffed", "html", ";"))
    assert a.accounting["sheet"].tolist()[0] == "Sheet1"  # an HTML page has no sheets
    assert a.accounting.drop(columns="sheet").equals(b.accounting.drop(columns="sheet"))
    assert a.accounting["read"].tolist() == [5, 3] and a.accounting["rejected"].tolist() == [4, 1]
    assert a.rejects.drop(columns="sheet").equals(b.rejects.drop(columns="sheet"))
    assert sorted(a.rejects["kind"]) == ["bad_year", "duplicate_key", "size_lt_1", "total_row",
                                         "unparseable_number"]
    assert a.findings.drop(columns="sheet").equals(b.findings.drop(columns="sheet"))
    for name in ("households", "benefits"):
        pd_a, pd_b = a[name], b[name]
        assert pd_a.equals(pd_b), name
    assert b["benefits"]["amount"].tolist() == [12345.0, 1200.5]
    assert any("HTML" in n for n in b.notes) and any("分号" in n for n in b.notes)
