"""A ledger row's status across quarters (``lifecycle.md`` §3), at its edges, on tiny frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qjlib.core.errors import QjError
from qjlib.core.ledgers import LedgerSpec
from qjlib.report.lifecycle import (
    Previous,
    figure_changes,
    gone_status,
    preceding_period,
    previous_folder,
    reconcile,
    row_status,
)

AS_OF = pd.Timestamp("2019-12-31")
SPEC = LedgerSpec("helper_unpaired", "无帮扶责任人的贫困户", ("hh_id",))


def _status(in_prev: bool, verdict: str | None, done: str | None) -> str:
    return row_status(np.array([in_prev]), pd.Series([verdict], dtype="object"),
                      pd.Series([pd.Timestamp(done) if done else pd.NaT]), AS_OF)[0]


@pytest.mark.parametrize(("in_prev", "verdict", "done", "status"), [
    (False, None, None, "new"),
    (False, "confirmed", "2019-10-01", "new"),  # a new key whatever an answer says
    (True, None, None, "open"),  # no answer
    (True, "confirmed", None, "open"),  # confirmed without a date: not fixed yet
    (True, "confirmed", "2020-01-01", "open"),  # fixed only after the as-of date
    (True, "confirmed", "2019-12-31", "recurred"),  # fixed on the as-of date and still there
    (True, "confirmed", "2019-10-01", "recurred"),
    (True, "not_confirmed", None, "disputed"),
    (True, "data_error", "2019-10-01", "disputed"),
])
def test_the_status_of_a_row_of_this_report(in_prev, verdict, done, status):
    assert _status(in_prev, verdict, done) == status


@pytest.mark.parametrize(("verdict", "done", "status"), [
    ("confirmed", "2019-10-01", "resolved"),
    ("confirmed", "2020-03-01", "resolved"),  # any done date
    ("confirmed", None, "dropped"),  # confirmed without a date
    ("not_confirmed", None, "dropped"),
    ("data_error", "2019-10-01", "dropped"),
    (None, None, "dropped"),  # gone without an answer
])
def test_the_status_of_a_previous_row_that_is_gone(verdict, done, status):
    got = gone_status(pd.Series([verdict], dtype="object"),
                      pd.Series([pd.Timestamp(done) if done else pd.NaT]))
    assert got[0] == status


def _ledger(keys: list[str], town: str = "宽州镇") -> pd.DataFrame:
    return pd.DataFrame({"hh_id": keys, "reason": ["无结对"] * len(keys), "town": town},
                        dtype="str")


def _prev(keys: list[str], responses: list[tuple] = (), values: dict | None = None,
          read: list[str] | None = None) -> Previous:
    manifest = {"period": "2019Q3", "parameters": {"values": values or {"helpers.max": 5}},
                "outputs": {"ledgers": {"helper_unpaired": {"parameters": read or []}}}}
    resp = pd.DataFrame([{"ledger": "helper_unpaired", "key": f"hh_id={k}", "verdict": v,
                          "done": d} for k, v, d in responses],
                        columns=["ledger", "key", "verdict", "done"])
    return Previous(Path("."), manifest, "0" * 64, {"x": 1}, {"helper_unpaired": _ledger(keys)},
                    resp, None)


def _run(prev: Previous, now: list[str], values: dict | None = None,
         read: list[str] | None = None):
    texts = {"helper_unpaired": (SPEC, _ledger(now))}
    return reconcile(texts, prev, AS_OF, {"values": values or {"helpers.max": 5}},
                     {"helper_unpaired": read or []}, {"x": 3})


def test_statuses_gone_rows_counts_and_closure_rate():
    prev = _prev(["A", "B", "C", "D"], [("A", "confirmed", "2019-10-01"),
                                        ("B", "not_confirmed", ""),
                                        ("C", "confirmed", "2019-11-01")])
    out = _run(prev, ["A", "B", "E"])
    assert list(out.status["helper_unpaired"]) == ["recurred", "disputed", "new"]
    assert dict(zip(out.gone["key"], out.gone["follow_up"], strict=True)) == {
        "hh_id=C": "resolved", "hh_id=D": "dropped"}
    block = out.summary["ledgers"]["helper_unpaired"]
    assert (block["previous"], block["new"], block["recurred"], block["disputed"],
            block["resolved"], block["dropped"]) == (4, 1, 1, 1, 1, 1)
    assert block["closure_rate"] == 0.25
    assert out.summary["towns"]["宽州镇"]["previous"] == 4
    assert out.summary["changes"]["x"] == {"previous": 1.0, "current": 3.0, "difference": 2.0}


def test_a_key_that_reappears_two_quarters_later_is_new_again():
    q2 = _prev(["A", "B"], [("A", "confirmed", "2019-05-01")])
    q3 = _run(q2, ["B"])
    assert q3.gone.set_index("key")["follow_up"]["hh_id=A"] == "resolved"
    # 2019Q4 is reconciled with 2019Q3 only, where A was not listed: it comes back as new
    q4 = _run(_prev(["B"]), ["A", "B"])
    assert list(q4.status["helper_unpaired"]) == ["new", "open"]


def test_a_ledger_whose_parameters_changed_is_refused_with_a_note():
    prev = _prev(["A"], values={"helpers.max": 5, "other": 1}, read=["helpers.max"])
    out = _run(prev, ["A"], values={"helpers.max": 6, "other": 1}, read=["helpers.max"])
    assert "helper_unpaired" not in out.status
    assert "helpers.max" in out.refused["helper_unpaired"]
    assert out.gone.empty and out.summary["refused"] == out.refused
    # a parameter the ledger did not read does not count
    ok = _run(_prev(["A"], values={"helpers.max": 5, "other": 1}, read=["helpers.max"]), ["A"],
              values={"helpers.max": 5, "other": 2}, read=["helpers.max"])
    assert list(ok.status["helper_unpaired"]) == ["open"] and ok.refused == {}


def test_reference_ledgers_get_no_status():
    spec = LedgerSpec("helper_review", "帮扶责任人测评", ("helper_id",))
    texts = {"helper_review": (spec, pd.DataFrame({"helper_id": ["H1"]}))}
    out = reconcile(texts, _prev([]), AS_OF, {"values": {}}, {}, {})
    assert out.status == {} and out.summary["ledgers"] == {}


def test_figure_changes_pairs_every_numeric_figure():
    got = figure_changes({"a": {"b": 1, "c": "text"}, "lifecycle": {"n": 1}, "gone": 2},
                         {"a": {"b": 1.5, "c": "text"}, "new": 3})
    assert got == {"a.b": {"previous": 1.0, "current": 1.5, "difference": 0.5},
                   "gone": {"previous": 2.0, "current": None, "difference": None},
                   "new": {"previous": None, "current": 3.0, "difference": None}}


def test_the_previous_report_by_default_and_on_request(tmp_path):
    assert preceding_period("2019Q4") == "2019Q3" and preceding_period("2020Q1") == "2019Q4"
    assert previous_folder(None, tmp_path, "2019Q4") is None  # none beside: no reconciliation
    (tmp_path / "2019Q3").mkdir()
    (tmp_path / "2019Q3" / "manifest.json").write_text("{}", encoding="utf-8")
    assert previous_folder(None, tmp_path, "2019Q4") == (tmp_path / "2019Q3").resolve()
    assert previous_folder("none", tmp_path, "2019Q4") is None
    with pytest.raises(QjError, match="manifest.json"):
        previous_folder(str(tmp_path / "nowhere"), tmp_path, "2019Q4")


def test_the_parameters_read_are_noted():
    from dataclasses import fields

    from qjlib.core.params import Params, load_params
    from qjlib.report.compute import ReadLog

    params = load_params("2019Q3")
    log = ReadLog(**{f.name: getattr(params, f.name) for f in fields(Params)})
    assert log.get("decline.n_declines") == params.get("decline.n_declines")
    log.poverty_line(2019)
    assert log.read == {"decline.n_declines", "poverty_line"}
