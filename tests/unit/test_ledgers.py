"""Ledgers: what they are (qjlib.core.ledgers: order, column types, labels, sheet names; every
registered spec holds only true label overrides) and their files (qjlib.report.outputs: sorted by
key, fixed formats, UTF-8 BOM CSV, a deterministic workbook for people)."""

from __future__ import annotations

import datetime as dt
import io
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

from qjlib import analyses
from qjlib.core.errors import QjError
from qjlib.core.ledgers import (
    LedgerSpec,
    column_label,
    column_type,
    ledger_sheets,
    sheet_names,
    sort_ledger,
)
from qjlib.report.outputs import (
    PRINT_WIDTH_PER_PAGE,
    csv_bytes,
    display_width,
    format_for_csv,
    prepare,
    xlsx_bytes,
)

SPEC = LedgerSpec(
    "income_transfer_dependent", "转移性收入占比高户", ("hh_id",),
    {"transfer_share": "转移性收入占比"}, "R2",
)
AS_OF = dt.datetime(2019, 9, 30)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "hh_id": ["610830003", "610830001", "610830002"],
        "town": ["乙镇", "甲镇", "甲镇"],
        "head_name": ["王五六", "张三明", "李四"],
        "net_income": [5000.006, 12345.678, -0.001],
        "transfer_share": [0.5, 2 / 3, np.nan],
        "year": pd.array([2019, 2019, pd.NA], dtype="Int64"),
        "exit_status": ["exited", "returned", "not_exited"],
        "paid_date": pd.to_datetime(["2019-10-01", None, "2019-09-30"]),
        "reason": ["转移性收入占比 50.0%", "=1+1", "占比高"],
    })


def test_sort_by_key_then_other_columns():
    df = pd.DataFrame({"hh_id": ["b", "a", "a", None], "x": [1, 3, 2, 0]})
    out = sort_ledger(df, LedgerSpec("t", "测试", ("hh_id",)))
    assert out["hh_id"].tolist()[:3] == ["a", "a", "b"] and pd.isna(out["hh_id"].iloc[3])
    assert out["x"].tolist() == [2, 3, 1, 0]
    assert out.index.tolist() == [0, 1, 2, 3]


def test_keys_equal_as_text_are_ties_broken_by_the_other_columns():
    # 1 and "1" differ as values but sort as the same text: the rows tie on the key, so the
    # other columns order them (not the input order)
    df = pd.DataFrame({"hh_id": pd.Series([1, "1", "0"], dtype=object), "x": [2, 1, 5]})
    out = sort_ledger(df, LedgerSpec("t", "测试", ("hh_id",)))
    assert out["x"].tolist() == [5, 1, 2]


def test_missing_key_column_is_an_error_naming_the_ledger():
    with pytest.raises(QjError, match="hh_id"):
        sort_ledger(pd.DataFrame({"x": [1]}), SPEC)


def test_column_types_by_dtype_and_name():
    df = _frame()
    assert column_type("net_income", df["net_income"]) == "money"
    assert column_type("transfer_share", df["transfer_share"]) == "share"
    assert column_type("year", df["year"]) == "int"
    assert column_type("paid_date", df["paid_date"]) == "date"
    assert column_type("reason", df["reason"]) == "text"
    assert column_type("composite", pd.Series([0.5])) == "float"
    assert column_type("pc_2018", pd.Series([0.5])) == "money"
    assert column_type("row", pd.Series([3.0, np.nan])) == "int"
    spec = LedgerSpec("t", "测试", ("a",), formats={"composite": "share"})
    assert column_type("composite", pd.Series([0.5]), spec) == "share"


def test_csv_is_utf8_bom_sorted_masked_with_fixed_formats():
    data = csv_bytes(prepare(_frame(), SPEC), SPEC)
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in data
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "hh_id,town,head_name,net_income,transfer_share,year,exit_status,paid_date,reason"
    assert lines[1] == "610830001,甲镇,张*明,12345.68,0.6667,2019,returned,,=1+1"
    assert lines[2] == "610830002,甲镇,李*,0.00,,,not_exited,2019-09-30,占比高"
    assert lines[3] == "610830003,乙镇,王*六,5000.01,0.5000,2019,exited,2019-10-01,转移性收入占比 50.0%"
    assert "张三明" not in data.decode("utf-8-sig")


