"""Issue #19 on the demo county: every targets ledger and every ``targets.*`` value and status
equal ``truth.json`` (computed from the generator's tables with plain pandas, the contract's words
written again) — on the period's as-of date and on dates inside it (a dispatch on 31 July)."""

from __future__ import annotations

import math

import pytest

from qjlib.analyses import targets as tg
from qjlib.core.context import Context
from qjlib.core.params import load_params
from qjlib.demo import targets as demo_targets

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def county():
    from qjlib.demo.county import simulate

    return simulate(2019, 12000)


def _keys(led: dict) -> dict:
    v, f, lo, li = (led[k] for k in ("visit_missing", "funds_behind", "loan_overdue", "loan_ineligible"))
    return {
        "visit_missing": sorted(v["target"]),
        "visit_monthly": [[m, lv, t, int(a), int(b)] for m, lv, t, a, b in led["visit_monthly"][
            ["month", "level", "town", "visits", "targets_visited"]].itertuples(index=False)],
        "funds_behind": {k: sorted(x.split("、")) for k, x in zip(f["fund_id"], f["type"], strict=True)},
        "loan_overdue": dict(zip(lo["loan_id"], map(bool, lo["should_be_cleared"]), strict=True)),
        "loan_ineligible": dict(zip(li["loan_id"], li["reasons"], strict=True)),
        "housing_behind": sorted(led["housing_behind"]["hh_id"]),
        "relocation_behind": sorted(led["relocation_behind"]["hh_id"]),
        "relocation_mismatch": sorted(led["relocation_mismatch"]["hh_id"]),
    }


def _check(ctx: Context, want: dict) -> None:
    got = _keys(tg.build_ledgers(ctx))
    for name, keys in want["ledgers"].items():
        assert got[name] == keys, name
    ev = {e["id"]: e for e in tg.evaluation(ctx)}
    for tid, w in want["targets"].items():
        assert ev[tid]["status"] == w["status"], tid
        assert math.isclose(ev[tid]["value"], w["value"], rel_tol=1e-12), tid


def test_ledgers_and_targets_equal_truth_json_on_the_as_of_date(demo_ctx, demo_truth):
    want = demo_truth["targets"]
    assert want["as_of"] == demo_ctx.asof.date().isoformat()
    _check(demo_ctx, want)
    s = tg.summary(demo_ctx)
    assert s["funds"]["poverty"]["status"] == "met" and s["funds"]["poverty"]["value"] == 0.75  # exactly
    assert s["visit_missing"] == len(want["ledgers"]["visit_missing"])
    # housing, posts, villages and edge households (other contracts' tables) are measured too
    assert set(want["targets"]) == {e["id"] for e in tg.evaluation(demo_ctx)}
    assert s["statuses"]["not_measurable"] == 0
    sp = s["posts"]["special"]  # exactly 240 persons on 06-30 (one of them left that day)
    assert sp["checkpoints"][0]["value"] == 240 and sp["status"] == "met" and sp["value"] == 239
    assert s["posts"]["institutional"]["status"] == "not_met"


def test_the_planted_cases_are_listed_and_the_decoys_are_not(demo_ctx, demo_truth):
    led = tg.build_ledgers(demo_ctx)
    p, d = demo_truth["targets"]["plants"], demo_truth["targets"]["decoys"]
    miss = set(led["visit_missing"]["target"])
    assert {h for g in ("none", "county_only", "last_year") for h in p["visits"][0][g]} <= miss
    assert not {h for g in ("late", "on_0731", "on_0101") for h in d["visits"][0][g]} & miss
    vp, vd = p["visits"][0], d["visits"][0]
    assert {h for g in ("villages_none", "villages_town_only", "edge_none", "edge_county_only",
                        "edge_last_year") for h in vp[g]} <= miss
    assert not {h for g in ("villages_late", "villages_on_0731", "edge_on_0930", "edge_registered")
                for h in vd[g]} & miss
    behind = set(led["funds_behind"]["fund_id"])
    assert set(p["funds"][0]["behind"]) | set(p["funds"][0]["previous"]) <= behind
    assert not {x for g in d["funds"][0].values() for x in g} & behind
    assert set(p["loans"][0]["overdue"]) == set(led["loan_overdue"]["loan_id"])
    assert set(p["loans"][0]["ineligible"]) == set(led["loan_ineligible"]["loan_id"])
    assert not set(d["loans"][0]["overdue"]) & set(led["loan_overdue"]["loan_id"])
    rb = set(led["relocation_behind"]["hh_id"])
    assert set(p["relocation"][0]["not_moved_in"]) <= rb
    assert set(led["relocation_mismatch"]["hh_id"]) == set(p["relocation"][0]["no_row"]) | set(
        p["relocation"][0]["row_not_relocated"])


@pytest.mark.parametrize("asof", ["2019-07-31", "2019-07-30", "2019-09-29"])
def test_dispatch_dates_inside_the_period_equal_an_independent_computation(demo_pkg, county, asof):
    ctx = Context(demo_pkg, load_params("2019Q3", as_of=asof))
    want = demo_targets.truth(county.tables, {}, {}, asof)
    _check(ctx, want)


def test_a_town_scope_is_part_of_the_county(demo_ctx):
    town = demo_ctx.pkg.towns["town"].iloc[0]
    sub = demo_ctx.restrict(town)
    led, all_ = tg.build_ledgers(sub), tg.build_ledgers(demo_ctx)
    for name in ("visit_missing", "loan_overdue", "relocation_behind"):
        assert set(led[name].iloc[:, 0]) <= set(all_[name].iloc[:, 0])
        assert (led[name]["town"] == town).all()
