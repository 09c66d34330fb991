"""Data-quality ledgers and figures on a tiny package read through the loader."""

from __future__ import annotations

import pandas as pd
import pytest

from qjlib.analyses import quality
from qjlib.core.context import Context
from qjlib.core.ledgers import column_label
from qjlib.core.params import load_params
from qjlib.io import issues
from qjlib.pages import quality as page

HOUSEHOLDS = """户编号,县,乡(镇),行政村,户主姓名,户主证件号码,家庭人口数,脱贫属性,脱贫年度
H001,清涧县,甲镇,一村,张三明,610830199001011234,3,已脱贫,2016
H002,清涧县,甲镇,一村,李四,11010519491231002X,2,未脱贫,
H003,清涧县,乙镇,二村,王五六,110105194912310021,4,已脱贫,2017
合计,,,,,,9,,
"""
INCOME = """户编号,年度,年度家庭人口数,工资性收入,生产经营性收入,生产经营性支出,财产性收入,转移性收入
H001,2019,3,3000,1500,500,0,2000
H002,2019,2,1000,abc,100,0,5000
H003,2019,4,8000,4000,1000,200,1000
"""


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> Context:
    from qjlib.io.load import load_package

    root = tmp_path_factory.mktemp("pkg")
    (root / "households.csv").write_text(HOUSEHOLDS, encoding="utf-8")
    (root / "income.csv").write_text(INCOME, encoding="utf-8")
    return Context(load_package(root), load_params("2019Q3"))


def test_rejects_ledger_has_every_rejected_row_with_chinese_reason(ctx):
    led = quality.build_ledgers(ctx)["rejects"]
    assert list(led.columns) == quality.REJECT_LEDGER_COLUMNS
    got = led[["file", "row", "kind"]].sort_values(["file", "row"]).to_numpy().tolist()
    assert got == [["households.csv", 5, "total_row"], ["income.csv", 3, "unparseable_number"]]
    assert led["reason"].str.contains("[\u4e00-\u9fff]").all()
    assert led.loc[led["kind"] == "unparseable_number", "town"].item() == "甲镇"


def test_findings_ledger_and_households_with_findings(ctx):
    fin = quality.build_ledgers(ctx)["findings"]
    # H001's ID has a wrong check character; 11010519491231002X is valid; ...0021 is not
    assert sorted(fin.loc[fin["kind"] == "id_checksum", "key"]) == ["hh_id=H001", "hh_id=H003"]
    assert quality.finding_households(fin, ctx.pkg["households"]) == 2


def test_ledger_columns_are_the_loaders_with_the_key_first():
    # the order the ledger CSVs have always had (a change would change their bytes)
    assert quality.REJECT_LEDGER_COLUMNS == [
        "file", "row", "table", "sheet", "column", "value", "kind", "reason", "reason_en", "key",
        "town", "village"]
    assert quality.FINDING_LEDGER_COLUMNS == [
        "table", "key", "file", "sheet", "row", "column", "value", "kind", "reason", "reason_en",
        "town", "village"]
    assert sorted(quality.REJECT_LEDGER_COLUMNS) == sorted(
        "reason" if c == "reason_zh" else c for c in issues.REJECT_COLUMNS)


def test_ledger_headers_are_chinese_and_overrides_are_true_ones():
    for spec in quality.LEDGERS.values():
        for col, zh in spec.columns_zh.items():
            assert zh != column_label(col), (spec.name, col)
    spec = quality.LEDGERS["rejects"]
    heads = [column_label(c, spec) for c in quality.REJECT_LEDGER_COLUMNS]
    assert heads == ["文件", "行号", "表", "工作表", "列", "值", "问题类型", "原因", "原因（英文）",
                     "主键", "乡(镇)", "行政村"]


def test_county_summary_counts(ctx):
    s = quality.summary(ctx)
    assert s["rows"] == {"read": 7, "kept": 5, "rejected": 2}
    assert s["files"] == 2 and s["tables"] == ["households", "income"]
    assert s["households"] == 3 and s["rejects"] == 2
    assert s["rejects_by_kind"] == {"total_row": 1, "unparseable_number": 1}
    assert s["rejects_no_town"] == 1  # the totals line belongs to no town
    assert s["findings_by_kind"]["id_checksum"] == 2


def test_town_summary_counts_only_the_towns_rows(ctx):
    s = quality.summary(ctx.restrict("甲镇"))
    assert "rows" not in s  # the package accounting is the county's
    assert s["households"] == 2 and s["rejects"] == 1
    assert s["findings_by_kind"].get("id_checksum") == 1
    assert s["findings_households"] == 1


def test_page_kind_labels_come_from_the_loader():
    assert page.kind_label("total_row") == "合计/总计/小计行"
    assert page.kind_label("id_checksum").startswith("证件号码校验位不符")
    assert page.kind_label("made_up") == "made_up"


def test_by_kind_and_by_area_orders():
    df = pd.DataFrame({"kind": ["b", "a", "b", "c"], "town": ["乙镇", None, "甲镇", "乙镇"]})
    assert page.by_kind(df)["kind"].tolist() == ["b", "a", "c"]  # count desc, then code
    area = page.by_area(df, df.iloc[:2], "town")
    assert area["town"].tolist() == ["乙镇", "甲镇", quality.NO_TOWN]  # the unknown town last
    assert area["rejects"].tolist() == [2, 1, 1] and area["findings"].tolist() == [1, 0, 1]


def test_reading_is_built_from_the_figures(ctx):
    s = quality.summary(ctx)
    text = page.reading(s, "清涧县")
    assert "读入 7 行，保留 5 行，剔除 2 行（28.6%）" in text
    assert "清涧县共有 3 户" in text and "1 条剔除记录无法确定所属乡镇" in text
    s2 = dict(s, rows={"read": 70, "kept": 60, "rejected": 10})
    assert "读入 70 行" in page.reading(s2, "清涧县")


def test_key_figures_county_and_town(ctx):
    assert list(page.key_figures(quality.summary(ctx)))[:2] == ["读入行 rows read",
                                                                    "保留行 rows kept"]
    town = page.key_figures(quality.summary(ctx.restrict("乙镇")))
    assert town["户数 households"] == 1 and "读入行 rows read" not in town


def test_net_income_at_most_zero_in_the_income_year_is_a_finding(tmp_path):
    from qjlib.io.load import load_package

    income = """户编号,年度,年度家庭人口数,工资性收入,生产经营性收入,生产经营性支出,财产性收入,转移性收入
H001,2019,3,0,1000,1000,0,0
H001,2018,3,0,0,500,0,0
H002,2019,2,0,0,1000.5,0,0
H003,2019,4,0,0,0,0,0.01
"""
    (tmp_path / "households.csv").write_text(HOUSEHOLDS, encoding="utf-8")
    (tmp_path / "income.csv").write_text(income, encoding="utf-8")
    c = Context(load_package(tmp_path), load_params("2019Q3"))
    fin = quality.build_ledgers(c)["findings"]
    got = fin[fin["kind"].eq("net_income_nonpositive")]
    # exactly zero and negative in 2019 are findings; 2018 is not the income year; one fen is > 0
    assert got[["key", "value", "row", "town"]].to_numpy().tolist() == [
        ["hh_id=H001,year=2019", "0.00", 2, "甲镇"], ["hh_id=H002,year=2019", "-1000.50", 4, "甲镇"]]
    assert got["reason"].str.contains("纯收入为零或负").all()
    assert quality.summary(c)["findings_by_kind"]["net_income_nonpositive"] == 2
    assert issues.KINDS["net_income_nonpositive"]
