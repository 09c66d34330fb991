"""What notebooks call: formatted, masked, deterministic tables; key figures; a run's scopes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qjlib.core.errors import QjError
from qjlib.core.ledgers import LedgerSpec
from qjlib.pages import nb


@pytest.fixture
def shown(monkeypatch):
    out: list = []
    monkeypatch.setattr(nb, "_display", out.append)
    return out


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "hh_id": ["2", "1"], "head_name": ["张三明", "<李四>"], "net_income": [12345.678, np.nan],
        "transfer_share": [0.1234, 0.5], "year": pd.array([2019, 2018], dtype="Int64"),
        "n_households": pd.array([1234, 5], dtype="Int64"), "exit_status": ["exited", "returned"],
        "relocated": [True, False],
    })


def test_format_cells_for_people():
    t = nb.format_cells(_frame())
    assert t.iloc[0].tolist() == ["2", "张三明", "12,345.68", "12.3%", "2019", "1,234", "已脱贫", "是"]
    assert t.iloc[1].tolist() == ["1", "<李四>", "", "50.0%", "2018", "5", "返贫", "否"]


def test_format_cells_leaves_every_missing_cell_blank():
    df = pd.DataFrame({
        "hh_id": pd.Series(["1", None], dtype="str"),
        "n_members": pd.array([3, None], dtype="Int64"),
        "relocated": pd.array([True, None], dtype="boolean"),
        "paid_date": pd.to_datetime(["2019-09-30", None]),
        "exit_status": ["not_exited", None],
        "net_income": [-1234.5, None],
    })
    t = nb.format_cells(df)
    assert t.iloc[0].tolist() == ["1", "3", "是", "2019-09-30", "未脱贫", "-1,234.50"]
    assert t.iloc[1].tolist() == [""] * 6


def test_show_table_masks_sorts_labels_and_counts(shown):
    spec = LedgerSpec("t", "测试", ("hh_id",), {"transfer_share": "转移性收入占比"})
    nb.show_table(_frame(), spec=spec, max_rows=1)
    html = shown[0].data
    assert "张三明" not in html and "<李四>" not in html
    assert "&lt;**&gt;" in html or "&lt;*" in html  # masked and escaped
    assert ">户编号</th>" in html and ">转移性收入占比</th>" in html
    assert html.index(">1</td>") > 0 and ">2</td>" not in html  # sorted, first row only
    assert "共 2 行，显示前 1 行" in html
    assert 'text-align:right;white-space:nowrap">50.0%' in html
    assert "<style" not in html and "<script" not in html


def test_show_table_is_deterministic_and_full_only_on_request(shown):
    nb.show_table(_frame())
    nb.show_table(_frame())
    assert shown[0].data == shown[1].data
    nb.show_table(_frame(), pii="full")
    assert "张三明" in shown[2].data


def test_empty_table_says_none(shown):
    nb.show_table(_frame().iloc[0:0], columns_zh={"hh_id": "户"})
    assert "（无 none）" in shown[0].data and ">户</th>" in shown[0].data


def test_key_figures_formats(shown):
    nb.show_key_figures({"户数": 12345, "占比": "12.3%", "均值": 2.5, "缺": None, "注": (7, "说明")})
    html = shown[0].data
    for text in ("12,345", "12.3%", "2.50", "—", ">7<", "说明"):
        assert text in html
    assert "<style" not in html and html.count(f'style="{nb.KF_BOX_STYLE}"') == 5
    assert 'class="qj-kf" style="display:flex;flex-wrap:wrap' in html


def test_table_styles_inline_and_keeps_short_text_on_one_line(shown):
    long = "很长的说明文字" * 4
    df = pd.DataFrame({"head_name": ["欧阳小明", "张三"], "reason": [long, "短"], "n": [1, 2]})
    nb.show_table(df)
    html = shown[0].data
    assert "<style" not in html and "class=\"r\"" not in html
    assert 'white-space:nowrap">欧**明</td>' in html  # a masked name never wraps
    assert f'text-align:left">{long}</td>' in html  # long text may wrap
    assert 'text-align:right;white-space:nowrap">1</td>' in html


def test_show_table_head_tail_shows_worst_and_best_with_a_count(shown):
    df = pd.DataFrame({"unit": [f"单位{i:02d}" for i in range(25)], "score": np.arange(25.0)})
    nb.show_table(df, head_tail=3, max_rows=1)
    html = shown[0].data
    units = [f"单位{i:02d}" for i in range(25)]
    assert all(u in html for u in units[:3] + units[-3:])
    assert not any(u in html for u in units[3:-3])
    assert html.index("单位02") < html.index("中间 19 行从略") < html.index("单位22")
    assert "共 25 行，显示前 3 行和后 3 行" in html
    # leaving out fewer than MIN_GAP rows saves nothing: shown whole, no note
    nb.show_table(df.head(6 + nb.MIN_GAP - 1), head_tail=3, max_rows=1)
    assert all(u in shown[1].data for u in units[:6 + nb.MIN_GAP - 1])
    assert "从略" not in shown[1].data
    nb.show_table(df.head(6 + nb.MIN_GAP), head_tail=3, max_rows=1)
    assert f"中间 {nb.MIN_GAP} 行从略" in shown[2].data


def test_open_run_scopes_and_town_ledgers(tmp_path, monkeypatch):
    monkeypatch.setenv("QJLIB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "households.csv").write_text(
        "户编号,县,乡(镇),行政村,家庭人口数,脱贫属性\nH1,某县,甲镇,一村,3,未脱贫\n"
        "H2,某县,乙镇,二村,0,未脱贫\nH3,某县,乙镇,二村,2,已脱贫\n", encoding="utf-8")
    county = nb.open_run(tmp_path / "pkg", "2019Q3")
    assert county.is_county and county.scope_name == "某县"
    codes = [s.code for s in county.towns]
    assert codes == sorted(codes) and {s.name for s in county.towns} == {"甲镇", "乙镇"}
    rejects = county.ledger("rejects")
    assert rejects["kind"].tolist() == ["size_lt_1"]
    yi = next(s for s in county.towns if s.name == "乙镇")
    town = nb.open_run(tmp_path / "pkg", "2019Q3", yi.code)
    assert town.scope_name == "乙镇" and not town.is_county
    assert len(town.ctx.pkg["households"]) == 1  # H2 was rejected
    assert town.ledger("rejects")["key"].tolist() == ["hh_id=H2"]
    jia = nb.open_run(tmp_path / "pkg", "2019Q3", "甲镇")
    assert len(jia.ledger("rejects")) == 0
    assert jia.summary("quality")["households"] == 1
    with pytest.raises(QjError, match="丙镇"):
        nb.open_run(tmp_path / "pkg", "2019Q3", "丙镇")


def test_open_run_rereads_the_package_when_a_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("QJLIB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "pkg").mkdir()
    f = tmp_path / "pkg" / "households.csv"
    head = "户编号,县,乡(镇),行政村,家庭人口数,脱贫属性\n"
    f.write_text(head + "H1,某县,甲镇,一村,3,未脱贫\n", encoding="utf-8")
    first = nb.open_run(tmp_path / "pkg", "2019Q3")
    again = nb.open_run(tmp_path / "pkg", "2019Q3")
    assert again.county_ctx.pkg is first.county_ctx.pkg  # read once per kernel
    town = first.towns[0].code
    jia = nb.open_run(tmp_path / "pkg", "2019Q3", town)
    assert nb.open_run(tmp_path / "pkg", "2019Q3", town).ctx.pkg is jia.ctx.pkg  # cut once
    assert jia.ctx.scope == "甲镇" and jia.ctx.pkg["households"]["hh_id"].tolist() == ["H1"]
    f.write_text(head + "H1,某县,甲镇,一村,3,未脱贫\nH2,某县,甲镇,一村,2,已脱贫\n", encoding="utf-8")
    changed = nb.open_run(tmp_path / "pkg", "2019Q3")
    assert changed.county_ctx.pkg is not first.county_ctx.pkg
    assert changed.county_ctx.pkg["households"]["hh_id"].tolist() == ["H1", "H2"]
