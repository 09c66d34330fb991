"""Province-scale benchmark of the income structure (R2): qjlib against DuckDB on the same frame.

    .venv/bin/python benchmarks/bench_income.py [--households 1000000] [--years 6] [--towns 1000] [--repeat 5]

The query: households × years grouped by town × labour capacity × year — household-years, those with
net income ≤ 0, the sums of the four components and of net income, the ratio-of-sums shares, the
quartiles of the household shares (net income > 0), and the two threshold counts of the ledgers.
qjlib runs :func:`qjlib.analyses.income.structure_by` — the very function behind ``summary`` and the
notebook — on frames shaped as :mod:`qjlib.io.load` delivers them (``str`` household ids, Chinese town
names, nullable ``Int64`` year and size); DuckDB runs the equivalent SQL (hash join on the string id,
``quantile_cont``) on the same two frames in the same process. The results are compared, then both
times, their ratio (target ≤ 1.2) and the peak memory of the qjlib call are printed. Exit 1 if the
results differ or the ratio is above the target.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import duckdb
import numpy as np
import pandas as pd

from qjlib.analyses import income as inc
from qjlib.analyses.grouping import pct_label
from qjlib.core import exact
from qjlib.core.params import load_params
from qjlib.core.schema import LABOR_CAPACITY

TARGET = 1.2
SYLLABLES = list("东西南北上下前后大小高新石河沟坪塬湾峪川岔庄堡寨梁峁")


def synthetic(
    n_households: int, n_years: int, n_towns: int = 1000, seed: int = 2019
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A province-scale package: ``n_households`` households in ``n_towns`` towns with
    three-syllable Chinese names (a province has about a thousand 乡镇), ``n_years`` income rows each
    (2014 …) in shuffled order, 18-character text ids, 2 % of households without labour capacity
    (no members rows), about 3 % of rows with an operating loss that makes net income ≤ 0."""
    rng = np.random.default_rng(seed)
    syl = np.array(SYLLABLES, dtype=object)
    names: set[str] = set()
    while len(names) < n_towns:
        names.update(syl[rng.integers(0, len(syl), (n_towns, 3))].sum(axis=1) + "镇")
    towns = np.array(sorted(names)[:n_towns], dtype=object)
    serial = rng.permutation(n_households).astype(np.int64) * 7919 + 104_729
    ids = np.char.add("61", np.char.zfill(serial.astype(str), 16)).astype(object)
    lab = np.array(LABOR_CAPACITY, dtype=object)[rng.choice(3, n_households, p=[0.55, 0.25, 0.20])]
    lab[rng.random(n_households) < 0.02] = None
    households = pd.DataFrame({
        "hh_id": pd.array(ids, dtype="str"),
        "town": pd.array(towns[rng.integers(0, len(towns), n_households)], dtype="str"),
        "labor_capacity": pd.array(lab, dtype="str"),
    })
    n = n_households * n_years
    order = rng.permutation(n)
    hh_pos = np.tile(np.arange(n_households), n_years)[order]
    income = pd.DataFrame({
        "hh_id": pd.array(ids[hh_pos], dtype="str"),
        "year": pd.array(np.repeat(np.arange(2014, 2014 + n_years), n_households)[order], dtype="Int64"),
        "size": pd.array(rng.integers(1, 7, n), dtype="Int64"),
    })
    money = {
        "wage": rng.gamma(1.2, 6000, n) * (rng.random(n) < 0.8),
        "operating": rng.gamma(1.5, 3000, n),
        "property": rng.gamma(0.5, 400, n) * (rng.random(n) < 0.3),
        "transfer": rng.gamma(2.0, 1500, n),
    }
    cost = money["operating"] * rng.uniform(0.1, 0.6, n)
    loss = rng.random(n) < 0.03
    cost[loss] = (money["wage"] + money["operating"] + money["property"] + money["transfer"])[loss] + 100
    for k, v in {**money, "operating_cost": cost}.items():
        income[k] = np.round(v, 2)
    income["operating_net"] = income["operating"] - income["operating_cost"]
    income["net_income"] = (income["wage"] + income["operating_net"] + income["property"]
                            + income["transfer"])
    income["net_per_capita"] = income["net_income"] / income["size"].astype(float)
    return income, households


