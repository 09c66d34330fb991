"""The demo county's planted helper cases (truth.json) against the helper ledgers and review."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from qjlib.analyses import cadres as H

pytestmark = pytest.mark.slow

COMPLIANCE = {"helper_unpaired": "hh_id", "helper_overloaded": "helper_id",
              "helper_frequent_change": "hh_id"}


@pytest.fixture(scope="module")
def ledgers(demo_ctx) -> dict[str, pd.DataFrame]:
    return H.build_ledgers(demo_ctx)


@pytest.fixture(scope="module")
def review(ledgers) -> pd.DataFrame:
    return ledgers["helper_review"].set_index("helper_id")


@pytest.mark.parametrize("name", sorted(COMPLIANCE))
def test_compliance_ledger_holds_exactly_the_truth(ledgers, demo_truth, name):
    key = COMPLIANCE[name]
    led = ledgers[name]
    want = {x[key] for x in demo_truth["ledgers"][name]}
    got = set(led[key])
    assert want, "the demo county plants cases"
    assert got - want == set(), "rows that truth.json does not expect"
    assert want - got == set(), "planted cases the ledger missed"
    assert led[key].is_unique and led[key].is_monotonic_increasing
    assert led["reason"].str.len().gt(0).all() and led["town"].notna().all()
    decoys = {x[key] for x in demo_truth["decoys"].get(name, [])}
    assert not decoys & got


def test_counts_match_the_planted_figures(ledgers, demo_truth):
    over = ledgers["helper_overloaded"].set_index("helper_id")["n_households"]
    for x in demo_truth["ledgers"]["helper_overloaded"]:
        assert over[x["helper_id"]] == x["households"]
    ch = ledgers["helper_frequent_change"].set_index("hh_id")["n_changes"]
    for x in demo_truth["ledgers"]["helper_frequent_change"]:
        assert ch[x["hh_id"]] == x["changes"]


def test_poor_helpers_are_flagged_or_in_the_bottom_fifth(review, demo_truth):
    ranked = review["rank"].notna().sum()
    poor = review.loc[demo_truth["helpers_poor"]]
    assert len(poor) == 3
    ok = poor["flag"].str.contains("below_limit") | (poor["rank"] > 0.8 * ranked)
    assert ok.all(), poor[["rank", "rank_lo", "rank_hi", "flag"]]


def test_single_extreme_helper_is_not_in_the_top_tenth(review, demo_truth):
    h = review.loc[demo_truth["helper_single_extreme"]]
    ranked = review["rank"].notna().sum()
    assert h["n_outcome"] == 1
    assert h["rank"] > 0.1 * ranked
    # one household cannot make a helper certain: its outcome is the least reliable kind
    assert h["outcome_sd"] > review["outcome_sd"].median()
    assert h["rank_hi"] - h["rank_lo"] > review["rank_hi"].sub(review["rank_lo"]).median()


def test_unreviewed_helpers_and_coverage(demo_ctx, review, demo_truth):
    not_rev = review.index[review["flag"].str.contains("not_reviewed")]
    assert sorted(not_rev) == sorted(demo_truth["helpers_unreviewed"])
    s = H.summary(demo_ctx)
    json.dumps(s)
    linked = s["helpers_linked"]
    assert s["reviewed_share"] == pytest.approx(1 - len(not_rev) / linked, abs=1e-6)
    assert (s["unpaired"], s["overloaded"], s["frequent_change"]) == tuple(
        len(demo_truth["ledgers"][n]) for n in ("helper_unpaired", "helper_overloaded",
                                                "helper_frequent_change"))


def test_review_covers_every_helper_and_is_reproducible(demo_ctx, demo_pkg, review):
    assert sorted(review.index) == sorted(demo_pkg["helpers"]["helper_id"])
    assert review["composite"].notna().all()        # every demo helper has an outcome
    r = review["rank"].astype(int)
    assert sorted(r) == list(range(1, len(r) + 1))
    # the rank of the point composite lies in its simulated interval, except (rarely) for a
    # near-certain helper whose noisier neighbours overtake it in most draws
    inside = (review["rank_lo"] <= r) & (r <= review["rank_hi"])
    assert inside.mean() > 0.99
    again = H.review(demo_ctx).table.set_index("helper_id")
    pd.testing.assert_frame_equal(again, review)


def test_towns_partition_the_household_ledgers(demo_ctx, ledgers, demo_pkg):
    towns = sorted(demo_pkg["households"]["town"].unique())
    per_town = {n: [] for n in ("helper_unpaired", "helper_frequent_change")}
    for t in towns:
        led = H.compliance(demo_ctx.restrict(t))
        for n in per_town:
            assert (led[n]["town"] == t).all()
            per_town[n].extend(led[n]["hh_id"])
    for n, ids in per_town.items():
        assert sorted(ids) == sorted(ledgers[n]["hh_id"])
