"""Parameters: standards and thresholds with their sources (``params/standards.yaml``) and the
reporting period (``params/2019Q3.yaml``), validated before anything runs.

A period file names its ``period`` (``YYYYQn``) and may set ``income_year`` and ``overrides`` — a
mapping of dotted parameter names (``decline.n_declines``) to values. A name that the standards do
not define, or a value of another type than the standard's, is a :class:`ParamError` that names it:
a typo must never silently run the default.

Ranges (checked for the standards themselves and for every override): a leaf may state ``min``
and/or ``max``; without them, a float whose name contains ``share`` lies in [0, 1], an integer is
≥ 0 and one named ``n_*`` is ≥ 1, a poverty line is > 0 and a mapping of weights is ≥ 0.

Period semantics (contract/outputs.md): as-of date = the quarter's last day; income year = the
latest year in the income table not after the as-of year, unless ``income_year`` is set.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from qjlib.core.errors import QjError

PARAMS_DIR = Path(__file__).resolve().parents[2] / "params"
STANDARDS_FILE = "standards.yaml"
TARGETS_FILE = "targets.yaml"
PERIOD_RE = re.compile(r"^(\d{4})Q([1-4])$")
PERIOD_KEYS = {"period", "income_year", "overrides", "as_of", "note"}
LEAF_KEYS = {"value", "source", "unit", "min", "max", "note"}


class ParamError(QjError):
    """A parameter that is unknown, mistyped or out of range."""


def _flatten(tree: dict, prefix: str = "") -> dict[str, dict]:
    """Leaves of the standards tree are mappings with a ``value`` (and ``source``)."""
    out: dict[str, dict] = {}
    for k, v in tree.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and "value" in v:
            if "source" not in v:
                raise ParamError(f"参数 {name} 缺少来源 (source) / parameter {name} has no source")
            extra = sorted(set(v) - LEAF_KEYS)
            if extra:
                raise ParamError(
                    f"参数 {name} 中有未知的键 {', '.join(extra)} / unknown key(s) in {name}"
                )
            _check_range(name, v["value"], v)
            out[name] = v
        elif isinstance(v, dict):
            out.update(_flatten(v, name + "."))
        else:
            raise ParamError(f"参数 {name} 应写成 value + source / parameter {name} needs value and source")
    return out


def _type_ok(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, dict):
        return isinstance(value, dict) and all(
            k in default and _type_ok(default[k], v) for k, v in value.items()
        ) if not _is_year_map(default) else isinstance(value, dict) and all(
            isinstance(k, int) and isinstance(v, (int, float)) and not isinstance(v, bool)
            for k, v in value.items()
        )
    return type(default) is type(value)


def _is_year_map(d: dict) -> bool:
    return bool(d) and all(isinstance(k, int) and 1900 < k < 2200 for k in d)


def _range_error(name: str, value: Any, rule_zh: str, rule_en: str) -> ParamError:
    return ParamError(f"参数 {name} 的值 {value!r} 超出范围（{rule_zh}）/ parameter {name} = "
                      f"{value!r} is out of range ({rule_en})")


def _check_range(name: str, value: Any, leaf: dict) -> None:
    """Check ``value`` against the leaf's ``min``/``max`` or the implicit rules (module doc)."""
    leafname = name.split(".")[-1]
    if isinstance(value, dict):
        if _is_year_map(value) or name == "poverty_line":
            bad = {k: v for k, v in value.items() if not v > 0}
            if bad:
                raise _range_error(name, bad, "贫困线应大于 0", "poverty lines must be > 0")
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()):
            bad = {k: v for k, v in value.items() if v < 0}
            if bad:
                raise _range_error(name, bad, "权重不能为负", "weights must be ≥ 0")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    lo, hi = leaf.get("min"), leaf.get("max")
    if lo is None and hi is None:
        if isinstance(value, float) and "share" in leafname:
            lo, hi = 0.0, 1.0
        elif isinstance(value, int):
            lo = 1 if leafname.startswith("n_") else 0
    if lo is not None and value < lo:
        raise _range_error(name, value, f"应 ≥ {lo}", f"must be ≥ {lo}")
    if hi is not None and value > hi:
        raise _range_error(name, value, f"应 ≤ {hi}", f"must be ≤ {hi}")


def parse_period(period: str) -> tuple[int, int, pd.Timestamp]:
    """``"2019Q3"`` → (2019, 3, as-of date 2019-09-30)."""
    m = PERIOD_RE.match(str(period))
    if not m:
        raise ParamError(f"报告期应为 YYYYQn 形式，如 2019Q3：{period!r} / period must look like 2019Q3")
    year, q = int(m.group(1)), int(m.group(2))
    asof = pd.Timestamp(year=year, month=3 * q, day=1) + pd.offsets.MonthEnd(0)
    return year, q, asof.normalize()


