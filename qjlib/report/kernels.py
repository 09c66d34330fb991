"""Running notebooks: one reset kernel per worker process, a papermill engine that keeps its kernel
client, :func:`execute`, and the batch (:func:`run_notebooks`) on a pool of spawned processes.

A failing notebook is kept with its error marked (papermill writes it) and the batch goes on; each
executed notebook is exported to a self-contained HTML page (:mod:`qjlib.report.html`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qjlib.core.errors import QjError
from qjlib.core.scopes import Scope
from qjlib.report.html import export_html

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"  # the committed report notebooks


@dataclass(frozen=True)
class NotebookJob:
    """One notebook to run for one scope."""

    notebook: Path
    """The notebook to execute (it is not modified)."""
    scope: Scope
    """The scope it is run for (its name titles the HTML page)."""
    output: Path
    """The executed ``.ipynb`` (the ``.html`` is written beside it)."""
    parameters: dict[str, Any]
    """Papermill parameters: ``data_dir``, ``period``, ``scope`` (a code), ``pii``…"""


def notebooks_dir(path: str | Path | None = None) -> Path:
    """``path``, else env ``QJ_NOTEBOOKS``, else the repository's ``notebooks/``."""
    return Path(path or os.environ.get("QJ_NOTEBOOKS") or NOTEBOOKS_DIR)


def list_notebooks(folder: Path, only: Sequence[str] | None = None) -> list[Path]:
    """The folder's notebooks, sorted by file name; ``only`` selects by name (``.ipynb`` optional)."""
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not only:
        return found
    by = {p.name: p for p in found} | {p.stem: p for p in found}
    missing = [n for n in only if n not in by]
    if missing:
        raise QjError(f"找不到笔记本 {', '.join(missing)}（可选：{', '.join(p.name for p in found)}）"
                      f" / notebook(s) not found: {', '.join(missing)}")
    return sorted({by[n] for n in only})


# One kernel per worker process, reused from notebook to notebook: a fresh kernel costs the
# interpreter start plus the imports of pandas, matplotlib and qjlib (about 2 s) for every one of
# the batch's notebooks. Before each notebook the kernel's namespace, history and execution count
# are reset (``InteractiveShell.reset(new_session=True)``), so a notebook sees nothing of the one
# before; after a failure the kernel is replaced. After the reset the garbage of the notebook is
# collected, and what is still alive (modules, the package read once, font caches) is frozen out
# of the cyclic garbage collector (``gc.freeze``), so that neither the next reset nor the
# collections during the next notebook traverse it again (a full collection of it costs 85 ms).
_KERNELS: dict[tuple[str, str], Any] = {}


def _reset_kernel(kc: Any, timeout: float = 60) -> None:
    reply = kc.execute_interactive(
        "get_ipython().reset(new_session=True, aggressive=False)\n"
        "import gc as _gc; _gc.collect(); _gc.freeze(); del _gc",
        store_history=False, silent=True, timeout=timeout)
    if reply["content"].get("status") != "ok":
        raise RuntimeError("kernel reset failed")


def _shared_kernel(kernel: str, cwd: Path) -> tuple[Any, Any]:
    """This process's kernel for ``kernel`` (started on first use, in ``cwd``), reset, and its
    client. The client stays connected from notebook to notebook: a new client's
    ``wait_for_ready`` costs 0.2 s or more of idle waiting on the IOPub channel each time."""
    key = (kernel, str(cwd))
    km = _KERNELS.get(key)
    if km is not None and km.is_alive():
        try:
            _reset_kernel(km._qj_client)
            return km, km._qj_client
        except Exception:  # noqa: BLE001 - a kernel that cannot reset is replaced
            _drop_kernel(key)
    sockets = Path(tempfile.mkdtemp(prefix="qj-kernel-"))
    km = _kernel_manager(kernel, sockets)
    km.start_kernel(cwd=str(cwd), extra_arguments=["--HistoryManager.enabled=False"])
    km._qj_sockets = sockets  # removed with the kernel
    _KERNELS[key] = km
    if len(_KERNELS) == 1:
        atexit.register(_drop_all_kernels)
    kc = km.client()
    kc.start_channels()
    km._qj_client = kc
    kc.wait_for_ready(timeout=60)
    return km, kc


_ENGINE = "qj-kept-client"


