"""The package cache: a pickle of a loaded :class:`~qjlib.io.package.Package` per set of inputs.

A cache file ``package-<key>.pkl`` lives under ``$QJLIB_CACHE`` (default ``~/.cache/qjlib``). Its
key is the sha256 of the source of the loading code (:data:`SOURCE_FILES`), the qjlib version,
the Python and pandas versions, the total tolerance, the as-of date and every input file's path,
sha256 and size: any change to one of them is a new key, so a stale package is never read.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import pickle
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from qjlib.io.package import Package

log = logging.getLogger(__name__)

# The code a cached package depends on, relative to the qjlib folder (a folder: its *.py files).
SOURCE_FILES = ("core/schema.py", "core/definitions.py", "io")


def cache_dir() -> Path:
    """``$QJLIB_CACHE``, else ``~/.cache/qjlib``."""
    return Path(os.environ.get("QJLIB_CACHE") or Path.home() / ".cache" / "qjlib")


def cache_path(inputs: list[dict], tol: float, as_of: _dt.date) -> Path:
    """The cache file of a package read from ``inputs`` with tolerance ``tol`` as of ``as_of``."""
    from qjlib.core.version import __version__

    h = hashlib.sha256()
    lib = Path(__file__).resolve().parents[1]
    for name in SOURCE_FILES:
        path = lib / name
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(f.relative_to(lib).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(json.dumps({"version": __version__, "tol": tol, "as_of": as_of.isoformat(),
                         "inputs": inputs,
                         "python": sys.version_info[:2], "pandas": pd.__version__},
                        sort_keys=True).encode())
    return cache_dir() / f"package-{h.hexdigest()}.pkl"


def read_cache(target: Path, root: Path) -> Package | None:
    """The cached package at ``target`` with its ``root`` set to ``root``, or None when there is
    none or it cannot be read (a stale or partial file: the package is read again)."""
    if not target.exists():
        return None
    try:
        with target.open("rb") as f:
            pkg = pickle.load(f)
        log.debug("package from cache %s", target)
        return replace(pkg, root=root)
    except Exception:  # a stale or partial cache file: read again
        log.warning("ignoring unreadable cache %s", target)
        return None


def write_cache(pkg: Package, target: Path) -> None:
    """Pickle ``pkg`` to ``target`` atomically (parallel notebook runs may race)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".package-", suffix=".tmp")
    except OSError:
        log.warning("cannot write the package cache in %s", target.parent)
        return
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(pkg, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except OSError:
        log.warning("could not write the package cache %s", target)
        Path(tmp).unlink(missing_ok=True)
