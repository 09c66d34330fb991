"""Province-scale benchmark of the decline metrics (plan R5) against DuckDB.

    .venv/bin/python benchmarks/bench_decline.py [--households 1000000] [--repeat 3]

A synthetic income table of N households × 6 years (2014–2019, about 2 % of rows missing, so
≈ 5.9 M rows for N = 1 M), with string household ids (pandas 3 ``str`` dtype, as the loader
returns them) and rows stacked year by year as the loader reads ``收入信息/2014.xlsx …``.

Timed on the same frame in the same process:

- **qjlib**: :func:`qjlib.analyses.decline_metrics.decline_metrics` — the function the ``income_decline`` ledger
  uses (via :func:`qjlib.analyses.decline.analyse`), with the households' ids as the ledger passes them:
  factorising the ids, the households × years arrays, decreases and runs (ending in the income
  year and longest), flags, gaps, the size/income split and components over the window, CAGR,
  Theil–Sen on ln pc, the exact Mann–Kendall test, jumps and the poverty line.
- **DuckDB**: the same run/flag and trend definitions in SQL — ``lag`` over years (a missing
  year breaks the chain), run lengths by gaps-and-islands, the run ending in the income year, the
  longest run, the flag, the gap, CAGR first → last year, and ``regr_slope`` on ln pc (DuckDB has
  no Theil–Sen or exact Mann–Kendall, so it does less than qjlib).

Prints both times (median of ``--repeat`` runs), the ratio qjlib ÷ DuckDB (target ≤ 1.0) and the
peak resident memory of the process (frame included) during the first qjlib run, before DuckDB
ever ran (target < 3 GiB), and during DuckDB's runs, and checks that both agree on every household's run ending in the income year, longest
run, flag, gap and CAGR.
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

from qjlib.analyses.decline_metrics import decline_metrics  # noqa: E402
from qjlib.core.params import load_params  # noqa: E402

YEARS = np.arange(2014, 2020)
INCOME_YEAR = 2019


def make_income(households: int, seed: int = 2019, missing: float = 0.02) -> pd.DataFrame:
    """Synthetic income rows with the loader's canonical columns (vectorised)."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(np.arange(households)).map("{:06d}".format)  # once per household
    ids = ("610830" + ids.astype("str") + "0001").astype("str")
    h, t = households, len(YEARS)
    # per-capita income: a household level times a yearly growth path, some falling
    level = rng.lognormal(np.log(5000), 0.45, h)
    growth = rng.normal(0.06, 0.12, (h, t)).cumsum(axis=1)
    size = np.clip(rng.poisson(3.2, h) + 1, 1, 10)[:, None] + (rng.random((h, t)) < 0.05).cumsum(axis=1)
    pc = level[:, None] * np.exp(growth)
    net = pc * size
    share = rng.dirichlet([4, 2, 0.5, 2], (h, t))  # wage, operating_net, property, transfer
    comps = net[..., None] * share
    keep = rng.random((h, t)) >= missing
    yy, hh = np.nonzero(keep.T)  # year-major: the loader stacks the yearly files
    op_net = comps[hh, yy, 1]
    cost = np.round(op_net * 0.3, 2)
    df = pd.DataFrame({
        "hh_id": ids.to_numpy()[hh],
        "year": pd.array(YEARS[yy], dtype="Int64"),
        "size": pd.array(size[hh, yy], dtype="Int64"),
        "wage": np.round(comps[hh, yy, 0], 2),
        "operating": np.round(op_net + cost, 2),
        "operating_cost": cost,
        "property": np.round(comps[hh, yy, 2], 2),
        "transfer": np.round(comps[hh, yy, 3], 2),
    })
    df["hh_id"] = df["hh_id"].astype("str")
    df["operating_net"] = df["operating"] - df["operating_cost"]
    df["net_income"] = df["wage"] + df["operating_net"] + df["property"] + df["transfer"]
    df["net_per_capita"] = df["net_income"] / df["size"].astype("float64")
    return df


