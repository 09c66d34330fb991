"""The JupyterLab settings that the set-up command (``python3 tasks.py``) writes into the venv."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tasks():
    spec = importlib.util.spec_from_file_location("qj_tasks", ROOT / "tasks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_lab_settings_turn_off_news_and_are_idempotent(tmp_path):
    tasks = _tasks()
    path = tasks.write_lab_settings(tmp_path)
    assert path == tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings = json.loads(path.read_text(encoding="utf-8"))
    note = settings["@jupyterlab/apputils-extension:notification"]
    assert note["fetchNews"] == "false" and note["checkForUpdates"] is False
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    assert tasks.write_lab_settings(tmp_path) == path
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime  # not rewritten


def test_lab_settings_keep_other_plugins_settings(tmp_path):
    tasks = _tasks()
    path = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({
        "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "true",
                                                         "doNotDisturbMode": True},
    }), encoding="utf-8")
    settings = json.loads(tasks.write_lab_settings(tmp_path).read_text(encoding="utf-8"))
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert settings["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}


def test_set_up_writes_the_lab_settings(tmp_path, monkeypatch):
    tasks = _tasks()
    calls: list = []
    monkeypatch.setattr(tasks, "write_lab_settings", calls.append)
    monkeypatch.setattr(tasks, "PY", tmp_path / "python")  # pretend the venv exists
    (tmp_path / "python").touch()
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    monkeypatch.setattr(tasks, "STAMP", tmp_path / "stamp")
    (tmp_path / "stamp").write_text(want)
    tasks.ensure_env()
    assert calls == [tasks.VENV]
