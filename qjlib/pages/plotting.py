"""The chart style of every notebook: Chinese text, a colour-blind-safe palette, wall-screen sizes,
deterministic PNG output; and the number formats shown to people.

Call :func:`use_style` once (``qjlib.pages.nb.open_run`` does). It registers the Noto Sans CJK SC font
shipped with mplfonts (``mplfonts.use_font`` alone does not find it), puts DejaVu Sans first so
Latin text and the minus sign ``−`` come from DejaVu and Chinese falls back to Noto, and uses the
Okabe–Ito palette (distinguishable with the common colour-vision deficiencies).

Charts are shown with :func:`show`, which renders a PNG with no ``Software`` metadata and no
timestamp, so the same figure gives the same bytes run after run.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg

from qjlib.core.fmt import fmt_int, fmt_pct

CJK_FONT = "Noto Sans CJK SC"
CJK_FILE = "NotoSansCJKsc-Regular.otf"

# Okabe & Ito (2008), "Color Universal Design"; yellow and black last (low contrast / too heavy).
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
GREY = "#999999"

PNG_METADATA: dict[str, Any] = {"Software": None}
# zlib level of the charts' PNGs. Encoding a 1,100 × 800 chart takes 39–49 ms at Pillow's default
# (6) and 24–32 ms at level 3, files within 5 % of each other either way; a whole chart takes
# 140–240 ms, drawn once (benchmarks/bench_charts.py prints these).
PNG_COMPRESS_LEVEL = 3

STYLE: dict[str, Any] = {
    "font.family": ["DejaVu Sans", CJK_FONT],
    "axes.unicode_minus": True,
    "font.size": 14,
    "axes.titlesize": 18,
    "axes.titleweight": "normal",  # the bundled CJK font has one weight: bold would warn
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "legend.frameon": False,
    "figure.figsize": (10.0, 5.6),
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "figure.constrained_layout.h_pad": 0.08,  # inches: the margin "tight" would leave
    "figure.constrained_layout.w_pad": 0.08,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "grid.color": "#DDDDDD",
    "axes.axisbelow": True,
    "svg.hashsalt": "qjlib",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


def cjk_font_path() -> Path:
    """The Noto Sans CJK SC file bundled with the mplfonts package."""
    import mplfonts

    path = Path(mplfonts.__file__).resolve().parent / "fonts" / CJK_FILE
    if not path.exists():  # pragma: no cover - a broken mplfonts install
        raise FileNotFoundError(f"缺少中文字体 {path} / CJK font missing: reinstall mplfonts")
    return path


def use_style() -> None:
    """Register the CJK font and apply the qjlib chart style (idempotent)."""
    path = str(cjk_font_path())
    if not any(f.fname == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
    matplotlib.rcParams.update(STYLE)
    matplotlib.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=list(OKABE_ITO))
    _configure_inline()


def _configure_inline() -> None:
    """In a Jupyter kernel, make inline figures PNG without Software metadata as well."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    if get_ipython() is None:
        return
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover
        return
    set_matplotlib_formats("png", metadata=PNG_METADATA, bbox_inches="tight",
                           pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})


