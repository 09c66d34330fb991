"""The demo county's income-share cases (truth.json) against the two R2 ledgers and the summary."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from qjlib.analyses import income as inc

pytestmark = pytest.mark.slow

LEDGERS = ("income_low_operating", "income_transfer_dependent")


@pytest.fixture(scope="module")
def ledgers(demo_ctx) -> dict[str, pd.DataFrame]:
    return inc.build_ledgers(demo_ctx)


@pytest.fixture(scope="module")
def summary(demo_ctx) -> dict:
    return inc.summary(demo_ctx)


@pytest.mark.parametrize("name", LEDGERS)
def test_ledger_holds_exactly_the_truth(ledgers, demo_truth, name):
    led = ledgers[name]
    want = {x["hh_id"] for x in demo_truth["ledgers"][name]}
    got = set(led["hh_id"])
    assert got - want == set(), "households in the ledger that truth.json does not expect"
    assert want - got == set(), "households truth.json expects that the ledger missed"
    assert led["hh_id"].is_unique and led["hh_id"].is_monotonic_increasing
    assert led["reason"].str.len().gt(0).all() and led["town"].notna().all()
    decoys = {x["hh_id"] for x in demo_truth["decoys"][name]}
    assert decoys and not decoys & got


def test_planted_shares_match_and_reasons_print_them(ledgers, demo_truth):
    low = ledgers["income_low_operating"].set_index("hh_id")
    for x in demo_truth["ledgers"]["income_low_operating"]:
        assert low.loc[x["hh_id"], "operating_net_share"] == pytest.approx(x["share"], abs=5e-7)
    dep = ledgers["income_transfer_dependent"].set_index("hh_id")
    for x in demo_truth["ledgers"]["income_transfer_dependent"]:
        assert dep.loc[x["hh_id"], "transfer_share"] == pytest.approx(x["share"], abs=5e-7)
    planted = [x["hh_id"] for x in demo_truth["ledgers"]["income_low_operating"]
               if x.get("planted") and x["share"] == pytest.approx(0.0999)]
    assert planted, "the demo county plants a share just under the threshold"
    for h in planted:  # 9.99 % must not print as "10.0%，低于 10%"
        assert "9.99%，低于 10%" in low.loc[h, "reason"]


def test_net_income_at_or_below_zero_is_reported_not_flagged(demo_ctx, ledgers, summary, demo_truth):
    cases = {x["hh_id"] for name in LEDGERS for x in demo_truth["decoys"][name]
             if x.get("case", "").startswith("net_")}
    assert cases, "the demo county plants households with net income 0 and < 0"
    nonpos = inc.nonpositive_households(inc.income_frame(demo_ctx))
    assert set(nonpos["hh_id"]) == cases
    assert summary["nonpositive"] == len(cases)
    for led in ledgers.values():
        assert not cases & set(led["hh_id"])


def test_summary_agrees_with_ledgers_and_adds_up(demo_ctx, ledgers, summary):
    json.dumps(summary)
    assert summary["income_year"] == demo_ctx.income_year == 2019
    assert summary["low_operating"] == len(ledgers["income_low_operating"])
    assert summary["transfer_dependent"] == len(ledgers["income_transfer_dependent"])
    assert sum(summary["shares"].values()) == pytest.approx(1.0, abs=1e-5)
    for shares in summary["by_labor_group"].values():
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-5)
    assert sum(summary["households_by_labor_group"].values()) == summary["households"]
    parts = sum(v["contribution"] for v in summary["decomposition"].values())
    assert parts == pytest.approx(summary["gini"], abs=1e-5)
    assert sum(summary["transfer_items"].values()) == pytest.approx(1.0, abs=1e-5)
    # the county's ratio of sums, recomputed here from the income-year frame by hand
    f = inc.income_frame(demo_ctx)
    assert summary["shares"]["transfer"] == pytest.approx(f["transfer"].sum() / f["net_income"].sum(),
                                                          abs=1e-6)


def test_towns_partition_the_county(demo_ctx, ledgers):
    towns = sorted(demo_ctx.pkg["households"]["town"].dropna().unique())
    by_town = inc.structure_by(inc.income_frame(demo_ctx), demo_ctx.pkg["households"], ["town"],
                               **inc.thresholds(demo_ctx))
    assert by_town["town"].tolist() == towns
    counts = {name: 0 for name in LEDGERS}
    for town in towns:
        sub = inc.build_ledgers(demo_ctx.restrict(town))
        for name in LEDGERS:
            assert set(sub[name]["town"]) <= {town}
            counts[name] += len(sub[name])
    assert counts == {name: len(ledgers[name]) for name in LEDGERS}
    assert by_town["low_operating"].sum() == len(ledgers["income_low_operating"])
