"""Benchmark of the quarterly report batch: its wall time against the kernel start-up floor.

The floor is the same batch — the same number of notebooks, for the same scopes, on the same
number of worker processes, through the same papermill + HTML export path — with notebooks that
hold only their parameters cell. The ratio (report notebooks ÷ empty notebooks) says what the
notebooks themselves cost on top of starting kernels; the target is ≤ 1.5.

    .venv/bin/python benchmarks/bench_report.py                  # data/demo (12,000 households)
    .venv/bin/python benchmarks/bench_report.py --households 2000 --jobs 2
    .venv/bin/python benchmarks/bench_report.py --repeat 3   # median of 3 report/floor pairs

Prints the figures (seconds) and the ratio; writes nothing outside a temporary folder (the
package cache of ``qjlib.io.load.load_for`` excepted).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qjlib.core.scopes import Scope  # noqa: E402
from qjlib.report import kernels  # noqa: E402
from qjlib.report.runner import run_report  # noqa: E402

OPEN_ONLY = ("from qjlib.pages import nb\n"
             "run = nb.open_run(data_dir, period, scope, params_file, pii, results_dir)")


def empty_copies(notebooks: list[Path], folder: Path, extra: str | None = None) -> Path:
    """Copies of the notebooks that keep only the cell tagged ``parameters`` (and ``extra``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in notebooks:
        nb = nbformat.read(p, as_version=4)
        nb.cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        if extra:
            nb.cells.append(nbformat.v4.new_code_cell(extra))
        nbformat.write(nb, folder / p.name)
    return folder


def batch_seconds(nbs: list[Path], folder: Path, out: Path, scopes: list, data: Path,
                  period: str, jobs: int, reuse: bool = True) -> tuple[float, list[dict]]:
    runs = [
        kernels.NotebookJob(folder / nb.name, s, out / s.code / nb.name,
                           {"data_dir": str(data), "period": period, "scope": s.code})
        for s in scopes for nb in nbs
    ]
    t = time.perf_counter()
    res = kernels.run_notebooks(runs, jobs, progress=False, reuse_kernels=reuse)
    return time.perf_counter() - t, res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="data package (default data/demo)")
    ap.add_argument("--households", type=int, default=None,
                    help="generate a demo county of this size instead (seed 7)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--period", default="2019Q3")
    ap.add_argument("--repeat", type=int, default=1,
                    help="report + floor pairs, run alternately; the median ratio is reported")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="qj-bench-") as tmp:
        tmp = Path(tmp)
        data = args.data
        if args.households:
            from qjlib.demo import write_demo

            data = tmp / "demo"
            write_demo(data, seed=7, households=args.households)
        data = data or ROOT / "data" / "demo"
        nbs = kernels.list_notebooks(kernels.notebooks_dir())
        print(f"data {data}; {len(nbs)} notebooks; {args.jobs} processes")

        # Warm the package cache once so both batches start from the same state.
        from qjlib.core.params import load_params
        from qjlib.io.load import load_for

        load_for(data, load_params(args.period))

        empty_nbs = empty_copies(nbs, tmp / "empty")
        pairs = []  # (report total, manifest, floor seconds, floor results), alternately
        for i in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            run = run_report(data, args.period, tmp / f"out{i}", jobs=args.jobs, progress=False,
                             command=["bench"])
            total = time.perf_counter() - t0
            scopes = [Scope(s["code"], s["name"], s["folder"], None)
                      for s in run.manifest["scopes"]]
            # The floor: papermill's own way, a kernel started for every (empty) notebook.
            floor, empty = batch_seconds(nbs, empty_nbs, tmp / f"empty_out{i}", scopes, data,
                                         args.period, args.jobs, reuse=False)
            pairs.append((total, run.manifest, floor, empty))
            if args.repeat > 1:
                print(f"run {i + 1}: batch {run.manifest['seconds']['notebooks']:.1f} s, floor "
                      f"{floor:.1f} s, ratio {run.manifest['seconds']['notebooks'] / floor:.2f}")
        pairs.sort(key=lambda p: p[1]["seconds"]["notebooks"] / p[2])
        total, m, floor, empty = pairs[len(pairs) // 2]  # the median ratio's run
        nb_times = [r["seconds"] for r in m["notebooks"]]
        # For comparison: the empty batch on reused kernels (what the runner's reuse leaves).
        reused, _ = batch_seconds(nbs, empty_copies(nbs, tmp / "empty2"), tmp / "empty2_out",
                                  scopes, data, args.period, args.jobs, reuse=True)
        opened, _ = batch_seconds(nbs, empty_copies(nbs, tmp / "open", OPEN_ONLY),
                                  tmp / "open_out", scopes, data, args.period, args.jobs)

    batch = m["seconds"]["notebooks"]
    print(f"notebook runs            : {len(nb_times)} ({len(nbs)} × {len(scopes)} scopes)")
    print(f"qj report total          : {total:7.1f} s")
    print(f"  analyses + outputs     : {m['seconds']['analyses']:7.1f} s")
    print(f"  notebook batch         : {batch:7.1f} s")
    print(f"  mean per notebook      : {sum(nb_times) / max(len(nb_times), 1):7.2f} s")
    print(f"empty-notebook batch     : {floor:7.1f} s "
          f"(mean {sum(r['seconds'] for r in empty) / max(len(empty), 1):.2f} s)")
    print(f"empty batch, reused kernels: {reused:5.1f} s (the runner's own overhead floor)")
    print(f"open_run-only batch      : {opened:7.1f} s (parameters + import qjlib + open_run: "
          f"pandas, matplotlib, the cached package)")
    print(f"ratio open_run / floor   : {opened / floor:7.2f}  (what any qjlib notebook pays)")
    print(f"ratio batch / floor      : {batch / floor:7.2f}  (target ≤ 1.5; the report reuses one"
          " reset kernel per process)" + (f"; median of {len(pairs)} runs" if len(pairs) > 1
                                          else ""))
    failed = [r for r in m["notebooks"] if r["status"] != "ok"]
    if failed:
        print(f"note: {len(failed)} notebook(s) failed in this run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