def _register_engine() -> None:
    """Register with papermill an nbclient engine that runs on the kernel client it is given
    (``kc=``) instead of connecting a new one: nbclient would otherwise connect a client with
    the kernel manager's session identity for every notebook, which leaves the kernel's replies
    to whichever socket connected last."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.exceptions import PapermillException
    from papermill.log import logger

    try:
        papermill_engines.get_engine(_ENGINE)
        return
    except PapermillException:
        pass

    class KeptClientEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None,
                                     start_timeout: int = 60, execution_timeout: Any = None,
                                     kc: Any = None, **kwargs: Any) -> Any:
            """nbclient's execution of the managed notebook, on the client ``kc`` when given."""
            for k in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(k, None)
            client = PapermillNotebookClient(
                nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
            if kc is not None:
                kc.allow_stdin = False  # as nbclient sets on the clients it connects
                client.kc = kc
            return client.execute()

    papermill_engines.register(_ENGINE, KeptClientEngine)


def _drop_kernel(key: tuple[str, str]) -> None:
    km = _KERNELS.pop(key, None)
    if km is None:
        return
    try:
        kc = getattr(km, "_qj_client", None)
        if kc is not None:
            kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    finally:
        shutil.rmtree(getattr(km, "_qj_sockets", ""), ignore_errors=True)


def _drop_all_kernels() -> None:
    for key in list(_KERNELS):
        _drop_kernel(key)


def execute(notebook: Path, output: Path, parameters: dict[str, Any] | None = None,
            kernel: str = "python3", timeout: int | None = 1800, reuse: bool = True) -> None:
    """Execute ``notebook`` into ``output`` with papermill (cwd = the notebook's folder), on a
    kernel reached through private Unix sockets where the OS has them; raises what papermill
    raises (the output then holds the notebook with its error marked). With ``reuse`` the
    process's kernel is reset and reused (see ``_shared_kernel``); otherwise a kernel is started
    for this notebook alone."""
    import papermill as pm

    if reuse:
        _register_engine()
        km, kc = _shared_kernel(kernel, notebook.parent)
        try:
            pm.execute_notebook(
                str(notebook), str(output), parameters=parameters or None, kernel_name=kernel,
                engine_name=_ENGINE, km=km, kc=kc, cwd=str(notebook.parent), progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False, execution_timeout=timeout,
            )
        except BaseException:
            _drop_kernel((kernel, str(notebook.parent)))  # the next notebook gets a fresh one
            raise
        return
    with tempfile.TemporaryDirectory(prefix="qj-kernel-") as sockets:
        km = _kernel_manager(kernel, Path(sockets))
        try:
            pm.execute_notebook(
                str(notebook), str(output), parameters=parameters or None, kernel_name=kernel,
                km=km, cwd=str(notebook.parent), progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, execution_timeout=timeout,
            )
        finally:  # a kernel manager passed in is not shut down by papermill
            if km.has_kernel:
                km.shutdown_kernel(now=True)


def run_notebook(job: NotebookJob, kernel: str = "python3", timeout: int = 1800,
                 reuse: bool = True) -> dict[str, Any]:
    """Execute one notebook with papermill and export its HTML; never raises. ``reuse``: run it
    on this process's reset kernel (see ``_shared_kernel``) rather than a kernel of its own."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    t0 = time.perf_counter()
    status, error = "ok", None
    job.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        execute(job.notebook, job.output, job.parameters, kernel, timeout, reuse=reuse)
    except Exception as e:  # noqa: BLE001 - the batch goes on; papermill keeps the notebook
        status, error = "failed", _short_error(e)
    if job.output.exists():
        try:
            export_html(job.output, job.output.with_suffix(".html"), job.scope.name)
        except Exception as e:  # noqa: BLE001
            status = "failed"
            error = (error + "; " if error else "") + f"HTML: {_short_error(e)}"
    return {"notebook": job.notebook.name, "scope": job.scope.code, "scope_name": job.scope.name,
            "ipynb": None, "status": status, "error": error,
            "seconds": round(time.perf_counter() - t0, 2)}


def _kernel_manager(kernel: str, sockets: Path) -> Any:
    """A kernel manager talking to the kernel over private Unix sockets (in ``sockets``) where
    the OS has them, else over local TCP."""
    from jupyter_client.manager import KernelManager

    if os.name == "posix":
        return KernelManager(kernel_name=kernel, transport="ipc", ip=str(sockets / "kernel"))
    return KernelManager(kernel_name=kernel)  # pragma: no cover - Windows


def _short_error(e: BaseException) -> str:
    name = getattr(e, "ename", None) or type(e).__name__
    value = getattr(e, "evalue", None) or str(e).strip().splitlines()[-1:] or [""]
    value = value if isinstance(value, str) else value[0]
    return f"{name}: {value}"[:500]


def process_pool(n_jobs: int) -> ProcessPoolExecutor:
    """Worker processes for the towns' figures and the notebooks (spawned: no fork of a process
    holding Arrow threads)."""
    import multiprocessing as mp

    return ProcessPoolExecutor(max_workers=max(1, n_jobs), mp_context=mp.get_context("spawn"))


def run_notebooks(jobs: Sequence[NotebookJob], n_jobs: int, progress: bool = True,
                  pool: ProcessPoolExecutor | None = None,
                  while_waiting: Callable[[], None] | None = None,
                  reuse_kernels: bool = True) -> list[dict]:
    """Execute the jobs on ``n_jobs`` worker processes (or ``pool``), with a progress bar;
    results in job order. ``while_waiting`` runs in a thread of this process once the jobs are
    submitted (the bar moves meanwhile; what it raises is raised here once the jobs are done).
    ``reuse_kernels=False`` starts a kernel per notebook (papermill's own way)."""
    from tqdm import tqdm

    if not jobs:
        if while_waiting is not None:
            while_waiting()
        return []
    results: dict[int, dict] = {}
    own = pool is None
    pool = pool or process_pool(n_jobs)
    bar = None
    try:
        futures = {pool.submit(run_notebook, j, reuse=reuse_kernels): i
                   for i, j in enumerate(jobs)}
        with ThreadPoolExecutor(max_workers=1) as side:
            waited = side.submit(while_waiting) if while_waiting is not None else None
            bar = tqdm(total=len(jobs), desc="笔记本 notebooks", unit="nb",
                       disable=not progress, file=sys.stderr, dynamic_ncols=True)
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                r = results[i]
                bar.set_postfix_str(f"{r['scope_name']}/{r['notebook']} {r['status']}")
                bar.update(1)
            if waited is not None:
                waited.result()
    finally:
        if bar is not None:
            bar.close()
        if own:
            pool.shutdown()
    return [results[i] for i in range(len(jobs))]
