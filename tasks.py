#!/usr/bin/env python3
"""The two set-up commands of the README, with nothing but Python 3.11+ installed.

    python3 tasks.py report   # set up .venv, build the demo county if absent, run the 2019Q3 report
    python3 tasks.py test     # set up .venv, run the whole test suite (unit, integration, nbval)

Both create the local virtual environment `.venv/` on first use and reuse it afterwards; the
project is (re)installed into it whenever `pyproject.toml` changes, and the JupyterLab settings of
`.venv/share/jupyter/lab/settings/overrides.json` are written on every set-up. Only the standard
library is used here, so this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".qjlib-installed"
DEMO = ROOT / "data" / "demo"
PERIOD = "2019Q3"


def _say(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def _run(*args: str | Path, **kw) -> None:
    cmd = [str(a) for a in args]
    res = subprocess.run(cmd, cwd=ROOT, **kw)
    if res.returncode != 0:
        sys.exit(res.returncode)


def ensure_env() -> None:
    """Create `.venv` if needed and install the project with its dev extras when pyproject changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - run by any system python3
        sys.exit("qjlib needs Python 3.11 or newer / 需要 Python 3.11 或更高版本")
    if not PY.exists():
        _say(f"creating virtual environment {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != want:
        _say("installing qjlib and its dependencies into .venv (first run takes a few minutes)")
        _run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        _run(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(want)
    write_lab_settings(VENV)


# JupyterLab as the analyst first meets it: no pop-up asking whether to fetch Jupyter news, no
# request for news or updates to the internet, no extension manager (installing extensions is not
# part of the analyst's work, and its panel warns about untrusted extensions).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}


def write_lab_settings(venv_dir: Path = VENV) -> Path:
    """Write JupyterLab's default settings (:data:`LAB_SETTINGS`) into the environment's
    ``share/jupyter/lab/settings/overrides.json``, keeping the settings of other plugins already
    there. Idempotent: the file is rewritten only when its content would change. Returns the file."""
    path = venv_dir / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    current: dict = {}
    if path.exists():
        try:
            current = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            current = {}
        if not isinstance(current, dict):
            current = {}
    merged = dict(current)
    for plugin, values in LAB_SETTINGS.items():
        merged[plugin] = {**(current.get(plugin) or {}), **values}
    text = json.dumps(merged, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def _demo_stamp() -> str:
    """A hash of the code that writes the demo county (qjlib/demo/ and the schema)."""
    h = hashlib.sha256()
    lib = ROOT / "qjlib"
    for p in sorted((lib / "demo").glob("*.py")) + [lib / "core" / "schema.py"]:
        h.update(p.relative_to(lib).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def ensure_demo() -> None:
    """Generate the default demo county into data/demo if it is not there yet, or if the code
    that writes it changed since (the committed notebooks' outputs are those of the current
    demo county, so a stale data/demo would fail nbval)."""
    stamp_file = DEMO / ".qjlib-demo-stamp"
    stamp = _demo_stamp()
    if (DEMO / "truth.json").exists() and stamp_file.exists() and (
            stamp_file.read_text().strip() == stamp):
        return
    if DEMO.exists():
        _say(f"the demo county code changed: regenerating {DEMO.relative_to(ROOT)}")
        shutil.rmtree(DEMO)
    else:
        _say(f"generating the demo county into {DEMO.relative_to(ROOT)}")
    _run(PY, "-m", "qjlib", "demo", "--out", DEMO)
    stamp_file.write_text(stamp + "\n")


def report() -> None:
    """Set up, then run the 2019Q3 report on the demo county into reports/."""
    ensure_env()
    ensure_demo()
    out = ROOT / "reports"
    _run(PY, "-m", "qjlib", "report", DEMO, "--period", PERIOD, "--out", out)
    folder = out / PERIOD
    _say(f"report written to {folder}")
    _say(f"open {folder / '县'} for the county report, ledgers.xlsx for the towns' ledgers")


def test() -> None:
    """Set up, then run the whole test suite and nbval."""
    ensure_env()
    ensure_demo()
    env = dict(os.environ, MPLBACKEND="Agg", PYDEVD_DISABLE_FILE_VALIDATION="1")
    # Whole files to a worker (loadfile): a module's fixtures (a report run, a quarter's cycle)
    # are then built once. loadgroup's xdist_group marks are silently ignored with pytest 9.2
    # (pytest-xdist issue #1386): each report fixture was built on both workers.
    _run(PY, "-m", "pytest", "-n", "2", "--dist", "loadfile", "tests", env=env)
    _run(
        PY, "-m", "pytest", "--nbval", "notebooks",
        "--nbval-sanitize-with", "notebooks/sanitize.cfg", "-p", "no:randomly", env=env,
    )


if __name__ == "__main__":
    tasks = {"report": report, "test": test, "env": ensure_env}
    if len(sys.argv) != 2 or sys.argv[1] not in tasks:
        sys.exit("usage: python3 tasks.py report|test|env")
    tasks[sys.argv[1]]()
