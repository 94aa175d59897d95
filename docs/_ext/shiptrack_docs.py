"""Sphinx directives that render documentation from the code's own data.

``.. status-map:: shiptrack_sdk.shiplemon.status.STATUS_MAP`` renders a provider's status
mapping table, so the docs never restate a mapping by hand; ``.. event-codes::
shiptrack_sdk.lex.forward.SUGGESTED_INOVERT_CODES`` renders a LEX event code table the same
way; ``.. push-errors::`` renders the push receiver's errors with the status and code each
answers; ``.. enum-members:: shiptrack_sdk.TrackingStatus`` renders an enum's members with
their ``#:`` comments; ``.. error-statuses::`` renders which error each HTTP status raises;
``.. retried-failures::`` renders what the retry policy retries; ``.. providers::`` renders the
registry of provider specs (every registered provider, none named here). The role
``:code-value:`shiptrack_sdk.RetryPolicy.max_retries``` writes a value (here a default) of the
code into the text.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.pycode import ModuleAnalyzer


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
    """Render a :class:`shiptrack_sdk._core.status.StatusMap` as a table."""

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
        from shiptrack_sdk.lex.tracking_validation import DEFAULT_DOCUMENT_REQUIRED_CODES

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
        return _content_fields(
            self, "event-codes: the content must be a field list (:CODE: meaning)"
        )

    def _warn(self, message: str) -> None:
        _warn(self, message)


def _warn(directive: Directive, message: str) -> None:
    """A warning at the directive (an error in a ``-W`` build)."""
    directive.state.document.reporter.warning(message, line=directive.lineno)


def _content_fields(directive: Directive, complaint: str) -> dict[str, list[nodes.Node]]:
    """The directive's content, a field list: name → the inline nodes of its body.

    No content gives ``{}``; content that holds no field list is warned about with
    ``complaint``.
    """
    if not directive.content:
        return {}
    holder = nodes.Element()
    directive.state.nested_parse(directive.content, directive.content_offset, holder)
    fields: dict[str, list[nodes.Node]] = {}
    for field in holder.findall(nodes.field):
        name, body = field.children
        paragraphs = list(body.findall(nodes.paragraph))
        fields[name.astext()] = list(paragraphs[0].children) if paragraphs else []
    if not fields:
        _warn(directive, complaint)
    return fields


def _note_source(directive: Directive, obj: Any) -> None:
    """Rebuild the page when the module defining ``obj`` changes."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    path = getattr(module, "__file__", None)
    if path:
        directive.state.document.settings.env.note_dependency(path)


def _inline(directive: Directive, text: str) -> tuple[list[nodes.Node], list[nodes.Node]]:
    """``text`` parsed as inline reStructuredText: (nodes, system messages)."""
    parsed, messages = directive.state.inline_text(text, directive.lineno)
    return list(parsed), list(messages)


def _summary(obj: Any) -> str:
    """The first paragraph of ``obj``'s docstring, on one line."""
    return " ".join((obj.__doc__ or "").strip().split("\n\n")[0].split())


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
            *([f"SIGKILLs, {what}", str(kills)] for what, kills in inventory.CRASH_TRIALS.items()),
        ]
        return [_table(["what", "count"], rows, literal_columns=0)]


#: What the push WSGI app answers beside the receiver's errors, keyed by the answer's ``error``
#: (or its ``status`` when it has no error). The status and key of each come from running the
#: app (:func:`_wsgi_answers`); a key the app answers that is missing here is a warning.
WSGI_ANSWERS = {
    "accepted": "The handler returned: the delivery's new messages (received) are processed",
    "method_not_allowed": "The request is not a POST",
    "handler_failed": "The handler raised: its claims are released, so LEX's next delivery "
    "is handled",
}


