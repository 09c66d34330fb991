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