@dataclass(frozen=True)
class Params:
    """Validated parameters of one run. ``get("decline.n_declines")`` returns a value."""

    period: str
    asof: pd.Timestamp
    income_year_override: int | None
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    targets: dict[str, Any] = field(default_factory=dict)
    """``params/targets.yaml`` as read for the run (issue #19): ``file``, ``sha256`` and ``tree``
    (the parsed YAML, validated by :mod:`qjlib.core.targets_params` where it is used), so that the
    manifest records the very targets and ``qj verify`` re-reads them; empty = read the file."""

    def get(self, name: str) -> Any:
        """The parameter's value by dotted name (a copy); an unknown name is a ``ParamError``."""
        if name not in self.values:
            raise ParamError(f"未定义的参数 {name} / unknown parameter {name}")
        return copy.deepcopy(self.values[name])

    __getitem__ = get

    @property
    def poverty_lines(self) -> pd.Series:
        """Poverty line (yuan per person and year) indexed by year."""
        d = self.values["poverty_line"]
        return pd.Series({int(k): float(v) for k, v in d.items()}, name="poverty_line").sort_index()

    def poverty_line(self, year: int) -> float:
        """The year's poverty line (yuan per person and year); a missing year is an error."""
        lines = self.poverty_lines
        if int(year) not in lines.index:
            raise ParamError(
                f"参数 poverty_line 缺少 {year} 年的贫困线 / no poverty line for {year} in params"
            )
        return float(lines[int(year)])

    def income_year(self, years_available) -> int:
        """The income year of the run: the override, or the latest year ≤ the as-of year."""
        if self.income_year_override is not None:
            return int(self.income_year_override)
        ok = [int(y) for y in years_available if int(y) <= self.asof.year]
        if not ok:
            raise ParamError(
                f"收入表中没有不晚于 {self.asof.year} 年的数据 / no income year at or before {self.asof.year}"
            )
        return max(ok)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Params:
        """Rebuild the parameters of a run from its manifest's ``record()`` (JSON: year keys of
        mappings such as ``poverty_line`` come back as strings and are turned into ints)."""
        try:
            values = {k: _from_json(v) for k, v in record["values"].items()}
            iy = record.get("income_year")
            return cls(
                period=str(record["period"]),
                asof=pd.Timestamp(record["as_of"]).normalize(),
                income_year_override=None if iy is None else int(iy),
                values=values,
                sources=dict(record.get("sources", {})),
                files=tuple(record.get("files", ())),
                targets=dict(record.get("targets") or {}),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ParamError(f"清单中的参数记录不完整：{e} / incomplete parameter record") from e

    def record(self) -> dict[str, Any]:
        """What the manifest records: every value in force, its source, the files read."""
        return {
            "period": self.period,
            "as_of": self.asof.date().isoformat(),
            "income_year": self.income_year_override,
            "files": list(self.files),
            "values": {k: _jsonable(v) for k, v in sorted(self.values.items())},
            "sources": dict(sorted(self.sources.items())),
            "targets": copy.deepcopy(self.targets),
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
    return v


def _from_json(v: Any) -> Any:
    if isinstance(v, dict):
        if v and all(isinstance(k, str) and k.isdigit() for k in v):
            return {int(k): _from_json(x) for k, x in v.items()}
        return {k: _from_json(x) for k, x in v.items()}
    return v


def _yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml when PyYAML has it (the same result, ten times faster:
    every notebook of a report reads the parameters)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def load_standards(path: Path | None = None) -> dict[str, dict]:
    """``params/standards.yaml`` (or ``path``) as ``{dotted name: {value, source, …}}``."""
    path = Path(path) if path else PARAMS_DIR / STANDARDS_FILE
    try:
        tree = _yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ParamError(f"无法读取参数文件 {path}: {e} / cannot read parameter file") from e
    return _flatten(tree)


def read_targets_file(path: str | Path | None = None) -> dict[str, Any]:
    """``params/targets.yaml`` (or ``path``) as the run records it: its display path, sha256 and
    parsed tree; ``{}`` when the default file does not exist (validated where it is used)."""
    p = Path(path) if path else PARAMS_DIR / TARGETS_FILE
    if path is None and not p.exists():
        return {}
    try:
        raw = p.read_bytes()
        tree = _yaml(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ParamError(f"无法读取目标文件 {p}: {e} / cannot read the targets file") from e
    return {"file": _display_path(p), "sha256": hashlib.sha256(raw).hexdigest(), "tree": tree}


def _as_of_in_period(as_of: str | _dt.date, period: str) -> pd.Timestamp:
    """``as_of`` as a day, refused (naming both) unless it lies inside ``period``."""
    try:
        day = pd.Timestamp(str(as_of)).normalize()
    except ValueError as e:
        raise ParamError(f"截至日期不是日期：{as_of!r}（应为 YYYY-MM-DD）/ --as-of is not a date") from e
    year, q, end = parse_period(period)
    start = pd.Timestamp(year=year, month=3 * q - 2, day=1)
    if not start <= day <= end:
        raise ParamError(
            f"截至日期 {day:%Y-%m-%d} 不在报告期 {period}（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）内"
            f" / as-of date {day:%Y-%m-%d} is outside the period {period}")
    return day


def load_params(
    period: str | None = None,
    params_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    standards_file: str | Path | None = None,
    as_of: str | _dt.date | None = None,
    targets_file: str | Path | None = None,
) -> Params:
    """Read the standards and the period file, apply overrides, and validate everything.

    ``params_file`` defaults to ``params/<period>.yaml`` when it exists; without any period file
    the standards apply unchanged. ``overrides`` (dotted names) win over the file's. ``as_of``
    (``qj report --as-of``) wins over the file's ``as_of`` and the period's last day; it must lie
    inside the period (a report due on the 20th, a two-weekly dispatch). ``targets_file``
    (default ``params/targets.yaml``) is read into :attr:`Params.targets`.
    """
    std = load_standards(Path(standards_file) if standards_file else None)
    files = [str(Path(standards_file)) if standards_file else f"params/{STANDARDS_FILE}"]
    spec: dict[str, Any] = {}
    if params_file is None and period is not None and (PARAMS_DIR / f"{period}.yaml").exists():
        params_file = PARAMS_DIR / f"{period}.yaml"
    if params_file is not None:
        p = Path(params_file)
        try:
            spec = _yaml(p.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ParamError(f"无法读取参数文件 {p}: {e} / cannot read parameter file") from e
        if not isinstance(spec, dict):
            raise ParamError(f"参数文件 {p} 应为键值映射 / {p} must be a mapping")
        unknown = sorted(set(spec) - PERIOD_KEYS)
        if unknown:
            raise ParamError(
                f"参数文件 {p.name} 中有未知的键 {', '.join(unknown)}（可用：{', '.join(sorted(PERIOD_KEYS))}）"
                f" / unknown key(s) {', '.join(unknown)} in {p.name}"
            )
        files.append(_display_path(p))
    period = period or spec.get("period")
    if period is None:
        raise ParamError("未指定报告期 (--period) / no period given")
    if spec.get("period") not in (None, period):
        raise ParamError(
            f"参数文件的报告期 {spec['period']} 与 --period {period} 不一致 / period mismatch"
        )
    _, _, asof = parse_period(period)
    if spec.get("as_of") is not None:
        try:
            asof = pd.Timestamp(str(spec["as_of"])).normalize()
        except ValueError as e:
            raise ParamError(f"as_of 不是日期：{spec['as_of']!r} / as_of is not a date") from e

    if as_of is not None:
        asof = _as_of_in_period(as_of, period)

    values = {k: copy.deepcopy(v["value"]) for k, v in std.items()}
    sources = {k: str(v["source"]).strip() for k, v in std.items()}
    merged = dict(spec.get("overrides") or {})
    if not isinstance(merged, dict):
        raise ParamError("overrides 应为键值映射 / overrides must be a mapping")
    merged.update(overrides or {})
    for name, value in merged.items():
        if name not in values:
            close = difflib.get_close_matches(str(name), sorted(values), n=1, cutoff=0.6)
            hint_zh = f"（是否指 {close[0]}？）" if close else ""
            hint_en = f" (did you mean {close[0]}?)" if close else ""
            raise ParamError(f"未知参数 {name}{hint_zh} / unknown parameter {name!r}{hint_en}")
        if not _type_ok(values[name], value):
            raise ParamError(
                f"参数 {name} 的类型应为 {type(values[name]).__name__}，得到 {value!r}"
                f" / parameter {name} must be {type(values[name]).__name__}, got {value!r}"
            )
        as_default_type = float(value) if isinstance(values[name], float) else value
        _check_range(name, as_default_type, std[name])
        if isinstance(values[name], dict) and not _is_year_map(values[name]):
            values[name] = {**values[name], **value}
        elif isinstance(values[name], dict):
            values[name] = {**values[name], **{int(k): v for k, v in value.items()}}
        else:
            values[name] = float(value) if isinstance(values[name], float) else value
        sources[name] = f"覆盖 override ({files[-1] if params_file else 'command line'})"
    iy = spec.get("income_year")
    if iy is not None and (not isinstance(iy, int) or isinstance(iy, bool)):
        raise ParamError(f"income_year 应为整数年份，得到 {iy!r} / income_year must be an int")
    targets = read_targets_file(targets_file)
    if targets:
        files.append(targets["file"])
    return Params(period, asof, iy, values, sources, tuple(files), targets)


def _display_path(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(PARAMS_DIR.parent))
    except ValueError:
        return str(p)
