"""Sphinx directives that render documentation from the code's own data.

``.. status-map:: shiptrack_sdk.shiplemon.status.STATUS_MAP`` renders a provider's status
mapping table, so the docs never restate a mapping by hand.
"""

from __future__ import annotations

import importlib
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive


def _import(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _table(headers: list[str], rows: list[list[str]]) -> nodes.table:
    table = nodes.table()
    group = nodes.tgroup(cols=len(headers))
    table += group
    for _ in headers:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    head += _row(headers, literal=False)
    body = nodes.tbody()
    group += body
    for row in rows:
        body += _row(row, literal=True)
    return table


def _row(cells: list[str], *, literal: bool) -> nodes.row:
    row = nodes.row()
    for i, text in enumerate(cells):
        entry = nodes.entry()
        para = nodes.paragraph()
        para += nodes.literal(text=text) if literal and i < 2 else nodes.Text(text)
        entry += para
        row += entry
    return row


class StatusMapDirective(Directive):
    """Render a :class:`shiptrack_sdk._status.StatusMap` as a table."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        status_map = _import(self.arguments[0])
        rows = [
            [value, status.value, status_map.descriptions.get(value, "")]
            for value, status in status_map.items()
        ]
        rows.append(["(any other value)", "UNKNOWN", "the raw value is kept; logged once"])
        headers = [f"{status_map.provider} ``{status_map.field}``", "normalized", "meaning"]
        headers[0] = f"{status_map.provider} {status_map.field}"
        return [_table(headers, rows)]


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("status-map", StatusMapDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