def test_csv_unmasked_only_on_request():
    data = csv_bytes(prepare(_frame(), SPEC, pii="full"), SPEC).decode("utf-8-sig")
    assert "张三明" in data


def test_csv_is_independent_of_input_row_order():
    a = csv_bytes(prepare(_frame(), SPEC), SPEC)
    b = csv_bytes(prepare(_frame().iloc[::-1], SPEC), SPEC)
    assert a == b


def test_sheet_names_are_legal_unique_and_short():
    specs = [
        LedgerSpec("a", "帮扶责任人测评结果（含群众测评、干部访谈量化评分、领导点评）汇总表", ("x",)),
        LedgerSpec("b", "帮扶责任人测评结果（含群众测评、干部访谈量化评分、领导点评）汇总表", ("x",)),
        LedgerSpec("c", "数据/问题[清单]?", ("x",)),
        LedgerSpec("d", "目录", ("x",)),
    ]
    names = sheet_names(specs)
    assert all(len(n) <= 31 for n in names)
    assert len(set(names)) == 4 and "目录" not in names
    assert names[2] == "数据_问题_清单__"
    assert ledger_sheets({s.name: s for s in specs}) == dict(zip("abcd", names, strict=True))


def test_labels_spec_then_schema_then_common():
    assert column_label("transfer_share", SPEC) == "转移性收入占比"
    assert column_label("hh_id") == "户编号"
    assert column_label("town") == "乡(镇)"
    assert column_label("reason") == "原因"
    assert column_label("made_up") == "made_up"


@pytest.mark.parametrize("name", analyses.names())
def test_column_label_overrides_differ_from_their_fallback(name):
    """A ``columns_zh`` entry must change the header: one equal to the schema's or the common
    label is a restatement, to be deleted."""
    module = analyses.get(name)
    redundant = sorted(
        f"{ledger}.{col} = {zh}"
        for ledger, spec in module.LEDGERS.items()
        for col, zh in spec.columns_zh.items()
        if zh == column_label(col)
    )
    assert not redundant, f"{name}: columns_zh entries equal to their fallback: {redundant}"


def test_workbook_is_deterministic_and_for_people():
    led = {"income_transfer_dependent": (SPEC, prepare(_frame(), SPEC))}
    a, b = xlsx_bytes(led, AS_OF), xlsx_bytes(led, AS_OF)
    assert a == b
    wb = openpyxl.load_workbook(io.BytesIO(a))
    assert wb.sheetnames == ["目录", "转移性收入占比高户"]
    toc = wb["目录"]
    assert [c.value for c in toc[2]][:3] == ["转移性收入占比高户", "income_transfer_dependent", 3]
    ws = wb["转移性收入占比高户"]
    assert [c.value for c in ws[1]] == [
        "户编号", "乡(镇)", "户主姓名", "纯收入", "转移性收入占比", "年度", "脱贫属性", "到账日期", "原因",
        "核实结果", "整改措施", "整改完成日期", "责任单位",  # a work list: the towns' answer columns
    ]
    assert ws.freeze_panes == "B2"  # the header row and the key column (户编号) stay in view
    assert ws.auto_filter.ref == "A1:M4"
    assert ws.protection.sheet and ws.protection.password is None  # keys locked, no password
    assert ws.page_setup.fitToWidth in (None, 1)  # narrow: one page wide (1 is the default)
    assert ws.print_title_rows == "$1:$1" and ws.print_title_cols is None
    row = [c.value for c in ws[2]]
    assert row[:5] == ["610830001", "甲镇", "张*明", 12345.68, 0.6667]
    assert row[6] == "返贫"  # coded value in Chinese
    assert row[8] == "=1+1" and ws.cell(2, 9).data_type == "s"  # text, never a formula
    assert ws.cell(2, 4).number_format == "#,##0.00"
    assert ws.cell(2, 5).number_format == "0.00%"
    assert ws.cell(3, 8).value == dt.datetime(2019, 9, 30)
    assert ws.cell(3, 8).number_format == "yyyy-mm-dd"
    assert ws.cell(3, 5).value is None  # missing share: blank
    assert wb.properties.created == AS_OF
    assert ws.column_dimensions["I"].width >= 20  # fits the longest reason text


