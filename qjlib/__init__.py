"""qjlib — analysis and audit suite of the Qingjian County poverty-alleviation office.

Typical use in JupyterLab::

    import qjlib
    pkg = qjlib.load_package("data/demo")      # tables, rejects, findings, accounting
    pkg["households"].head()
"""

from __future__ import annotations

from qjlib.core.version import __version__

__all__ = ["__version__", "load_package", "load_params"]


def __getattr__(name: str):  # lazy: `import qjlib` stays cheap for the CLI
    if name == "load_package":
        from qjlib.io.load import load_package

        return load_package
    if name == "load_params":
        from qjlib.core.params import load_params

        return load_params
    raise AttributeError(name)
