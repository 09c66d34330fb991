"""The HTML page of an executed notebook: self-contained, code and prompts hidden, charts with
their titles as alternative text."""

from __future__ import annotations

import functools
import html as _html
import re
from pathlib import Path
from typing import Any


@functools.lru_cache(maxsize=1)
def _html_exporter() -> Any:
    """One HTML exporter per process (its templates load once): code and prompts hidden."""
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True, embed_images=True)


def export_html(nb_path: Path, html_path: Path, title: str) -> None:
    """A self-contained HTML page of an executed notebook: code hidden, prompts hidden, images
    embedded, no scripts from the internet (the notebooks need no MathJax or widgets)."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    heading = next((line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                    for line in c.source.splitlines() if line.startswith("# ")), None)
    nb.metadata["title"] = f"{title} · {heading}" if heading else title
    body, _ = _html_exporter().from_notebook_node(nb)
    body = _image_alts(nb, body)
    body = re.sub(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>\s*', "", body)
    body = re.sub(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>\s*', "", body,
                  flags=re.DOTALL)
    body = re.sub(r"<html([^>]*)\blang=\"[^\"]*\"", r'<html\1lang="zh-CN"', body, count=1)
    html_path.write_text(body, encoding="utf-8")


_NO_ALT = 'alt="No description has been provided for this image"'


def _image_alts(nb: Any, body: str) -> str:
    """Give each PNG output of the page its chart title as alternative text (the ``alt`` that
    :func:`qjlib.pages.plotting.show` puts in the output's metadata), in place of nbconvert's English
    placeholder; images without one get ``图表 chart``."""
    alts = [out.get("metadata", {}).get("image/png", {}).get("alt") or "图表 chart"
            for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    parts = body.split(_NO_ALT)
    if len(parts) - 1 != len(alts):  # not the outputs we know: leave the page as it is
        return body
    out = [parts[0]]
    for alt, rest in zip(alts, parts[1:], strict=True):
        out.append(f'alt="{_html.escape(alt, quote=True)}"')
        out.append(rest)
    return "".join(out)