def duckdb_query(thr: dict[str, float]) -> str:
    """The same figures in SQL, with the same exact rules: money in whole fen, a share against its
    threshold cross-multiplied (:mod:`qjlib.core.exact`)."""
    fen = {k: f"round(i.{k} * 100)" for k in (*inc.COMPONENTS, "net_income")}
    positive = f"{fen['net_income']} > 0"
    share = {k: f"CASE WHEN {positive} THEN i.{k} / i.net_income END" for k in inc.COMPONENTS}
    (lp, lq), (tp, tq) = (exact.fraction(thr["low_operating_share"]),
                          exact.fraction(thr["transfer_dependent_share"]))
    q = "[" + ", ".join(str(x) for x in inc.QUANTILES) + "]"
    caps = ", ".join(f"'{c}'" for c in inc.WITH_CAPACITY)
    sums = ",\n  ".join(f"sum(i.{k}) AS {k}" for k in (*inc.COMPONENTS, "net_income"))
    quants = ",\n  ".join(f"quantile_cont({share[k]}, {q}) AS {k}_q" for k in inc.COMPONENTS)
    return f"""
SELECT coalesce(h.town, '{inc.UNKNOWN}') AS town, coalesce(h.labor_capacity, '{inc.UNKNOWN}') AS labor_capacity,
  i.year, count(*) AS households,
  count(*) FILTER (WHERE NOT ({positive})) AS nonpositive,
  {sums},
  {quants},
  count(*) FILTER (WHERE h.labor_capacity IN ({caps}) AND {positive}
                   AND {fen['operating_net']} * {lq} < {lp} * {fen['net_income']}) AS low_operating,
  count(*) FILTER (WHERE {positive} AND {fen['transfer']} * {tq} > {tp} * {fen['net_income']})
    AS transfer_dependent
FROM income i JOIN households h USING (hh_id)
GROUP BY ALL ORDER BY ALL"""


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> list[str]:
    """Differences between the two results (empty list: the same figures)."""
    keys = ["town", "labor_capacity", "year"]
    theirs = theirs.assign(year=theirs["year"].astype("int64"))
    m = ours.assign(year=ours["year"].astype("int64")).merge(
        theirs, on=keys, how="outer", suffixes=("", "_db"), indicator=True)
    problems = []
    if (m["_merge"] != "both").any():
        problems.append(f"groups differ: {int((m['_merge'] != 'both').sum())}")
        return problems
    for c in ("households", "nonpositive", "low_operating", "transfer_dependent"):
        if not np.array_equal(m[c].to_numpy(np.int64), m[f"{c}_db"].to_numpy(np.int64)):
            problems.append(f"{c} differs")
    for c in (*inc.COMPONENTS, "net_income"):
        if not np.allclose(m[c], m[f"{c}_db"], rtol=1e-9, atol=1e-6):
            problems.append(f"sum {c} differs")
    for k in inc.COMPONENTS:
        db = np.array([np.asarray(v if isinstance(v, (list, np.ndarray)) else [np.nan] * 3, dtype=float)
                       for v in m[f"{k}_q"]])
        ours_q = m[[f"{k}_share_{pct_label(q)}" for q in inc.QUANTILES]].to_numpy(float)
        if not np.allclose(ours_q, db, rtol=1e-9, atol=1e-12, equal_nan=True):
            problems.append(f"quartiles of {k} share differ")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--years", type=int, default=6)
    ap.add_argument("--towns", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    params = load_params("2019Q3")
    thr = {"low_operating_share": params.get("income.low_operating_share"),
           "transfer_dependent_share": params.get("income.transfer_dependent_share")}
    t0 = time.perf_counter()
    income, households = synthetic(args.households, args.years, args.towns)
    print(f"synthetic frame: {len(households):,} households, {len(income):,} income rows, "
          f"{households['town'].nunique()} towns ({time.perf_counter() - t0:.1f} s to build)")

    con = duckdb.connect()
    con.register("income", income)
    con.register("households", households)
    sql = duckdb_query(thr)
    by = ["town", "labor_capacity", "year"]

    def run_qjlib() -> pd.DataFrame:
        return inc.structure_by(income, households, by, **thr)

    def run_duckdb() -> pd.DataFrame:
        return con.execute(sql).df()

    ours, theirs = run_qjlib(), run_duckdb()  # warm-up (and the results to compare)
    problems = compare(ours, theirs)
    t_q, t_d = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine state
        t = time.perf_counter()
        run_qjlib()
        t_q.append(time.perf_counter() - t)
        t = time.perf_counter()
        run_duckdb()
        t_d.append(time.perf_counter() - t)

    tracemalloc.start()
    run_qjlib()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    q, d = min(t_q), min(t_d)
    ratio = q / d
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"groups: {len(ours)} (town × labour capacity × year); results identical: "
          f"{'yes' if not problems else 'NO: ' + '; '.join(problems)}")
    print(f"qjlib  structure_by: best {q:.3f} s of {args.repeat} ({', '.join(f'{x:.3f}' for x in t_q)})")
    print(f"duckdb {duckdb.__version__} ({threads} threads): best {d:.3f} s "
          f"({', '.join(f'{x:.3f}' for x in t_d)})")
    print(f"ratio qjlib / duckdb: {ratio:.2f} (target ≤ {TARGET})")
    print(f"peak memory of the qjlib call (tracemalloc): {peak / 2**20:.0f} MiB; "
          f"process max RSS: {rss:.0f} MiB")
    low, dep = int(ours["low_operating"].sum()), int(ours["transfer_dependent"].sum())
    print(f"flags over all years: low operating {low:,}, transfer dependent {dep:,}; "
          f"net income ≤ 0: {int(ours['nonpositive'].sum()):,}")
    return 0 if not problems and ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
