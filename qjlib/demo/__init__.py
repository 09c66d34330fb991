"""``qj demo``: write the synthetic demo county (模拟示范县) and its ``truth.json``.

:func:`write_demo` runs the generator in order: :func:`qjlib.demo.county.simulate` (its stages:
people → income → projects → cadres → plants → quality, each a module importing only earlier
ones and :mod:`qjlib.demo.base`), then :func:`qjlib.demo.write.write_package` (the files in the
input contract's shape) and :func:`qjlib.demo.truth.compute_truth` (the expected ledgers).
Same seed → byte-identical files; a different seed → a different county.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from qjlib.demo.base import ASOF, INCOME_YEAR
from qjlib.demo.county import County, simulate
from qjlib.demo.truth import compute_truth
from qjlib.demo.write import write_package

PERIOD = "2019Q3"


def write_demo(out: Path, seed: int = 2019, households: int = 12000) -> dict[str, Any]:
    """Generate the demo county into ``out`` (created if needed) and return its truth (also
    written to ``out/truth.json``)."""
    out = Path(out)
    county = simulate(seed, households)
    files, problems = write_package(county.tables, out, np.random.default_rng([seed, 2]))
    truth = {
        "seed": int(seed), "households": int(households), "period": PERIOD,
        "as_of": str(ASOF), "income_year": INCOME_YEAR,
        **compute_truth(county, problems, files),
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False) + "\n",
                                    encoding="utf-8")
    return truth


__all__ = ["County", "PERIOD", "demo_main", "simulate", "write_demo"]


def demo_main(args: argparse.Namespace) -> int:
    """CLI entry: ``qj demo --out DIR --seed N --households N``."""
    t0 = time.perf_counter()
    truth = write_demo(Path(args.out), seed=args.seed, households=args.households)
    dt = time.perf_counter() - t0
    print(f"示范县数据已写入 / demo county written to {args.out} (seed {args.seed})")
    for f in truth["files"]:
        print(f"  {f['file']:<24} {f['rows']:>8} 行 rows")
    print("  truth.json")
    n = {k: len(v) for k, v in truth["ledgers"].items()}
    print("预期台账条数 / expected ledger rows: " + ", ".join(f"{k} {v}" for k, v in n.items()))
    print(f"用时 / time: {dt:.1f} s")
    return 0
