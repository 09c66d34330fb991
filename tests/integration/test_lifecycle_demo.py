"""The quarterly cycle end to end on the demo county (``lifecycle.md``): report 2019Q3 → the
towns' returned workbooks → ``qj collect`` → report 2019Q4 with ``--previous`` (by default: the
preceding period beside it). Every row's status equals the truth; the rejects of ``qj collect`` are
exactly the planted bad answers; ``qj verify`` passes on both reports and notices a changed
``responses.csv``."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest

from qjlib.core.answers import key_text
from qjlib.core.errors import QjError
from qjlib.demo import write_demo
from qjlib.demo.next_quarter import COLLECTED_ON, KEYS, fill_returned, write_next_quarter
from qjlib.report.collect import collect
from qjlib.report.runner import run_report
from qjlib.report.verify import _check_responses, verify

pytestmark = pytest.mark.slow
SEED, HOUSEHOLDS = 2019, 1000


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("QJLIB_CACHE", str(tmp_path_factory.mktemp("cache")))
    root = tmp_path_factory.mktemp("cycle")
    no_nb = tmp_path_factory.mktemp("no_notebooks")
    write_demo(root / "q3", seed=SEED, households=HOUSEHOLDS)
    kw = {"scope": ["county"], "notebooks_dir_": no_nb, "progress": False, "jobs": 1}
    r3 = run_report(root / "q3", "2019Q3", root / "reports", **kw)
    truth = write_next_quarter(root / "q4", seed=SEED, households=HOUSEHOLDS)
    returned = fill_returned(r3.folder, truth["lifecycle"]["answers"], root / "returned")
    got = collect(r3.folder, [root / "returned"], dt.date.fromisoformat(COLLECTED_ON))
    r4 = run_report(root / "q4", "2019Q4", root / "reports",
                    **{**kw, "notebooks_dir_": None, "notebooks": ["90_follow_up.ipynb"]})
    yield {"r3": r3, "r4": r4, "truth": truth, "collected": got, "returned": returned}
    mp.undo()


def test_every_status_is_the_truth(cycle):
    folder = cycle["r4"].folder
    assert cycle["r4"].ok
    expected = cycle["truth"]["lifecycle"]["statuses"]
    xl = pd.read_excel(folder / "ledgers.xlsx", sheet_name="上期对账", dtype=str,
                       engine="calamine")
    for name, exp in expected.items():
        df = pd.read_csv(folder / "ledgers" / f"{name}.csv", dtype=str, keep_default_na=False)
        assert dict(zip(key_text(df, KEYS[name]), df["follow_up"], strict=True)) == exp["rows"]
        gone = xl[xl["台账"] == name]
        assert dict(zip(gone["主键"], gone["对账状态"], strict=True)) == {
            k: {"resolved": "已销号", "dropped": "自动消失"}[v] for k, v in exp["gone"].items()}
    assert {s for e in expected.values() for s in [*e["rows"].values(), *e["gone"].values()]} == {
        "new", "open", "disputed", "recurred", "resolved", "dropped"}


def test_summary_counts_and_closure_rates(cycle):
    lc = json.loads((cycle["r4"].folder / "summary.json").read_text(encoding="utf-8"))["lifecycle"]
    for name, exp in cycle["truth"]["lifecycle"]["statuses"].items():
        got = lc["ledgers"][name]
        statuses = [*exp["rows"].values(), *exp["gone"].values()]
        for s in ("new", "open", "disputed", "recurred", "resolved", "dropped"):
            assert got[s] == statuses.count(s), (name, s)
        previous = sum(v != "new" for v in exp["rows"].values()) + len(exp["gone"])
        assert got["previous"] == previous
        assert got["closure_rate"] == pytest.approx(got["resolved"] / previous if previous else None)
    for block in [lc["total"], *lc["towns"].values(),
                  *(b for t in lc["town_ledgers"].values() for b in t.values())]:
        assert block["closure_rate"] == pytest.approx(
            block["resolved"] / block["previous"] if block["previous"] else None, abs=1e-6)
    assert lc["previous_period"] == "2019Q3" and lc["refused"] == {}
    assert lc["changes"]["income_year"]["difference"] == 0


def test_collect_rejects_exactly_the_planted_bad_answers(cycle):
    rej = cycle["collected"].rejects
    bad = [a for a in cycle["truth"]["lifecycle"]["answers"] if a["bad"]]
    assert len(rej) == len(bad)
    got = sorted(zip(rej["ledger"], rej["reason_en"], strict=True))
    assert [g[0] for g in got] == sorted(a["ledger"] for a in bad)
    kinds = {"unknown_key": "key not in", "edited_key": "key cells edited",
             "bad_verdict": "verdict", "bad_date": "not a date", "superseded": "answered again"}
    for a in bad:
        assert any(kinds[a["bad"]] in r for r in rej["reason_en"]), a["bad"]
    for f in cycle["collected"].files:
        assert f["rows_read"] == f["rows_kept"] + f["rows_rejected"] and f["error"] is None


def test_collect_again_gives_the_same_bytes(cycle):
    folder = cycle["r3"].folder
    before = (folder / "responses.csv").read_bytes(), (folder / "responses_rejects.csv").read_bytes()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["responses"]
    collect(folder, [cycle["returned"][0].parent], dt.date.fromisoformat(COLLECTED_ON))
    assert before == ((folder / "responses.csv").read_bytes(),
                      (folder / "responses_rejects.csv").read_bytes())
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["responses"] == manifest


def test_verify_passes_on_both_and_notices_a_changed_responses_csv(cycle):
    r3, r4 = cycle["r3"].folder, cycle["r4"].folder
    assert verify(r3 / "manifest.json", out=io.StringIO())
    assert verify(r4 / "manifest.json", out=io.StringIO())
    path = r3 / "responses.csv"
    original = path.read_bytes()
    try:
        path.write_bytes(original.replace(b"not_confirmed", b"confirmed", 1))
        out = io.StringIO()
        assert not _check_responses(json.loads((r3 / "manifest.json").read_text("utf-8")), r3,
                                    out)  # what verify prints first for the 2019Q3 report
        assert "≠ responses.csv" in out.getvalue()
        with pytest.raises(QjError, match="responses.csv"):
            verify(r4 / "manifest.json", out=io.StringIO())
    finally:
        path.write_bytes(original)


def test_the_follow_up_notebook_shows_the_reconciliation(cycle):
    assert [r["status"] for r in cycle["r4"].manifest["notebooks"]] == ["ok"]
    text = (cycle["r4"].folder / "县" / "90_follow_up.ipynb").read_text(encoding="utf-8")
    assert "与上期（2019Q3）台账对账" in text
    for answer in cycle["truth"]["lifecycle"]["answers"]:
        if answer["ledger"] == "income_decline" and answer["verdict"] == "not_confirmed":
            assert answer["key"]["hh_id"] in text  # the disputed item, with the town's answer
            assert answer["action"] in text
