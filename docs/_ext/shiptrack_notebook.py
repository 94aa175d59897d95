"""``.. notebook:: path.ipynb``: execute a notebook at build time and show it with its outputs.

The notebook runs with nbclient in a fresh kernel (against the embedded sandbox, which the
notebook starts itself), so the docs show real outputs and a broken notebook breaks the build.
The executed notebook is cached by content hash in the build directory, so the HTML and doctest
builds of one CI run execute it once.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.util import logging

logger = logging.getLogger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _markdown(text: str) -> str:
    """The small Markdown subset the example notebooks use: headings, paragraphs, `code`,
    **bold**, [links](url)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        block = html.escape(block)
        block = re.sub(r"`([^`]+)`", r"<code>\1</code>", block)
        block = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", block)
        block = re.sub(r"\[([^\]]+)\]\((https?://[^)]+)\)", r'<a href="\2">\1</a>', block)
        heading = re.match(r"^(#{1,4})\s+(.*)$", block)
        if heading:
            level = min(len(heading.group(1)) + 1, 5)
            out.append(f"<h{level}>{heading.group(2)}</h{level}>")
        else:
            out.append(f"<p>{block}</p>")
    return "\n".join(out)


def _execute(path: Path, cache_dir: Path) -> Any:
    import nbformat
    from nbclient import NotebookClient

    source = path.read_bytes()
    key = hashlib.sha256(source).hexdigest()[:16]
    cached = cache_dir / f"{path.stem}-{key}.ipynb"
    if cached.exists():
        return nbformat.read(cached, as_version=4)
    notebook = nbformat.reads(source.decode(), as_version=4)
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    cache_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, cached)
    return notebook


def _output_nodes(output: Any) -> list[nodes.Node]:
    kind = output.get("output_type")
    if kind == "stream":
        text = _ANSI.sub("", output.get("text", ""))
        # Progress bars redraw with carriage returns: keep what was last drawn.
        lines = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
        text = "\n".join(line for line in lines if line.strip())
        return [nodes.literal_block(text, text, classes=["notebook-stream"])] if text else []
    if kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        if "image/png" in data:
            img = f'<img alt="plot" src="data:image/png;base64,{data["image/png"]}"/>'
            return [nodes.raw("", img, format="html")]
        if "text/html" in data:
            return [
                nodes.raw(
                    "", f'<div class="notebook-html">{data["text/html"]}</div>', format="html"
                )
            ]
        if "text/plain" in data:
            text = data["text/plain"]
            return [nodes.literal_block(text, text, classes=["notebook-output"])]
    if kind == "error":
        text = _ANSI.sub("", "\n".join(output.get("traceback", [])))
        return [nodes.literal_block(text, text)]
    return []


class NotebookDirective(Directive):
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        _, abs_path = env.relfn2path(self.arguments[0])
        path = Path(abs_path)
        env.note_dependency(str(path))
        cache_dir = Path(env.app.outdir).parent / ".notebook-cache"
        notebook = _execute(path, cache_dir)
        result: list[nodes.Node] = []
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                result.append(nodes.raw("", _markdown(cell.source), format="html"))
            elif cell.cell_type == "code":
                block = nodes.literal_block(cell.source, cell.source, language="python")
                result.append(block)
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        logger.warning("notebook %s raised: %s", path.name, output.get("ename"))
                    result.extend(_output_nodes(output))
        return result


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("notebook", NotebookDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
