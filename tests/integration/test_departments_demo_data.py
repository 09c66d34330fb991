"""The demo county's department rolls (contract/departments.md): they load with every row
accounted for, the loader's findings and rejects are exactly the planted ones, and truth.json
holds the expected dept_mismatch rows — every rule planted, no decoy listed."""

from __future__ import annotations

from qjlib.core.tables_departments import TABLES

RULES = ("dibao_eligible_unpaid", "dibao_register_mismatch", "welfare_pay_mismatch",
         "welfare_not_registered", "dibao_dropped_at_exit", "deceased_paid", "deceased_pending",
         "disability_no_card", "card_health_mismatch", "uninsured", "reimbursement_low", "dropout",
         "enrollment_not_found", "aid_repeat", "aid_multi_channel", "post_multiple", "post_rotation",
         "post_not_registered")


def test_every_department_row_is_accounted_for(demo_pkg, demo_truth):
    a = demo_pkg.accounting
    dept = a[a["table"].isin([t.name for t in TABLES])]
    assert set(dept["table"]) == {t.name for t in TABLES}
    assert (dept["read"] == dept["kept"] + dept["rejected"]).all()
    files = {f["file"]: f["rows"] for f in demo_truth["files"]}
    assert all(files[f] == r for f, r in zip(dept["file"], dept["read"], strict=True))
    assert dept["file"].str.startswith("住院报销/").sum() > 1  # a folder of per-town files
    assert int(dept["rejected"].sum()) == 1  # the unreadable term


def test_department_findings_equal_truth(demo_pkg, demo_truth):
    names = {t.name for t in TABLES}
    got = {(r.table, r.file, int(r.row), r.kind) for r in demo_pkg.findings.itertuples() if r.table in names}
    want = {(r["table"], r["file"], r["row"], r["kind"]) for r in demo_truth["findings"]
            if r["table"] in names}
    assert got == want and len(want) >= 8


def test_truth_lists_every_rule_and_no_decoy(demo_truth):
    dep = demo_truth["departments"]
    assert set(dep["rules"]) == set(RULES)
    assert sum(dep["rules"].values()) == len(dep["dept_mismatch"])
    keys = [tuple(sorted(r.items())) for r in dep["dept_mismatch"]]
    assert len(keys) == len(set(keys))
    # the outsiders are keyed by person_key, never an ID number
    assert all(len(r["person_key"]) == 16 for r in dep["dept_mismatch"] if "person_key" in r)
    assert all("id_number" not in r for r in dep["dept_mismatch"])
    cases = {c["case"] for c in dep["cases"]}
    assert {c for c in cases if c.startswith("decoy_")} >= {
        "decoy_spell_ends_on_asof", "decoy_death_grace", "decoy_age_above_band",
        "decoy_age_below_band", "decoy_ratio_exactly_target", "decoy_gradual_exit_end",
        "decoy_aid_two_terms", "decoy_rotation_full_year", "decoy_posts_touch"}
