"""Issue 18 on the demo county: the three exit ledgers and the exit.* figures equal truth.json
(computed from the generated tables by qjlib.demo.exit, not by the analysis) and, for the
assessment, an independent computation of the clustered rates written here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qjlib.analyses import exit as ex

pytestmark = pytest.mark.slow

HH_ZH, V_ZH = ex.HOUSEHOLD_ITEMS_ZH, ex.VILLAGE_ITEMS_ZH


def _failed(text: str, names: dict[str, str] = HH_ZH) -> list[str]:
    back = {v: k for k, v in names.items()}
    return [back[x] for x in text.split("、")] if text else []


@pytest.fixture(scope="module")
def res(demo_ctx):
    return ex.analyse(demo_ctx)


@pytest.mark.parametrize("name", ["exit_not_ready", "exit_quality"])
def test_household_ledgers_equal_truth_with_their_failed_items(demo_ctx, demo_truth, name):
    led = ex.build_ledgers(demo_ctx)[name]
    want = demo_truth["exit"]["ledgers"][name]
    assert led["hh_id"].is_unique
    got = {h: _failed(f) for h, f in zip(led["hh_id"], led["failed"], strict=True)}
    assert got == want


def test_village_ledger_equals_truth(demo_ctx, demo_truth):
    led = ex.build_ledgers(demo_ctx)["village_not_ready"]
    want = demo_truth["exit"]["ledgers"]["village_not_ready"]
    got = {c: {"failed": _failed(f, V_ZH), "unknown": _failed(u, V_ZH)}
           for c, f, u in zip(led["village_code"], led["failed"], led["unknown"], strict=True)}
    assert got == want
    plants = demo_truth["exit"]["plants"]["villages"]
    listed = set(led["village_code"])
    assert {plants["plants"][f"v{k}"] for k in (0, 1, 3, 4, 5, 7, 9)} <= listed
    # decoys: water written as 100 (%), a clinic covered by a neighbour, a cooperative only;
    # failures of villages that are not assessed are not listed
    for k in (2, 6, 8):
        row = led[led["village_code"] == plants["plants"][f"v{k}"]]
        assert row.empty or V_ZH[{2: "water", 6: "clinic", 8: "collective"}[k]] not in row["failed"].iloc[0]
    assert not listed & set(plants["not_assessed_failures"])


def test_planted_houses_get_the_state_their_edge_gives(res, demo_pkg, demo_truth):
    p = demo_truth["exit"]["plants"]["households"]
    # a move-in makes a house safe (exit.md): no relocation row may cover a planted edge
    planted = {h for k, v in p.items() if k.startswith(("house_", "rebuild_", "repair_", "same_day",
                                                        "later_", "reassessed", "past_unsafe")) for h in v}
    rel = demo_pkg["relocation"] if demo_pkg.has("relocation") else pd.DataFrame(columns=["hh_id"])
    assert not planted & set(rel["hh_id"])
    # decoy: a relocated household's old house graded D is safe once moved in by A (blank date with 是)
    moved = rel.loc[rel["moved_in"].eq(True) & ~(rel["moved_in_date"] > pd.Timestamp("2019-09-30")), "hh_id"]
    state = res.exiting.set_index("hh_id")["housing"]
    assert set(moved) & set(p["relocated_unsafe"])  # the decoy's edge is on the demo
    for h in p["relocated_unsafe"]:
        assert state[h] == ("met" if h in set(moved) else "not_met"), h
    want = {"house_unknown": "unknown", "house_unsafe": "not_met", "rebuild_moved_in": "met",
            "rebuild_not_moved_in": "not_met", "repair_done": "met", "repair_pending": "not_met",
            "same_day": "not_met", "later_assessment": "not_met", "reassessed": "met"}
    for case, s in want.items():
        assert set(state[p[case]]) == {s}, case
    water = res.exiting.set_index("hh_id")["water"]
    assert set(water[p["water_unknown"]]) == {"unknown"} and set(water[p["water_unsafe"]]) == {"not_met"}
    quality = set(res.quality["hh_id"])
    assert set(p["past_unsafe"]) <= quality and set(p["past_water_unsafe"]) <= quality
    assert not set(p["nonregistered_rebuild"]) & set(res.exiting["hh_id"])


def test_summary_figures_equal_truth(demo_ctx, demo_truth):
    s = ex.summary(demo_ctx)
    for path, want in demo_truth["exit"]["figures"].items():
        if path.startswith("_"):
            continue
        got = s
        for k in path.split("."):
            got = got[k]
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), path
    assert s["villages"]["without_households"] == demo_truth["exit"]["plants"]["villages"]["without_households"]


def _clustered(found: np.ndarray, total: np.ndarray, village: np.ndarray) -> tuple[float, float]:
    """p̂ and deff written again: village totals, k/(k−1) Σ (y_c − p̂ n_c)² / N² over p̂(1−p̂)/N."""
    df = pd.DataFrame({"y": found, "n": total, "v": village}).groupby("v").sum()
    n_all, p = df["n"].sum(), df["y"].sum() / df["n"].sum()
    k = len(df)
    var = k / (k - 1) * ((df["y"] - p * df["n"]) ** 2).sum() / n_all**2
    return p, max(1.0, var / (p * (1 - p) / n_all)) if 0 < p < 1 else 2.0


def test_assessment_rates_and_design_effects_equal_an_independent_computation(demo_pkg, demo_ctx):
    a = demo_pkg["assessment"]
    s = ex.summary(demo_ctx)["assessment"]
    ex_ = a[a["stratum"].eq("exited") & a["wrongly_exited"].notna()]
    p, deff = _clustered((ex_["persons"] * ex_["wrongly_exited"].astype(int)).to_numpy(float),
                         ex_["persons"].to_numpy(float), ex_["village_code"].to_numpy())
    assert s["wrong_exit_rate"] == pytest.approx(p) and s["design_effect"] == pytest.approx(deff)
    assert 1.5 < deff < 6  # a realistic design effect for whole households of persons in villages
    assert s["wrong_exit_rate_low"] < p < s["wrong_exit_rate_high"]
    # nothing missed in the sample: Clopper–Pearson on the assumed design effect
    assert s["missed_rate"] == 0 and s["missed_rate_method"] == "clopper-pearson"
    assert s["missed_rate_deff"] == 2.0 and s["missed_rate_low"] == 0
    nr = a[a["stratum"].eq("non_registered")]
    k = nr["village_code"].nunique()
    n_star = nr["persons"].sum() / 2.0 * (stats.norm.ppf(0.975) / stats.t.ppf(0.975, k - 1)) ** 2
    assert s["missed_rate_high"] == pytest.approx(1 - 0.025 ** (1 / n_star))  # [0, 1 − (α/2)^(1/n*)]
    ap = a[a["approval"].notna()]
    p, deff = _clustered(ap["approval"].isin(["approve", "basic"]).to_numpy(float),
                         np.ones(len(ap)), ap["village_code"].to_numpy())
    assert s["approval_rate"] == pytest.approx(p) and s["approval_rate_deff"] == pytest.approx(deff)
