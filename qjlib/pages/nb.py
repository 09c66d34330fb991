"""What every notebook calls, so notebooks stay thin: open a run, show figures, tables, ledgers.

The notebook pattern (see ``docs/report.md``)::

    # parameters cell (tagged "parameters", left visible; papermill overrides it, e.g.
    # `papermill 10_income_structure.ipynb out.ipynb -p scope 折家坪镇`)
    data_dir = "../data/demo"  # one comment per parameter, in Chinese and English
    period = "2019Q3"
    scope = "county"           # "county"/"县", or a town's name or code
    params_file = None
    pii = "masked"
    results_dir = None         # set by `qj report`: precomputed figures and ledgers

    from qjlib.pages import nb
    run = nb.open_run(data_dir, period, scope, params_file, pii, results_dir)
    s = run.summary("income")                     # the module's summary.json figures
    nb.show_key_figures({"历年脱贫户": s["..."], ...})
    nb.md(f"……{...}……")                           # prose built from the computed figures
    nb.show(plotting.stacked_share_bar(...))
    led = run.ledger("income_low_operating")
    nb.show_table(led, spec=run.spec("income_low_operating"), max_rows=15)
    nb.show_table(by_unit.sort_values("score"), head_tail=10)  # a ranking: worst and best 10
    nb.show_ledger_note("income_low_operating", len(led))

``qj notebooks refresh notebooks/NN_x.ipynb [...]`` executes notebooks in place on the demo
county (:mod:`qjlib.report.refresh`), so the committed outputs are what nbval re-computes.

Every HTML shown here is styled inline (no ``<style>`` block, no script), so an untrusted
notebook, a trusted one, the HTML export and nbval see the same thing.
"""

from __future__ import annotations

import html
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from qjlib.analyses import load_analyses
from qjlib.core import fmt, schema
from qjlib.core.context import Context
from qjlib.core.errors import QjError
from qjlib.core.ledgers import LedgerSpec, column_label, column_type, ledger_sheets, sort_ledger
from qjlib.core.params import Params, load_params
from qjlib.core.privacy import check_pii_mode, mask_frame
from qjlib.core.scopes import COUNTY, Scope, all_scopes, result_file, scope_context, town_rows
from qjlib.pages import plotting

__all__ = ["Run", "open_run", "show_table", "show_key_figures", "show_ledger_note", "md", "show"]


