"""Benchmark of one chart as the notebooks make it: drawing, layout and PNG encoding.

Charts are most of a report notebook's time (about 0.2 s each, two hundred and more in a county's
report). This script draws the notebooks' three common charts (:func:`qjlib.pages.plotting.bar`,
``stacked_bar`` and ``stacked_share_bar``, with Chinese labels), saves each with
:func:`qjlib.pages.plotting.png_bytes`, and prints the median milliseconds of a whole save, then of
the PNG encoding alone (Pillow, the chart's RGBA pixels) at each zlib level with the file's size:
the figures behind :data:`qjlib.pages.plotting.PNG_COMPRESS_LEVEL`. Usage::

    .venv/bin/python benchmarks/bench_charts.py [--repeat 15] [--levels 6 3 1]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qjlib.pages import plotting  # noqa: E402


def charts() -> dict[str, Callable[[], matplotlib.figure.Figure]]:
    """The three chart makers with a village-sized frame each."""
    villages = [f"第{i + 1}村民委员会" for i in range(12)]
    rate = pd.Series(np.linspace(0.12, 0.93, 12), index=villages)
    rng = np.random.default_rng(7)
    parts = pd.DataFrame(rng.integers(5, 60, size=(12, 4)), index=villages,
                         columns=["种植业", "养殖业", "光伏", "乡村旅游"])
    return {
        "bar": lambda: plotting.bar(rate, "各行政村历年脱贫户产业扶持覆盖率", "有产业收入户 ÷ 脱贫户",
                                    fmt=plotting.fmt_pct),
        "stacked_bar": lambda: plotting.stacked_bar(parts, "各行政村产业项目受益户（户）", "户数"),
        "stacked_share_bar": lambda: plotting.stacked_share_bar(
            parts.div(parts.sum(axis=1), axis=0), "各行政村产业项目投资构成"),
    }


def main(argv: list[str] | None = None) -> int:
    """Time each chart, and its PNG encoding alone at each level; print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--levels", type=int, nargs="+", default=[6, plotting.PNG_COMPRESS_LEVEL])
    args = ap.parse_args(argv)
    plotting.use_style()
    print(f"{'chart':<18} {'png_bytes ms':>12}   " + "   ".join(
        f"level {lv}: encode ms, bytes" for lv in args.levels))
    for name, make in charts().items():
        plotting.png_bytes(make())  # warm: fonts, caches
        plt.close("all")
        whole = []
        for _ in range(args.repeat):
            fig = make()
            t = time.perf_counter()
            data = plotting.png_bytes(fig)
            whole.append(time.perf_counter() - t)
            plt.close(fig)
        rgba = Image.open(io.BytesIO(data))
        rgba.load()
        cells = []
        for level in args.levels:
            spent = []
            for _ in range(args.repeat):
                buf = io.BytesIO()
                t = time.perf_counter()
                rgba.save(buf, format="png", compress_level=level)
                spent.append(time.perf_counter() - t)
            cells.append(f"{statistics.median(spent) * 1000:>10.1f} {len(buf.getvalue()):>9,}")
        print(f"{name:<18} {statistics.median(whole) * 1000:>12.1f}   " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
