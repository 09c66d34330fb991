"""Loading the targets tables (contract/targets.md): 万元 headers, refunds, orphan payments and
visits of unknown targets are findings, the rows are kept."""

from __future__ import annotations

from fixtures.build import HH_HEADER, write_csv, write_xlsx

from qjlib.io.load import load_package


def kinds(ledger) -> list[tuple]:
    return sorted(zip(ledger["table"], ledger["row"], ledger["column"], ledger["kind"], strict=True))


def test_targets_tables_load_with_units_refunds_and_orphans(tmp_path):
    write_csv(tmp_path / "户信息.csv", [HH_HEADER, ["H1", "宽州镇", "东村", 2, "未脱贫"]])
    write_xlsx(tmp_path / "资金台账.xlsx", [
        ["扶贫资金台账"], [],
        ["资金编号", "资金年度", "是否财政专项扶贫资金", "是否纳入统筹整合", "下达金额（万元）", "下达日期"],
        ["F1", 2019, "是", "是", 12.3456, "2019-03-01"],
        ["F2", 2018, "否", "是", 1, None],
    ])
    write_csv(tmp_path / "资金支出.csv", [
        ["资金编号", "支付日期", "支付金额（万元）"],
        ["F1", "2019-06-30", 5], ["F1", "2019-07-02", -0.5], ["F9", "2019-07-01", 1]])
    write_csv(tmp_path / "遍访记录.csv", [
        ["遍访人编号", "遍访人", "层级", "遍访对象类型", "遍访对象编号", "遍访日期"],
        ["S1", "张书记", "镇级", "户", "H1", "2019-07-31"],
        ["S1", "张书记", "镇级", "户", "H7", "2019-07-30"],
        ["S2", "李书记", "县级", "村", "6108300101", "2019-05-01"]])
    pkg = load_package(tmp_path)
    f, p, v = pkg["funds"], pkg["fund_payments"], pkg["secretary_visits"]
    assert f["issued"].round(2).tolist() == [123456.0, 10000.0]
    assert f["poverty_fund"].tolist() == [True, False] and f["issued_date"].isna().tolist() == [False, True]
    assert p["amount"].tolist() == [50000.0, -5000.0, 10000.0]  # a refund is kept, negative
    assert v["level"].tolist() == ["镇级", "镇级", "县级"]
    assert v["target_type"].tolist() == ["household", "household", "village"]
    # no villages table: a village target cannot be judged; H7 is no known household
    assert kinds(pkg.findings) == [("fund_payments", 4, "fund_id", "orphan_payment"),
                                   ("secretary_visits", 3, "target", "visit_target_unknown")]


def test_loans_and_relocation_load(tmp_path):
    write_csv(tmp_path / "households.csv", [HH_HEADER, ["H1", "宽州镇", "东村", 2, "未脱贫"]])
    write_csv(tmp_path / "小额信贷.csv", [
        ["贷款编号", "户编号", "贷款金额", "放款日期", "到期日期", "贷款余额", "逾期日期"],
        ["L1", "H1", 50000, "2017-10-01", "2019-09-30", 50000, ""],
        ["L2", "H1", 30000, "2019-10-01", "2019-09-30", -1, ""]])
    write_csv(tmp_path / "易地搬迁.csv", [
        ["户编号", "安置点", "是否实际入住", "入住日期", "旧宅处置", "复垦日期"],
        ["H1", "西城区", "是", "2019-09-30", "已拆除复垦", "2019-07-31"]])
    pkg = load_package(tmp_path)
    assert pkg["loans"]["due_date"].dt.strftime("%Y-%m-%d").tolist() == ["2019-09-30"] * 2
    assert pkg["relocation"]["old_house"].tolist() == ["reclaimed"]
    assert kinds(pkg.findings) == [("loans", 3, "balance", "negative_money"),
                                   ("loans", 3, "due_date", "loan_due_before_start")]
