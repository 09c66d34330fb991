"""The demo county's income structure by year: the table and figure of ``data/README.md``.

    python -m qjlib.demo.figure docs/demo_income_structure.png   # prints the Markdown table too

Per year, over the income rows the loader keeps: per-capita amounts are ratios of sums
(``Σ component ÷ Σ size``, yuan per person), shares are ``Σ component ÷ Σ net income``, and the
medians of per-capita net income (net ÷ size) are taken separately for households before their
exit year and for households in or after it (returned households count as after).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from qjlib.demo.base import POVERTY_LINE, YEARS
from qjlib.demo.county import County, simulate

PARTS = (("wage", "工资性收入 wage"), ("operating_net", "经营净收入 operating net"),
         ("property", "财产性收入 property"), ("transfer", "转移性收入 transfer"))


def income_structure(county: County) -> pd.DataFrame:
    """One row per year: households, persons, per-capita components (yuan/person), their shares of
    net income, and median per-capita net income before / after exit."""
    inc = county.tables["income"]
    inc = inc[inc["_qtype"] != "reject"].copy()
    inc["wage"] = inc["wage"].astype(float)
    inc["operating_net"] = inc["operating"] - inc["operating_cost"]
    inc["net"] = inc["wage"] + inc["operating_net"] + inc["property"] + inc["transfer"]
    inc["pc"] = inc["net"] / inc["size"]
    hh = county.tables["households"].set_index("hh_id")
    ey = hh["exit_year"].reindex(inc["hh_id"]).to_numpy()
    inc["after_exit"] = inc["year"].to_numpy() >= np.nan_to_num(ey, nan=9999)
    g = inc.groupby("year")
    out = pd.DataFrame({"households": g.size(), "persons": g["size"].sum()})
    for c, _ in PARTS:
        out[f"{c}_pc"] = g[c].sum() / out["persons"]
    out["net_pc"] = g["net"].sum() / out["persons"]
    for c, _ in PARTS:
        out[f"{c}_share"] = g[c].sum() / g["net"].sum()
    out["median_pc_before_exit"] = inc[~inc["after_exit"]].groupby("year")["pc"].median()
    out["median_pc_after_exit"] = inc[inc["after_exit"]].groupby("year")["pc"].median()
    return out.reindex(YEARS)


def markdown(tab: pd.DataFrame) -> str:
    """The table of :func:`income_structure` as the Markdown of ``data/README.md`` (yuan per
    person, share of net income in brackets)."""
    head = ("| 年度 year | 户 households | 人 persons | 工资性 wage | 经营净 operating net | 财产性 property "
            "| 转移性 transfer | 人均纯收入 net / person | 中位数：脱贫前 median before exit | 中位数：脱贫后 median after exit |")
    lines = [head, "|" + "---|" * 10]
    for y, r in tab.iterrows():
        cells = [str(y), f"{int(r.households):,}", f"{int(r.persons):,}"]
        cells += [f"{r[f'{c}_pc']:,.0f} ({r[f'{c}_share']:.0%})" for c, _ in PARTS]
        cells += [f"{r.net_pc:,.0f}"]
        cells += ["—" if pd.isna(v) else f"{v:,.0f}" for v in (r.median_pc_before_exit, r.median_pc_after_exit)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(tab: pd.DataFrame):
    """Stacked per-capita components by year, and the medians before/after exit with the line."""
    import matplotlib.pyplot as plt

    from qjlib.pages.plotting import OKABE_ITO, use_style

    use_style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 5.6))
    bottom = np.zeros(len(tab))
    for (c, label), color in zip(PARTS, OKABE_ITO, strict=False):
        v = tab[f"{c}_pc"].to_numpy()
        a.bar(tab.index, v, bottom=bottom, label=label, color=color, width=0.7)
        bottom += v
    a.set_title("人均收入构成（元/人）\nincome per person by source (yuan)")
    a.set_xlabel("年度 year")
    a.legend(loc="upper left")
    b.plot(tab.index, tab["median_pc_before_exit"], "o-", color=OKABE_ITO[3], label="脱贫前 before exit")
    b.plot(tab.index, tab["median_pc_after_exit"], "s-", color=OKABE_ITO[0], label="脱贫后 after exit")
    b.step(YEARS, POVERTY_LINE, where="mid", color="#999999", ls="--", label="贫困线 poverty line")
    b.set_title("人均纯收入中位数（元）\nmedian net income per person (yuan)")
    b.set_xlabel("年度 year")
    b.set_ylim(0, None)
    b.legend(loc="upper left")
    fig.suptitle("模拟示范县（种子 2019，12,000 户）/ synthetic demo county (seed 2019)", y=1.04)
    return fig


def main(argv: list[str] | None = None) -> int:
    """Write the figure of the default county to ``argv[0]`` (PNG) and print the table."""
    argv = sys.argv[1:] if argv is None else argv
    png = Path(argv[0] if argv else "docs/demo_income_structure.png")
    tab = income_structure(simulate(2019, 12000))
    from qjlib.pages.plotting import png_bytes

    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(png_bytes(figure(tab)))
    print(markdown(tab))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