@dataclass
class Run:
    """One notebook's run: the scope's context, the county context and cached results.

    Analysis modules are imported on first use, so a notebook pays only for the modules it uses.
    """

    params: Params
    county_ctx: Context
    ctx: Context
    scope: Scope
    pii: str
    scopes: list[Scope]
    _results: dict[str, Any] | None = None
    _results_dir: Path | None = None
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def scope_name(self) -> str:
        """The scope in Chinese: the county's name (or 全县) or the town's name."""
        return self.scope.name

    @property
    def is_county(self) -> bool:
        """True for the county scope."""
        return self.scope.town is None

    @property
    def income_year(self) -> int:
        """The income year the run reports on (:attr:`Context.income_year`)."""
        return self.ctx.income_year

    @property
    def asof(self) -> pd.Timestamp:
        """The period's as-of date."""
        return self.ctx.asof

    @property
    def period(self) -> str:
        """The report period, e.g. ``2019Q3``."""
        return self.params.period

    @property
    def towns(self) -> list[Scope]:
        """Every town of the county, by town code."""
        return [s for s in self.scopes if s.town is not None]

    def work_file(self, name: str) -> Path | None:
        """A file ``qj report`` left for the notebooks in ``results_dir`` (e.g. ``lifecycle.pkl``);
        None outside a report or when the report did not write it."""
        if self._results_dir is None or not (self._results_dir / name).exists():
            return None
        return self._results_dir / name

    def module(self, name: str) -> ModuleType:
        """The analysis registered as ``name`` (imported now if needed)."""
        found = load_analyses([name])
        if name not in found.modules:
            raise QjError(f"分析模块 {name} 不可用：{found.skipped.get(name, '')} / analysis module "
                          f"{name} not available")
        return found.modules[name]

    def summary(self, module: str) -> dict:
        """``module.summary(ctx)`` for this scope (precomputed by ``qj report`` when available)."""
        key = ("summary", module)
        if key not in self._cache:
            pre = (self._results or {}).get("summary")
            if pre is not None:
                pre = pre if self.is_county else pre["towns"][self.scope.code]
            self._cache[key] = (pre[module] if pre is not None and module in pre
                                else self.module(module).summary(self.ctx))
        return self._cache[key]

    def result(self, module: str, name: str, county: bool = False) -> Any:
        """``module.name(ctx)`` for this scope, or for the county with ``county=True`` (as saved
        by ``qj report`` when the module lists it in ``NOTEBOOK_RESULTS``, else computed now).
        The result is shared: do not modify it in place."""
        ctx, code = ((self.county_ctx, COUNTY) if county or self.is_county
                     else (self.ctx, self.scope.code))
        key = ("result", module, name, code)
        if key not in self._cache:
            f = result_file(self._results_dir, module, name, code) if self._results_dir else None
            if f is not None and f.exists():
                with open(f, "rb") as fh:
                    self._cache[key] = pickle.load(fh)  # noqa: S301 - written by qj report
            else:
                self._cache[key] = getattr(self.module(module), name)(ctx)
        return self._cache[key]

    def ledgers(self, module: str) -> dict[str, pd.DataFrame]:
        """The module's ledgers for this scope, raw (masking happens when shown): the county's
        ledgers (``module.build_ledgers`` on the county; precomputed by ``qj report``), and for a
        town the rows that concern it (:func:`qjlib.core.scopes.town_rows`) — the same rows the town
        finds when it filters ``ledgers.xlsx``."""
        key = ("ledgers", module)
        if key not in self._cache:
            county = self._county_ledgers(module)
            if not self.is_county:
                county = {n: town_rows(df, self.scope.name) for n, df in county.items()}
            self._cache[key] = county
        return self._cache[key]

    def _county_ledgers(self, module: str) -> dict[str, pd.DataFrame]:
        f = self._results_dir / f"ledgers-{module}.pkl" if self._results_dir else None
        if f is not None and f.exists():
            with open(f, "rb") as fh:
                return pickle.load(fh)  # noqa: S301 - written by qj report for this run
        return self.module(module).build_ledgers(self.county_ctx)

    def spec(self, ledger: str) -> LedgerSpec:
        """The ledger's :class:`LedgerSpec`."""
        return ledger_specs(self._results)[ledger]

    def ledger(self, name: str) -> pd.DataFrame:
        """One ledger for this scope, sorted by its key."""
        owners = ledger_owners(self._results)
        if name not in owners:
            raise QjError(f"未知台账 {name} / unknown ledger {name}")
        return sort_ledger(self.ledgers(owners[name])[name], self.spec(name))


_ALL: dict[str, Any] = {}


def _all_ledgers(results: dict[str, Any] | None) -> dict[str, Any]:
    """Specs, owners and sheet names of every ledger: from ``qj report``'s precomputed results,
    else by importing every analysis module (once per kernel)."""
    if results and "specs" in results:
        return results
    if not _ALL:
        analyses = load_analyses()
        specs = analyses.specs()
        _ALL.update(specs=specs, sheets=ledger_sheets(specs), owners=analyses.owners())
    return _ALL


def ledger_specs(results: dict[str, Any] | None = None) -> dict[str, LedgerSpec]:
    """Ledger name → spec, of every registered analysis."""
    return _all_ledgers(results or _CURRENT.get("results"))["specs"]


def ledger_owners(results: dict[str, Any] | None = None) -> dict[str, str]:
    """Ledger name → the analysis that builds it."""
    return _all_ledgers(results or _CURRENT.get("results"))["owners"]


def ledger_sheet(name: str) -> str:
    """The ``ledgers.xlsx`` sheet of a ledger."""
    return _all_ledgers(_CURRENT.get("results"))["sheets"][name]


_CURRENT: dict[str, Any] = {}

# The package last opened in this kernel, with the size and modification time of every file of
# its folder: a kernel that runs one report notebook after another (``qj report``) then reads
# the package once, not once per notebook (hashing the inputs, unpickling the cache).
_PACKAGE: dict[str, Any] = {}


def _folder_state(root: Path) -> tuple:
    return tuple(sorted((str(p.relative_to(root)), st.st_size, st.st_mtime_ns)
                        for p in root.rglob("*") if p.is_file() for st in [p.stat()]))


def _package(root: Path, params: Params) -> Any:
    """:func:`qjlib.io.load.load_for` (cached), kept in memory while the folder's files keep their
    sizes and modification times (and the run its as-of date and tolerance). The package is
    shared: do not modify it."""
    from qjlib.io.load import load_for

    root = root.resolve()
    state = (str(root), _folder_state(root), str(params.asof),
             params.get("data.total_tolerance"))
    if _PACKAGE.get("state") != state:
        _PACKAGE.clear()
        _PACKAGE["pkg"] = load_for(root, params)
        _PACKAGE["state"] = state
    return _PACKAGE["pkg"]


