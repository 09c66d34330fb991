"""What a new user does, through the `qj` command as a separate process: write a demo county,
check it, report on it, verify the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def qj(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qjlib", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_demo_check_report_verify(tmp_path):
    data, out = tmp_path / "county", tmp_path / "reports"
    r = qj("demo", "--out", data, "--seed", 11, "--households", 300)
    assert r.returncode == 0, r.stderr
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))

    r = qj("check", data, "--out", tmp_path / "check")
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("数据包可用 / the package is usable")
    assert f"剔除行 rejects: {len(truth['rejects'])}" in r.stdout

    r = qj("report", data, "--period", "2019Q3", "--out", out, "--scope", "county",
           "--notebooks", "00_data_quality.ipynb", "--jobs", "1")
    assert r.returncode == 0, r.stderr
    folder = out / "2019Q3"
    assert (folder / "县" / "00_data_quality.html").exists()
    assert {p.stem for p in (folder / "ledgers").glob("*.csv")} >= {
        "rejects", "findings", "income_decline", "dividend_overdue", "helper_review"}
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["decline"]["flagged"] == len(truth["ledgers"]["income_decline"])

    r = qj("verify", folder / "manifest.json")
    assert r.returncode == 0, r.stdout + r.stderr

    # an input changed after the report: verify refuses, naming the file
    hh = next(data.glob("户信息.*"))
    hh.write_bytes(hh.read_bytes() + b"\0")
    r = qj("verify", folder / "manifest.json")
    assert r.returncode != 0
    assert hh.name in r.stdout + r.stderr
