"""``qj collect``: the towns' returned workbooks read back as Excel, WPS and LibreOffice save them,
every answered row checked, and a file that is not one of ours named in one line."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from qjlib.analyses import load_analyses
from qjlib.cli import main
from qjlib.report.collect import collect, parse_done
from qjlib.report.compute import Results
from qjlib.report.outputs import write_outputs

ON = dt.date(2019, 11, 15)


@pytest.fixture
def report(tmp_path) -> Path:
    """A report folder with one work list, ``helper_unpaired``: three households of two towns."""
    spec = load_analyses(["helpers"]).specs()["helper_unpaired"]
    df = pd.DataFrame({"hh_id": ["6108300012000000001", "6108300012000000002",
                                 "6108300022000000003"],
                       "reason": ["从未结对", "结对已结束", "从未结对"],
                       "town": ["宽州镇", "宽州镇", "石咀驿镇"], "village": ["甲村", "甲村", "乙村"]})
    res = Results({"helper_unpaired": (spec, df)}, {"helper_unpaired": "helpers"}, {}, [])
    folder = tmp_path / "2019Q3"
    folder.mkdir()
    out = write_outputs(res, folder, "masked", pd.Timestamp("2019-09-30"))
    manifest = {"period": "2019Q3", "analyses": {"included": ["helpers"]}, "outputs": out}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return folder


def _answer(src: Path, dst: Path, rows: dict[int, tuple]) -> Path:
    """The workbook ``src`` with answers (verdict, action, done, unit) typed into ``rows``."""
    wb = openpyxl.load_workbook(src)
    ws = wb[wb.sheetnames[1]]
    head = [c.value for c in ws[1]]
    for r, values in rows.items():
        for zh, v in zip(("核实结果", "整改措施", "整改完成日期", "责任单位"), values, strict=True):
            ws.cell(r, head.index(zh) + 1, v)
    wb.save(dst)
    return dst


def test_town_workbooks_hold_their_rows_with_locked_keys_and_a_drop_down(report):
    wb = openpyxl.load_workbook(report / "towns" / "宽州镇.xlsx")
    ws = wb[wb.sheetnames[1]]
    head = [c.value for c in ws[1]]
    assert head[-4:] == ["核实结果", "整改措施", "整改完成日期", "责任单位"]
    assert ws.max_row == 3 and ws.protection.sheet and ws.protection.password is None
    assert ws.cell(2, 1).protection.locked and not ws.cell(2, len(head) - 3).protection.locked
    dv = ws.data_validations.dataValidation
    assert any(v.type == "list" and "属实" in v.formula1 for v in dv)
    assert any(v.type == "date" for v in dv)
    assert sorted(p.name for p in (report / "towns").iterdir()) == ["宽州镇.xlsx", "石咀驿镇.xlsx"]


def test_answers_are_read_and_checked(report, tmp_path):
    f = _answer(report / "towns" / "宽州镇.xlsx", tmp_path / "宽州镇.xlsx", {
        2: ("属实", "已结对 联系 13812345678", dt.datetime(2019, 10, 8), "乡扶贫办"),
        3: ("不属实", None, None, None)})
    got = collect(report, [f], ON)
    r = got.responses.set_index("key")
    assert r.loc["hh_id=6108300012000000001", "done"] == "2019-10-08"
    assert r.loc["hh_id=6108300012000000001", "action"] == "已结对 联系 138****5678"
    assert r.loc["hh_id=6108300012000000002", "verdict"] == "not_confirmed"
    assert set(r["town"]) == {"宽州镇"} and got.rejects.empty
    assert got.findings == [{"file": "宽州镇.xlsx", "sheet": got.responses["sheet"][0], "row": 2,
                             "column": "整改措施", "kind": "phone"}]
    rec = json.loads((report / "manifest.json").read_text("utf-8"))["responses"]
    assert rec["files"][0]["rows_read"] == 2 and rec["collected_on"] == "2019-11-15"


@pytest.mark.parametrize(("answer", "reason"), [
    (("已整改", None, None, None), "verdict"),
    (("属实", None, "下个月", None), "not a date"),
    (("属实", None, dt.datetime(2019, 12, 1), None), "after the collection date"),
    ((None, "只填了措施", None, None), "verdict"),  # an answer without a verdict
])
def test_bad_answers_are_rejected_with_file_sheet_row_and_reason(report, tmp_path, answer,
                                                                 reason):
    f = _answer(report / "towns" / "宽州镇.xlsx", tmp_path / "t.xlsx", {3: answer})
    got = collect(report, [f], ON)
    assert got.responses.empty and len(got.rejects) == 1
    r = got.rejects.iloc[0]
    assert (r["file"], r["row"]) == ("t.xlsx", 3) and reason in r["reason_en"]


def test_edited_keys_are_rejected(report, tmp_path):
    f = _answer(report / "towns" / "宽州镇.xlsx", tmp_path / "t.xlsx",
                {2: ("属实", None, None, None), 3: ("属实", None, None, None)})
    wb = openpyxl.load_workbook(f)
    ws = wb[wb.sheetnames[1]]
    ws.cell(2, 1, "6108300012000009999")  # not in the ledger
    ws.cell(3, 1, "6108300022000000003")  # another row's key (its reason differs)
    wb.save(f)
    got = collect(report, [f], ON)
    assert sorted(got.rejects["reason_en"].str[:16]) == ["key cells edited", "key not in this "]


def test_the_later_answer_wins_and_the_earlier_is_reported(report, tmp_path):
    a = _answer(report / "ledgers.xlsx", tmp_path / "a.xlsx", {2: ("属实", None, None, None)})
    b = _answer(report / "towns" / "宽州镇.xlsx", tmp_path / "b.xlsx",
                {2: ("数据错误", None, None, None)})
    got = collect(report, [a, b], ON)
    assert list(got.responses["verdict"]) == ["data_error"]
    assert list(got.rejects["file"]) == ["a.xlsx"]
    files = {f["file"]: f for f in got.files}
    assert (files["a.xlsx"]["rows_kept"], files["a.xlsx"]["rows_rejected"]) == (0, 1)


def test_the_same_answers_from_other_writers(report, tmp_path):
    """Written by openpyxl (inline strings, date cells), WPS-like quirks (dates as serial
    numbers or Chinese text, a verdict with a trailing space) and LibreOffice (re-saved by
    soffice: shared strings) give the same responses."""
    rows = {2: ("属实", None, dt.datetime(2019, 10, 8), None), 3: ("不属实", None, None, None)}
    base = _answer(report / "towns" / "宽州镇.xlsx", tmp_path / "excel.xlsx", rows)
    want = collect(report, [base], ON).responses[["key", "verdict", "done"]]
    wps = _answer(report / "towns" / "宽州镇.xlsx", tmp_path / "w.xlsx",
                  {2: ("属实 ", None, 43746, None), 3: ("不属实", None, None, None)})
    assert b"inlineStr" in zipfile.ZipFile(wps).read("xl/worksheets/sheet2.xml")
    pd.testing.assert_frame_equal(collect(report, [wps], ON).responses[
        ["key", "verdict", "done"]], want)
    text = _answer(report / "towns" / "宽州镇.xlsx", tmp_path / "text.xlsx",
                   {2: ("属实", None, "2019年10月8日", None), 3: ("不属实", None, None, None)})
    pd.testing.assert_frame_equal(collect(report, [text], ON).responses[
        ["key", "verdict", "done"]], want)
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("soffice not installed: the LibreOffice re-save is not tested")
    lo = tmp_path / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(lo), str(base)],
                   check=True, capture_output=True, timeout=180)
    assert "xl/sharedStrings.xml" in zipfile.ZipFile(lo / "excel.xlsx").namelist()
    pd.testing.assert_frame_equal(collect(report, [lo / "excel.xlsx"], ON).responses[
        ["key", "verdict", "done"]], want)


def test_a_file_that_is_not_ours_gets_one_clear_line(report, tmp_path, capsys):
    (tmp_path / "a.csv").write_text("户编号,核实结果\n1,属实\n", encoding="utf-8")
    (tmp_path / "b.xlsx").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504)  # encrypted
    other = openpyxl.Workbook()
    other.active.title = "Sheet1"
    other.save(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(report / "towns" / "宽州镇.xlsx")
    wb[wb.sheetnames[1]].delete_cols(1)  # the key column removed
    wb.save(tmp_path / "d.xlsx")
    rc = main(["collect", str(report), *(str(tmp_path / n) for n in
                                         ("a.csv", "b.xlsx", "c.xlsx", "d.xlsx"))])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    lines = [x for x in err.splitlines() if x.strip().startswith("✗")]
    assert len(lines) == 4
    assert "not an .xlsx" in lines[0] and "password" in lines[1]
    assert "no sheet" in lines[2] and "layout" in lines[3]


def test_dates_in_every_form():
    assert parse_done(dt.datetime(2019, 10, 8, 0, 0)) == dt.date(2019, 10, 8)
    assert parse_done(43746) == parse_done("43746") == dt.date(2019, 10, 8)
    for text in ("2019-10-08", "2019/10/8", "2019.10.08", "2019年10月8日", "20191008",
                 "2019-10-08 00:00:00"):
        assert parse_done(text) == dt.date(2019, 10, 8), text
    assert parse_done("十月") is None and parse_done(12) is None
