"""Keys that survive from quarter to quarter (``shared/contract/departments.md``): the keyed
pseudonym ``person_key`` of a person outside the register.

``person_key`` = the first 16 lower-case hex characters of HMAC-SHA256(county key, normalised
``id_number``): the key is the UTF-8 bytes of the key string exactly as given, the message the
18-character ID (upper-case ``X``) as UTF-8. A plain hash of an ID number can be reversed by
trying every ID, so it is never used.

The county key (:func:`county_key`): the environment variable ``QJ_PSEUDONYM_KEY``, else the file
``.qj-key`` beside the data package (created on first use when asked, with a note saying so; it
never enters git). The manifest records :func:`key_fingerprint`, never the key. The demo county
ships its own fixed key (:data:`DEMO_KEY`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from qjlib.core.errors import QjError

ENV_VAR = "QJ_PSEUDONYM_KEY"
KEY_FILE = ".qj-key"
DEMO_KEY = "qjlib-demo-county-610830"
"""The demo county's fixed pseudonymisation key (written as its ``.qj-key``)."""


def person_key(id_numbers: pd.Series, key: str) -> pd.Series:
    """``person_key`` of each ID number: HMAC-SHA256(UTF-8 ``key``, UTF-8 ID), first 16 hex
    characters. IDs are normalised (stripped, ``x`` → ``X``); NA stays NA. Each distinct ID is
    hashed once."""
    if not key:
        raise QjError("假名化密钥为空 / the pseudonymisation key is empty")
    k = key.encode("utf-8")
    s = pd.Series(id_numbers, copy=False).astype("str").str.strip().str.upper()
    uniq = s.dropna().unique()
    mapping = {u: hmac.new(k, u.encode("utf-8"), hashlib.sha256).hexdigest()[:16] for u in uniq}
    return s.map(mapping).astype("str").rename("person_key")


def key_fingerprint(key: str) -> str:
    """What the manifest records of the key: the first 16 hex characters of SHA-256 of
    ``"qj-key-fingerprint:" + key`` (UTF-8) — it names the key without revealing it."""
    return hashlib.sha256(("qj-key-fingerprint:" + key).encode("utf-8")).hexdigest()[:16]


def county_key(package: str | Path, *, create: bool = False) -> tuple[str, str | None]:
    """The county's key and a note: ``QJ_PSEUDONYM_KEY`` when set (note None), else the text of
    ``<package>/.qj-key`` (stripped of its line end). With ``create=True`` a missing file is made
    with a new random key and the note says so; otherwise a missing key is a :class:`QjError`."""
    env = os.environ.get(ENV_VAR)
    if env:
        return env, None
    path = Path(package) / KEY_FILE
    if path.is_file():
        key = path.read_text(encoding="utf-8").rstrip("\r\n")
        if key:
            return key, None
    if not create:
        raise QjError(f"没有假名化密钥：请设置环境变量 {ENV_VAR} 或在数据包中放置 {KEY_FILE} / no "
                      f"pseudonymisation key: set {ENV_VAR} or put {KEY_FILE} beside the data")
    key = secrets.token_hex(32)
    path.write_text(key + "\n", encoding="utf-8")
    return key, (f"已在 {path} 新建假名化密钥（请妥善保管，勿提交到 git）/ created the pseudonymisation "
                 f"key {path} (keep it; never commit it)")


def needs_key(pkg) -> bool:
    """Whether the package ``pkg`` holds a department table (the rows that may name persons
    outside the register, keyed by ``person_key``)."""
    from qjlib.core.tables_departments import TABLES

    return any(pkg.has(t.name) for t in TABLES)


def prepare_key(pkg) -> str | None:
    """Before a run on ``pkg`` (``qj report``): when it needs a key (:func:`needs_key`) and none is
    set — no ``QJ_PSEUDONYM_KEY``, no ``.qj-key`` beside the data — create ``.qj-key`` with a new
    random key (first use) and return the note saying so; else None."""
    if not needs_key(pkg):
        return None
    return county_key(pkg.root, create=True)[1]


def key_record(package: str | Path) -> dict[str, str] | None:
    """What the manifest records of the county key: ``{"source": "env" | ".qj-key",
    "fingerprint": …}`` (:func:`key_fingerprint`; never the key), None when there is none."""
    try:
        key, _ = county_key(package)
    except QjError:
        return None
    return {"source": "env" if os.environ.get(ENV_VAR) else KEY_FILE, "fingerprint": key_fingerprint(key)}


def check_same_key(recorded: dict[str, str] | None, package: str | Path) -> None:
    """``qj verify``: refuse (:class:`QjError`) when the report recorded a key fingerprint and the
    key now found for ``package`` is missing or has another fingerprint (``person_key`` would
    differ on every row of a person outside the register)."""
    if not recorded or not recorded.get("fingerprint"):
        return
    now = key_record(package)
    if now is None or now["fingerprint"] != recorded["fingerprint"]:
        found = "无密钥 none" if now is None else now["fingerprint"]
        raise QjError(f"假名化密钥与报告生成时不同（记录指纹 {recorded['fingerprint']}，现为 {found}）：请使用同一"
                      f"密钥（{ENV_VAR} 或 {KEY_FILE}）/ the pseudonymisation key differs from the report's "
                      f"(fingerprint {recorded['fingerprint']} recorded, {found} now): use the same key")
