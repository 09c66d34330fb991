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
    """CLI entry: ``qj demo --out DIR --seed N --households N [--period 2019Q4]``."""
    if getattr(args, "period", PERIOD) != PERIOD:
        return _next_quarter_main(args)
    t0 = time.perf_counter()
    args.out = Path(args.out or "data/demo")
    truth = write_demo(args.out, seed=args.seed, households=args.households)
    dt = time.perf_counter() - t0
    print(f"示范县数据已写入 / demo county written to {args.out} (seed {args.seed})")
    for f in truth["files"]:
        print(f"  {f['file']:<24} {f['rows']:>8} 行 rows")
    print("  truth.json")
    n = {k: len(v) for k, v in truth["ledgers"].items()}
    print("预期台账条数 / expected ledger rows: " + ", ".join(f"{k} {v}" for k, v in n.items()))
    print(f"用时 / time: {dt:.1f} s")
    return 0


def _next_quarter_main(args: argparse.Namespace) -> int:
    """``qj demo --period 2019Q4``: the next quarter's package (:mod:`qjlib.demo.next_quarter`)
    and, when the 2019Q3 report exists (``--returned-from``, default ``reports/2019Q3``), the
    towns' returned workbooks into ``<out>-returned``."""
    from qjlib.demo import next_quarter as nq

    if args.period != nq.PERIOD:
        from qjlib.core.errors import QjError

        raise QjError(f"示范县只有 {PERIOD} 和 {nq.PERIOD} 两个报告期 / the demo has {PERIOD} and "
                      f"{nq.PERIOD} only")
    out = Path(args.out or f"data/demo-{nq.PERIOD}")  # never over the 2019Q3 package
    truth = nq.write_next_quarter(out, seed=args.seed, households=args.households)
    print(f"示范县 {nq.PERIOD} 数据已写入 / next quarter written to {out}")
    st = truth["lifecycle"]["statuses"]
    print("预期对账状态 / expected statuses: " + ", ".join(
        f"{n} {len(v['rows'])}+{len(v['gone'])}" for n, v in st.items()))
    report = Path(args.returned_from or Path(args.reports) / nq.PREVIOUS)
    if (report / "manifest.json").exists():
        dest = out.parent / f"{out.name}-returned"
        files = nq.fill_returned(report, truth["lifecycle"]["answers"], dest)
        print(f"乡镇退回的工作簿 {len(files)} 个 / returned town workbooks → {dest}")
    else:
        print(f"未找到 {report}/manifest.json：先运行 qj report … --period {PERIOD}，再生成退回的"
              f"工作簿 / run the {PERIOD} report first for the returned workbooks")
    return 0
