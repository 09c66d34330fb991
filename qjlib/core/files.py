"""Files as bytes: the one file hasher (inputs recorded in a package and in a run's manifest)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20  # read 1 MiB at a time: a file of any size hashes in constant memory


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of the file's bytes as 64 lowercase hex digits, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bytes(path: str | Path, data: bytes) -> str:
    """Write ``data`` to ``path``; returns its SHA-256 (as :func:`sha256_file` would)."""
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()