def _scope_context(county_ctx: Context, s: Scope) -> Context:
    """:func:`qjlib.core.scopes.scope_context`, with the town's package kept beside the package it
    was cut from (a kernel running one report notebook after another cuts each town once)."""
    if s.town is None or _PACKAGE.get("pkg") is not county_ctx.pkg:
        return scope_context(county_ctx, s)
    towns = _PACKAGE.setdefault("towns", {})
    if s.town not in towns:
        towns[s.town] = county_ctx.pkg.restrict_to_town(s.town)
    return replace(county_ctx, pkg=towns[s.town], scope=s.town)


def open_run(
    data_dir: str | Path,
    period: str,
    scope: str = COUNTY,
    params_file: str | Path | None = None,
    pii: str = "masked",
    results_dir: str | Path | None = None,
    as_of: str | None = None,
) -> Run:
    """Open a notebook's run: parameters, the (cached) package, the scope's context, chart style.

    ``scope`` is ``"county"`` or a town code (a town name works too); ``results_dir`` is where
    ``qj report`` left the precomputed figures and ledgers of every scope; ``as_of`` (``YYYY-MM-DD``
    inside the period, like ``qj report --as-of``; None = the one of ``qj report``'s results, else
    the period's) the as-of date.
    """
    check_pii_mode(pii)
    results, work = None, None
    if results_dir is not None and (Path(results_dir) / "meta.pkl").exists():
        work = Path(results_dir)
        with open(work / "meta.pkl", "rb") as fh:
            results = pickle.load(fh)  # noqa: S301 - written by qj report for this run
    if as_of is None and results is not None:
        as_of = results["summary"].get("as_of")
    params = load_params(period, params_file, as_of=as_of)
    pkg = _package(Path(data_dir), params)
    county_ctx = Context(pkg, params)
    scopes = all_scopes(pkg)
    hit = [s for s in scopes if scope in (s.code, s.name) or (scope == "县" and s.town is None)]
    if not hit:
        avail = "、".join(f"{s.name}({s.code})" for s in scopes)
        raise QjError(f"未知范围 {scope!r}，可选：{avail} / unknown scope {scope!r}")
    s = hit[0]
    _CURRENT.clear()
    _CURRENT["results"] = results
    plotting.use_style()
    return Run(params, county_ctx, _scope_context(county_ctx, s), s, pii, scopes, results, work)


# ---------------------------------------------------------------------------------------------
# Display

# Every element carries its look in an inline ``style`` attribute, never a ``<style>`` block or a
# class: JupyterLab strips ``<style>`` from an untrusted notebook (a fresh clone) but keeps inline
# styles whose properties its sanitizer allows (all of those below), and the HTML export, nbval's
# comparison and a trusted notebook then show the same thing. The ``qj-*`` classes only name the
# elements (for tests); nothing depends on them for looks. ``table-layout:auto`` and the left
# margin undo JupyterLab's own table rules (fixed layout, centred, cells aligned right).
_S_TABLE = ("border-collapse:collapse;table-layout:auto;font-size:14px;margin:4px 0;"
            "margin-left:0;margin-right:0")
_S_TH = "background:#DDEBF7;padding:4px 8px;border-bottom:1px solid #999;vertical-align:bottom"
_S_TD = "padding:3px 8px;border-bottom:1px solid #e5e5e5"
_S_GAP = _S_TD + ";text-align:center;color:#555;font-size:13px"
_S_NOTE = "color:#555;font-size:13px"
_S_CAPTION = "margin:8px 0 4px 0;font-weight:bold"
_S_KF = "display:flex;flex-wrap:wrap;align-items:stretch;margin:8px 0"
# Boxes are inline-blocks with their own right margin, so that they stay boxes side by side even
# where ``display:flex`` is not honoured.
KF_BOX_STYLE = ("display:inline-block;vertical-align:top;border:1px solid #0072B2;"
                "border-radius:6px;padding:8px 14px;margin:0 12px 8px 0;min-width:150px")
_S_KF_V = "font-size:26px;font-weight:600;color:#0072B2;line-height:1.25;white-space:nowrap"
_S_KF_L = "font-size:14px;color:#333333"
_S_KF_N = "font-size:12px;color:#666666"
NOWRAP_MAX_CHARS = 16
"""A text column whose longest cell has at most this many characters (names, codes, places,
short labels) is kept on one line; longer text (reasons, notes) wraps."""
NOWRAP_HEADER_CHARS = 6
"""A column header of at most this many characters (``在帮户数``, ``综合得分均值``) is kept on one
line, not broken over a narrow column of numbers."""

