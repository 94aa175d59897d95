"""Shiplemon's ``status_exact``: only ``WITH_COURIER`` is public. Every other value the sandbox
serves is the sandbox's own, and each page that shows one says so."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from shiptrack_sdk.lex.forward import SUGGESTED_INOVERT_CODES
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon import _sandbox
from shiptrack_sdk.shiplemon._sandbox import PUBLIC_STATUS_EXACT, SANDBOX_STATUS_EXACT

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: The pages that show Shiplemon's status_exact values.
PAGES = ("guides/shiplemon.rst", "cli.rst", "guides/lex-tracking.rst")
#: How far (in lines) from a value the page must say it is the sandbox's own.
NEAR = 12
SAYS_SO = "sandbox's own"


def _served(sb: Sandbox) -> set[str]:
    """Every status_exact the sandbox answers for its seeded shipments, over HTTP."""
    app = sb.apps["shiplemon"]
    app.add_shipments(2)
    url = sb.provider_url("shiplemon")
    values: set[str] = set()
    for sid in app.shipments:
        answer = requests.get(
            f"{url}/public/v1/shipments/{sid}/tracking",
            headers={"x-api-key": app.credentials.api_key},
            timeout=5,
        )
        assert answer.status_code == 200
        values |= {h["status_exact"] for h in answer.json()["data"]["tracking_history"]}
    return values - {None}


def test_only_with_courier_is_public() -> None:
    assert frozenset({"WITH_COURIER"}) == PUBLIC_STATUS_EXACT
    assert not PUBLIC_STATUS_EXACT & SANDBOX_STATUS_EXACT
    assert {"PICKED_UP", "AT_HUB", "OUT_FOR_DELIVERY"} <= SANDBOX_STATUS_EXACT


def test_every_value_served_is_public_or_declared_the_sandboxs_own(sb: Sandbox) -> None:
    served = _served(sb)
    assert served <= PUBLIC_STATUS_EXACT | SANDBOX_STATUS_EXACT
    assert served & SANDBOX_STATUS_EXACT == SANDBOX_STATUS_EXACT  # none declared in vain


def test_the_sandbox_module_says_so() -> None:
    text = " ".join((_sandbox.__doc__ or "").split())
    assert SAYS_SO in text
    for value in SANDBOX_STATUS_EXACT:
        assert value in text


def _occurrences(lines: list[str], values: set[str]) -> list[int]:
    pattern = re.compile(r"\b(" + "|".join(sorted(values)) + r")\b")
    return [n for n, line in enumerate(lines) if pattern.search(line)]


def test_every_page_showing_a_sandbox_value_says_it_is_the_sandboxs_own() -> None:
    missing = []
    for page in PAGES:
        lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
        for n in _occurrences(lines, set(SANDBOX_STATUS_EXACT)):
            window = " ".join(lines[max(0, n - NEAR) : n + NEAR + 1])
            if SAYS_SO not in " ".join(window.split()):
                missing.append(f"{page}:{n + 1}: {lines[n].strip()}")
    assert not missing, "no 'sandbox's own' note near:\n" + "\n".join(missing)


def test_the_lex_forwarding_table_says_so_beside_it() -> None:
    # The table is generated from SUGGESTED_INOVERT_CODES, so its rows are not in the page's
    # source: the note must stand beside the directive.
    shown = {key.rpartition(":")[2] for key in SUGGESTED_INOVERT_CODES.provider_codes}
    assert shown & SANDBOX_STATUS_EXACT
    lines = (DOCS / "guides/lex-tracking.rst").read_text(encoding="utf-8").splitlines()
    (at,) = [
        n
        for n, line in enumerate(lines)
        if line.startswith(".. event-codes:: shiptrack_sdk.lex.forward.SUGGESTED_INOVERT_CODES")
    ]
    window = " ".join(" ".join(lines[max(0, at - NEAR) : at + 2 * NEAR]).split())
    assert SAYS_SO in window
    assert "WITH_COURIER" in window
