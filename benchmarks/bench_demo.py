"""Generation time of the demo county (`qj demo`), by stage, wall and CPU.

    .venv/bin/python benchmarks/bench_demo.py [--households 12000] [--seed 2019] [--repeat 1]

Stages: simulate (households, members, incomes, projects, helpers, plants — numpy), write (the
xlsx/CSV package — xlsxwriter in constant_memory mode, cell by cell), truth (the expected
ledgers). Target: the default county (12,000 households) in < 30 s on the 2-core machine. Prints
the rows written and the bytes on disk as well; CPU time is shown beside wall time because other
processes on a shared machine stretch the wall clock.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from qjlib.demo.county import simulate
from qjlib.demo.truth import compute_truth
from qjlib.demo.write import write_package


def _timed(fn, *a):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*a)
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    for r in range(a.repeat):
        with tempfile.TemporaryDirectory() as d:
            county, w1, c1 = _timed(simulate, a.seed, a.households)
            (files, problems), w2, c2 = _timed(write_package, county.tables, Path(d), np.random.default_rng([a.seed, 2]))
            _, w3, c3 = _timed(compute_truth, county, problems, files)
            rows = sum(f["rows"] for f in files)
            size = sum(p.stat().st_size for p in Path(d).rglob("*") if p.is_file())
            print(f"run {r + 1}: {a.households} households, {rows:,} rows in {len(files)} files, {size / 2**20:.1f} MiB")
            for name, w, c in (("simulate", w1, c1), ("write", w2, c2), ("truth", w3, c3)):
                print(f"  {name:<9} wall {w:6.2f} s   cpu {c:6.2f} s")
            print(f"  {'total':<9} wall {w1 + w2 + w3:6.2f} s   cpu {c1 + c2 + c3:6.2f} s   (target < 30 s)")


if __name__ == "__main__":
    main()
