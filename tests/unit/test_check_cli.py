"""``qj check DATA [--out DIR]``: the printed accounting, the ledgers written, the exit codes."""

from __future__ import annotations

import pandas as pd
from fixtures.build import mini_package, write_csv

from qjlib.cli import main


def test_check_prints_accounting_findings_and_notes_and_exits_0(tmp_path, capsys):
    root = mini_package(tmp_path / "pkg")
    assert main(["check", str(root)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(ln.split() == ["households", "户信息.xlsx", "Sheet1", "5", "3", "2"] for ln in lines)
    assert any(ln.split() == ["income", "收入信息/2019.xlsx", "2019年度收入", "3", "2", "1"] for ln in lines)
    assert "合计 total: 读取 21，保留 18，剔除 3" in out
    assert any(ln.split()[:4] == ["households", "total_row", "1", "合计/总计/小计行"] for ln in lines)
    assert any(ln.split()[:3] == ["members", "orphan_member", "1"] for ln in lines)
    assert "未提供 visits（走访记录）表" in out
    from qjlib.core.definitions import town_code

    assert f"宽州镇({town_code('宽州镇')})" in out and f"石咀驿镇({town_code('石咀驿镇')})" in out
    assert out.rstrip().endswith("数据包可用 / the package is usable")


def test_check_writes_masked_ledgers_with_bom(tmp_path, capsys):
    root = mini_package(tmp_path / "pkg")
    out = tmp_path / "out"
    assert main(["check", str(root), "--out", str(out)]) == 0
    raw = (out / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    f = pd.read_csv(out / "findings.csv", encoding="utf-8-sig", dtype=str)
    r = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig", dtype=str)
    assert len(f) == 5 and len(r) == 3
    ids = f.loc[f["column"] == "head_id_number", "value"].tolist()
    assert "110105194912310021" not in raw.decode("utf-8-sig")  # the full ID number never leaves
    assert "110105********0021" in ids
    assert f.loc[f["kind"] == "orphan_member", "value"].tolist() == ["H99"]  # hh_id is not PII


def test_check_exits_1_with_one_line_when_the_package_is_unusable(tmp_path, capsys):
    write_csv(tmp_path / "members.csv", [["人编号", "户编号", "与户主关系", "劳动技能"]])
    assert main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("qj check: ") and "没有户信息表" in err and "no households table" in err


def test_check_names_the_file_and_column_when_a_required_column_is_missing(tmp_path, capsys):
    write_csv(tmp_path / "户信息.csv", [["户编号", "乡(镇)", "行政村", "脱贫属性"], ["H1", "镇", "村", "未脱贫"]])
    assert main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("qj check: 文件 户信息.csv，第 1 行，列 size：缺少必需列：家庭人口数（size）")


def test_check_of_a_corrupt_workbook(tmp_path, capsys):
    (tmp_path / "户信息.xlsx").write_bytes(b"\x00" * 64)
    assert main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "户信息.xlsx" in err and "无法读取 Excel 文件" in err and "Traceback" not in err
