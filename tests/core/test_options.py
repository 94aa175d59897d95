"""The shared client options are typed: a misspelt option is refused by the type checker and
at run time, naming it."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

from shiptrack_sdk import ExportoClient, LexClient, ShiplemonClient, Timeout, ValidationError
from shiptrack_sdk._core.options import DEFAULT_TOTAL, OPTION_NAMES, ClientOptions


def test_a_misspelt_option_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as info:
        ShiplemonClient(api_key="x", timout=5)  # type: ignore[call-arg]
    assert info.value.argument == "timout"
    assert "timeout" in str(info.value)  # the options it could have meant are listed


@pytest.mark.parametrize(
    "build",
    [
        lambda: ExportoClient(client_id="i", client_secret="s", max_retry=1),  # type: ignore[call-arg]
        lambda: LexClient(client_id="i", client_secret="s", verify_tls=False),  # type: ignore[call-arg]
    ],
)
def test_every_client_refuses_unknown_options(build: object) -> None:
    with pytest.raises(ValidationError):
        build()  # type: ignore[operator]


def test_a_credential_of_another_kind_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as info:
        LexClient(client_id="i", client_secret="s", api_key="k")  # type: ignore[call-arg]
    assert info.value.argument == "api_key"
    with pytest.raises(ValidationError) as info:
        ShiplemonClient(api_key="k", client_secret="s")  # type: ignore[call-arg]
    assert info.value.argument == "client_secret"


def test_the_options_are_the_documented_ones() -> None:
    assert set(ClientOptions.__annotations__) == OPTION_NAMES
    for name in OPTION_NAMES:
        assert f"``{name}``" in (ShiplemonClient.__doc__ or ""), name
        assert name in (ClientOptions.__doc__ or ""), name


def test_the_default_total_deadline_is_finite_and_documented() -> None:
    assert Timeout().total == DEFAULT_TOTAL == 60.0
    assert "total 60 s" in (ClientOptions.__doc__ or "")


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_the_type_checker_refuses_a_misspelt_option(tmp_path: Path) -> None:
    from mypy import api

    source = tmp_path / "use.py"
    source.write_text(
        textwrap.dedent(
            """
            from shiptrack_sdk import ShiplemonClient

            ShiplemonClient(api_key="x", timeout=5, max_retries=1)
            ShiplemonClient(api_key="x", timout=5)
            """
        )
    )
    out, _, status = api.run(
        ["--strict", "--no-incremental", "--follow-imports=silent", str(source)]
    )
    assert status == 1
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1, out
    assert "use.py:5:" in errors[0]
    assert '"timout"' in errors[0]
