"""The committed notebooks as JupyterLab meets them: the kernelspec the kernel reports, bytes that
an open-and-save leaves alone, the parameters in sight, and outputs that look the same untrusted
(JupyterLab drops ``<style>`` and scripts from an untrusted notebook, keeps inline styles)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9]*.ipynb"))

# CSS properties that JupyterLab 4's HTML sanitizer keeps in an inline ``style`` (a subset of its
# ``allowedStyles``, packages/apputils/src/sanitizer.ts): a property not listed here would be
# dropped from an untrusted notebook.
LAB_ALLOWED_CSS = frozenset("""
align-items background background-color border border-bottom border-collapse border-color
border-left border-radius border-right border-spacing border-style border-top border-width
color display flex flex-wrap font font-family font-size font-style font-weight gap height
line-height margin margin-bottom margin-left margin-right margin-top max-width min-height
min-width overflow overflow-x padding padding-bottom padding-left padding-right padding-top
table-layout text-align text-decoration vertical-align white-space width word-break
""".split())


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernelspec_is_what_the_kernel_reports(path):
    from ipykernel.kernelspec import KERNEL_NAME, get_kernel_dict

    kernel = get_kernel_dict()
    assert _read(path).metadata["kernelspec"] == {
        "name": KERNEL_NAME, "display_name": kernel["display_name"],
        "language": kernel["language"]}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saving_as_jupyterlab_changes_nothing(path):
    """JupyterLab saves through ``nbformat.write`` (``writes`` + a final newline, indent 1)."""
    text = nbformat.writes(_read(path))
    assert (text if text.endswith("\n") else text + "\n").encode("utf-8") == path.read_bytes()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_in_sight_with_a_comment_each(path):
    nb = _read(path)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    cell = params[0]
    assert not cell.metadata.get("jupyter", {}).get("source_hidden")
    lines = [ln for ln in cell.source.splitlines() if ln.strip()]
    names = [ln.split("=")[0].strip() for ln in lines]
    dated = ["as_of"] if path.name == "80_targets.ipynb" else []  # the dispatch's date (#19)
    assert names == ["data_dir", "period", "scope", "params_file", "pii", *dated, "results_dir"]
    for ln in lines:
        comment = ln.split("  # ", 1)[1]
        assert re.search(r"[\u4e00-\u9fff]", comment) and re.search(r"[A-Za-z]{3}", comment), ln
    scope = lines[2]
    assert all(w in scope for w in ('"county"', "县", "名称", "代码", "name", "code"))
    # papermill reads every parameter (it gives up on a line with a second "=" in its comment,
    # and then warns "unknown parameter" on every run of qj report)
    from papermill.translators import PythonTranslator

    found = PythonTranslator.inspect({"source": cell.source})
    assert [x.name for x in found] == names
    title = nb.cells[0]
    assert title.cell_type == "markdown" and title.source.startswith("# ")
    assert "-p scope 折家坪镇" in title.source and "scope" in title.source


class _Elements(HTMLParser):
    """Every start tag of an HTML text: (tag, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def _declarations(style: str) -> dict[str, str]:
    pairs = [d.split(":", 1) for d in style.split(";") if d.strip()]
    return {k.strip().lower(): v.strip() for k, v in pairs}


def _html_outputs(nb: nbformat.NotebookNode) -> list[str]:
    return [out["data"]["text/html"] for c in nb.cells if c.cell_type == "code"
            for out in c.get("outputs", []) if "text/html" in out.get("data", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_look_the_same_untrusted(path):
    """No ``<style>``, no script; every inline property survives JupyterLab's sanitizer; the
    key-figure cards carry their box layout inline."""
    nb = _read(path)
    outputs = _html_outputs(nb)
    assert outputs
    cards = 0
    for text in outputs:
        text = "".join(text) if isinstance(text, list) else text
        assert "<style" not in text.lower() and "<script" not in text.lower()
        parser = _Elements()
        parser.feed(text)
        for tag, attrs in parser.found:
            assert tag not in ("style", "script", "link", "iframe")
            assert not any(k.startswith("on") for k in attrs), (tag, attrs)
            css = _declarations(attrs.get("style", ""))
            assert set(css) <= LAB_ALLOWED_CSS, (tag, set(css) - LAB_ALLOWED_CSS)
            cls = attrs.get("class", "")
            if cls == "qj-kf":
                assert css["display"] == "flex" and css["flex-wrap"] == "wrap"
            elif cls == "qj-kf-box":
                cards += 1
                assert css["display"] == "inline-block" and css["border"].startswith("1px solid")
                assert {"padding", "margin", "min-width", "border-radius"} <= set(css)
            elif tag in ("td", "th"):
                assert {"padding", "text-align"} <= set(css)
            elif tag == "table":
                assert css["border-collapse"] == "collapse"
    assert cards >= 3  # the opening key figures
