"""The exporto guide says what exporto's public sources say, and cites them where it uses them."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "exporto.rst"

HELP_CENTER = {
    "Retrieving tracking data": (
        "https://support.exporto.de/hc/en-gb/articles/25318771497885-Retrieving-tracking-data"
    ),
    "Connection with transmission of the daily closing": (
        "https://support.exporto.de/hc/en-gb/articles/"
        "25318122249757-Connection-with-transmission-of-the-daily-closing"
    ),
    "Customer settings": (
        "https://support.exporto.de/hc/en-gb/articles/29619225355677-Customer-settings"
    ),
}


def _text() -> str:
    return " ".join(GUIDE.read_text(encoding="utf-8").split())


def test_the_help_center_pages_are_cited() -> None:
    text = _text()
    for title, url in HELP_CENTER.items():
        assert f".. _{title}: {url}" in text
        # ...and referred to where their facts are used, not only listed.
        assert text.count(f"`{title}`_") >= 1, title


def test_client_id_and_secret_are_the_api_users_username_and_password() -> None:
    text = _text()
    assert re.search(r"``client_id`` and ``client_secret`` are the \*\*username and password", text)
    assert "API user" in text


def test_no_default_scope_is_claimed() -> None:
    text = _text()
    assert "grants its default" not in text
    assert "exporto documents no default scope" in text


def test_the_processed_status_fallback_is_said() -> None:
    text = _text()
    assert "``processedAt`` is public only as a search filter" in text
    assert "falls back to ``status``" in text
