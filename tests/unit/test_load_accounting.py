"""Property: every row read is kept or rejected — ``read == kept + rejected`` per file — and the
rows rejected are exactly the bad ones, for arbitrary mixes of good and bad rows."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fixtures.build import households, write_csv, write_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qjlib.io.load import load_package

HEADER = ["户编号", "年度", "年度家庭人口数", "工资性收入", "生产经营性收入", "生产经营性支出",
          "财产性收入", "转移性收入", "低保金"]

# kind of row -> (expected reject kind or None, how to write it)
ROW_KINDS = {
    "good": None,
    "odd_optional": None,  # an unparseable optional cell: a finding, the row is kept
    "bad_wage": "unparseable_number",
    "blank_wage": "missing_required",
    "size_0": "size_lt_1",
    "bad_year": "bad_year",
    "total": "total_row",
    "duplicate": "duplicate_key",
    "blank": "skip",
}


def make_row(kind: str, i: int, dup_of: str | None) -> list:
    hh = f"H{i % 5}"
    year = 2000 + i  # unique key (hh, year) per generated row
    row = [hh, year, 3, 1000, 0, 0, 0, 0, ""]
    if kind == "odd_optional":
        row[8] = "n/a"
    elif kind == "bad_wage":
        row[3] = "1.2.3"
    elif kind == "blank_wage":
        row[3] = ""
    elif kind == "size_0":
        row[2] = 0
    elif kind == "bad_year":
        row[1] = "去年"
    elif kind == "total":
        row = ["合计", "", "", 9999, 0, 0, 0, 0, ""]
    elif kind == "duplicate":
        h, y = dup_of.split("|")
        row[0], row[1] = h, int(y)
    elif kind == "blank":
        row = [""] * len(HEADER)
    return row


@st.composite
def files(draw):
    n_files = draw(st.integers(1, 3))
    out, kept_keys, i = [], [], 0
    for _ in range(n_files):
        kinds = draw(st.lists(st.sampled_from(sorted(ROW_KINDS)), min_size=0, max_size=25))
        rows = []
        for k in kinds:
            if k == "duplicate" and not kept_keys:
                k = "good"
            dup = draw(st.sampled_from(kept_keys)) if k == "duplicate" else None
            rows.append((k, make_row(k, i, dup)))
            if k in ("good", "odd_optional"):
                kept_keys.append(f"H{i % 5}|{2000 + i}")
            i += 1
        out.append((draw(st.sampled_from(["csv", "xlsx"])), draw(st.booleans()), rows))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_read_equals_kept_plus_rejected_and_the_rejects_are_the_bad_rows(spec):
    tmp = Path(tempfile.mkdtemp())
    try:
        households(tmp / "households.csv", [f"H{k}" for k in range(5)])
        expect = {}
        for f, (fmt, title, rows) in enumerate(spec):
            name = f"收入信息/{f}.{fmt}"
            lines = ([["收入信息表"]] if title else []) + [HEADER] + [r for _, r in rows]
            first = 2 + (1 if title else 0)  # the row number of the first data row
            if fmt == "csv":
                write_csv(tmp / name, lines)
            else:
                write_xlsx(tmp / name, lines)
            expect[name] = {
                "read": sum(k != "blank" for k, _ in rows),
                "rejects": [(first + j, ROW_KINDS[k]) for j, (k, _) in enumerate(rows)
                            if ROW_KINDS[k] not in (None, "skip")],
            }
        pkg = load_package(tmp)
        a = pkg.accounting[pkg.accounting["table"] == "income"].set_index("file")
        assert sorted(a.index) == sorted(expect)
        assert (a["read"] == a["kept"] + a["rejected"]).all()
        for name, e in expect.items():
            assert a.loc[name, "read"] == e["read"]
            r = pkg.rejects[(pkg.rejects["table"] == "income") & (pkg.rejects["file"] == name)]
            assert list(zip(r["row"], r["kind"], strict=True)) == e["rejects"]
            assert a.loc[name, "rejected"] == len(e["rejects"])
        assert len(pkg["income"]) == int(a["kept"].sum())
        n_odd = sum(k == "odd_optional" for _, _, rows in spec for k, _ in rows)
        assert (pkg.findings["kind"] == "unparseable_number").sum() == n_odd
    finally:
        shutil.rmtree(tmp)
