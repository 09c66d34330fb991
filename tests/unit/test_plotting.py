"""Chart style: Chinese renders with the bundled font, the minus sign works, PNGs are deterministic."""

from __future__ import annotations

import logging
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from qjlib.core import fmt  # noqa: E402
from qjlib.pages import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _style():
    plotting.use_style()
    yield
    plt.close("all")


def test_cjk_font_is_found_and_no_findfont_or_glyph_warning(caplog):
    path = font_manager.findfont(font_manager.FontProperties(family=plotting.CJK_FONT),
                                 fallback_to_default=False)
    assert path == str(plotting.cjk_font_path())
    caplog.set_level(logging.DEBUG, logger="matplotlib.font_manager")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" is a UserWarning
        fig, ax = plt.subplots()
        ax.plot([-5, 0, 5], [-5, 1, 5])
        ax.set_title("人均纯收入变化（元）")
        ax.set_xlabel("年度 year")
        plotting.png_bytes(fig)
    assert not [r for r in caplog.records if "findfont" in r.getMessage()
                and r.levelno >= logging.WARNING]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "\u22125" in labels or "\u22124" in labels  # a real minus sign, not a hyphen


def test_palette_is_okabe_ito():
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert colors[:3] == ["#0072B2", "#E69F00", "#009E73"]
    assert len(set(colors)) == 8


def test_png_is_deterministic_without_software_tag():
    def draw():
        return plotting.stacked_share_bar(
            pd.DataFrame({"工资性": [0.6, 0.2], "转移性": [0.4, 0.8]}, index=["有劳动能力", "无劳动能力"]),
            "收入结构",
        )

    a, b = plotting.png_bytes(draw()), plotting.png_bytes(draw())
    assert a == b
    assert a.startswith(b"\x89PNG") and b"Software" not in a and b"tIME" not in a


def test_stacked_share_bar_normalises_rows_and_labels_segments():
    fig = plotting.stacked_share_bar(pd.DataFrame({"a": [3, 0], "b": [1, 0]}, index=["x", "y"]), "t")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["25%", "75%"]  # an all-zero row draws nothing and does not divide by zero


def test_bar_writes_values():
    fig = plotting.bar(pd.Series([3, 1200], index=["甲镇", "乙镇"]), "按乡镇")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1,200", "3"]


@pytest.mark.parametrize(
    ("fn", "x", "text"),
    [(fmt.fmt_pct, 0.1234, "12.3%"), (fmt.fmt_pct, float("nan"), "—"),
     (fmt.fmt_yuan, 12345.6, "12,346 元"), (fmt.fmt_int, 12345, "12,345"),
     (fmt.fmt_int, None, "—")],
)
def test_formats(fn, x, text):
    assert fn(x) == text


def test_fmt_yuan_in_ten_thousands():
    assert fmt.fmt_yuan(1_234_567, digits=1, unit="万元") == "123.5 万元"


def test_stacked_bar_writes_row_totals():
    df = pd.DataFrame({"剔除": [2, 0], "问题": [5, 7]}, index=["甲镇", "乙镇"])
    fig = plotting.stacked_bar(df, "按乡镇")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["7", "7"]
    ax = fig.axes[0]
    pos = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks(), strict=True))
    assert pos["甲镇"] > pos["乙镇"]  # the first row is drawn at the top
    assert all(float(t).is_integer() for t in ax.get_xticks())  # counts: whole-number ticks


def test_laid_out_chart_drawn_once_gives_savefigs_bytes():
    import io

    def draw():
        return plotting.stacked_bar(pd.DataFrame({"剔除": [2, 0], "问题": [5, 7]}, index=["甲镇", "乙镇"]),
                                    "按乡镇", "条")

    buf = io.BytesIO()  # matplotlib's own way: a dry draw for the layout, then the real one
    with matplotlib.rc_context({"savefig.bbox": "standard"}):  # the figure's own size
        draw().savefig(buf, format="png", metadata=plotting.PNG_METADATA,
                       pil_kwargs={"compress_level": plotting.PNG_COMPRESS_LEVEL})
    assert plotting.png_bytes(draw()) == buf.getvalue()


def test_laid_out_chart_is_saved_at_its_size_and_others_tight():
    import struct

    def size(png: bytes) -> tuple[int, int]:
        return struct.unpack(">II", png[16:24])

    dpi = matplotlib.rcParams["savefig.dpi"]
    fig = plotting.bar(pd.Series([3, 1200], index=["甲镇", "乙镇"]), "户数", "户")
    w, h = fig.get_size_inches() * dpi
    assert size(plotting.png_bytes(fig)) == (round(w), round(h))
    assert matplotlib.rcParams["savefig.bbox"] == "tight"  # the style's own default is kept
    plain, ax = plt.subplots(figsize=(4, 3))  # no layout engine: cropped to what is drawn
    ax.set_title("标题")
    assert size(plotting.png_bytes(plain)) != (round(4 * dpi), round(3 * dpi))


def test_chart_title_for_the_alternative_text():
    fig = plotting.bar(pd.Series([1, 2], index=["甲", "乙"]), "各乡镇户数")
    assert plotting.chart_title(fig) == "各乡镇户数"
    fig, axes = plt.subplots(1, 2)
    axes[0].set_title("甲镇")
    axes[1].set_title("乙镇")
    assert plotting.chart_title(fig) == "甲镇；乙镇"
    fig.suptitle("两镇人均纯收入")
    assert plotting.chart_title(fig) == "两镇人均纯收入"
    assert plotting.chart_title(plt.figure()) == "图表"
