"""A ledger's life from one quarter to the next (对账销号, ``lifecycle.md`` §3): ``qj report …
--previous DIR`` reconciles this report's work-list ledgers with the previous report's ledgers and
the towns' answers collected into it (``responses.csv``, :mod:`qjlib.report.collect`).

Generic over every ledger: a row is identified by the text of its spec's key columns
(:func:`qjlib.core.answers.key_text`) in the ledger CSVs of the two reports. For a key of this
report, with the previous report's answer to it (if any):

============  ==========================================================================
``new``       the key is not in the previous report's ledger
``open``      in both; no answer, or ``confirmed`` without a ``done`` date, or ``done``
              after this run's as-of date
``disputed``  in both; the answer was ``not_confirmed`` or ``data_error`` (a decision)
``recurred``  in both; the answer was ``confirmed`` with ``done`` on or before the as-of date
============  ==========================================================================

and for a key of the previous ledger that is gone: ``resolved`` when it was answered ``confirmed``
with a ``done`` date, else ``dropped``. Only the preceding report counts: a key resolved last
quarter that comes back now is ``new`` again. A ledger that is empty this quarter has every
previous row gone (``resolved`` / ``dropped``).

A work-list ledger of the previous report that this report did not produce at all (its analysis
was switched off — a table missing —, failed, or the ledger was renamed or removed) cannot be
reconciled: absence is not a fix. It is refused with a note like a changed definition, and its
previous rows (when it had any) are still listed among the gone rows with the status ``unreconciled`` (never
``resolved``), counted under ``unreconciled`` (not under ``previous``: the closure rate is that of
the ledgers reconciled) and named in the summary's ``not_produced`` (ledger → rows).

A ledger whose definition changed — a parameter its analysis read (recorded per ledger in the
manifest) has another value in the two manifests — is not reconciled: its status column stays
empty and a note says which parameters changed (the period, as-of date and income year do not
count: they are not parameters of the definition).

Summary (``summary.json`` section ``lifecycle``): the counts per ledger, per town and per town and
ledger, the closure rate ``resolved ÷ previous``, the refused ledgers, and ``changes``: every
numeric figure of the previous summary beside this one's, with the difference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qjlib.core.answers import STATUSES, is_worklist, key_text
from qjlib.core.errors import QjError
from qjlib.core.files import sha256_file
from qjlib.core.ledgers import LedgerSpec
from qjlib.core.params import parse_period

COUNTS = ("previous", "new", "open", "disputed", "recurred", "resolved", "dropped",
          "unreconciled")
UNRECONCILED = "unreconciled"  # a previous row of a ledger this report did not produce
NOT_PRODUCED_NOTE = ("本期未生成此台账（其分析未运行——如缺少所需的表——或运行失败，或台账已改名/删除），"
                     "上期 {n} 条未对账，不作销号 / this ledger was not produced this quarter "
                     "(analysis switched off, failed, or ledger renamed/removed): its {n} "
                     "previous rows are not reconciled, not resolved")
NOT_DEFINITION = frozenset({"period", "as_of", "income_year"})  # parameters that do not count


@dataclass
class Previous:
    """The previous report a reconciliation reads: its manifest, ledgers (as text) and answers."""

    folder: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    summary: dict[str, Any]
    ledgers: dict[str, pd.DataFrame]
    responses: pd.DataFrame | None
    responses_sha256: str | None

    def record(self, refused: Mapping[str, str]) -> dict[str, Any]:
        """What this report's manifest records of it (``qj verify`` checks the hashes)."""
        return {"folder": str(self.folder), "period": self.manifest.get("period"),
                "manifest_sha256": self.manifest_sha256,
                "responses_sha256": self.responses_sha256, "refused": dict(refused)}


