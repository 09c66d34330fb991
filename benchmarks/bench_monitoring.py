"""Province-scale benchmark of the return-to-poverty monitoring signals and classes (#17) against DuckDB.

    .venv/bin/python benchmarks/bench_monitoring.py [--scale 1.0] [--repeat 2]

Frames built in memory with vectorised numpy, in the loader's canonical columns: N = 1,000,000 ×
``--scale`` households (about 60 % past exited), income N × 6 years (:func:`bench_decline.make_income`),
≈ 3.2 N members with valid GB 11643 IDs, and the rolls monitoring reads at the sizes of #11 (10 M
rows across all the departments' rolls; here welfare 2.0 M, hospital 1.5 M, enrollment 1.5 M,
deaths 0.3 M, housing 1.2 M rows at scale 1, a share of them with IDs no member holds).

Timed on the same frames in the same process:

- **qjlib**: the registered persons and the rule ``dropout`` of ``departments.md`` (the functions
  the departments analysis runs), then :func:`qjlib.analyses.monitoring.signals_of` (every signal:
  exact income comparisons in fen, the 12-month out-of-pocket window, no safety net on A, exit.md's
  safe house on A) and :func:`~qjlib.analyses.monitoring.classify`.
- **DuckDB**: the same definitions in SQL written from ``shared/contract/monitoring.md`` (the ID
  checksum in SQL too). The ``income_decline`` and ``income_transfer_dependent`` ledgers are given
  to both as id lists (their own benchmarks: ``bench_decline.py``, ``bench_income.py``).

Prints both times (median of ``--repeat``), the ratio qjlib ÷ DuckDB (target ≤ 1.0) and checks that
both give every household the same signals and class.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_decline import make_income  # noqa: E402

from qjlib.analyses import departments_match as dm  # noqa: E402
from qjlib.analyses import departments_school as ds  # noqa: E402
from qjlib.analyses import monitoring as mon  # noqa: E402
from qjlib.core.definitions import ID_CHECK_CHARS, ID_WEIGHTS  # noqa: E402
from qjlib.core.params import load_params  # noqa: E402
from qjlib.core.tables_departments import COUNTED_MEMBER_STATUSES  # noqa: E402

Y, A = 2019, pd.Timestamp("2019-09-30")
ROLLS = {"welfare": 2_000_000, "hospital": 1_500_000, "enrollment": 1_500_000, "deaths": 300_000,
         "housing": 1_200_000}


def make_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct valid 18-character IDs (610830 + birth date 1940–2015 + serial + check)."""
    birth = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 27_000, n), unit="D")
    body = np.char.add(np.char.add("610830", birth.strftime("%Y%m%d").to_numpy().astype("U8")),
                       np.char.zfill((np.arange(n) % 1000).astype("U3"), 3))
    raw = np.frombuffer("".join(body.tolist()).encode("ascii"), dtype=np.uint8).reshape(n, 17)
    check = np.frombuffer(ID_CHECK_CHARS.encode(), dtype=np.uint8)[((raw - 48).astype(np.int64) @ ID_WEIGHTS) % 11]
    ids = np.char.add(body, check.view("S1").astype("U1"))
    return ids