def test_a_wide_ledger_prints_over_pages_with_its_key_on_each():
    wide = pd.DataFrame({"hh_id": ["1", "2"], **{f"note_{i}": ["说明" * 12] * 2 for i in range(12)}})
    spec = LedgerSpec("w", "宽台账", ("hh_id",))
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"w": (spec, prepare(wide, spec))}, AS_OF)))
    ws = wb["宽台账"]
    # 户编号 is 8 wide, each note 50 (24 CJK characters + 2, the cap): 608 units, 4 pages across
    assert ws.page_setup.fitToWidth == math.ceil((8 + 12 * 50) / PRINT_WIDTH_PER_PAGE) == 4
    assert ws.print_title_cols == "$A:$A" and ws.print_title_rows == "$1:$1"


def test_empty_ledger_writes_headers_only():
    empty = _frame().iloc[0:0]
    led = {"x": (SPEC, prepare(empty, SPEC))}
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(led, AS_OF)))
    ws = wb["转移性收入占比高户"]
    assert ws.max_row == 1 and ws.cell(1, 1).value == "户编号"
    assert csv_bytes(prepare(empty, SPEC), SPEC).decode("utf-8-sig").count("\n") == 1


def test_all_missing_column_is_written():
    spec = LedgerSpec("t", "测试", ("hh_id",))
    df = pd.DataFrame({"hh_id": ["1", "2"], "village": pd.Series([None, None], dtype="str"),
                       "amount": [np.nan, np.nan]})
    p = prepare(df, spec)
    assert csv_bytes(p, spec).decode("utf-8-sig").splitlines()[1:] == ["1,,", "2,,"]
    ws = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"t": (spec, p)}, AS_OF)))["测试"]
    assert [c.value for c in ws[2]] == ["1", None, None] + [None] * 4  # + the answer columns


def _stored_width(chars: int) -> float:
    """The column width xlsxwriter stores for ``set_column(…, chars)`` (7-pixel digits, 5 of
    padding, in 1/256 of a character)."""
    return int((chars * 7 + 5) / 7 * 256) / 256


def test_column_widths_fit_the_widest_text_of_every_cell():
    rng = np.random.default_rng(3)
    n = 60
    money = rng.normal(0, 1, n) * 10.0 ** rng.integers(0, 9, n)
    money[[3, 7]] = np.nan
    df = pd.DataFrame({
        "hh_id": [f"{i:03d}" for i in range(n)],
        "net_income": money,  # money of every magnitude, both signs
        "transfer_share": rng.uniform(-2, 2, n),
        "n_members": pd.array(rng.integers(-99_999, 9_999, n), dtype="Int64"),
        "paid_date": pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 400, n), "D"),
        "reason": ["说明·é×" * int(k) for k in rng.integers(0, 9, n)],  # CJK counts 2, Latin-1 1
    })
    spec = LedgerSpec("t", "测试", ("hh_id",))
    p = prepare(df, spec)
    ws = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"t": (spec, p)}, AS_OF)))["测试"]
    texts = format_for_csv(p, spec)  # every cell's text, measured one by one
    for j, c in enumerate(p.columns):
        head = ws.cell(1, j + 1).value
        widest = max(len(t) + sum(ord(ch) > 0xFF for ch in t) for t in [*texts[c], head])
        letter = openpyxl.utils.get_column_letter(j + 1)
        assert ws.column_dimensions[letter].width == _stored_width(min(max(widest + 2, 8), 50)), c


def test_display_width_counts_characters_beyond_latin1_twice():
    assert display_width(pd.Series(["a·b×é", "€", "张三", None, "😀"])) == 5
    assert display_width(pd.Series(["张三丰·x"])) == 8
