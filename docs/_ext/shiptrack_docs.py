"""Sphinx directives that render documentation from the code's own data.

``.. status-map:: shiptrack_sdk.shiplemon.status.STATUS_MAP`` renders a provider's status
mapping table, so the docs never restate a mapping by hand; ``.. event-codes::
shiptrack_sdk.lex.forward.SUGGESTED_INOVERT_CODES`` renders a LEX event code table the same
way; ``.. push-errors::`` renders the push receiver's errors with the status and code each
answers.
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


#: A table cell: text (shown literally in the first ``literal_columns`` columns of a body row)
#: or ready-made inline nodes, shown as they are.
Cell = str | list[nodes.Node]


def _table(headers: list[str], rows: list[list[Cell]], *, literal_columns: int = 2) -> nodes.table:
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


def _row(cells: list[Cell], *, literal: bool, literal_columns: int = 2) -> nodes.row:
    row = nodes.row()
    for i, text in enumerate(cells):
        entry = nodes.entry()
        para = nodes.paragraph()
        if not isinstance(text, str):
            para.extend(text)
        elif literal and i < literal_columns:
            para += nodes.literal(text=text)
        else:
            para += nodes.Text(text)
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


def _literals(texts: list[str], suffix: str = "") -> list[nodes.Node]:
    """``a``, ``b`` then ``suffix``, as inline nodes."""
    cell: list[nodes.Node] = []
    for text in texts:
        cell += [nodes.Text(", ")] if cell else []
        cell.append(nodes.literal(text=text))
    return [*cell, nodes.Text(suffix)] if suffix else cell


class EventCodesDirective(Directive):
    """Render a :class:`shiptrack_sdk.lex.forward.EventCodeTable` as a table.

    One row per code of the table's ``statuses`` (in :class:`~shiptrack_sdk.TrackingStatus`
    order), then one per code of its ``provider_codes`` (values sharing a code share a row),
    then the statuses the table leaves out. A code whose messages the validator refuses
    without a document URL (``DEFAULT_DOCUMENT_REQUIRED_CODES``) says so.

    The table holds codes, not what they mean; the directive's content may say it, as a field
    list keyed by code (or, for a row that is not forwarded, by its key)::

        .. event-codes:: shiptrack_sdk.lex.forward.SUGGESTED_INOVERT_CODES

           :LIV: *livraison*: delivered

    With content, a row left without a meaning, or a meaning that matches no row, is a
    warning (an error in a ``-W`` build), so the two cannot drift apart.
    """

    required_arguments = 1
    has_content = True

    def run(self) -> list[nodes.Node]:
        from shiptrack_sdk import TrackingStatus
        from shiptrack_sdk.lex.tracking_models import DEFAULT_DOCUMENT_REQUIRED_CODES

        table = _import(self.arguments[0])
        meanings = self._meanings()
        # (keys, what the keys are, their code); provider values sharing a code share a row
        entries: list[tuple[list[str], str, Any]] = [
            ([status.value], "", table.statuses[status])
            for status in TrackingStatus
            if status in table.statuses
        ]
        shared: dict[Any, list[str]] = {}
        for value, code in table.provider_codes.items():
            shared.setdefault(code, []).append(value)
        for code, values in shared.items():
            entries.append(
                (values, " (provider values)" if len(values) > 1 else " (provider value)", code)
            )
        typed = any(code is not None and code.type is not None for _, _, code in entries)
        rows: list[list[Cell]] = []
        named: set[str] = set()
        for keys, what, code in entries:
            name = code.code if code is not None else keys[0]
            named.add(name)
            if meanings and name not in meanings:
                self._warn(f"event-codes: no meaning given for {name!r}")
            meaning = [node.deepcopy() for node in meanings.get(name, [])]
            if code is not None and code.code in DEFAULT_DOCUMENT_REQUIRED_CODES:
                meaning.append(nodes.Text(" (a document URL is required)"))
            row: list[Cell] = [
                _literals(keys, what),
                [nodes.literal(text=code.code)] if code is not None else "not forwarded",
            ]
            if typed:
                row.append([nodes.literal(text=code.type)] if code and code.type else "")
            rows.append([*row, meaning])
        for name in sorted(set(meanings) - named):
            self._warn(f"event-codes: {name!r} is not a code or key of {self.arguments[0]}")
        missing = [status.value for status in TrackingStatus if status not in table.statuses]
        if missing:
            rows.append(
                [
                    _literals(missing, " (not in the table)"),
                    "none",
                    *([""] if typed else []),
                    "refused: an error names every such event",
                ]
            )
        headers = ["key", "event code", *(["type"] if typed else []), "meaning"]
        return [_table(headers, rows, literal_columns=0)]

    def _meanings(self) -> dict[str, list[nodes.Node]]:
        """The content's field list: name → the inline nodes of its body."""
        if not self.content:
            return {}
        holder = nodes.Element()
        self.state.nested_parse(self.content, self.content_offset, holder)
        meanings: dict[str, list[nodes.Node]] = {}
        for field in holder.findall(nodes.field):
            name, body = field.children
            paragraphs = list(body.findall(nodes.paragraph))
            meanings[name.astext()] = list(paragraphs[0].children) if paragraphs else []
        if not meanings:
            self._warn("event-codes: the content must be a field list (:CODE: meaning)")
        return meanings

    def _warn(self, message: str) -> None:
        self.state.document.reporter.warning(message, line=self.lineno)


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
    app.add_directive("event-codes", EventCodesDirective)
    app.add_directive("push-errors", PushErrorsDirective)
    app.add_directive("fault-matrix", FaultMatrixDirective)
    app.add_directive("reliability-counts", ReliabilityCountsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
