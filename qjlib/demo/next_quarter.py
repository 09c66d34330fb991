"""The demo county's next quarter (``qj demo --period 2019Q4``, ``lifecycle.md``): the 2019Q3
county three months on, the towns' answers to the 2019Q3 report, and the statuses they imply.

The 2019Q4 package is the 2019Q3 county (same seed) with, as of 2019-12-31:

- *fixed*: the first planted unpaired household (:data:`FIXED_UNPAIRED`) gets a helper on
  2019-11-01; the second planted overloaded helper loses one household on 2019-10-31;
- *appearing*: that household has no helper any more (a new ``helper_unpaired`` row); guaranteed
  dividends due in the fourth quarter and unpaid are new ``dividend_overdue`` rows;
- *gone without an answer*: changes of helper older than the new 12-month window leave
  ``helper_frequent_change``;
- *persisting*: everything else.

The towns' answers (:func:`answer_plan`, drawn from the 2019Q3 truth with their own rng stream) are
a fix reported for the fixed household and for two households that leave the frequent-change
ledger (→ 已销号), fixes reported for rows that are still there (→ 整改不实), a confirmation
without a date (→ 未整改), disputes (→ 有异议), and bad answers that ``qj collect`` must reject: a
key edited to one that is not in the ledger, a key edited to another row's, a verdict outside the
list, a date that is not a date, and an answer given again in a later file (the earlier one is
rejected). :func:`fill_returned` writes them into the 2019Q3 report's town workbooks.

The expected statuses (``truth.json`` → ``lifecycle``) follow from the two quarters' truths
(:func:`qjlib.demo.truth.compute_truth`, the 2019Q4 one at the 2019Q4 as-of date) and the kept
answers, by the contract's table, for the ledgers the truth lists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core.answers import ANSWER_COLUMNS, VERDICTS
from qjlib.core.errors import QjError
from qjlib.demo import truth as truth_mod
from qjlib.demo.county import County, simulate
from qjlib.demo.write import write_package

PERIOD = "2019Q4"
PREVIOUS = "2019Q3"
ASOF = np.datetime64("2019-12-31")
WINDOW_START = np.datetime64("2018-12-31")
COLLECTED_ON = "2019-11-15"  # when the county collects the towns' answers to 2019Q3
#: The key columns of the ledgers the truth lists (as their specs declare them).
KEYS = {"income_decline": ("hh_id",), "income_low_operating": ("hh_id",),
        "income_transfer_dependent": ("hh_id",),
        "dividend_overdue": ("project_id", "hh_id", "year"),
        "helper_unpaired": ("hh_id",), "helper_overloaded": ("helper_id",),
        "helper_frequent_change": ("hh_id",)}
FIXED_UNPAIRED = 0  # index of the planted unpaired household that is given a helper
RELIEVED_HELPER = 1  # index of the planted overloaded helper that loses a household


@contextlib.contextmanager
def _truth_as_of(asof: np.datetime64, window_start: np.datetime64) -> Iterator[None]:
    """The truth computed at another as-of date (its module reads the date as a constant)."""
    old = truth_mod.ASOF, truth_mod.WINDOW_START
    truth_mod.ASOF, truth_mod.WINDOW_START = asof, window_start
    try:
        yield
    finally:
        truth_mod.ASOF, truth_mod.WINDOW_START = old


def next_quarter(county: County, q3_ledgers: dict[str, list[dict]]) -> tuple[County, dict]:
    """The county of 2019Q4 (a copy with the changes of the module text) and what changed."""
    t = {k: v.copy() for k, v in county.tables.items()}
    pr = t["pairings"]
    fixed = q3_ledgers["helper_unpaired"][FIXED_UNPAIRED]["hh_id"]
    helper = q3_ledgers["helper_overloaded"][RELIEVED_HELPER]["helper_id"]
    active = pr[(pr["helper_id"] == helper) & pr["end"].isna()].sort_values("hh_id")
    relieved = active.index[-1]
    pr.loc[relieved, "end"] = pd.Timestamp("2019-10-31")
    donor = pr[pr["hh_id"] != fixed].iloc[[0]].copy()  # a well-formed row to copy
    hh = t["households"]
    donor["h"] = int(np.flatnonzero(hh["hh_id"].to_numpy() == fixed)[0])
    donor["hh_id"], donor["start"], donor["end"] = fixed, pd.Timestamp("2019-11-01"), pd.NaT
    for c in ("_q", "_qtype", "_qcol"):
        if c in donor:
            donor[c] = ""
    t["pairings"] = pd.concat([pr, donor], ignore_index=True)
    changes = {"fixed_unpaired": fixed, "relieved_helper": helper,
               "unpaired_now": str(pr.loc[relieved, "hh_id"])}
    return County(seed=county.seed, n=county.n, tables=t, plants=county.plants,
                  decoys=county.decoys, extras=county.extras), changes


def _town_of(county: County) -> dict[str, str]:
    hh = county.tables["households"]
    return dict(zip(hh["hh_id"], hh["town"], strict=True))


def answer_plan(q3: dict[str, list[dict]], q4: dict[str, list[dict]], changes: dict,
                county: County, seed: int) -> list[dict]:
    """The towns' answers to 2019Q3 (module text), each with the file it is returned in and, for
    a bad one, ``bad`` (what ``qj collect`` must reject)."""
    rng = np.random.default_rng([seed, 610830, 20])
    q3 = {n: _rows(n, rows) for n, rows in q3.items() if n in KEYS}
    keys4 = {n: {_key(n, r) for r in _rows(n, rows)} for n, rows in q4.items() if n in KEYS}

    def still(n: str) -> list[dict]:
        return [r for r in q3[n] if _key(n, r) in keys4[n]]

    left_freq = [r for r in q3["helper_frequent_change"]
                 if _key("helper_frequent_change", r) not in keys4["helper_frequent_change"]]
    low = still("income_low_operating")
    dec, div, dep = still("income_decline"), still("dividend_overdue"), still(
        "income_transfer_dependent")
    if min(len(left_freq) / 2, len(low) / 6, len(dec) / 3, len(div) / 2, len(dep)) < 1:
        raise QjError("示范县户数太少，下一季度的预设条目不足（请用 --households 1000 或更多）/ too few "
                      "households for the next quarter's planted answers (use 1000 or more)")
    pick = rng.choice(len(low), 6, replace=False)
    low6 = [low[i] for i in sorted(pick)]
    a = [
        _ans("helper_unpaired", {"hh_id": changes["fixed_unpaired"]}, "confirmed", "2019-11-01",
             "已落实帮扶责任人"),
        _ans("helper_frequent_change", left_freq[0], "confirmed", "2019-10-10", "固定帮扶责任人"),
        _ans("helper_frequent_change", left_freq[1], "confirmed", "2019-11-05", "固定帮扶责任人"),
        _ans("income_decline", dec[0], "confirmed", "2019-10-20", "落实产业帮扶"),
        _ans("income_decline", dec[1], "confirmed", None, "正在落实"),
        _ans("income_decline", dec[2], "not_confirmed", None, "收入统计有误，实为外出务工"),
        _ans("income_low_operating", low6[0], "confirmed", "2019-09-30", "发展养殖"),
        _ans("income_low_operating", low6[1], "data_error", None, "经营收入漏报"),
        _ans("dividend_overdue", div[0], "data_error", None, "已于9月兑付，系统未录入"),
        # bad answers
        _ans("income_low_operating", low6[2], "confirmed", "2019-10-01", "", bad="unknown_key"),
        _ans("income_low_operating", low6[3], "confirmed", "2019-10-01", "", bad="edited_key",
             edit_to=low6[4]["hh_id"]),
        _ans("income_transfer_dependent", dep[0], "已整改", None, "", bad="bad_verdict"),
        _ans("income_low_operating", low6[5], "confirmed", "下个月", "", bad="bad_date"),
        _ans("dividend_overdue", div[1], "confirmed", "2019-10-15", "", bad="superseded"),
        _ans("dividend_overdue", div[1], "not_confirmed", None, "项目已终止", second=True),
    ]
    towns = _town_of(county)
    for x in a:
        x["town"] = towns[x["key"]["hh_id"]]
    return a


def _key(ledger: str, row: dict) -> str:
    return ",".join(f"{k}={row[k]}" for k in KEYS[ledger])


def _rows(ledger: str, rows: list[dict]) -> list[dict]:
    """The truth's rows one per ledger key: a ``dividend_overdue`` row (a project and household)
    once per overdue ``year``."""
    if ledger != "dividend_overdue":
        return rows
    return [{**r, "year": y} for r in rows for y in r["years"]]


def _ans(ledger: str, row: dict, verdict: str, done: str | None, action: str, bad: str = "",
         edit_to: str | None = None, second: bool = False) -> dict:
    return {"ledger": ledger, "key": {k: row[k] for k in KEYS[ledger]}, "verdict": verdict,
            "done": done, "action": action, "bad": bad, "edit_to": edit_to, "second": second}


def expected_statuses(q3: dict[str, list[dict]], q4: dict[str, list[dict]],
                      answers: list[dict]) -> dict[str, dict[str, dict[str, str]]]:
    """Ledger → ``rows`` (key → status of each 2019Q4 row) and ``gone`` (key → status of each
    2019Q3 row that is gone), from the kept answers, by the contract's table."""
    asof = pd.Timestamp(str(ASOF))
    kept = {(x["ledger"], _key(x["ledger"], x["key"])): x for x in answers if not x["bad"]}
    out = {}
    for n in KEYS:
        before = {_key(n, r) for r in _rows(n, q3[n])}
        now = {_key(n, r) for r in _rows(n, q4[n])}
        rows, gone = {}, {}
        for k in sorted(now):
            x = kept.get((n, k))
            done = None if x is None or x["done"] is None else pd.Timestamp(x["done"])
            if k not in before:
                rows[k] = "new"
            elif x is not None and x["verdict"] in ("not_confirmed", "data_error"):
                rows[k] = "disputed"
            elif x is not None and x["verdict"] == "confirmed" and done is not None and done <= asof:
                rows[k] = "recurred"
            else:
                rows[k] = "open"
        for k in sorted(before - now):
            x = kept.get((n, k))
            ok = x is not None and x["verdict"] == "confirmed" and x["done"] is not None
            gone[k] = "resolved" if ok else "dropped"
        out[n] = {"rows": rows, "gone": gone}
    return out