def make_frames(households: int, seed: int = 2019) -> dict[str, pd.DataFrame]:
    """The canonical frames (module docstring)."""
    rng = np.random.default_rng([seed, 17])
    s = households / 1_000_000
    income = make_income(households, seed)
    hid = np.sort(income["hh_id"].unique())
    n = len(hid)
    exited = rng.random(n) < 0.6
    hh = pd.DataFrame({"hh_id": pd.array(hid, dtype="str"), "town": "甲镇", "village": "一村",
                       "exit_status": pd.array(np.where(exited, "exited", "not_exited"), dtype="str"),
                       "exit_year": pd.array(np.where(exited, rng.integers(2014, 2020, n), 0), dtype="Int64"),
                       "labor_capacity": pd.array(np.where(rng.random(n) < 0.06, "无劳动能力", "有劳动能力"),
                                                  dtype="str")})
    hh.loc[~exited, "exit_year"] = pd.NA
    k = rng.poisson(2.2, n) + 1
    owner = np.repeat(np.arange(n), k)
    pid = make_ids(rng, len(owner))
    members = pd.DataFrame({"hh_id": pd.array(hid[owner], dtype="str"),
                            "person_id": pd.array(np.char.add("P", np.arange(len(owner)).astype("U9")), dtype="str"),
                            "id_number": pd.array(pid, dtype="str")})
    members["birth_date"] = pd.to_datetime(members["id_number"].str.slice(6, 14), format="%Y%m%d")
    stray = make_ids(rng, 200_000)  # IDs of nobody registered

    def people(m: int) -> pd.Series:
        pick = np.where(rng.random(m) < 0.9, pid[rng.integers(0, len(pid), m)], stray[rng.integers(0, len(stray), m)])
        return pd.Series(pick, dtype="str")

    def days(m: int, lo: str, span: int) -> np.ndarray:
        return (pd.Timestamp(lo) + pd.to_timedelta(rng.integers(0, span, m), unit="D")).to_numpy()

    m = int(ROLLS["welfare"] * s)
    start = days(m, "2015-01-01", 1700)
    end = np.where(rng.random(m) < 0.5, start + pd.to_timedelta(rng.integers(30, 900, m), unit="D").to_numpy(),
                   np.datetime64("NaT"))
    welfare = pd.DataFrame({"id_number": people(m), "programme": pd.array(
        rng.choice(["dibao", "tekun", "temporary"], m, p=[0.6, 0.2, 0.2]), dtype="str"),
        "start": start, "end": pd.to_datetime(end)})
    m = int(ROLLS["hospital"] * s)
    total = np.round(rng.lognormal(np.log(6000), 0.9, m), 2)
    hospital = pd.DataFrame({"id_number": people(m), "admitted": days(m, "2018-01-01", 700),
                             "total_cost": total, "reimbursed": np.round(total * rng.uniform(0.3, 0.95, m), 2)})
    hospital["out_of_pocket"] = np.where(rng.random(m) < 0.5, hospital["total_cost"] - hospital["reimbursed"], np.nan)
    m = int(ROLLS["enrollment"] * s)
    enrollment = pd.DataFrame({"id_number": people(m), "term": pd.array(
        rng.choice(["2019秋", "2019春", "2018秋"], m, p=[0.5, 0.3, 0.2]), dtype="str"),
        "status": pd.array(rng.choice(["在读", "辍学", "毕业"], m, p=[0.95, 0.01, 0.04]), dtype="str")})
    m = int(ROLLS["deaths"] * s)
    deaths = pd.DataFrame({"id_number": people(m), "death_date": days(m, "2016-01-01", 1460)})
    m = int(ROLLS["housing"] * s)
    assessed = days(m, "2016-01-01", 1400)
    works = rng.choice(["", "repair", "rebuild"], m, p=[0.7, 0.2, 0.1])
    housing = pd.DataFrame({
        "hh_id": pd.array(hid[rng.integers(0, n, m)], dtype="str"), "assessed": assessed,
        "grade": pd.array(rng.choice(list("ABCD"), m, p=[0.4, 0.3, 0.2, 0.1]), dtype="str"),
        "works": pd.array(np.where(works == "", None, works), dtype="str"),
        "completed": pd.to_datetime(np.where(works == "repair", assessed + np.timedelta64(200, "D"), np.datetime64("NaT"))),
        "moved_in": pd.to_datetime(np.where(works == "rebuild", assessed + np.timedelta64(400, "D"), np.datetime64("NaT")))})
    return {"households": hh, "income": income, "members": members, "welfare": welfare, "hospital": hospital,
            "enrollment": enrollment, "deaths": deaths, "housing": housing}


def run_qjlib(t: dict[str, pd.DataFrame], params, ledgers: dict[str, pd.Series]) -> pd.DataFrame:
    """The rule ``dropout`` (departments.md) and the signals and classes (monitoring.md)."""
    persons = dm.registered_persons(t["households"], t["members"], t["deaths"], A, COUNTED_MEMBER_STATUSES)
    band = ds.school_age(persons, A, int(params.get("education.age_min")), int(params.get("education.age_max")))
    drop = ds.dropout(band, dm.roll(t["enrollment"]), A)
    pop = mon.past_exited_exited(t["households"], Y)
    tables = {k: t.get(k) for k in ("income", "members", "hospital", "enrollment", "welfare", "housing")}
    f, _, _ = mon.signals_of(pop, Y, params, A, tables, {**ledgers, "dropout": drop["hh_id"]})
    f["class"] = mon.classify(f)
    return f


