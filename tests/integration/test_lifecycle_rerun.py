"""``qj report`` re-run into a report folder already collected (``lifecycle.md``,
reproducibility): with the same ledgers the collected responses stay recorded; with other ledgers
they are moved aside (checked on ``carry_responses``, the step the runner calls); ``qj verify``
passes on the re-run."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from qjlib.core.answers import is_worklist
from qjlib.demo import write_demo
from qjlib.report.collect import STALE_DIR, carry_responses, collect
from qjlib.report.runner import run_report
from qjlib.report.verify import verify
from tests.unit.test_collect import _answer

pytestmark = pytest.mark.slow


def test_a_rerun_into_a_collected_folder_stays_consistent(tmp_path, monkeypatch):
    monkeypatch.setenv("QJLIB_CACHE", str(tmp_path / "cache"))
    write_demo(tmp_path / "q3", seed=2019, households=300)
    kw = {"scope": ["county"], "notebooks_dir_": tmp_path / "no_nb", "progress": False, "jobs": 1}
    (tmp_path / "no_nb").mkdir()
    r = run_report(tmp_path / "q3", "2019Q3", tmp_path / "reports", **kw)
    town = sorted((r.folder / "towns").glob("*.xlsx"))[0]
    f = _answer(town, tmp_path / town.name, {2: ("属实", None, dt.datetime(2019, 10, 8), "乡扶贫办")})
    collect(r.folder, [f], dt.date(2019, 11, 15))
    responses = (r.folder / "responses.csv").read_bytes()
    assert len(responses.splitlines()) == 2

    again = run_report(tmp_path / "q3", "2019Q3", tmp_path / "reports", **kw)
    assert again.manifest["responses"]["kept"] == 1
    assert (r.folder / "responses.csv").read_bytes() == responses
    assert verify(r.folder / "manifest.json", io.StringIO())

    # other ledgers (one work list's checksum changed): the responses are moved aside, not kept
    manifest = json.loads((r.folder / "manifest.json").read_text("utf-8"))
    outputs = json.loads(json.dumps(manifest["outputs"]))
    changed = next(v for k, v in outputs["ledgers"].items() if is_worklist(k))
    changed["sha256"] = "0" * 64
    kept, note = carry_responses(r.folder, outputs)
    assert kept is None and "qj collect" in note
    assert not (r.folder / "responses.csv").exists()
    assert [p.read_bytes() for p in (r.folder / STALE_DIR).glob("*/responses.csv")] == [responses]
