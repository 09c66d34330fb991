"""Benchmark: the loader against the bare Excel reader it is built on.

Writes a package with an ``.xlsx`` of N income rows (a title line above the header, Chinese
headers, a few transfer items) and a minimal households table (CSV, one row per household of the
income file), then times, best of R runs each:

- the bare reader: python-calamine opens the workbook and turns the sheet into Python rows
  (``CalamineWorkbook.from_path(...).get_sheet_by_name(...).to_python()``), nothing else;
- the same with Python's cyclic garbage collector paused (``load_package`` pauses it while it
  converts: the collector would otherwise walk the million cell objects again and again);
- ``qjlib.load.load_package`` on the package: header detection, conversion, checks, derived
  columns, accounting, plus the households table.

Prints both times, their ratio (target ≤ 1.3) and the peak memory (tracemalloc, one more run
each). The two are run alternately, so a busy machine slows both alike; ``--repeat`` more than 3
steadies the ratio further. Usage::

    .venv/bin/python benchmarks/bench_load.py [--rows 100000] [--repeat 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INCOME_HEADER = ["户编号", "年度", "年度家庭人口数", "工资性收入", "生产经营性收入", "生产经营性支出",
                 "财产性收入", "转移性收入", "低保金", "养老保险金", "其他转移性收入", "纯收入",
                 "人均纯收入"]


def write_package(folder: Path, rows: int, seed: int = 1) -> Path:
    """A package of ``rows`` income rows (4 years per household) and its households; returns the
    income workbook's path."""
    import xlsxwriter

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_hh = max(1, rows // 4)
    hh = np.arange(rows) // 4
    year = 2016 + np.arange(rows) % 4
    size = rng.integers(1, 7, n_hh)[hh]
    wage = rng.integers(0, 20000, rows).astype(float)
    operating = rng.integers(0, 8000, rows).astype(float)
    cost = np.round(operating * rng.uniform(0, 0.6, rows), 2)
    prop = rng.integers(0, 500, rows).astype(float)
    dibao = rng.choice([0.0, 1200.0, 2400.0], rows)
    pension = rng.choice([0.0, 1020.0], rows)
    other = rng.integers(0, 800, rows).astype(float)
    transfer = dibao + pension + other
    net = wage + operating - cost + prop + transfer
    pc = np.round(net / size, 2)
    path = folder / "收入信息.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("收入信息")
    ws.write_row(0, 0, ["清涧县贫困户收入信息表（基准测试）"])
    ws.write_row(1, 0, INCOME_HEADER)
    ids = [f"6108300{i:08d}" for i in range(n_hh)]
    cols = [year, size, wage, operating, cost, prop, transfer, dibao, pension, other, net, pc]
    values = [c.tolist() for c in cols]
    for i in range(rows):
        ws.write_string(i + 2, 0, ids[hh[i]])
        ws.write_row(i + 2, 1, [v[i] for v in values])
    wb.close()
    with (folder / "households.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["hh_id", "town", "village", "size", "exit_status"])
        for i in range(n_hh):
            w.writerow([ids[i], f"镇{i % 12}", f"村{i % 97}", int(size[i * 4]), "未脱贫"])
    return path


def bare_read(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
    return len(rows)


def bare_read_gc_paused(path: Path) -> int:
    """The bare read with Python's cyclic garbage collector paused, as load_package does."""
    gc.disable()
    try:
        return bare_read(path)
    finally:
        gc.enable()


def best_of(fns: list, repeat: int) -> list[float]:
    """Best wall time of each function over ``repeat`` rounds, the functions interleaved within a
    round so that a busy machine slows them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", type=Path, default=None)
    a = p.parse_args(argv)

    from qjlib.io.load import load_package

    with tempfile.TemporaryDirectory() as tmp:
        folder = a.dir or Path(tmp) / "pkg"
        t = time.perf_counter()
        xlsx = write_package(folder, a.rows)
        print(f"wrote {a.rows:,} income rows ({xlsx.stat().st_size / 2**20:.1f} MiB) "
              f"in {time.perf_counter() - t:.1f}s")
        pkg = load_package(folder)  # warm-up (imports) and a sanity check
        acc = pkg.accounting.set_index("table")
        assert int(acc.loc["income", "read"]) == a.rows, acc
        print(f"income kept {int(acc.loc['income', 'kept']):,}, rejected "
              f"{int(acc.loc['income', 'rejected'])}, findings {len(pkg.findings)}")
        t_bare, t_nogc, t_load = best_of(
            [lambda: bare_read(xlsx), lambda: bare_read_gc_paused(xlsx), lambda: load_package(folder)],
            a.repeat)
        print(f"bare calamine read : {t_bare:.3f}s (best of {a.repeat})")
        print(f"  same, gc paused  : {t_nogc:.3f}s")
        print(f"load_package       : {t_load:.3f}s (best of {a.repeat})")
        print(f"ratio              : {t_load / t_bare:.2f} (target <= 1.30); "
              f"{t_load / t_nogc:.2f} against the gc-paused read")
        print(f"peak memory        : bare {peak_mb(lambda: bare_read(xlsx)):.0f} MiB, "
              f"load_package {peak_mb(lambda: load_package(folder)):.0f} MiB (tracemalloc)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
