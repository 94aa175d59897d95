"""One rule for what a LEX send's failure means, said the same by the code and by every page.

A 4xx answer is a refusal: the batch (or message) *failed*, nothing of it was stored, it is
safe to send again. A 5xx answer, or no answer at all, may come after the server stored some
or all of it: *in doubt*. (A token endpoint's 5xx is another matter: then nothing was sent,
and the batch failed.) The code applies the rule (checked here over real HTTP against the
sandbox); the guides, the reliability page and the docstrings and comments of the sending
modules must not say that a 5xx is a failure — as the tracking guide once did ("4xx, 500 and
503 answers are failures").
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from shiptrack_sdk.lex import Carrier, Party, SendOutcome, ShipmentEvent, TrackingMessage
from shiptrack_sdk.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "shiptrack_sdk"

#: The pages, or their sections, about sending to LEX (the push receiver's own answers, in the
#: orders guide, follow other rules).
PAGES = {
    "guides/lex-tracking.rst": None,
    "guides/lex-orders.rst": ("Posting a message", "Receiving pushes"),
    "reliability.rst": None,
}
#: The modules that send, whose docstrings and comments state the rule.
MODULES = ("lex/tracking.py", "lex/orders.py", "lex/journal.py", "lex/tracking_models.py")

_SERVER_ERROR = re.compile(r"\b5(?:xx|\d\d)\b", re.IGNORECASE)
_FAILURE = re.compile(r"\bfail(?:s|ed|ure|ures)?\b", re.IGNORECASE)
_DOUBT = re.compile(r"\bdoubt", re.IGNORECASE)
# A token endpoint's 5xx does fail the batch (it was never sent): clauses about it are right.
_TOKEN = re.compile(r"\btoken", re.IGNORECASE)


def clauses(text: str) -> Iterator[str]:
    """The clauses of prose ``text``: sentences, cut again at semicolons."""
    flat = " ".join(text.split())
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z*`(])", flat):
        yield from (part.strip() for part in sentence.split(";") if part.strip())


def calls_a_5xx_a_failure(clause: str) -> bool:
    """Whether ``clause`` says a 5xx answer is a failure (and not that it is in doubt)."""
    return bool(
        _SERVER_ERROR.search(clause)
        and _FAILURE.search(clause)
        and not _DOUBT.search(clause)
        and not _TOKEN.search(clause)
    )


def rst_prose(text: str) -> str:
    """``text`` without its code: doctest and literal blocks, directives' bodies."""
    kept: list[str] = []
    block_indent: int | None = None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        stripped = line.strip()
        if stripped.startswith(".. ") or stripped.endswith("::"):
            block_indent = indent
            if stripped.startswith(".. "):
                continue
            line = line.rstrip(":")
        if stripped.startswith((">>>", "...")):
            continue
        kept.append(line)
    return "\n".join(kept)


def section(text: str, start: str, stop: str) -> str:
    return text[text.index(start) : text.index(stop)]


def python_prose(source: str) -> str:
    """The docstrings and comments of ``source``, one paragraph each."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node)
            if docstring:
                found.append(docstring)
    comments: list[str] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments.append(token.string.lstrip("#:").strip())
        elif comments and token.type not in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
            found.append(" ".join(comments))  # a run of comment lines ends at code
            comments = []
    return "\n\n".join(found)


def texts() -> Iterator[tuple[str, str]]:
    for name, bounds in PAGES.items():
        text = (DOCS / name).read_text(encoding="utf-8")
        if bounds is not None:
            text = section(text, *bounds)
        yield name, rst_prose(text)
    for name in MODULES:
        yield f"shiptrack_sdk/{name}", python_prose((PACKAGE / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("where", "text"), [pytest.param(*t, id=t[0]) for t in texts()])
def test_no_page_or_docstring_says_a_5xx_is_a_failure(where: str, text: str) -> None:
    wrong = [clause for clause in clauses(text) if calls_a_5xx_a_failure(clause)]
    assert wrong == [], f"{where} says a 5xx is a failure (it is in doubt): {wrong}"


def test_the_tracking_guide_states_the_rule() -> None:
    guide = (DOCS / "guides/lex-tracking.rst").read_text(encoding="utf-8")
    silent = rst_prose(section(guide, "Where the documentation is silent", "**After a failure**"))
    rule = [c for c in clauses(silent) if _SERVER_ERROR.search(c)]
    assert rule, "the guide's 'Where the documentation is silent' no longer states the rule"
    assert all(_DOUBT.search(clause) for clause in rule), rule


@pytest.mark.parametrize(
    "wrong",
    [
        # What the tracking guide said before: the code has always said in doubt.
        "A read timeout or a reset is in doubt (the request may have been stored); 4xx, 500 "
        "and 503 answers are failures, as Michelin said no.",
        "A 5xx answer means the batch failed.",
        "Every 502 fails the batch.",
    ],
)
def test_the_check_finds_a_5xx_called_a_failure(wrong: str) -> None:
    assert any(calls_a_5xx_a_failure(clause) for clause in clauses(wrong))


@pytest.mark.parametrize(
    "right",
    [
        "A 4xx answer is a failure, as Michelin said no; every 5xx answer is in doubt.",
        "A token endpoint's 503, after its retries, fails the batch: it was never sent.",
        "A 500 is raised at once.",
    ],
)
def test_the_check_lets_the_rule_through(right: str) -> None:
    assert not any(calls_a_5xx_a_failure(clause) for clause in clauses(right))


# -- the code's rule, over real HTTP ------------------------------------------------------------

T0 = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (500, SendOutcome.IN_DOUBT),
        (502, SendOutcome.IN_DOUBT),
        (503, SendOutcome.IN_DOUBT),
        (504, SendOutcome.IN_DOUBT),
        (400, SendOutcome.FAILED),
        (404, SendOutcome.FAILED),
        (409, SendOutcome.FAILED),
        (422, SendOutcome.FAILED),
    ],
)
def test_a_5xx_is_in_doubt_and_a_4xx_failed(sb: Sandbox, status: int, outcome: SendOutcome) -> None:
    sb.fault("/lex/lex-shipmenttracking-v1/*", method="POST", status=status, times=None)
    message = TrackingMessage(
        event=ShipmentEvent("AAR", "R00001", T0), carrier=Carrier(id="C"), sender=Party(id="S")
    )
    report = sb.lex_client(max_retries=0).tracking.send([message])
    assert [batch.outcome for batch in report.batches] == [outcome]
    assert report.batches[0].status == status
    assert len(report.safe_to_resend()) == (1 if outcome is SendOutcome.FAILED else 0)