_PLAIN_INT = ("row", "year", "code")


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def format_cells(df: pd.DataFrame, spec: LedgerSpec | None = None) -> pd.DataFrame:
    """Every cell as text for people: money ``12,345.68``, shares ``12.3%``, counts ``1,234``,
    years and row numbers plain, dates ``YYYY-MM-DD``, coded values in Chinese, missing blank.

    Meant for the rows a page shows (tens, not thousands): each column is converted once and its
    cells formatted as a list, which costs a fraction of pandas' per-call overhead."""
    out = {}
    for c in df.columns:
        s = df[c]
        kind = column_type(c, s, spec)
        present = s.notna().to_numpy(dtype=bool)
        if kind in ("money", "float", "share", "int"):
            if kind == "int":
                plain = any(c == p or c.endswith("_" + p) for p in _PLAIN_INT)
                f = ("{:.0f}" if plain else "{:,.0f}").format
                values = s.astype("Float64").tolist()
            else:
                f = fmt.fmt_pct if kind == "share" else "{:,.2f}".format
                values = s.tolist()
            out[c] = [f(v) if p else "" for v, p in zip(values, present, strict=True)]
            continue
        if kind == "date":
            t = pd.to_datetime(s).dt.strftime("%Y-%m-%d").tolist()
        elif pd.api.types.is_bool_dtype(s):
            t = ["是" if v is True else "否" if v is False else "" for v in s.tolist()]
        else:
            t = s.astype("str").tolist()
            labels = schema.CODE_LABELS_ZH.get(c)
            if labels:
                t = [labels.get(v, v) for v in t]
        out[c] = [v if p else "" for v, p in zip(t, present, strict=True)]
    return pd.DataFrame(out, index=df.index, columns=df.columns, dtype="str")


def _style(css: str) -> str:
    return f' style="{css}"'


