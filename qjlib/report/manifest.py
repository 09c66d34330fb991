"""The report's ``manifest.json``: what was run on what — the qjlib version and git state, the
command, the inputs with their sha256 and row accounting, the parameters, package versions, the
analyses, scopes and outputs, every notebook's status, the failures and the times."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qjlib.analyses import Analyses
from qjlib.core.context import Context
from qjlib.core.pseudonym import key_record
from qjlib.core.scopes import Scope
from qjlib.core.version import __version__
from qjlib.report.compute import jsonable

ROOT = Path(__file__).resolve().parents[2]  # the qjlib checkout (for its git state)
PACKAGES = ("pandas", "numpy", "scipy", "matplotlib", "papermill", "nbval", "nbconvert",
            "python-calamine", "xlsxwriter", "pyarrow")  # versions recorded in the manifest


def git_state(path: Path = ROOT) -> dict[str, Any]:
    """The git commit of the qjlib checkout and whether its tree has uncommitted changes."""
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True,
                               timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = None if commit is None else bool(git("status", "--porcelain", "--untracked-files=no"))
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict[str, str | None]:
    """The installed version of each of :data:`PACKAGES` (None when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for p in PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def input_records(pkg: Any) -> list[dict[str, Any]]:
    """``pkg.inputs`` with rows read/kept/rejected per file from ``pkg.accounting``."""
    acc = pkg.accounting.groupby("file", sort=True)[["read", "kept", "rejected"]].sum()
    out = []
    for rec in sorted(pkg.inputs, key=lambda r: r["path"]):
        row = acc.loc[rec["path"]] if rec["path"] in acc.index else None
        out.append({
            **rec,
            "rows_read": None if row is None else int(row["read"]),
            "rows_kept": None if row is None else int(row["kept"]),
            "rows_rejected": None if row is None else int(row["rejected"]),
        })
    return out


def now() -> str:
    """The local time now, ISO 8601 to the second, with its UTC offset."""
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def qjlib_state() -> dict[str, Any]:
    """The running qjlib: its version, git commit and whether its tree is dirty."""
    return {"version": __version__, **git_state()}


def manifest_record(*, command: Sequence[str], county_ctx: Context, data: Path, folder: Path,
                    pii: str, analyses: Analyses, scopes: Sequence[Scope],
                    outputs: dict[str, Any], notebooks: list[dict], failures: list[str],
                    started: str, seconds: dict[str, float]) -> dict[str, Any]:
    """The manifest of a report written to ``folder``, finished now."""
    pkg, params = county_ctx.pkg, county_ctx.params
    return {
        "qjlib": qjlib_state(),
        "command": list(command),
        "period": params.period,
        "as_of": params.asof.date().isoformat(),
        "income_year": county_ctx.income_year,
        "data": {"root": str(data), "relative_to_manifest": os.path.relpath(data, folder)},
        "inputs": input_records(pkg),
        "accounting": jsonable(pkg.accounting.to_dict("records")),
        "notes": list(pkg.notes),
        "parameters": params.record(),
        "pseudonym_key": key_record(data),  # issue #16: the key's fingerprint, never the key
        "pii": pii,
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "analyses": {"included": list(analyses.modules), "skipped": analyses.skipped},
        "scopes": [{"code": s.code, "name": s.name, "folder": s.folder} for s in scopes],
        "outputs": outputs,
        "notebooks": notebooks,
        "failures": failures,
        "started": started,
        "finished": now(),
        "seconds": seconds,
    }


def write_manifest(manifest: dict[str, Any], folder: Path) -> None:
    """``folder/manifest.json``: indented UTF-8 JSON, floats rounded to 6 decimals."""
    (folder / "manifest.json").write_text(
        json.dumps(jsonable(manifest, 6), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
