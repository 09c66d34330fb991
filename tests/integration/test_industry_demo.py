"""The demo county against R1/R3: the dividend ledger holds exactly truth.json's cases, and the
summary figures equal an independent computation in DuckDB SQL on the loaded tables (the
contract's definitions written again, not qjlib's code path)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from qjlib.analyses import industry as ind

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ledgers(demo_ctx) -> dict[str, pd.DataFrame]:
    return ind.build_ledgers(demo_ctx)


@pytest.fixture(scope="module")
def summary(demo_ctx) -> dict:
    return ind.summary(demo_ctx)


@pytest.fixture(scope="module")
def db(demo_ctx):
    """DuckDB on plain copies of the loaded tables (text ids, numbers, dates)."""
    pkg = demo_ctx.pkg
    con = duckdb.connect()
    hh = pkg["households"][["hh_id", "town", "exit_status", "exit_year", "planned_exit_year"]]
    inc = pkg["income"][["hh_id", "year", "size", "wage", "operating", "operating_cost",
                         "property", "transfer"]]
    ben = pkg["benefits"][["project_id", "hh_id", "year", "benefit_type", "amount"]]
    prj = pkg["projects"][["project_id", "year", "category", "nature", "investment"]]
    for name, df in (("hh", hh), ("inc", inc), ("ben", ben), ("prj", prj)):
        plain = df.astype({c: "object" for c in df.columns if df[c].dtype == "str"})
        plain = plain.astype({c: "float64" for c in plain.columns
                              if str(plain[c].dtype) in ("Int64", "Float64")})
        con.register(name, plain)
    year, line = demo_ctx.income_year, demo_ctx.params.poverty_line(demo_ctx.income_year)
    types = ", ".join(f"'{t}'" for t in demo_ctx.params.get("industry.income_benefit_types"))
    # one row per analysed household and group, with its support and income in the year
    con.execute(f"""
        CREATE TABLE g AS
        WITH grp AS (
            SELECT 'past' AS grp, hh_id, CAST(exit_year AS INTEGER) AS cohort FROM hh
            WHERE exit_status IN ('exited', 'returned') AND exit_year < {year}
            UNION ALL
            SELECT 'planned', hh_id, NULL FROM hh WHERE planned_exit_year = {year}),
        b AS (
            SELECT hh_id, SUM(CASE WHEN benefit_type IN ({types}) THEN COALESCE(amount, 0)
                                   ELSE 0 END) AS benefit
            FROM ben WHERE year = {year} GROUP BY hh_id),
        i AS (
            SELECT hh_id, size,
                   wage + operating - operating_cost + property + transfer AS net
            FROM inc WHERE year = {year})
        SELECT grp.*, b.hh_id IS NOT NULL AS supported, COALESCE(b.benefit, 0) AS benefit,
               i.size, i.net,
               (b.hh_id IS NOT NULL AND i.net / i.size >= {line}
                AND (i.net - b.benefit) / i.size < {line}) AS pivotal
        FROM grp LEFT JOIN b USING (hh_id) LEFT JOIN i USING (hh_id)""")
    return con


def _one(db, sql: str) -> tuple:
    return db.execute(sql).fetchone()


def test_dividend_ledger_holds_exactly_the_truth(ledgers, demo_truth):
    """truth.json lists each project × household once, its years and its statuses (","-joined);
    the ledger has one row per project × household × year."""
    od = ledgers["dividend_overdue"]
    want = {(x["project_id"], x["hh_id"]): (x["status"], sorted(x["years"]))
            for x in demo_truth["ledgers"]["dividend_overdue"]}
    got = {(p, h): (",".join(sorted(set(g["status"]))), sorted(g["year"].astype(int)))
           for (p, h), g in od.groupby(["project_id", "hh_id"])}
    assert set(got) - set(want) == set(), "cases in the ledger that truth.json does not expect"
    assert set(want) - set(got) == set(), "cases truth.json expects that the ledger missed"
    assert {k: (v, want[k]) for k, v in got.items() if want[k] != v} == {}, "status or years"
    assert {"unpaid", "late", "short", "principal"} <= set(od["status"])
    assert not od.duplicated(["project_id", "hh_id", "year"]).any()
    assert od["reason"].str.len().gt(0).all() and od["town"].notna().all()
    decoys = {(x["project_id"], x["hh_id"], int(x["year"]))
              for x in demo_truth["decoys"]["dividend_overdue"]}
    keys = set(od[["project_id", "hh_id", "year"]].astype({"year": int}).itertuples(
        index=False, name=None))
    assert decoys and not decoys & keys


def test_beneficiary_ledger_has_every_project_household_year(ledgers, db):
    led = ledgers["industry_beneficiaries"]
    want = set(db.execute("SELECT DISTINCT project_id, hh_id, CAST(year AS INTEGER) FROM ben")
               .fetchall())
    got = set(led[["project_id", "hh_id", "year"]].astype({"year": int}).itertuples(index=False,
                                                                                   name=None))
    assert got == want
    total = _one(db, "SELECT SUM(amount) FROM ben WHERE benefit_type <> '本金返还'")[0]
    assert led["amount"].sum() == pytest.approx(total)
    assert led["category"].notna().all() and led["town"].notna().all()


def test_support_rates_equal_sql(summary, db):
    sr = summary["support_rate"]
    n, k = _one(db, "SELECT COUNT(*), COUNT(*) FILTER (supported) FROM g WHERE grp = 'past'")
    assert (sr["households"], sr["supported"]) == (n, k) and sr["overall"] == pytest.approx(k / n)
    rows = db.execute("""SELECT cohort, COUNT(*), COUNT(*) FILTER (supported) FROM g
                         WHERE grp = 'past' GROUP BY cohort ORDER BY cohort""").fetchall()
    assert {c: (x["households"], x["supported"]) for c, x in sr["by_cohort"].items()} == {
        str(c): (n, k) for c, n, k in rows}
    n, k = _one(db, "SELECT COUNT(*), COUNT(*) FILTER (supported) FROM g WHERE grp = 'planned'")
    assert n > 0 and (sr["planned"]["households"], sr["planned"]["supported"]) == (n, k)


def test_contribution_ratios_equal_sql(summary, db):
    cr = summary["contribution_ratio"]
    q = """SELECT SUM(benefit), SUM(net), SUM(benefit) / SUM(net) FROM g
           WHERE supported AND net IS NOT NULL AND grp = '{}'"""
    b, net, r = _one(db, q.format("past"))
    assert (cr["benefit"], cr["net_income"]) == (pytest.approx(b), pytest.approx(net))
    assert cr["overall"] == pytest.approx(r)
    assert cr["planned"]["ratio"] == pytest.approx(_one(db, q.format("planned"))[2])
    rows = db.execute("""SELECT cohort, SUM(benefit) / SUM(net) FROM g
                         WHERE grp = 'past' AND supported AND net IS NOT NULL GROUP BY cohort""")
    assert {c: x["ratio"] for c, x in cr["by_cohort"].items()} == pytest.approx(
        {str(c): r for c, r in rows.fetchall()})


def test_pivotal_households_equal_sql(summary, db):
    pv = summary["pivotal"]
    n = _one(db, "SELECT COUNT(DISTINCT hh_id) FROM g WHERE pivotal")[0]
    assert n > 0 and pv["households"] == n
    assert pv["past_exited"] == _one(db, "SELECT COUNT(*) FROM g WHERE pivotal AND grp='past'")[0]


@pytest.mark.parametrize("dim", ["category", "nature"])
def test_count_and_investment_shares_equal_sql(summary, db, demo_ctx, dim):
    rows = db.execute(f"""
        SELECT {dim}, COUNT(*) / SUM(COUNT(*)) OVER (),
               SUM(investment) / SUM(SUM(investment)) OVER ()
        FROM prj WHERE year <= {demo_ctx.income_year} GROUP BY {dim}""").fetchall()
    assert summary["count_share"][dim] == pytest.approx({c: x for c, x, _ in rows})
    assert summary["investment_share"][dim] == pytest.approx({c: x for c, _, x in rows})
    assert sum(summary["count_share"][dim].values()) == pytest.approx(1.0)


def test_project_ledger_counts_beneficiaries(ledgers, db, demo_ctx):
    pj = ledgers["industry_projects"].set_index("project_id")
    rows = db.execute(f"""
        SELECT p.project_id, COUNT(DISTINCT b.hh_id) FROM prj p
        LEFT JOIN ben b ON b.project_id = p.project_id AND b.year <= {demo_ctx.income_year}
        WHERE p.year <= {demo_ctx.income_year} GROUP BY p.project_id""").fetchall()
    assert pj["beneficiaries"].to_dict() == dict(rows)
    assert pj["shortfall"].fillna(0).gt(0).any()