def write_next_quarter(out: Path, seed: int = 2019, households: int = 12000) -> dict[str, Any]:
    """Write the 2019Q4 package into ``out`` with its ``truth.json`` (the 2019Q4 ledgers, the
    answer plan and the expected statuses); returns the truth."""
    out = Path(out)
    county = simulate(seed, households)
    q3 = truth_mod.compute_truth(county, [], [])["ledgers"]
    county4, changes = next_quarter(county, q3)
    files, problems = write_package(county4.tables, out, np.random.default_rng([seed, 2]))
    with _truth_as_of(ASOF, WINDOW_START):
        t4 = truth_mod.compute_truth(county4, problems, files)
    answers = answer_plan(q3, t4["ledgers"], changes, county, seed)
    truth = {"seed": int(seed), "households": int(households), "period": PERIOD,
             "as_of": str(ASOF), "income_year": truth_mod.INCOME_YEAR, **t4,
             "lifecycle": {"previous_period": PREVIOUS, "collected_on": COLLECTED_ON,
                           "changes": changes, "answers": answers,
                           "statuses": expected_statuses(q3, t4["ledgers"], answers)}}
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n",
                                    encoding="utf-8")
    return truth


def fill_returned(report: Path, answers: list[dict], dest: Path) -> list[Path]:
    """The towns' returned workbooks: each town's ``towns/<town>.xlsx`` of the 2019Q3 report
    with the planted answers typed in (as openpyxl saves them), into ``dest``; a second answer
    goes into ``<town>_2.xlsx``. Returns the files written, in the order ``qj collect`` reads a
    folder."""
    import openpyxl

    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.xlsx"):
        old.unlink()
    written = []
    groups: dict[tuple[str, bool], list[dict]] = {}
    for x in answers:
        groups.setdefault((x["town"], x["second"]), []).append(x)
    for (town, second), xs in sorted(groups.items()):
        rec = manifest["outputs"]["towns"][town]
        wb = openpyxl.load_workbook(report / rec["file"])
        for x in xs:
            _type_answer(wb, manifest, report, x)
        path = dest / (Path(rec["file"]).stem + ("_2" if second else "") + ".xlsx")
        wb.save(path)
        written.append(path)
    return sorted(written)