def png_bytes(fig: matplotlib.figure.Figure) -> bytes:
    """The figure as PNG bytes, deterministic (no Software tag, no timestamp), at ``savefig.dpi``,
    compressed at zlib level :data:`PNG_COMPRESS_LEVEL`.

    A figure laid out by a layout engine (the qjlib charts: ``layout="constrained"``) is saved at
    its own size and drawn once, on an Agg canvas, the layout running inside that draw.
    ``savefig`` would draw it twice (a dry draw to run the layout, then the real one) and, with a
    "tight" box, a third time only to measure it; the bytes are the same (``bench_charts.py``
    measures the time). Any other figure goes through ``savefig`` (``savefig.bbox``: tight)."""
    buf = io.BytesIO()
    dpi = matplotlib.rcParams["savefig.dpi"]
    if fig.get_layout_engine() is None:
        fig.savefig(buf, format="png", dpi=dpi, metadata=PNG_METADATA,
                    pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
        return buf.getvalue()
    canvas = FigureCanvasAgg(fig)  # the figure's canvas from now on (it is closed after)
    fig.dpi = dpi
    canvas.draw()
    matplotlib.image.imsave(buf, canvas.buffer_rgba(), format="png", origin="upper", dpi=dpi,
                            metadata=PNG_METADATA,
                            pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buf.getvalue()


def chart_title(fig: matplotlib.figure.Figure) -> str:
    """The figure's title (its suptitle, else its axes' titles joined), for the image's
    alternative text; ``"图表"`` when it has none."""
    sup = fig.get_suptitle()
    titles = [t for ax in fig.axes for t in (ax.get_title("left"), ax.get_title())
              if t and ax.get_visible()]
    return sup or "；".join(dict.fromkeys(titles)) or "图表"


def show(fig: matplotlib.figure.Figure) -> None:
    """Display the figure as a PNG in the notebook and close it (so it is not shown twice). Its
    title travels in the output's metadata (``alt``): the HTML export makes it the image's
    alternative text."""
    from IPython.display import Image, display

    data = png_bytes(fig)
    alt = chart_title(fig)
    plt.close(fig)
    display(Image(data=data, format="png", metadata={"alt": alt}))


# ---------------------------------------------------------------------------------------------
# Charts used by several notebooks


def bar(
    values: pd.Series,
    title: str,
    xlabel: str = "",
    fmt: Any = fmt_int,
    color: str = OKABE_ITO[0],
    ax: matplotlib.axes.Axes | None = None,
) -> matplotlib.figure.Figure:
    """Horizontal bars of ``values`` (index = labels, drawn top to bottom in the given order)
    with each value written at the bar's end by ``fmt``."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(10.0, max(2.5, 0.5 * len(values) + 1.4)),
                               layout="constrained")
    else:
        fig = ax.figure
    labels = [str(i) for i in values.index]
    y = np.arange(len(values))[::-1]
    v = values.to_numpy(dtype=float)
    ax.barh(y, v, color=color)
    ax.set_yticks(y, labels)
    ax.set_title(title, loc="left")
    ax.set_xlabel(xlabel)
    top = np.nanmax(v) if len(v) and np.isfinite(v).any() else 1.0
    for yi, vi in zip(y, v, strict=True):
        if np.isfinite(vi):
            ax.text(vi + 0.01 * max(top, 1e-9), yi, fmt(vi), va="center", fontsize=12)
    ax.set_xlim(0, max(top, 1e-9) * 1.15)
    if np.all(np.mod(v[np.isfinite(v)], 1) == 0):  # whole numbers: no fractional ticks
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(axis="y", visible=False)
    return fig


def stacked_bar(
    df: pd.DataFrame,
    title: str,
    xlabel: str = "",
    ax: matplotlib.axes.Axes | None = None,
) -> matplotlib.figure.Figure:
    """Stacked horizontal bars of counts: one bar per row of ``df`` (index = labels, top to
    bottom in the given order), one segment per column, the row total written at the end."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(10.0, max(2.6, 0.5 * len(df) + 1.8)), layout="constrained")
    else:
        fig = ax.figure
    y = np.arange(len(df))[::-1]
    left = np.zeros(len(df))
    for i, col in enumerate(df.columns):
        w = df[col].to_numpy(dtype=float)
        ax.barh(y, w, left=left, color=OKABE_ITO[i % len(OKABE_ITO)], label=str(col))
        left = left + w
    top = float(left.max()) if len(left) else 0.0
    for yi, total in zip(y, left, strict=True):
        ax.text(total + 0.01 * max(top, 1e-9), yi, fmt_int(total), va="center", fontsize=12)
    ax.set_yticks(y, [str(i) for i in df.index])
    ax.set_xlim(0, max(top, 1e-9) * 1.15)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # counts
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    fig.legend(ncols=min(len(df.columns), 4), loc="outside lower center")
    ax.grid(axis="y", visible=False)
    return fig


def stacked_share_bar(
    df: pd.DataFrame,
    title: str,
    xlabel: str = "占比 share",
    min_label: float = 0.05,
    ax: matplotlib.axes.Axes | None = None,
) -> matplotlib.figure.Figure:
    """100 % stacked horizontal bars: one bar per row of ``df`` (index = group labels), one
    segment per column (values are shares of the row total, e.g. ``wage``/``transfer`` shares).
    Each row is divided by its own sum, so counts can be passed as well; segments of at least
    ``min_label`` carry their percentage."""
    shares = df.div(df.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(10.0, max(2.6, 0.6 * len(shares) + 1.8)),
                               layout="constrained")
    else:
        fig = ax.figure
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    for i, col in enumerate(shares.columns):
        w = shares[col].to_numpy(dtype=float)
        color = OKABE_ITO[i % len(OKABE_ITO)]
        ax.barh(y, w, left=left, color=color, label=str(col))
        dark = color in (OKABE_ITO[0], OKABE_ITO[3], OKABE_ITO[5], OKABE_ITO[7], OKABE_ITO[2])
        for yi, li, wi in zip(y, left, w, strict=True):
            if wi >= min_label:
                ax.text(li + wi / 2, yi, fmt_pct(wi, 0), ha="center", va="center", fontsize=12,
                        color="white" if dark else "black")
        left = left + w
    ax.set_yticks(y, [str(i) for i in shares.index])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    fig.legend(ncols=min(len(shares.columns), 4), loc="outside lower center")
    ax.grid(axis="y", visible=False)
    return fig
