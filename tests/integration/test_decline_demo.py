"""The demo county's planted income declines (truth.json) against the income_decline ledger."""

from __future__ import annotations

import numpy as np
import pytest

from qjlib.analyses import decline as d

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysis(demo_ctx) -> d.DeclineAnalysis:
    res = d.analyse(demo_ctx)
    assert res is not None
    return res


def test_ledger_holds_exactly_the_planted_households(demo_ctx, demo_truth):
    led = d.build_ledgers(demo_ctx)["income_decline"]
    want = {x["hh_id"] for x in demo_truth["ledgers"]["income_decline"]}
    got = set(led["hh_id"])
    assert got - want == set(), "households in the ledger that truth.json does not expect"
    assert want - got == set(), "planted declines the ledger missed"
    assert led["hh_id"].is_unique and led["hh_id"].is_monotonic_increasing
    assert sorted(led["urgency"]) == list(range(1, len(led) + 1))


def test_decoys_are_not_flagged_and_a_missing_year_is_a_gap(analysis, demo_truth):
    decoys = demo_truth["decoys"]["income_decline"]
    assert decoys, "the demo county plants decoys"
    ids = [x["hh_id"] for x in decoys]
    assert not set(ids) & set(analysis.ledger["hh_id"])
    m = analysis.metrics
    for x in decoys:
        if x["hh_id"] in m.index and "缺失" in x["why"]:
            assert m.loc[x["hh_id"], "gap"], x
            assert not m.loc[x["hh_id"], "flagged"], x


def test_planted_series_and_cause_match_the_ledger(analysis, demo_truth):
    planted = {x["hh_id"]: x for x in demo_truth["ledgers"]["income_decline"]}
    y, n = analysis.income_year, analysis.n_declines
    cols = np.flatnonzero((analysis.panel.years >= y - n) & (analysis.panel.years <= y))
    pos = analysis.panel.hh_id.get_indexer(list(planted))
    np.testing.assert_allclose(analysis.panel.pc[pos][:, cols],
                               [planted[h]["pc"] for h in planted], atol=0.01)
    led = analysis.ledger.set_index("hh_id")
    cause = {"income": d.CAUSE_ZH["income"], "size": d.CAUSE_ZH["size"]}
    for h, x in planted.items():
        if x.get("driver") in cause:
            assert led.loc[h, "cause"] == cause[x["driver"]], h


def test_summary_agrees_with_the_ledger(demo_ctx, analysis, demo_truth):
    s = d.summary(demo_ctx)
    assert s["available"]
    assert s["flagged"] == len(demo_truth["ledgers"]["income_decline"]) == len(analysis.ledger)
    assert s["past_exited"] == len(analysis.households) > s["flagged"]
    assert sum(v["flagged"] for v in s["by_town"].values()) == s["flagged"]
    assert sum(s["by_cause"].values()) == s["flagged"]
    assert s["data_gap"] >= sum("缺失" in x["why"] for x in demo_truth["decoys"]["income_decline"])


def test_town_scope_keeps_its_share_of_the_ledger(demo_ctx, analysis):
    town = analysis.ledger["town"].iloc[0]
    sub = d.build_ledgers(demo_ctx.restrict(town))["income_decline"]
    want = analysis.ledger.loc[analysis.ledger["town"] == town, "hh_id"].tolist()
    assert sub["hh_id"].tolist() == want
