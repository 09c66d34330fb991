"""``params/targets.yaml``: the plan's dated targets as data, read and validated before anything runs.

Each target (``shared/contract/targets.md``) is an entry under ``targets:`` keyed by its id
(``<family>.<name>``, the family one of :data:`FAMILIES`)::

    funds.poverty:
      plan: 二.8(1)                      # the plan's section
      sentence: 扶贫资金每月支出进度要达到：6月份50%， 9月份75%， 12月份92%。   # quoted
      measured: Σ payments … ÷ Σ issued …  # what is measured, in words
      measure: funds_poverty             # the measure function (qjlib.analyses.targets_measures)
      direction: at_least                # met when value ≥ threshold (at_most: ≤)
      checkpoints:                       # month-day of the as-of year C → threshold
        - {by: "06-30", threshold: 0.50}
        - {by: "09-30", threshold: 0.75}
      # or ``every_date: 0.01``: checked on every as-of date (no dated checkpoints)

A county edits dates and figures here without a developer. Anything wrong is a
:class:`TargetsError` naming the target and the field: an id whose family is unknown, a measure the
code does not define (the caller passes the known ones), a date that is not a day of the year
(``02-30``), a threshold of the wrong kind (a ratio outside [0, 1], a count that is not a whole
number ≥ 0), checkpoints out of order, an unknown key.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from qjlib.core.errors import QjError
from qjlib.core.params import PARAMS_DIR

TARGETS_FILE = "targets.yaml"
FAMILIES = ("visits", "funds", "loans", "housing", "relocation", "health", "posts")
"""The target families, in the dispatch sheet's order (the id's part before the dot)."""
DIRECTIONS = ("at_least", "at_most")
UNITS = ("ratio", "count")
_KEYS = {"plan", "sentence", "measured", "measure", "unit", "direction", "checkpoints", "every_date",
         "note"}
_REQUIRED = ("plan", "sentence", "measured", "measure", "direction")
_ID_RE = re.compile(r"^([a-z_]+)\.([a-z_]+)$")
_MD_RE = re.compile(r"^(\d{2})-(\d{2})$")


class TargetsError(QjError):
    """``targets.yaml`` is not a valid description of the targets (the message names where)."""


@dataclass(frozen=True)
class Checkpoint:
    """One dated step of a target: by month-day ``by`` of the as-of year, ``threshold``."""

    month: int
    day: int
    threshold: float

    @property
    def by(self) -> str:
        """The month-day as written (``06-30``)."""
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Target:
    """One target of the plan, as ``targets.yaml`` states it."""

    id: str
    family: str
    plan: str
    sentence: str
    measured: str
    measure: str
    unit: str
    direction: str
    checkpoints: tuple[Checkpoint, ...]
    every_date: float | None = None
    """The threshold checked on every as-of date (then ``checkpoints`` is empty)."""


def _err(tid: str, field: str, zh: str, en: str) -> TargetsError:
    return TargetsError(f"targets.yaml 目标 {tid} 的 {field}：{zh} / target {tid}, {field}: {en}")


def _threshold(tid: str, field: str, value: Any, unit: str) -> float:
    """A threshold checked against its unit (ratio in [0, 1], count a whole number ≥ 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _err(tid, field, f"门槛应为数字，得到 {value!r}", f"threshold must be a number, got {value!r}")
    if unit == "ratio" and not 0 <= value <= 1:
        raise _err(tid, field, f"比例门槛应在 0–1 之间，得到 {value!r}", f"ratio threshold {value!r} not in [0, 1]")
    if unit == "count" and (value < 0 or float(value) != int(value)):
        raise _err(tid, field, f"人数/户数门槛应为非负整数，得到 {value!r}",
                   f"count threshold {value!r} is not a whole number ≥ 0")
    return float(value)


def _checkpoint(tid: str, i: int, cp: Any, unit: str) -> Checkpoint:
    field = f"checkpoints[{i}]"
    if not isinstance(cp, dict) or set(cp) != {"by", "threshold"}:
        raise _err(tid, field, "应写成 {by: \"MM-DD\", threshold: 数字}", "must be {by: MM-DD, threshold: n}")
    m = _MD_RE.match(str(cp["by"]))
    try:
        if not m:
            raise ValueError
        _dt.date(2019, int(m.group(1)), int(m.group(2)))  # a day of every year (no 02-29)
    except ValueError:
        raise _err(tid, field, f"日期 {cp['by']!r} 不是 MM-DD 形式的日期",
                   f"date {cp['by']!r} is not a month-day MM-DD") from None
    return Checkpoint(int(m.group(1)), int(m.group(2)), _threshold(tid, field, cp["threshold"], unit))


def parse_target(tid: str, spec: Any, measures: Mapping[str, str] | Collection[str]) -> Target:
    """One entry of ``targets:`` validated. ``measures``: the known measure names (a mapping gives
    each one's unit, ``ratio`` or ``count``; the entry's ``unit`` must then agree or be absent)."""
    m = _ID_RE.match(str(tid))
    if not m or m.group(1) not in FAMILIES:
        raise TargetsError(f"targets.yaml 中未知的目标 {tid}（目标应为 类别.名称，类别：{'、'.join(FAMILIES)}）"
                           f" / unknown target id {tid!r} (family.name, family one of {', '.join(FAMILIES)})")
    if not isinstance(spec, dict):
        raise _err(tid, "entry", "应为键值映射", "must be a mapping")
    extra = sorted(set(spec) - _KEYS)
    if extra:
        raise _err(tid, ", ".join(extra), "未知的键", "unknown key(s)")
    for k in _REQUIRED:
        if not str(spec.get(k) or "").strip():
            raise _err(tid, k, "缺少或为空", "missing or blank")
    name = str(spec["measure"])
    if name not in measures:
        raise _err(tid, "measure", f"未定义的度量 {name}", f"unknown measure {name!r}")
    unit = str(spec.get("unit") or (measures[name] if isinstance(measures, Mapping) else "ratio"))
    if unit not in UNITS or (isinstance(measures, Mapping) and unit != measures[name]):
        raise _err(tid, "unit", f"单位 {unit!r} 不符", f"unit {unit!r} is not the measure's")
    if spec["direction"] not in DIRECTIONS:
        raise _err(tid, "direction", f"应为 {' 或 '.join(DIRECTIONS)}", f"must be one of {DIRECTIONS}")
    cps, every = spec.get("checkpoints"), spec.get("every_date")
    if (cps is None) == (every is None):
        raise _err(tid, "checkpoints", "应给出 checkpoints 或 every_date 之一", "give checkpoints or every_date")
    if every is not None:
        return Target(tid, m.group(1), str(spec["plan"]), str(spec["sentence"]).strip(),
                      str(spec["measured"]).strip(), name, unit, spec["direction"], (),
                      _threshold(tid, "every_date", every, unit))
    if not isinstance(cps, list) or not cps:
        raise _err(tid, "checkpoints", "应为非空列表", "must be a non-empty list")
    parsed = tuple(_checkpoint(tid, i, cp, unit) for i, cp in enumerate(cps))
    days = [(c.month, c.day) for c in parsed]
    if days != sorted(set(days)):
        raise _err(tid, "checkpoints", "日期应按先后排列且不重复", "dates must be increasing")
    return Target(tid, m.group(1), str(spec["plan"]), str(spec["sentence"]).strip(),
                  str(spec["measured"]).strip(), name, unit, spec["direction"], parsed)


def parse_targets(tree: Any, measures: Mapping[str, str] | Collection[str]) -> tuple[Target, ...]:
    """Every target of a parsed ``targets.yaml``, validated, in family order then file order."""
    if not isinstance(tree, dict) or set(tree) - {"targets", "note"} or not isinstance(tree.get("targets"), dict):
        raise TargetsError("targets.yaml 应为 targets: {目标: …} 映射 / targets.yaml must map targets: {id: …}")
    out = [parse_target(str(k), v, measures) for k, v in tree["targets"].items()]
    return tuple(sorted(out, key=lambda t: FAMILIES.index(t.family)))


def load_targets(measures: Mapping[str, str] | Collection[str], path: str | Path | None = None) -> tuple[Target, ...]:
    """``params/targets.yaml`` (or ``path``) read and validated (:func:`parse_targets`)."""
    p = Path(path) if path else PARAMS_DIR / TARGETS_FILE
    try:
        tree = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise TargetsError(f"无法读取目标文件 {p}: {e} / cannot read the targets file") from e
    return parse_targets(tree, measures)