DUCKDB_SQL = """
WITH s AS (
    SELECT hh_id, year, net_per_capita AS pc,
           lag(net_per_capita) OVER w AS pc_prev, lag(year) OVER w AS year_prev
    FROM income WHERE year <= {y}
    WINDOW w AS (PARTITION BY hh_id ORDER BY year)
), d AS (
    SELECT *, coalesce(year_prev = year - 1 AND pc < pc_prev - {min_drop}, false) AS dec,
              (year_prev IS NULL OR year_prev <> year - 1) AS gap_before
    FROM s
), g AS (
    SELECT *, sum(CASE WHEN dec THEN 0 ELSE 1 END)
              OVER (PARTITION BY hh_id ORDER BY year ROWS UNBOUNDED PRECEDING) AS grp
    FROM d
), r AS (
    SELECT *, row_number() OVER (PARTITION BY hh_id, grp ORDER BY year) - 1 AS run,
              first_value(gap_before) OVER (PARTITION BY hh_id, grp ORDER BY year) AS island_gap
    FROM g
)
SELECT hh_id,
       coalesce(max(run) FILTER (WHERE year = {y}), 0) AS run_end,
       max(run) AS longest_run,
       coalesce(max(run) FILTER (WHERE year = {y}), 0) >= {n} AS flagged,
       coalesce(bool_or(year = {y} AND run < {n} AND island_gap), true)
           OR NOT bool_or(year = {y}) AS gap,
       CASE WHEN arg_min(pc, year) > 0 AND arg_max(pc, year) > 0 AND max(year) > min(year)
            THEN pow(arg_max(pc, year) / arg_min(pc, year), 1.0 / (max(year) - min(year))) - 1
       END AS cagr,
       regr_slope(ln(pc), year) FILTER (WHERE pc > 0) AS log_slope
FROM r GROUP BY hh_id
"""


def reset_peak() -> None:
    """Reset the kernel's resident-memory high-water mark of this process (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_gib() -> float:
    """Peak resident memory of this process since the last :func:`reset_peak`, in GiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    import duckdb

    params = load_params("2019Q3")
    n = int(params.get("decline.n_declines"))
    min_drop = float(params.get("decline.min_drop"))

    t0 = time.perf_counter()
    income = make_income(args.households)
    ids = pd.Index(income["hh_id"].unique()).sort_values()  # the ledger passes sorted ids
    print(f"frame: {len(income):,} rows, {len(ids):,} households, "
          f"{income.memory_usage(deep=True).sum() / 2**20:,.0f} MiB, built in "
          f"{time.perf_counter() - t0:.1f} s; cores {os.cpu_count()}")

    con = duckdb.connect()
    con.register("income", income)
    sql = DUCKDB_SQL.format(y=INCOME_YEAR, n=n, min_drop=min_drop)

    # Rounds of (qjlib, DuckDB) so that other load on the machine hits both alike. The qjlib peak
    # is the process's while the first qjlib run works on a process holding only the frame
    # (before DuckDB ever ran); DuckDB's peak is the process's during its runs.
    qj_times, db_times, qj_peak, db_peak = [], [], 0.0, 0.0
    for k in range(args.repeat):
        gc.collect()
        reset_peak()
        t = time.perf_counter()
        panel, metrics = decline_metrics(income, INCOME_YEAR, params, ids=ids)
        qj_times.append(time.perf_counter() - t)
        if k == 0:
            qj_peak = peak_gib()
        del panel
        gc.collect()
        reset_peak()
        t = time.perf_counter()
        db = con.execute(sql).df()
        db_times.append(time.perf_counter() - t)
        db_peak = max(db_peak, peak_gib())

    db = db.set_index("hh_id").reindex(metrics.index)
    for col in ("run_end", "longest_run", "flagged", "gap"):
        a = metrics[col].to_numpy(dtype="int64")
        b = db[col].to_numpy(dtype="int64")
        if not np.array_equal(a, b):
            print(f"MISMATCH in {col}: {(a != b).sum()} households", file=sys.stderr)
            return 1
    cagr_ok = np.allclose(metrics["cagr"], db["cagr"], equal_nan=True, rtol=1e-9)
    print(f"agree: run_end, longest_run, flagged ({int(metrics['flagged'].sum()):,} flagged), "
          f"gap ({int(metrics['gap'].sum()):,}); cagr {'agrees' if cagr_ok else 'DIFFERS'}")

    qj, dbt = statistics.median(qj_times), statistics.median(db_times)
    print(f"qjlib decline_metrics: {qj:.2f} s (runs {', '.join(f'{x:.2f}' for x in qj_times)}); "
          f"peak RSS {qj_peak:.2f} GiB")
    print(f"DuckDB {duckdb.__version__} SQL:     {dbt:.2f} s (runs "
          f"{', '.join(f'{x:.2f}' for x in db_times)}); peak RSS {db_peak:.2f} GiB")
    ok = qj <= dbt and qj_peak < 3.0
    print(f"ratio qjlib/DuckDB = {qj / dbt:.2f} (target ≤ 1.0); peak < 3 GiB: {qj_peak < 3.0} "
          f"→ {'OK' if ok else 'NOT MET'}")
    return 0 if ok and cagr_ok else 1


if __name__ == "__main__":
    sys.exit(main())