def table_html(
    df: pd.DataFrame,
    columns_zh: Mapping[str, str] | None = None,
    spec: LedgerSpec | None = None,
    gap: tuple[int, int] | None = None,
) -> str:
    """A plain, deterministic HTML table of already formatted-and-masked rows (no index, no ids),
    styled inline: numbers right-aligned, numbers and short text (at most
    :data:`NOWRAP_MAX_CHARS` characters in the column, e.g. masked names) on one line, short
    headers (:data:`NOWRAP_HEADER_CHARS`) too.
    ``gap=(k, m)`` puts a row saying that ``m`` rows are left out after the first ``k`` rows."""
    text = format_cells(df, spec)
    labels = dict(columns_zh or {})
    numeric = {c: column_type(c, df[c], spec) in ("money", "share", "float", "int")
               for c in df.columns}
    head_cells = []
    for c in df.columns:
        label = labels.get(c) or column_label(c, spec)
        css = (_S_TH + (";text-align:right" if numeric[c] else ";text-align:left")
               + (";white-space:nowrap" if len(label) <= NOWRAP_HEADER_CHARS else ""))
        head_cells.append(f"<th{_style(css)}>{html.escape(label)}</th>")
    heads = "".join(head_cells)
    if len(df):
        columns = []
        for c in df.columns:
            t = text[c].tolist()
            short = numeric[c] or max(map(len, t)) <= NOWRAP_MAX_CHARS
            css = (_S_TD + (";text-align:right" if numeric[c] else ";text-align:left")
                   + (";white-space:nowrap" if short else ""))
            td = f"<td{_style(css)}>"
            columns.append([td + html.escape(v) + "</td>" for v in t])
        rows = ["<tr>" + "".join(cells) + "</tr>" for cells in zip(*columns, strict=True)]
        if gap is not None:
            k, m = gap
            rows.insert(k, f'<tr><td colspan="{len(df.columns)}"{_style(_S_GAP)}>'
                           f"…… 中间 {m:,} 行从略 / {m:,} rows left out ……</td></tr>")
        body = "".join(rows)
    else:
        body = (f'<tr><td colspan="{max(len(df.columns), 1)}"{_style(_S_TD + ";text-align:left")}>'
                "（无 none）</td></tr>")
    return (f'<table class="qj-table"{_style(_S_TABLE)}><thead><tr>{heads}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


MIN_GAP = 5  # head_tail leaves out at least this many rows, or shows the whole table


def show_table(
    df: pd.DataFrame,
    columns_zh: Mapping[str, str] | None = None,
    max_rows: int = 20,
    spec: LedgerSpec | None = None,
    pii: str = "masked",
    caption: str | None = None,
    head_tail: int | None = None,
) -> None:
    """Show a table for people: personal columns masked, Chinese headers (``columns_zh``, else
    the spec's, else the schema's), formatted numbers, no index, the first ``max_rows`` rows
    (sorted by the ledger key when ``spec`` is given) and a line saying how many there are.

    ``head_tail=k`` (for a ranking, sorted worst first) shows the first ``k`` and the last ``k``
    rows with a row counting those left out between them (``max_rows`` is then not used); a
    table that leaves out fewer than :data:`MIN_GAP` rows is shown whole (a gap of one row saves
    nothing)."""
    if spec is not None:
        df = sort_ledger(df, spec)
    n = len(df)
    gap = None
    if head_tail is not None and n - 2 * head_tail >= MIN_GAP:
        rows, gap = pd.concat([df.head(head_tail), df.tail(head_tail)]), (head_tail,
                                                                         n - 2 * head_tail)
    else:
        rows = df if head_tail is not None else df.head(max_rows)
    shown = mask_frame(rows, pii, extra=spec.pii if spec else None,
                       labels=(spec.columns_zh if spec else None))
    parts = []
    if caption:
        parts.append(f"<p{_style(_S_CAPTION)}>{html.escape(caption)}</p>")
    parts.append(table_html(shown, columns_zh, spec, gap))
    if gap is not None:
        parts.append(f'<p class="qj-note"{_style(_S_NOTE)}>共 {n:,} 行，显示前 {head_tail} 行和后 '
                     f"{head_tail} 行，中间 {gap[1]:,} 行从略 / {n:,} rows, the first and the "
                     f"last {head_tail} shown</p>")
    elif n > len(rows):
        parts.append(f'<p class="qj-note"{_style(_S_NOTE)}>共 {n:,} 行，显示前 {max_rows} 行 / '
                     f"{n:,} rows, first {max_rows} shown</p>")
    from IPython.display import HTML

    _display(HTML("".join(parts)))


def _figure_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or v is None:
        return "—" if v is None else ("是" if v else "否")
    if isinstance(v, int) or (hasattr(v, "dtype") and pd.api.types.is_integer_dtype(v.dtype)):
        return fmt.fmt_int(v)
    if isinstance(v, float) and v != v:
        return "—"
    return f"{float(v):,.2f}"


def show_key_figures(figures: Mapping[str, Any], title: str | None = None) -> None:
    """The opening box of key figures: ``{label: value}`` or ``{label: (value, note)}``; ints get
    thousands separators, strings (e.g. ``fmt_pct(x)``) are shown as given."""
    boxes = []
    for label, v in figures.items():
        value, note = v if isinstance(v, tuple) else (v, None)
        n = (f'<div class="qj-kf-note"{_style(_S_KF_N)}>{html.escape(str(note))}</div>'
             if note else "")
        boxes.append(f'<div class="qj-kf-box"{_style(KF_BOX_STYLE)}>'
                     f'<div class="qj-kf-value"{_style(_S_KF_V)}>{html.escape(_figure_text(value))}'
                     f'</div><div class="qj-kf-label"{_style(_S_KF_L)}>{html.escape(str(label))}'
                     f"</div>{n}</div>")
    head = f"<h3>{html.escape(title)}</h3>" if title else ""
    from IPython.display import HTML

    _display(HTML(head + f'<div class="qj-kf"{_style(_S_KF)}>' + "".join(boxes) + "</div>"))


def show_ledger_note(name: str, count: int) -> None:
    """Where to find a ledger: its ``ledgers.xlsx`` sheet and CSV file in the report folder."""
    specs = ledger_specs()
    if name not in specs:
        raise QjError(f"未知台账 {name} / unknown ledger {name}")
    sheet = ledger_sheet(name)
    md(f"**台账「{specs[name].title_zh}」**：本范围 {count:,} 条。完整清单见报告目录下 "
       f"`ledgers.xlsx` 工作表「{sheet}」或 `ledgers/{name}.csv`（全县总表，可按乡镇筛选）。  \n"
       f"*Ledger `{name}`: {count:,} rows here; the full county list is in `ledgers.xlsx`, "
       f"sheet “{sheet}”, and `ledgers/{name}.csv`.*")


def md(text: str) -> None:
    """Show Markdown (prose built from computed figures)."""
    from IPython.display import Markdown

    _display(Markdown(text))


def show(fig: Any) -> None:
    """Show a matplotlib figure as a deterministic PNG (:func:`qjlib.pages.plotting.show`)."""
    plotting.show(fig)