def _wsgi_answers() -> list[tuple[int, str]]:
    """(status, key) of what :class:`~shiptrack_sdk.lex.push.PushWSGIApp` answers a good
    delivery handled, a ``GET``, and a good delivery whose handler raises."""
    from shiptrack_sdk.lex import push

    body = json.dumps(
        [{"messageId": "m1", "messageType": "ITEM_MASTER", "payload": {"itemCode": "X"}}]
    ).encode()

    def fail(messages: Any) -> None:
        raise RuntimeError("the handler failed")

    answers: list[tuple[int, str]] = []
    cases: list[tuple[str, Callable[[Any], Any]]] = [
        ("POST", lambda messages: None),
        ("GET", lambda messages: None),
        ("POST", fail),
    ]
    logger = logging.getLogger("shiptrack_sdk")
    quiet, logger.disabled = logger.disabled, True  # the failing handler is logged
    try:
        for method, handler in cases:
            app = push.PushWSGIApp(push.PushReceiver(allow_unauthenticated=True), handler)
            environ = {
                "REQUEST_METHOD": method,
                "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
            }
            started: list[str] = []
            content = app(environ, lambda status, headers, started=started: started.append(status))
            answer = json.loads(b"".join(content))
            key = answer.get("error") or answer["status"]
            answers.append((int(started[0].split()[0]), key))
    finally:
        logger.disabled = quiet
    return answers


class PushErrorsDirective(Directive):
    """Every :class:`shiptrack_sdk.lex.push.PushError` subclass: status, code, meaning.

    With ``:answers:``, the WSGI app's own answers too (handled, not a POST, the handler
    failed), found by running the app: the table is then everything the app answers.
    """

    has_content = False
    option_spec = {"answers": directives.flag}

    def run(self) -> list[nodes.Node]:
        from shiptrack_sdk.lex import push
        from shiptrack_sdk.lex.push import PushError

        _note_source(self, push.PushWSGIApp)

        def walk(cls: type[PushError], depth: int) -> list[list[Cell]]:
            summary = " ".join((cls.__doc__ or "").split("\n\n")[0].split()).replace("``", "")
            summary = re.sub(r"^\d{3}: ", "", summary)  # the status has its own column
            summary = summary[:1].upper() + summary[1:]
            rows = [["\u2003" * depth + cls.__name__, str(cls.status), cls.code, summary]]
            for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
                rows.extend(walk(sub, depth + 1))
            return rows

        rows = walk(PushError, 0)
        if "answers" in self.options:
            answers = _wsgi_answers()
            for _, key in answers:
                if key not in WSGI_ANSWERS:
                    _warn(self, f"push-errors: no meaning given for the app's answer {key!r}")
            for key in set(WSGI_ANSWERS) - {key for _, key in answers}:
                _warn(self, f"push-errors: the app never answers {key!r}")
            app_rows: list[list[Cell]] = [
                [[nodes.Text("\u2014")], str(status), key, WSGI_ANSWERS.get(key, "")]
                for status, key in answers
            ]
            # a good delivery first, then the refusals, then the app's other answers
            rows = [*app_rows[:1], *rows, *app_rows[1:]]
        return [_table(["error", "status", "code", "meaning"], rows, literal_columns=3)]