def _type_answer(wb: Any, manifest: dict, report: Path, x: dict) -> None:
    led = manifest["outputs"]["ledgers"][x["ledger"]]
    cols = list(pd.read_csv(report / led["file"], nrows=0, encoding="utf-8-sig").columns)
    ws = wb[led["sheet"]]
    head = [c.value for c in ws[1]]
    key_cols = [cols.index(k) + 1 for k in KEYS[x["ledger"]]]
    want = [str(x["key"][k]) for k in KEYS[x["ledger"]]]
    row = next(r for r in range(2, ws.max_row + 1)
               if [str(ws.cell(r, j).value) for j in key_cols] == want)
    if x["bad"] == "unknown_key":
        ws.cell(row, key_cols[-1], want[-1][:-4] + "9999")
    elif x["bad"] == "edited_key":
        ws.cell(row, key_cols[-1], x["edit_to"])
    answer = {"verdict": VERDICTS.get(x["verdict"], x["verdict"]), "action": x["action"] or None,
              "unit": "乡镇扶贫办",
              "done": None if x["done"] is None else (
                  dt.datetime.fromisoformat(x["done"]) if x["done"][:1].isdigit() else x["done"])}
    for c, zh in ANSWER_COLUMNS.items():
        if answer[c] is not None:
            ws.cell(row, head.index(zh) + 1, answer[c])
