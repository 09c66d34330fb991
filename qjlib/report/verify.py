"""``qj verify MANIFEST``: re-run the ledgers and summary from a report's recorded inputs and
parameters and compare them with the report folder, ledger by ledger and figure by figure.

The inputs must be those recorded (same files, same sha256), else verification refuses, naming
the file. A report made by another qjlib version or commit, or from a tree with uncommitted
changes, is verified with a warning.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from qjlib.analyses import load_analyses
from qjlib.core.context import Context
from qjlib.core.errors import QjError
from qjlib.core.files import sha256_file
from qjlib.core.params import Params, load_standards
from qjlib.core.pseudonym import check_same_key
from qjlib.core.scopes import all_scopes
from qjlib.io.load import load_for
from qjlib.report.compute import Results, compute
from qjlib.report.kernels import process_pool
from qjlib.report.lifecycle import Previous, load_previous
from qjlib.report.manifest import qjlib_state
from qjlib.report.outputs import write_outputs


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k in sorted(d):
            out.update(_flatten(d[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _data_root(manifest: dict, manifest_path: Path) -> Path:
    root = Path(manifest["data"]["root"])
    if root.is_dir():
        return root
    rel = (manifest_path.parent / manifest["data"].get("relative_to_manifest", "")).resolve()
    if rel.is_dir():
        return rel
    raise QjError(f"找不到清单记录的数据包目录 {root} / data package folder not found")


def check_inputs(manifest: dict, root: Path) -> None:
    """Refuse (naming the file) when a recorded input is missing or its sha256 changed."""
    for rec in manifest["inputs"]:
        p = root / rec["path"]
        if not p.exists():
            raise QjError(f"输入文件缺失：{rec['path']}（清单记录于 {root}）/ input file missing: "
                          f"{rec['path']}")
        if sha256_file(p) != rec["sha256"]:
            raise QjError(f"输入文件已改变（sha256 不一致）：{rec['path']} / input file changed since "
                          f"the report: {rec['path']}")


def verify(manifest_path: str | Path, out: TextIO | None = None, show_all: bool = False) -> bool:
    """Re-run the ledgers and summary from the manifest's inputs and parameters and compare with
    the report folder, ledger by ledger and figure by figure (printed to ``out``, default
    stdout): every ledger, every figure that differs, and per part of the summary (a module of
    the county, a module of a town) how many figures are identical; ``show_all`` lists every
    figure. True when everything is identical."""
    out = out or sys.stdout
    manifest_path = Path(manifest_path).resolve()
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise QjError(f"无法读取清单 {manifest_path}：{e} / cannot read manifest") from e
    folder = manifest_path.parent
    root = _data_root(manifest, manifest_path)
    check_inputs(manifest, root)
    check_same_key(manifest.get("pseudonym_key"), root)  # issue #16: same county key
    print(f"输入文件 {len(manifest['inputs'])} 个，sha256 全部一致 / all inputs unchanged", file=out)
    _warn_version(manifest, out)
    params = _recorded_params(manifest, out)
    prev = _recorded_previous(manifest, out)
    all_same = _check_responses(manifest, folder, out)
    res = _recompute(manifest, root, params)
    all_same &= _compare_errors(res, manifest, out)
    with tempfile.TemporaryDirectory(prefix="qj-verify-") as tmp:
        t = Path(tmp)
        write_outputs(res, t, manifest.get("pii", "masked"), params.asof, previous=prev,
                      params_record=manifest["parameters"])
        all_same &= _compare_ledgers(res, manifest, folder, t, out)
        all_same &= _compare_summary(folder / "summary.json", t / "summary.json", show_all, out)
    print("结论 result: " + ("全部一致 / all identical" if all_same else "存在不一致 / differences found"),
          file=out)
    return all_same


def _recorded_previous(manifest: dict, out: TextIO) -> Previous | None:
    """The previous report this one was reconciled with (``--previous``), its manifest and
    responses unchanged since (:func:`qjlib.report.lifecycle.load_previous`)."""
    rec = manifest.get("outputs", {}).get("previous")
    if rec is None:
        return None
    prev = load_previous(Path(rec["folder"]), expect=rec)
    print(f"上期报告 {rec['folder']}：清单与答复 sha256 一致 / the previous report's manifest and "
          "responses unchanged", file=out)
    return prev


def _check_responses(manifest: dict, folder: Path, out: TextIO) -> bool:
    """The towns' answers collected into this report (``qj collect``): ``responses.csv`` and
    its rejects must have their recorded sha256 (answers are not results, but they are inputs
    of the next quarter's reconciliation)."""
    rec = manifest.get("responses")
    if rec is None:
        return True
    ok = True
    for f in ("responses.csv", "responses_rejects.csv"):
        p = folder / f
        same = p.exists() and sha256_file(p) == rec.get("outputs", {}).get(f)
        ok &= same
        print(f"  {'=' if same else '≠'} {f}: " + ("与 qj collect 记录一致 / as collected" if same
              else "与 qj collect 记录不一致（被改动或缺失）/ changed or missing since qj collect"),
              file=out)
    return ok


def _recorded_params(manifest: dict, out: TextIO) -> Params:
    """The run's parameters as its manifest records them. A parameter this qjlib reads that the
    record lacks (added to ``params/standards.yaml`` after the report was made) takes today's
    standard value — it did not exist then, so the code it now governs held that value — and
    each such parameter is named in a warning."""
    params = Params.from_record(manifest["parameters"])
    added = {k: v for k, v in load_standards().items() if k not in params.values}
    for name, spec in sorted(added.items()):
        params.values[name] = spec["value"]
        params.sources[name] = spec.get("source", "")
        print(f"警告 warning: 清单未记录参数 {name}，按现行标准 {spec['value']!r} 复算 / parameter "
              f"{name} not recorded in the manifest (added later): today's standard used", file=out)
    return params


def _warn_version(manifest: dict, out: TextIO) -> None:
    """Warn when another qjlib version or commit made the report, or the tree is dirty now."""
    rec_q = manifest.get("qjlib", {})
    now_q = qjlib_state()
    if rec_q.get("version") != now_q["version"] or rec_q.get("commit") != now_q["commit"]:
        print(f"警告 warning: qjlib {rec_q.get('version')} @ {rec_q.get('commit')} 生成报告，现为 "
              f"{now_q['version']} @ {now_q['commit']} / the report was made by another qjlib "
              "version or commit", file=out)
    if now_q.get("dirty"):
        print("警告 warning: 当前 qjlib 工作区有未提交的修改 / the qjlib tree has uncommitted "
              "changes", file=out)


def _recompute(manifest: dict, root: Path, params: Params) -> Results:
    """The ledgers and summary of the recorded analyses, from the package at ``root``; refuses
    when the package holds files the manifest does not record."""
    pkg = load_for(root, params)
    recorded = {r["path"] for r in manifest["inputs"]}
    extra = sorted({r["path"] for r in pkg.inputs} - recorded)
    if extra:
        raise QjError(f"数据包中有清单未记录的文件：{', '.join(extra)} / files not in the manifest")
    analyses = load_analyses(manifest.get("analyses", {}).get("included"))
    n_jobs = os.cpu_count() or 1
    with process_pool(n_jobs) as pool:
        return compute(Context(pkg, params), analyses, all_scopes(pkg),
                       pool if n_jobs > 1 else None, n_jobs)


def _compare_errors(res: Results, manifest: dict, out: TextIO) -> bool:
    """Each analysis error of the re-run: the same as recorded (=) or new (≠)."""
    recorded_errors = {f.removeprefix("分析 analysis: ") for f in manifest.get("failures", [])}
    all_same = True
    for e in res.errors:
        same = e in recorded_errors
        all_same &= same
        print(f"{'=' if same else '≠'} 出错 error: {e}"
              f"{'（报告生成时同样出错 / as in the recorded run）' if same else ''}", file=out)
    return all_same


def _compare_ledgers(res: Results, manifest: dict, folder: Path, rebuilt: Path,
                     out: TextIO) -> bool:
    """Every ledger CSV, ``ledgers.xlsx`` and the towns' workbooks (listed when they differ)
    rebuilt in ``rebuilt`` against the report's."""
    recorded_ledgers = manifest["outputs"]["ledgers"]
    all_same = True
    print("台账 ledgers:", file=out)
    for name in sorted(set(recorded_ledgers) | set(res.ledgers)):
        new = rebuilt / "ledgers" / f"{name}.csv"
        if name not in recorded_ledgers or not new.exists():
            print(f"  ≠ {name}: {'新增 new' if name not in recorded_ledgers else '缺失 missing'}"
                  " / different", file=out)
            all_same = False
            continue
        old = folder / "ledgers" / f"{name}.csv"
        same, why = _same_file(old, new, recorded_ledgers[name]["sha256"])
        all_same &= same
        print(f"  {'=' if same else '≠'} {name}: {'一致 identical' if same else '不一致 different'}"
              f"{why}", file=out)
    same, why = _same_file(folder / "ledgers.xlsx", rebuilt / "ledgers.xlsx",
                           manifest["outputs"]["ledgers.xlsx"])
    print(f"  {'=' if same else '≠'} ledgers.xlsx: {'一致 identical' if same else '不一致 different'}"
          f"{why}", file=out)
    for rec in manifest["outputs"].get("towns", {}).values():
        new = rebuilt / rec["file"]
        ok, why = (_same_file(folder / rec["file"], new, rec["sha256"]) if new.exists()
                   else (False, "（复算未生成 / not rebuilt）"))
        same &= ok
        if not ok:
            print(f"  ≠ {rec['file']}: 不一致 different{why}", file=out)
    return all_same and same


def _compare_summary(old_path: Path, new_path: Path, show_all: bool, out: TextIO) -> bool:
    """Every figure of the rebuilt ``summary.json`` against the report's: the differences (all
    figures with ``show_all``), then per part how many are identical."""
    if not old_path.exists():
        print("  ≠ summary.json: 报告目录中缺失 / missing from the report folder", file=out)
        return False
    a = _flatten(json.loads(old_path.read_text(encoding="utf-8")))
    b = _flatten(json.loads(new_path.read_text(encoding="utf-8")))
    print("汇总数字 figures (summary.json):", file=out)
    n_same = 0
    parts: dict[str, list[int]] = {}
    for k in sorted(set(a) | set(b), key=lambda k: (_figure_part(k), k)):
        same = k in a and k in b and a[k] == b[k]
        n_same += same
        count = parts.setdefault(_figure_part(k), [0, 0])
        count[0] += same
        count[1] += 1
        if same and show_all:
            print(f"  = {k}: {json.dumps(a[k], ensure_ascii=False)}", file=out)
        elif not same:
            print(f"  ≠ {k}: 报告 {json.dumps(a.get(k, '(无)'), ensure_ascii=False)} → "
                  f"复算 {json.dumps(b.get(k, '(无)'), ensure_ascii=False)}", file=out)
    if not show_all:
        for part, (ok, n) in parts.items():
            print(f"  {'=' if ok == n else '≠'} {part}: {ok}/{n} 项一致 identical", file=out)
    total = len(set(a) | set(b))
    print(f"  {n_same}/{total} 项一致 identical", file=out)
    return n_same == total


def _figure_part(key: str) -> str:
    """The part of summary.json a flattened figure belongs to: ``income`` for ``income.shares.wage``,
    ``towns.T1a2b3c.income`` for a town's, ``总览 header`` for the top-level values (period…)."""
    parts = key.split(".")
    if len(parts) == 1:
        return "总览 header"
    return ".".join(parts[:3] if parts[0] == "towns" else parts[:1])


def _same_file(old: Path, new: Path, recorded_sha: str) -> tuple[bool, str]:
    """Compare the rebuilt file with the report's copy (or, when that is gone, its recorded hash)."""
    new_sha = sha256_file(new)
    if old.exists():
        if old.read_bytes() == new.read_bytes():
            return True, ""
        if sha256_file(old) != recorded_sha:
            return False, "（报告中的文件在生成后被改动 / the report's file was edited after the run）"
        return False, ""
    return new_sha == recorded_sha, "（按清单 sha256 比对 / compared with the recorded sha256）"