class EnumMembersDirective(Directive):
    """Render an enum's members: each value and the ``#:`` comment above the member.

    ``:headers:`` names the columns, comma-separated (default ``value, meaning``). Content,
    when given, is a field list keyed by member value that adds a column::

        .. enum-members:: shiptrack_sdk.lex.tracking.SendOutcome
           :headers: Outcome, When, What to do

           :accepted: nothing

    A member without a ``#:`` comment, a member left out of the content, or a field naming
    no member is a warning (an error in a ``-W`` build), so the table cannot drift from the
    enum.
    """

    required_arguments = 1
    has_content = True
    option_spec = {"headers": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        enum_class = _import(self.arguments[0])
        _note_source(self, enum_class)
        comments = ModuleAnalyzer.for_module(enum_class.__module__).find_attr_docs()
        extra = _content_fields(
            self, "enum-members: the content must be a field list (:value: text)"
        )
        default = "value, meaning" + (", notes" if extra else "")
        headers = [h.strip() for h in self.options.get("headers", default).split(",")]
        if len(headers) != 2 + bool(extra):
            _warn(self, f"enum-members: {len(headers)} headers for {2 + bool(extra)} columns")
        rows: list[list[Cell]] = []
        messages: list[nodes.Node] = []
        values = [str(member.value) for member in enum_class]
        for member, value in zip(enum_class, values, strict=True):
            lines = comments.get((enum_class.__qualname__, member.name), [])
            if not any(line.strip() for line in lines):
                _warn(self, f"enum-members: {enum_class.__name__}.{member.name} has no #: comment")
            meaning, problems = _inline(self, " ".join(line.strip() for line in lines).strip())
            messages += problems
            row: list[Cell] = [[nodes.literal(text=value)], meaning]
            if extra:
                if value not in extra:
                    _warn(self, f"enum-members: nothing given for {value!r}")
                row.append([node.deepcopy() for node in extra.get(value, [])])
            rows.append(row)
        for name in sorted(set(extra) - set(values)):
            _warn(self, f"enum-members: {name!r} is not a value of {self.arguments[0]}")
        return [_table(headers, rows, literal_columns=0), *messages]


def _statuses(statuses: Iterable[int]) -> str:
    """``400, 422``; a run of three or more as ``405–421``; a whole hundred as ``5xx``."""
    runs: list[list[int]] = []
    for status in sorted(statuses):
        if runs and status == runs[-1][-1] + 1:
            runs[-1].append(status)
        else:
            runs.append([status])
    texts = []
    for run in runs:
        if run[0] % 100 == 0 and len(run) == 100:
            texts.append(f"{run[0] // 100}xx")
        elif len(run) >= 3:
            texts.append(f"{run[0]}\u2013{run[-1]}")
        else:
            texts.extend(str(status) for status in run)
    return ", ".join(texts)


class ErrorStatusesDirective(Directive):
    """Render which error each HTTP error status raises.

    Every status from 400 to 599 is put through
    :func:`shiptrack_sdk.errors.error_class_for_status`, the function the transport uses, and
    the statuses are grouped by the class they give; the class's docstring says more. The
    statuses no subclass takes raise :class:`~shiptrack_sdk.errors.APIError` itself.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:
        from shiptrack_sdk import errors

        _note_source(self, errors.error_class_for_status)
        groups: dict[type[errors.APIError], list[int]] = {}
        for status in range(400, 600):
            groups.setdefault(errors.error_class_for_status(status), []).append(status)
        others = groups.pop(errors.APIError, None)
        entries = [(_statuses(statuses), cls) for cls, statuses in groups.items()]
        if others:
            hundreds = {status // 100 for status in others}
            which = f"{hundreds.pop()}xx" if len(hundreds) == 1 else "error status"
            entries.append((f"any other {which}", errors.APIError))
        rows: list[list[Cell]] = []
        messages: list[nodes.Node] = []
        for statuses, cls in entries:
            link, problems = _inline(self, f":class:`~{cls.__module__}.{cls.__qualname__}`")
            summary, more = _inline(self, _summary(cls))
            messages += problems + more
            rows.append([statuses, link, summary])
        return [_table(["HTTP status", "error", "description"], rows, literal_columns=1), *messages]


class RetriedFailuresDirective(Directive):
    """Render what the default :class:`~shiptrack_sdk.RetryPolicy` retries, by method.

    The idempotent methods and the retried statuses are the transport's own
    (``IDEMPOTENT_METHODS``, the policy's default ``statuses``).
    """

    has_content = False

    #: The order methods are named in; any other idempotent method follows.
    METHOD_ORDER = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")

    def run(self) -> list[nodes.Node]:
        from shiptrack_sdk._core import options, transport

        _note_source(self, options.RetryPolicy)
        _note_source(self, transport.Transport)
        order = self.METHOD_ORDER
        methods = sorted(
            transport.IDEMPOTENT_METHODS,
            key=lambda m: (order.index(m) if m in order else len(order), m),
        )
        statuses = ", ".join(str(status) for status in sorted(options.RetryPolicy().statuses))
        not_retried: list[nodes.Node] = [
            nodes.strong(text="not"),
            nodes.Text(" retried (it may have been received)"),
        ]
        renewed = "token renewed once, request replayed once"
        rows: list[list[Cell]] = [
            ["connection could not be opened", "retried", "retried (it never left)"],
            ["connection reset, read timeout", "retried", not_retried],
            [statuses, "retried", "not retried"],
            ["other 4xx and 5xx", "raised at once", "raised at once"],
            ["401 with a cached OAuth2 token", renewed, renewed],
        ]
        headers = ["Failure", ", ".join(methods), "POST and other methods"]
        return [_table(headers, rows, literal_columns=0)]


def _auth_text(auth: Any) -> str:
    """How a spec's requests authenticate, in a few words."""
    from shiptrack_sdk._core.spec import ApiKeyAuthSpec, OAuth2AuthSpec

    if isinstance(auth, ApiKeyAuthSpec):
        return f"API key ({auth.argument}) in the {auth.header} header"
    if isinstance(auth, OAuth2AuthSpec):
        client = "HTTP Basic" if auth.client_auth == "basic" else "in the body"
        body = "JSON" if auth.body == "json" else "form-encoded"
        return f"OAuth2 client credentials ({client}, a {body} token request)"
    return "none"


class ProvidersDirective(Directive):
    """Render the registry of provider specs (:mod:`shiptrack_sdk._providers`).

    One row per registered provider, in registry order: its name, its environments (the
    default first), its environment variables' prefix, how it authenticates, what it adds to
    the command line, and its guide. The table is the registry's, so a provider added to it
    appears here without a word written.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:
        from shiptrack_sdk import _providers

        _note_source(self, _providers.all_specs)
        rows: list[list[Cell]] = []
        messages: list[nodes.Node] = []
        for spec in _providers.all_specs():
            environments = [
                f"{name} (default)" if name == spec.default_environment else name
                for name in spec.environments
            ]
            line = [*(["track"] if spec.pullable else []), *(["commands"] if spec.cli else [])]
            guide: Cell = "none"
            if spec.guide is not None:
                guide, problems = _inline(self, f":doc:`/{spec.guide}`")
                messages += problems
            rows.append(
                [
                    spec.title,
                    [nodes.literal(text=spec.name)],
                    ", ".join(environments),
                    [nodes.literal(text=f"{spec.env_prefix}_*")],
                    _auth_text(spec.auth),
                    ", ".join(line) or "none",
                    guide,
                ]
            )
        headers = [
            "provider",
            "name",
            "environments",
            "variables",
            "authentication",
            "command line",
            "guide",
        ]
        for reference in _providers.SPECS:  # rebuild when a spec changes
            path = getattr(sys.modules.get(reference.partition(":")[0]), "__file__", None)
            if path:
                self.state.document.settings.env.note_dependency(path)
        return [_table(headers, rows, literal_columns=0), *messages]


def _resolve(path: str) -> Any:
    """The object at a dotted path; an attrs class's field gives its default."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        break
    else:
        raise ImportError(f"no module in {path!r}")
    for name in parts[i:]:
        fields = attrs.fields_dict(value) if isinstance(value, type) and attrs.has(value) else {}
        if name in fields:
            value = fields[name].default
            if isinstance(value, attrs.Factory):
                value = value.factory()
        else:
            value = getattr(value, name)
    return value


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (set, frozenset, list, tuple)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return ", ".join(_format_value(item) for item in items)
    return str(value)


def code_value_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Any,
    options: dict[str, Any] | None = None,
    content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """``:code-value:`shiptrack_sdk.RetryPolicy.max_retries```: the value, as text.

    A number is written plainly (``0.5``, ``3``), a set or sequence as its items separated
    by commas (a set sorted); an attrs class's field gives its default.
    """
    try:
        value = _resolve(text.strip())
    except Exception as exc:  # any failure is the page's error
        message = inliner.reporter.error(f"code-value: cannot read {text!r}: {exc}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    module = sys.modules.get(text.strip().split(".")[0])
    if module is not None:
        inliner.document.settings.env.note_dependency(getattr(module, "__file__", "") or "")
    return [nodes.Text(_format_value(value))], []


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("status-map", StatusMapDirective)
    app.add_directive("event-codes", EventCodesDirective)
    app.add_directive("push-errors", PushErrorsDirective)
    app.add_directive("fault-matrix", FaultMatrixDirective)
    app.add_directive("reliability-counts", ReliabilityCountsDirective)
    app.add_directive("enum-members", EnumMembersDirective)
    app.add_directive("error-statuses", ErrorStatusesDirective)
    app.add_directive("retried-failures", RetriedFailuresDirective)
    app.add_directive("providers", ProvidersDirective)
    app.add_role("code-value", code_value_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
