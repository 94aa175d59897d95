"""Sphinx directives that render documentation from the code's own data.

``.. status-map:: shiptrack_sdk.shiplemon.status.STATUS_MAP`` renders a provider's status
mapping table, so the docs never restate a mapping by hand; ``.. push-errors::`` renders the
push receiver's errors with the status and code each answers.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive


def _import(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _table(headers: list[str], rows: list[list[str]], *, literal_columns: int = 2) -> nodes.table:
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
        body += _row(row, literal=True, literal_columns=literal_columns)
    return table


def _row(cells: list[str], *, literal: bool, literal_columns: int = 2) -> nodes.row:
    row = nodes.row()
    for i, text in enumerate(cells):
        entry = nodes.entry()
        para = nodes.paragraph()
        para += nodes.literal(text=text) if literal and i < literal_columns else nodes.Text(text)
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


class FaultMatrixDirective(Directive):
    """Render the fault matrix (``tests/reliability/matrix.py``) as a case × outcome table.

    Endpoints whose outcomes are the same in every case share a column, so the table stays
    readable; the data is the one the fault matrix tests assert.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:
        matrix = importlib.import_module("tests.reliability.matrix")
        columns: dict[tuple[str, ...], list[str]] = {}
        for endpoint in matrix.ENDPOINTS:
            texts = tuple(
                matrix.describe(matrix.expected(case.id, endpoint.id)) for case in matrix.CASES
            )
            columns.setdefault(texts, []).append(endpoint.call)
        headers = ["case", *("; ".join(calls) for calls in columns.values())]
        rows = [
            [case.title, *(texts[i] for texts in columns)] for i, case in enumerate(matrix.CASES)
        ]
        return [_table(headers, rows, literal_columns=0)]


class ReliabilityCountsDirective(Directive):
    """Render what the reliability suite counts: cases, fuzz examples, sentinels."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        matrix = importlib.import_module("tests.reliability.matrix")
        inventory = importlib.import_module("tests.reliability.inventory")
        tests = inventory.fuzz_tests()
        rows = [
            ["fault cases", str(len(matrix.CASES))],
            ["endpoints under fault (token endpoints included)", str(len(matrix.ENDPOINTS))],
            [
                "fault matrix cells run (case × endpoint, where applicable)",
                str(len(matrix.cells())),
            ],
            ["fuzzed parsers and normalizers", str(len(inventory.FUZZ_TARGETS))],
            ["property tests", str(tests)],
            ["examples per property test in CI", f"{inventory.EXAMPLES_PER_TEST:,}"],
            ["examples in all", f"{tests * inventory.EXAMPLES_PER_TEST:,}"],
            ["secrets planted as sentinels", str(len(inventory.SENTINELS))],
        ]
        return [_table(["what", "count"], rows, literal_columns=0)]


class PushErrorsDirective(Directive):
    """Every :class:`shiptrack_sdk.lex.push.PushError` subclass: status, code, meaning."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from shiptrack_sdk.lex.push import PushError

        def walk(cls: type[PushError], depth: int) -> list[list[str]]:
            summary = " ".join((cls.__doc__ or "").split("\n\n")[0].split()).replace("``", "")
            summary = re.sub(r"^\d{3}: ", "", summary)  # the status has its own column
            summary = summary[:1].upper() + summary[1:]
            rows = [["\u2003" * depth + cls.__name__, str(cls.status), cls.code, summary]]
            for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
                rows.extend(walk(sub, depth + 1))
            return rows

        return [
            _table(["error", "status", "code", "meaning"], walk(PushError, 0), literal_columns=3)
        ]


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("status-map", StatusMapDirective)
    app.add_directive("push-errors", PushErrorsDirective)
    app.add_directive("fault-matrix", FaultMatrixDirective)
    app.add_directive("reliability-counts", ReliabilityCountsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