def _checksum_sql(col: str) -> str:
    """GB 11643 validity of ``col`` in SQL."""
    s = " + ".join(f"{w} * (ascii(substr({col}, {i + 1}, 1)) - 48)" for i, w in enumerate(ID_WEIGHTS))
    return (f"(regexp_full_match({col}, '[0-9]{{17}}[0-9Xx]') AND "
            f"upper(substr({col}, 18, 1)) = substr('{ID_CHECK_CHARS}', (({s}) % 11)::INT + 1, 1))")


def duckdb_sql(params) -> str:
    """The signals and classes of monitoring.md in SQL."""
    line = round(params.poverty_line(Y) * 100)
    mline = round(mon.monitor_line(params, Y) * 100)
    oop = round(float(params.get("monitoring.oop_threshold")) * 100)
    lo, hi = int(params.get("education.age_min")), int(params.get("education.age_max"))
    start = (A - pd.DateOffset(months=12)).date()
    ok = _checksum_sql
    return f"""
WITH pop AS (SELECT hh_id, labor_capacity FROM households WHERE exit_status = 'exited' AND exit_year < {Y}),
mem AS (SELECT hh_id, id_number, birth_date FROM members WHERE {ok('id_number')}),
now AS (SELECT hh_id, net_income, size FROM income WHERE year = {Y}),
bef AS (SELECT hh_id, net_income, size FROM income WHERE year = {Y - 1}),
oop AS (SELECT m.hh_id, sum(coalesce(h.out_of_pocket, h.total_cost - h.reimbursed)) AS oop
        FROM hospital h JOIN mem m USING (id_number)
        WHERE h.admitted > DATE '{start}' AND h.admitted <= DATE '{A.date()}' GROUP BY m.hh_id),
net AS (SELECT DISTINCT m.hh_id FROM welfare w JOIN mem m USING (id_number)
        WHERE w.programme IN ('dibao', 'tekun') AND w.start <= DATE '{A.date()}'
          AND (w."end" IS NULL OR w."end" >= DATE '{A.date()}')),
dead AS (SELECT DISTINCT id_number FROM deaths WHERE death_date <= DATE '{A.date()}' AND {ok('id_number')}),
drop_ AS (SELECT DISTINCT m.hh_id FROM enrollment e JOIN mem m USING (id_number)
          WHERE e.term = '2019秋' AND e.status = '辍学'
            AND date_diff('year', m.birth_date, DATE '2019-08-31') - (strftime(m.birth_date, '%m%d') > '0831')::INT
                BETWEEN {lo} AND {hi}
            AND m.id_number NOT IN (SELECT id_number FROM dead)),
hd AS (SELECT hh_id, assessed, grade, works, completed, moved_in,
              max(assessed) OVER (PARTITION BY hh_id) AS latest
       FROM housing WHERE assessed <= DATE '{A.date()}'),
house AS (SELECT hh_id, max(grade) <= 'B' OR bool_or(coalesce((works = 'repair' AND completed <= DATE '{A.date()}')
                 OR (works = 'rebuild' AND moved_in <= DATE '{A.date()}'), false)) AS safe
          FROM hd WHERE assessed = latest GROUP BY hh_id),
s AS (
  SELECT p.hh_id,
    CASE WHEN now.hh_id IS NOT NULL THEN round(now.net_income * 100) < {line} * now.size END AS below_line,
    CASE WHEN now.hh_id IS NOT NULL THEN NOT (round(now.net_income * 100) < {line} * now.size)
         AND round(now.net_income * 100) < {mline} * now.size END AS below_monitor_line,
    CASE WHEN now.hh_id IS NOT NULL AND bef.hh_id IS NOT NULL THEN
         10 * round(now.net_income * 100) * bef.size < 7 * round(bef.net_income * 100) * now.size END AS income_fall,
    p.hh_id IN (SELECT hh_id FROM declined) AS decline_run,
    p.hh_id IN (SELECT hh_id FROM dependent) AS transfer_dependent,
    round(coalesce(oop.oop, 0) * 100) > {oop} AS medical_burden,
    p.hh_id IN (SELECT hh_id FROM drop_) AS dropout,
    p.labor_capacity = '无劳动能力' AND p.hh_id NOT IN (SELECT hh_id FROM net) AS no_safety_net,
    coalesce(NOT house.safe, false) AS unsafe_house,
    now.hh_id IS NULL AS no_income_row
  FROM pop p LEFT JOIN now USING (hh_id) LEFT JOIN bef USING (hh_id) LEFT JOIN oop USING (hh_id)
       LEFT JOIN house USING (hh_id))
SELECT *, CASE WHEN coalesce(below_line, false) THEN 'about_to_return'
               WHEN coalesce(below_monitor_line, false) OR coalesce(income_fall, false) OR decline_run
                    OR transfer_dependent OR medical_burden OR dropout OR no_safety_net OR unsafe_house
                    OR no_income_row THEN 'consolidate' END AS class
FROM s ORDER BY hh_id
"""


