"""Issue #16 on the demo county: ``dept_mismatch`` equals truth.json's expected rows exactly (every
planted case, no decoy, nothing else), and the departments/health/education figures equal an
independent computation in DuckDB SQL on the loaded tables."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pandas as pd
import pytest

from qjlib.analyses import departments, departments_education, departments_health
from qjlib.core.context import Context
from qjlib.core.pseudonym import DEMO_KEY, ENV_VAR, KEY_FILE

pytestmark = pytest.mark.slow

KEYS = ("hh_id", "person_id", "person_key", "post_id", "admitted", "term", "programme")


@pytest.fixture(scope="module")
def truth(demo_dir) -> dict:
    return json.loads((demo_dir / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def expected(truth) -> list[dict]:
    dep = truth.get("departments")
    if dep is None:
        pytest.skip("truth.json has no departments part (demo without department rolls)")
    rows = dep.get("dept_mismatch", dep.get("ledger")) if isinstance(dep, dict) else dep
    return rows


@pytest.fixture(scope="module")
def ledger(demo_ctx, demo_dir) -> pd.DataFrame:
    """The county's ledger under the demo county's fixed key (its ``.qj-key`` when the demo
    writes one, else :data:`qjlib.core.pseudonym.DEMO_KEY` through the environment)."""
    with pytest.MonkeyPatch.context() as mp:
        if not (demo_dir / KEY_FILE).exists():
            mp.setenv(ENV_VAR, DEMO_KEY)
        fresh = Context(demo_ctx.pkg, demo_ctx.params)  # its own memo: computed under the key
        return departments.build_ledgers(fresh)["dept_mismatch"]


def as_keys(led: pd.DataFrame) -> Counter:
    """Each ledger row as (rule, its subject's non-blank key columns, and the department ``file``
    and ``row`` it rests on when it names one) — the form of truth.json."""
    out = Counter()
    for r in led.to_dict("records"):
        key = {"rule": r["rule"]}
        for c in (*departments.RULE_KEYS[r["rule"]], "file", "row"):
            v = r[c]
            if v is not None and not pd.isna(v):
                key[c] = v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v)
        out[tuple(sorted(key.items()))] += 1
    return out


def test_ledger_equals_truth(ledger, expected):
    """Every rule's rows, keys and the department line each rests on (``file``, ``row``: the first
    when several; none when the row rests on an absence) equal truth.json's."""
    got = as_keys(ledger)
    want = Counter(tuple(sorted((k, str(v)) for k, v in r.items() if k in ("rule", *KEYS, "file", "row")))
                   for r in expected)
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"missing {len(missing)}: {sorted(missing)[:10]}; extra {len(extra)}: {sorted(extra)[:10]}")


def test_every_rule_is_on_and_has_a_planted_row(ledger, demo_ctx):
    s = departments.summary(demo_ctx)
    assert s["rules_off"] == {}
    assert set(ledger["rule"]) == set(departments.RULES)
    assert s["rules"] == ledger["rule"].value_counts().reindex(list(departments.RULES)).astype(int).to_dict()


def test_ledger_rows_point_to_department_lines(ledger):
    on_a_line = {"welfare_not_registered", "dibao_dropped_at_exit", "deceased_paid", "deceased_pending",
                 "card_health_mismatch", "reimbursement_low", "dropout", "aid_repeat",
                 "aid_multi_channel", "post_multiple", "post_rotation", "post_not_registered"}
    rows = ledger[ledger["rule"].isin(on_a_line)]  # the others may rest on an absence
    assert rows["file"].notna().all() and rows["row"].notna().all()
    outside = ledger["person_id"].isna() & ledger["hh_id"].isna() & ledger["rule"].ne("post_rotation")
    assert ledger.loc[outside, "person_key"].str.fullmatch(r"[0-9a-f]{16}").all()


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df[[c for c in df.columns if not c.startswith("_")]]
    out = out.astype({c: "object" for c in out.columns if out[c].dtype == "str"})
    return out.astype({c: "float64" for c in out.columns
                       if str(out[c].dtype) in ("Int64", "Float64", "boolean")})


@pytest.fixture(scope="module")
def db(demo_ctx):
    con = duckdb.connect()
    for name in ("members", "insurance", "hospital", "deaths", "welfare", "posts"):
        con.register(name, _plain(demo_ctx.pkg[name]))
    return con


def test_health_figures_equal_sql(db, demo_ctx):
    s = departments_health.summary(demo_ctx)
    a, c = demo_ctx.asof.date().isoformat(), demo_ctx.asof.year
    persons, insured, critical, doctor = db.execute(f"""
        WITH p AS (SELECT DISTINCT person_id, upper(id_number) AS id FROM members
                   WHERE (member_status IS NULL OR member_status = '正常')
                     AND upper(coalesce(id_number, '')) NOT IN
                         (SELECT upper(id_number) FROM deaths WHERE death_date <= DATE '{a}')),
             i AS (SELECT upper(id_number) AS id, * FROM insurance WHERE year = {c})
        SELECT (SELECT count(*) FROM p),
               (SELECT count(*) FROM p WHERE id IN (SELECT id FROM i WHERE basic = 1 OR exempt IS NOT NULL)),
               (SELECT count(*) FROM p WHERE id IN (SELECT id FROM i WHERE critical = 1)),
               (SELECT count(*) FROM p WHERE id IN (SELECT id FROM i WHERE family_doctor = 1))
    """).fetchone()
    assert (s["persons"], s["insured"], s["critical"], s["family_doctor"]) == (
        persons, insured, critical, doctor)
    reimb, base, n = db.execute(f"""
        WITH st AS (SELECT upper(id_number) AS id, admitted, sum(reimbursed) AS r,
                           sum(coalesce(eligible_cost, total_cost)) AS b, max(discharged) AS d
                    FROM hospital WHERE year(admitted) = {c} GROUP BY 1, 2)
        SELECT sum(r), sum(b), count(*) FROM st
        WHERE d <= DATE '{a}' AND id IN (SELECT upper(id_number) FROM members
                                         WHERE member_status IS NULL OR member_status = '正常')
    """).fetchone()
    assert s["stays"] == n
    assert round(s["reimbursed"] * 100) == round(reimb * 100)
    assert round(s["eligible_cost"] * 100) == round(base * 100)


def test_matched_counts_equal_sql(db, demo_ctx):
    s = departments.summary(demo_ctx)
    for t in ("welfare", "posts", "deaths", "insurance", "hospital"):
        [(m,)] = db.execute(f"SELECT count(*) FROM {t} WHERE upper(id_number) IN "
                            "(SELECT upper(id_number) FROM members)").fetchall()
        assert s["matched"][t] <= m  # IDs failing the checksum match nobody
        assert s["matched"][t] + s["unmatched"][t] == len(demo_ctx.pkg[t])


def test_education_figures(demo_ctx, ledger):
    s = departments_education.summary(demo_ctx)
    assert s["dropouts"] == int((ledger["rule"] == "dropout").sum())
    assert s["not_found"] == int((ledger["rule"] == "enrollment_not_found").sum())
    assert s["school_age"] > s["dropouts"] + s["not_found"]