@dataclass
class Reconciled:
    """The outcome of :func:`reconcile`."""

    status: dict[str, pd.Series] = field(default_factory=dict)
    """Ledger → the status code of each of its rows (aligned with its frame); refused ledgers
    have none."""
    gone: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The previous rows that are gone: ``ledger``, ``key``, ``town``, ``reason``, ``follow_up``
    (``resolved`` / ``dropped``), ``verdict``, ``done``."""
    refused: dict[str, str] = field(default_factory=dict)
    """Ledger → the note why it was not reconciled."""
    summary: dict[str, Any] = field(default_factory=dict)
    """The ``lifecycle`` section of ``summary.json``."""


def preceding_period(period: str) -> str:
    """The quarter before ``period``: ``2019Q4`` → ``2019Q3``, ``2020Q1`` → ``2019Q4``."""
    year, q, _ = parse_period(period)
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def previous_folder(option: str | None, out: Path, period: str) -> Path | None:
    """The previous report of ``--previous``: ``None`` (the option absent) → the preceding
    period's folder beside this one when it holds a manifest; ``"none"`` → no reconciliation;
    a path → that folder (an error when it holds no manifest)."""
    if option is not None and option.lower() == "none":
        return None
    if option is None:
        cand = Path(out).resolve() / preceding_period(period)
        return cand if (cand / "manifest.json").exists() else None
    folder = Path(option).resolve()
    if not (folder / "manifest.json").exists():
        raise QjError(f"上期报告目录中没有 manifest.json：{folder} / --previous: no manifest.json "
                      "in that folder")
    return folder


def _read_text_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:  # an empty ledger written without a header
        return pd.DataFrame()


def _keys(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    """:func:`key_text` of ``frame``; an empty frame (even one without the key columns) has no
    keys."""
    if frame.empty:
        return pd.Series([], index=frame.index[:0], dtype="str")
    return key_text(frame, key)


def load_previous(folder: Path, expect: Mapping[str, str] | None = None) -> Previous:
    """Read the previous report at ``folder``; with ``expect`` (a manifest's record of it), the
    manifest's and responses' sha256 must be the recorded ones (``qj verify``)."""
    mpath = folder / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise QjError(f"无法读取上期报告 {folder}：{e} / cannot read the previous report") from e
    ledgers = {}
    for name, rec in manifest.get("outputs", {}).get("ledgers", {}).items():
        p = folder / rec["file"]
        if is_worklist(name) and p.exists():
            ledgers[name] = _read_text_csv(p)
    rpath = folder / "responses.csv"
    responses = _read_text_csv(rpath) if rpath.exists() else None
    prev = Previous(folder, manifest, sha256_file(mpath), summary, ledgers, responses,
                    sha256_file(rpath) if rpath.exists() else None)
    if expect is not None:
        for what, rec_sha, now_sha in (("manifest.json", expect.get("manifest_sha256"),
                                        prev.manifest_sha256),
                                       ("responses.csv", expect.get("responses_sha256"),
                                        prev.responses_sha256)):
            if rec_sha != now_sha:
                raise QjError(f"上期报告的 {what} 已改变（sha256 不一致）：{folder / what} / the "
                              f"previous report's {what} changed since this report was made")
    return prev


def changed_parameters(name: str, prev: dict[str, Any], params_record: dict[str, Any],
                       read_now: list[str]) -> list[str]:
    """The parameters that ledger ``name``'s analysis read (in either run) whose values differ
    between the previous manifest and this run's parameter record."""
    read_prev = prev.get("outputs", {}).get("ledgers", {}).get(name, {}).get("parameters", [])
    a = prev.get("parameters", {}).get("values", {})
    b = params_record.get("values", {})
    names = sorted((set(read_now) | set(read_prev)) - NOT_DEFINITION)
    return [n for n in names if json.dumps(a.get(n), sort_keys=True, default=str)
            != json.dumps(b.get(n), sort_keys=True, default=str)]


def _answers(prev: Previous, name: str) -> pd.DataFrame:
    """The previous answers to ledger ``name`` by key: ``verdict``, ``done`` (datetime)."""
    r = prev.responses
    if r is None or r.empty:
        return pd.DataFrame({"verdict": pd.Series(dtype="str"),
                             "done": pd.Series(dtype="datetime64[ns]")})
    r = r[r["ledger"] == name].drop_duplicates("key", keep="last").set_index("key")
    return pd.DataFrame({"verdict": r["verdict"],
                         "done": pd.to_datetime(r["done"].replace("", None), errors="coerce")})


def row_status(in_prev: np.ndarray, verdict: pd.Series, done: pd.Series,
               as_of: pd.Timestamp) -> np.ndarray:
    """The status of rows of this report (module docstring): ``in_prev`` whether the key was in
    the previous ledger, ``verdict``/``done`` the previous answer (missing when none)."""
    confirmed = (verdict == "confirmed").to_numpy()
    has_done = done.notna().to_numpy()
    by_asof = (done <= as_of).fillna(False).to_numpy(dtype=bool)
    disputed = verdict.isin(["not_confirmed", "data_error"]).to_numpy()
    return np.select([~in_prev, disputed, confirmed & has_done & by_asof],
                     ["new", "disputed", "recurred"], "open")


def gone_status(verdict: pd.Series, done: pd.Series) -> np.ndarray:
    """The status of previous rows that are gone: ``resolved`` when answered ``confirmed`` with a
    ``done`` date (any), else ``dropped``."""
    ok = (verdict == "confirmed").to_numpy() & done.notna().to_numpy()
    return np.where(ok, "resolved", "dropped")


def reconcile(texts: Mapping[str, tuple[LedgerSpec, pd.DataFrame]], prev: Previous,
              as_of: pd.Timestamp, params_record: dict[str, Any],
              params_read: Mapping[str, list[str]], summary: dict[str, Any]) -> Reconciled:
    """Statuses of every work-list ledger of ``texts`` (ledger → spec and its rows as CSV text,
    in output order) against ``prev``; the gone rows; the ``lifecycle`` summary (with the
    ``changes`` of ``summary`` since the previous one)."""
    out = Reconciled()
    gone_parts = []
    counts: list[pd.DataFrame] = []
    for name, (spec, text) in texts.items():
        if not is_worklist(name):
            continue
        changed = changed_parameters(name, prev.manifest, params_record,
                                     params_read.get(name, []))
        if changed:
            out.refused[name] = (f"参数已改变，不对账：{', '.join(changed)} / parameters changed "
                                 f"between the two reports, not reconciled: {', '.join(changed)}")
            continue
        before = prev.ledgers.get(name)
        if before is None:
            before = pd.DataFrame(columns=list(text.columns))
        keys = _keys(text, spec.key)
        prev_keys = _keys(before, spec.key).reset_index(drop=True)
        before = before.reset_index(drop=True)
        ans = _answers(prev, name)
        verdict = ans["verdict"].reindex(keys.to_numpy())
        done = ans["done"].reindex(keys.to_numpy())
        st = row_status(keys.isin(set(prev_keys)).to_numpy(), verdict, done, as_of)
        out.status[name] = pd.Series(st, index=text.index)
        left = ~prev_keys.isin(set(keys)).to_numpy()
        g = before[left]
        gk = prev_keys[left]
        gv, gd = ans["verdict"].reindex(gk.to_numpy()), ans["done"].reindex(gk.to_numpy())
        gone = _gone_rows(name, g, gk, gone_status(gv, gd), gv, gd)
        gone_parts.append(gone)
        town_now = text["town"].to_numpy() if "town" in text else np.full(len(text), "")
        counts.append(pd.DataFrame({"ledger": name, "town": town_now, "status": st}))
        counts.append(pd.DataFrame({"ledger": name, "town": gone["town"].to_numpy(),
                                    "status": gone["follow_up"].to_numpy()}))
        counts.append(pd.DataFrame({"ledger": name, "town": before["town"].to_numpy()
                                    if "town" in before else np.full(len(before), ""),
                                    "status": "previous"}))
    not_produced = _not_produced(texts, prev, out.refused, gone_parts, counts)
    out.gone = (pd.concat(gone_parts, ignore_index=True) if gone_parts
                else pd.DataFrame(columns=GONE_COLUMNS))[GONE_COLUMNS]
    out.gone = out.gone.sort_values(["ledger", "key"], kind="stable").reset_index(drop=True)
    out.summary = lifecycle_summary(counts, [n for n in texts if n in out.status]
                                    + sorted(not_produced), out.refused, prev, summary)
    out.summary["not_produced"] = not_produced
    return out


GONE_COLUMNS = ["ledger", "key", "town", "reason", "follow_up", "verdict", "done"]


def _gone_rows(name: str, g: pd.DataFrame, keys: pd.Series, follow_up: np.ndarray | str,
               verdict: pd.Series, done: pd.Series) -> pd.DataFrame:
    """The previous rows ``g`` (their ``keys``) of ledger ``name`` as rows of ``gone``."""
    return pd.DataFrame({
        "ledger": name, "key": keys.to_numpy(),
        "town": g["town"].to_numpy() if "town" in g else "",
        "reason": g["reason"].to_numpy() if "reason" in g else "",
        "follow_up": follow_up,
        "verdict": verdict.fillna("").to_numpy(),
        "done": done.dt.strftime("%Y-%m-%d").fillna("").to_numpy()}, index=range(len(g)))


def _not_produced(texts: Mapping[str, Any], prev: Previous, refused: dict[str, str],
                  gone_parts: list[pd.DataFrame], counts: list[pd.DataFrame]) -> dict[str, int]:
    """The previous report's work-list ledgers that this report did not produce (module
    docstring): each refused with a note, its rows appended to ``gone_parts`` as
    ``unreconciled`` and to ``counts``; ledger → its previous rows."""
    from qjlib.analyses import load_analyses

    missing = sorted(n for n, df in prev.ledgers.items()
                     if is_worklist(n) and n not in texts and len(df))  # no rows: nothing lost
    if not missing:
        return {}
    specs = load_analyses(None).specs()
    out = {}
    for name in missing:
        before = prev.ledgers[name].reset_index(drop=True)
        key = specs[name].key if name in specs else _recorded_key(prev, name, before)
        keys = _keys(before, key).reset_index(drop=True)
        ans = _answers(prev, name)
        g = _gone_rows(name, before, keys, UNRECONCILED, ans["verdict"].reindex(keys.to_numpy()),
                       ans["done"].reindex(keys.to_numpy()))
        gone_parts.append(g)
        counts.append(pd.DataFrame({"ledger": name, "town": g["town"].to_numpy(),
                                    "status": UNRECONCILED}))
        refused[name] = NOT_PRODUCED_NOTE.format(n=len(before))
        out[name] = len(before)
    return out


def _recorded_key(prev: Previous, name: str, before: pd.DataFrame) -> tuple[str, ...]:
    """The key of a ledger this qjlib no longer knows (renamed or removed): the previous
    answers' key columns when it has any, else its first column."""
    r = prev.responses
    if r is not None and not r.empty:
        k = r.loc[r["ledger"] == name, "key"]
        if len(k):
            return tuple(part.split("=", 1)[0] for part in str(k.iloc[0]).split(","))
    return tuple(before.columns[:1])


def follow_up_items(texts: Mapping[str, tuple[LedgerSpec, pd.DataFrame]],
                    status: Mapping[str, pd.Series], prev: Previous) -> pd.DataFrame:
    """The rows that need attention (``disputed``: a decision; ``recurred``: reported fixed but
    still there), of every reconciled ledger: ``ledger``, ``title``, ``key``, ``town``,
    ``village``, ``reason``, ``follow_up`` and the town's previous answer (``verdict``,
    ``action``, ``done``, ``unit``)."""
    cols = ["ledger", "title", "key", "town", "village", "reason", "follow_up", "verdict",
            "action", "done", "unit"]
    parts = []
    for name, st in status.items():
        spec, text = texts[name]
        pick = st.isin(["disputed", "recurred"]).to_numpy()
        if not pick.any():
            continue
        t = text[pick]
        part = pd.DataFrame({"ledger": name, "title": spec.title_zh,
                             "key": key_text(t, spec.key).to_numpy(),
                             "follow_up": st[pick].to_numpy()})
        for c in ("town", "village", "reason"):
            part[c] = t[c].to_numpy() if c in t else ""
        r = prev.responses
        ans = (r[r["ledger"] == name].drop_duplicates("key", keep="last").set_index("key")
               if r is not None else pd.DataFrame())
        for c in ("verdict", "action", "done", "unit"):
            part[c] = (ans[c].reindex(part["key"]).fillna("").to_numpy() if c in ans
                       else "")
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    return out[cols].sort_values(["follow_up", "ledger", "key"], kind="stable").reset_index(
        drop=True)


def _count_block(df: pd.DataFrame) -> dict[str, Any]:
    n = df["status"].value_counts()
    block: dict[str, Any] = {c: int(n.get(c, 0)) for c in COUNTS}
    block["closure_rate"] = (block["resolved"] / block["previous"]) if block["previous"] else None
    return block


def lifecycle_summary(counts: list[pd.DataFrame], ledgers: list[str], refused: dict[str, str],
                      prev: Previous, summary: dict[str, Any]) -> dict[str, Any]:
    """The ``lifecycle`` section (module docstring)."""
    allc = (pd.concat(counts, ignore_index=True) if counts
            else pd.DataFrame(columns=["ledger", "town", "status"]))
    allc["town"] = allc["town"].fillna("").astype("str")
    by_ledger = {n: _count_block(allc[allc["ledger"] == n]) for n in ledgers}
    towns = sorted(t for t in allc["town"].unique() if t)
    return {
        "previous_period": prev.manifest.get("period"),
        "total": _count_block(allc),
        "ledgers": by_ledger,
        "towns": {t: _count_block(allc[allc["town"] == t]) for t in towns},
        "town_ledgers": {t: {n: _count_block(g) for n, g in allc[allc["town"] == t].groupby(
            "ledger", sort=True)} for t in towns},
        "refused": dict(sorted(refused.items())),
        "statuses_zh": dict(STATUSES),
        "changes": figure_changes(prev.summary, summary),
    }


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k in sorted(d):
            if prefix == "" and k == "lifecycle":
                continue
            out.update(_flat(d[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    return float(v) if np.isfinite(v) else None


def figure_changes(before: dict[str, Any], now: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every numeric figure of either summary (``lifecycle`` left out): ``previous``,
    ``current`` and ``difference`` (``None`` where a side lacks it)."""
    a, b = _flat(before), _flat(now)
    out = {}
    for k in sorted(set(a) | set(b)):
        x, y = _number(a.get(k)), _number(b.get(k))
        if x is None and y is None:
            continue
        out[k] = {"previous": x, "current": y,
                  "difference": None if x is None or y is None else y - x}
    return out
