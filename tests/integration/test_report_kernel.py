"""The report runner reuses one kernel per worker process; a notebook must see nothing of the one
run before it on that kernel, and number its cells from 1 as on a fresh kernel."""

from __future__ import annotations

import nbformat
import pytest

from qjlib.report import kernels


def _nb(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_reused_kernel_is_reset_between_notebooks(tmp_path):
    first = _nb(tmp_path / "a.ipynb", "leaked = 41", "import math\nprint(math.pi > 3)",
                # a reference cycle left behind: the reset must collect it (not freeze it)
                "import sys, weakref\nclass Cycle: pass\nc = Cycle(); c.me = c\n"
                "sys._qj_probe = weakref.ref(c)")
    second = _nb(tmp_path / "b.ipynb", "print('leaked' in dir(), 'math' in dir())", "1 + 1",
                 "import sys\nprint(sys._qj_probe() is None)")
    try:
        kernels.execute(first, tmp_path / "a.out.ipynb")
        km = kernels._KERNELS[("python3", str(tmp_path))]
        kc = km._qj_client
        kernels.execute(second, tmp_path / "b.out.ipynb")
        assert kernels._KERNELS[("python3", str(tmp_path))] is km  # the same kernel served both
        assert km._qj_client is kc  # through the same connected client
        out = nbformat.read(tmp_path / "b.out.ipynb", as_version=4)
        assert out.cells[0].outputs[0]["text"] == "False False\n"
        assert [c.execution_count for c in out.cells] == [1, 2, 3]
        assert out.cells[2].outputs[0]["text"] == "True\n"  # the cycle was collected
        # a failing notebook drops the kernel: the next one starts on a fresh kernel
        bad = _nb(tmp_path / "c.ipynb", "raise ValueError('planted')")
        with pytest.raises(Exception, match="planted"):
            kernels.execute(bad, tmp_path / "c.out.ipynb")
        assert ("python3", str(tmp_path)) not in kernels._KERNELS
    finally:
        kernels._drop_all_kernels()
