"""The two edges of ``lifecycle.md`` §3 the first build missed: a ledger EMPTY this quarter (every
previous row gone: 已销号 or 自动消失) and a ledger NOT PRODUCED this quarter (its previous rows
listed as ``unreconciled`` with a note, never 已销号); and ``qj report`` re-run into a folder
already collected (the responses kept when the ledgers are unchanged, else moved aside)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd

from qjlib.report.collect import STALE_DIR, carry_responses, collect
from qjlib.report.lifecycle import UNRECONCILED, load_previous, reconcile
from qjlib.report.verify import _check_responses
from tests.unit.test_collect import ON, _answer, report  # noqa: F401 - the report fixture
from tests.unit.test_lifecycle import AS_OF, SPEC, _prev, _run

ANSWERS = [("A", "confirmed", "2019-10-01"), ("B", "confirmed", ""), ("C", "not_confirmed", "")]


def test_an_empty_ledger_this_quarter_closes_or_drops_every_previous_row():
    out = _run(_prev(["A", "B", "C", "D"], ANSWERS), [])
    assert list(out.status["helper_unpaired"]) == []
    assert dict(zip(out.gone["key"], out.gone["follow_up"], strict=True)) == {
        "hh_id=A": "resolved", "hh_id=B": "dropped", "hh_id=C": "dropped", "hh_id=D": "dropped"}
    block = out.summary["ledgers"]["helper_unpaired"]
    assert (block["previous"], block["resolved"], block["dropped"], block["new"]) == (4, 1, 3, 0)
    assert block["closure_rate"] == 0.25 and out.refused == {}
    assert out.summary["not_produced"] == {}


def test_an_empty_ledger_without_its_columns_is_empty_too():
    prev = _prev(["A", "B"], ANSWERS)
    out = reconcile({"helper_unpaired": (SPEC, pd.DataFrame())}, prev, AS_OF,
                    {"values": {"helpers.max": 5}}, {"helper_unpaired": []}, {})
    assert list(out.gone["follow_up"]) == ["resolved", "dropped"]


def test_a_ledger_not_produced_this_quarter_is_listed_unreconciled_with_a_note():
    out = reconcile({}, _prev(["A", "B", "C", "D"], ANSWERS), AS_OF,
                    {"values": {"helpers.max": 5}}, {}, {})
    # A was answered fixed with a date: still not 已销号, the ledger was not checked at all
    assert list(out.gone["key"]) == ["hh_id=A", "hh_id=B", "hh_id=C", "hh_id=D"]
    assert set(out.gone["follow_up"]) == {UNRECONCILED}
    assert list(out.gone["verdict"]) == ["confirmed", "confirmed", "not_confirmed", ""]
    assert "未生成" in out.refused["helper_unpaired"] and "not produced" in out.refused[
        "helper_unpaired"]
    assert out.summary["refused"] == out.refused
    assert out.summary["not_produced"] == {"helper_unpaired": 4}
    block = out.summary["ledgers"]["helper_unpaired"]
    assert (block["previous"], block["resolved"], block["dropped"], block["unreconciled"]) == (
        0, 0, 0, 4)
    assert block["closure_rate"] is None and out.summary["towns"]["宽州镇"]["unreconciled"] == 4
    assert "helper_unpaired" not in out.status


def test_a_ledger_not_produced_beside_one_that_is_reconciled():
    prev = _prev(["A"], [("A", "confirmed", "2019-10-01")])
    prev.ledgers["renamed_away"] = pd.DataFrame({"hh_id": ["X"], "town": ["石咀驿镇"]})
    prev.responses = pd.concat([prev.responses, pd.DataFrame(
        [{"ledger": "renamed_away", "key": "hh_id=X", "verdict": "confirmed",
          "done": "2019-10-02"}])], ignore_index=True)
    out = _run(prev, [])
    got = out.gone.set_index("key")["follow_up"].to_dict()
    assert got == {"hh_id=A": "resolved", "hh_id=X": UNRECONCILED}  # key from the answers
    assert list(out.refused) == ["renamed_away"]
    assert out.summary["total"]["resolved"] == 1 and out.summary["total"]["unreconciled"] == 1


def test_a_previous_ledger_without_rows_that_is_not_produced_loses_nothing():
    out = reconcile({}, _prev([]), AS_OF, {"values": {}}, {}, {})
    assert out.gone.empty and out.refused == {} and out.summary["not_produced"] == {}


def test_an_empty_previous_csv_without_a_header_reads_as_empty(tmp_path):
    (tmp_path / "ledgers").mkdir()
    (tmp_path / "ledgers" / "helper_unpaired.csv").write_bytes(b"")
    (tmp_path / "summary.json").write_text("{}", "utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"outputs": {"ledgers": {
        "helper_unpaired": {"file": "ledgers/helper_unpaired.csv"}}}}), "utf-8")
    prev = load_previous(tmp_path)
    assert prev.ledgers["helper_unpaired"].empty
    out = _run(prev, ["A"])
    assert list(out.status["helper_unpaired"]) == ["new"] and out.gone.empty


def _collected(folder: Path, tmp_path: Path) -> dict:
    f = _answer(folder / "towns" / "宽州镇.xlsx", tmp_path / "a.xlsx",
                {2: ("属实", None, dt.datetime(2019, 10, 8), "乡扶贫办")})
    collect(folder, [f], ON)
    return json.loads((folder / "manifest.json").read_text("utf-8"))


def test_a_rerun_with_the_same_ledgers_keeps_the_responses(report, tmp_path):  # noqa: F811
    manifest = _collected(report, tmp_path)
    rec, note = carry_responses(report, manifest["outputs"])
    assert rec == manifest["responses"] and "unchanged" in note
    assert (report / "responses.csv").exists()
    rerun = {**manifest, "responses": rec, "finished": "later"}
    assert _check_responses(rerun, report, io.StringIO())  # what qj verify checks


def test_a_rerun_with_other_ledgers_moves_the_responses_aside(report, tmp_path):  # noqa: F811
    manifest = _collected(report, tmp_path)
    before = (report / "responses.csv").read_bytes()
    outputs = json.loads(json.dumps(manifest["outputs"]))
    outputs["ledgers"]["helper_unpaired"]["sha256"] = "0" * 64
    rec, note = carry_responses(report, outputs)
    assert rec is None and "moved aside" in note and "qj collect" in note
    assert not (report / "responses.csv").exists()
    assert not (report / "responses_rejects.csv").exists()
    moved = list((report / STALE_DIR).glob("*/responses.csv"))
    assert len(moved) == 1 and moved[0].read_bytes() == before
    assert _check_responses({k: v for k, v in manifest.items() if k != "responses"}, report,
                            io.StringIO())


def test_responses_without_a_record_are_moved_aside(report, tmp_path):  # noqa: F811
    manifest = _collected(report, tmp_path)
    del manifest["responses"]  # the state the old bug left behind
    (report / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    rec, note = carry_responses(report, manifest["outputs"])
    assert rec is None and "no collection record" in note
    assert not (report / "responses.csv").exists()


def test_a_folder_never_collected_is_left_alone(report):  # noqa: F811
    manifest = json.loads((report / "manifest.json").read_text("utf-8"))
    assert carry_responses(report, manifest["outputs"]) == (None, None)
    assert not (report / STALE_DIR).exists()