def main(argv: list[str] | None = None) -> int:
    """Build the frames, time both (rounds of qjlib then DuckDB), compare, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="households = 1,000,000 × scale")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    import duckdb

    params = load_params("2019Q3")
    t0 = time.perf_counter()
    t = make_frames(int(1_000_000 * args.scale))
    rng = np.random.default_rng(7)
    hid = t["households"]["hh_id"]
    ledgers = {"decline_run": hid[rng.random(len(hid)) < 0.03].reset_index(drop=True),
               "transfer_dependent": hid[rng.random(len(hid)) < 0.05].reset_index(drop=True)}
    rows = sum(len(v) for k, v in t.items() if k in ROLLS)
    print(f"frames: {len(hid):,} households, {len(t['income']):,} income rows, {len(t['members']):,} members, "
          f"{rows:,} roll rows; built in {time.perf_counter() - t0:.1f} s; cores {os.cpu_count()}; "
          f"load {os.getloadavg()[0]:.2f}")
    con = duckdb.connect()
    for k, v in t.items():
        con.register(k, v)
    con.register("declined", pd.DataFrame({"hh_id": ledgers["decline_run"]}))
    con.register("dependent", pd.DataFrame({"hh_id": ledgers["transfer_dependent"]}))
    sql = duckdb_sql(params)
    qj_times, db_times = [], []
    for _ in range(args.repeat):
        gc.collect()
        c = time.perf_counter()
        f = run_qjlib(t, params, ledgers)
        qj_times.append(time.perf_counter() - c)
        gc.collect()
        c = time.perf_counter()
        db = con.execute(sql).df()
        db_times.append(time.perf_counter() - c)
    bad = []
    for col in (*mon.SIGNALS, "class"):
        a = f[col].astype(object).where(f[col].notna(), None).to_numpy()
        b = db[col].astype(object).where(db[col].notna(), None).to_numpy()
        if len(a) != len(b) or not all(x == y for x, y in zip(a, b, strict=True)):
            bad.append(col)
    counts = ", ".join(f"{s} {int(f[s].fillna(False).sum()):,}" for s in mon.SIGNALS)
    print(f"population {len(f):,}; about_to_return {int((f['class'] == 'about_to_return').sum()):,}, "
          f"consolidate {int((f['class'] == 'consolidate').sum()):,}; {counts}")
    print("agree on every signal and class" if not bad else f"MISMATCH in {', '.join(bad)}")
    qj, dbt = statistics.median(qj_times), statistics.median(db_times)
    print(f"{'':28s}{'median s':>10s}  runs")
    print(f"{'qjlib signals + classes':28s}{qj:10.2f}  {', '.join(f'{x:.2f}' for x in qj_times)}")
    print(f"{'DuckDB ' + duckdb.__version__ + ' SQL':28s}{dbt:10.2f}  {', '.join(f'{x:.2f}' for x in db_times)}")
    print(f"ratio qjlib/DuckDB = {qj / dbt:.2f} (target ≤ 1.0) → {'OK' if qj <= dbt else 'NOT MET'}; "
          f"load after {os.getloadavg()[0]:.2f}")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
