"""Package: restricting to a town, town codes, the pickle cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.build import mini_package, write_csv

from qjlib.core.definitions import town_code
from qjlib.core.errors import QjError
from qjlib.io.issues import KINDS, REJECT_KINDS
from qjlib.io.load import load_package


@pytest.fixture
def mini(tmp_path) -> Path:
    root = mini_package(tmp_path / "mini")
    write_csv(root / "帮扶责任人.csv", [["帮扶责任人编号", "姓名"], ["G1", "王干部"], ["G2", "李干部"],
                                      ["G3", "赵干部"]])
    write_csv(root / "结对关系.csv", [["帮扶责任人编号", "户编号", "帮扶开始时间"],
                                     ["G1", "H01", "2018-01-01"], ["G2", "H03", "2018-01-01"]])
    write_csv(root / "帮扶测评.csv", [["帮扶责任人编号", "测评日期", "测评方式", "得分", "户编号"],
                                     ["G1", "2019-06-01", "领导点评", 90, ""],
                                     ["G2", "2019-06-01", "群众测评", 70, "H01"],
                                     ["G3", "2019-06-01", "干部访谈", 60, ""]])
    write_csv(root / "走访记录.csv", [["帮扶责任人编号", "户编号", "走访日期"],
                                     ["G1", "H01", "2019-03-01"], ["G2", "H03", "2019-03-02"]])
    return root


def test_mini_package_accounting(mini):
    pkg = load_package(mini)
    a = pkg.accounting
    assert list(zip(a["table"], a["read"], a["kept"], a["rejected"], strict=True)) == [
        ("households", 5, 3, 2), ("members", 5, 5, 0), ("income", 3, 3, 0), ("income", 3, 2, 1),
        ("projects", 2, 2, 0), ("benefits", 3, 3, 0), ("helpers", 3, 3, 0), ("pairings", 2, 2, 0),
        ("visits", 2, 2, 0), ("reviews", 3, 3, 0)]
    assert (a["read"] == a["kept"] + a["rejected"]).all()
    assert sorted(pkg.findings["kind"]) == ["id_checksum", "id_mangled", "net_income_mismatch",
                                            "orphan_member", "orphan_row"]
    assert set(pkg.rejects["kind"]) <= set(REJECT_KINDS) and set(pkg.findings["kind"]) <= set(KINDS)


def test_towns_and_their_codes(mini):
    pkg = load_package(mini)
    assert pkg.towns.to_dict("list") == {
        "town": sorted(["宽州镇", "石咀驿镇"], key=town_code),
        "town_code": sorted([town_code("宽州镇"), town_code("石咀驿镇")])}
    assert pkg.resolve_town(town_code("宽州镇")) == "宽州镇"
    assert pkg.resolve_town("宽州镇") == "宽州镇"
    with pytest.raises(QjError, match="没有乡镇「宽州」"):
        pkg.resolve_town("宽州")


def test_restrict_to_town_keeps_linked_rows(mini):
    pkg = load_package(mini)
    k = pkg.restrict_to_town("宽州镇")
    assert k.scope == "宽州镇"
    assert k["households"]["hh_id"].tolist() == ["H01", "H02"]
    assert k["members"]["person_id"].tolist() == ["P011", "P012", "P021"]
    assert sorted(set(k["income"]["hh_id"])) == ["H01", "H02"]
    assert k["benefits"]["project_id"].tolist() == ["PJ1", "PJ9"]
    assert k["projects"]["project_id"].tolist() == ["PJ1"]  # PJ2 is in 石咀驿镇 with no benefit here
    assert k["pairings"]["helper_id"].tolist() == ["G1"]
    assert k["helpers"]["helper_id"].tolist() == ["G1"]
    assert k["reviews"]["helper_id"].tolist() == ["G1"]
    assert k["visits"]["helper_id"].tolist() == ["G1"]
    assert set(k.findings["town"]) == {"宽州镇"}
    assert sorted(k.findings["kind"]) == ["id_checksum", "net_income_mismatch", "orphan_row"]
    assert k.accounting.equals(pkg.accounting)
    s = pkg.restrict_to_town(town_code("石咀驿镇"))
    assert s["households"]["hh_id"].tolist() == ["H03"]
    assert s["projects"]["project_id"].tolist() == ["PJ2"]
    assert s["helpers"]["helper_id"].tolist() == ["G2"]
    assert s.rejects["kind"].tolist() == ["size_lt_1", "unparseable_number"]  # H04; H03's 2019 income
    assert len(pkg["households"]) == 3  # the original is untouched


def test_cache_round_trip_and_invalidation(mini, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("QJLIB_CACHE", str(cache))
    first = load_package(mini, cache=True)
    files = list(cache.glob("package-*.pkl"))
    assert len(files) == 1
    again = load_package(mini, cache=True)
    assert again["income"].equals(first["income"]) and again.findings.equals(first.findings)
    assert again.inputs == first.inputs
    moved = tmp_path / "moved"
    mini.rename(moved)
    assert load_package(moved, cache=True).root == moved  # same files elsewhere: cache hit, new root
    assert len(list(cache.glob("package-*.pkl"))) == 1
    write_csv(moved / "项目受益.csv", [["项目编号", "户编号", "年度", "受益方式", "受益金额"],
                                     ["PJ1", "H01", "2018", "直补", "1"]])
    changed = load_package(moved, cache=True)
    assert changed["benefits"]["amount"].tolist() == [1.0]
    assert len(list(cache.glob("package-*.pkl"))) == 2
    assert load_package(moved, cache=True, total_tolerance=1000).findings["kind"].tolist().count(
        "net_income_mismatch") == 0


def test_a_corrupt_cache_file_is_ignored(mini, tmp_path, monkeypatch):
    monkeypatch.setenv("QJLIB_CACHE", str(tmp_path / "c"))
    load_package(mini, cache=True)
    (f,) = (tmp_path / "c").glob("package-*.pkl")
    f.write_bytes(b"garbage")
    assert len(load_package(mini, cache=True)["households"]) == 3
