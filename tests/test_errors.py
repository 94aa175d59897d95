"""The one error tree: classes, fields, messages, status mapping."""

from __future__ import annotations

import pytest

import shiptrack_sdk
from shiptrack_sdk import errors
from shiptrack_sdk.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServerError,
    ShiptrackError,
    TransportError,
    ValidationError,
    error_class_for_status,
)


@pytest.mark.parametrize(
    "cls",
    [
        ValidationError,
        TransportError,
        ResponseError,
        APIError,
        BadRequestError,
        AuthenticationError,
        NotFoundError,
        RateLimitError,
        ServerError,
    ],
)
def test_every_error_is_a_shiptrack_error_and_exported(cls: type[Exception]) -> None:
    assert issubclass(cls, ShiptrackError)
    assert getattr(shiptrack_sdk, cls.__name__) is cls
    assert cls.__name__ in errors.__all__


@pytest.mark.parametrize(
    "cls", [BadRequestError, AuthenticationError, NotFoundError, RateLimitError, ServerError]
)
def test_status_errors_are_api_errors(cls: type[APIError]) -> None:
    assert issubclass(cls, APIError)


def test_validation_error_is_a_value_error_naming_its_argument() -> None:
    exc = ValidationError("shipment_id", "must be a non-empty string")
    assert isinstance(exc, ValueError)
    assert exc.argument == "shipment_id"
    assert exc.problems == (("shipment_id", "must be a non-empty string"),)
    assert str(exc) == "shipment_id: must be a non-empty string"


def test_validation_error_from_problems_lists_every_problem() -> None:
    exc = ValidationError.from_problems([("history[0].status", "bad"), ("history[2].date", "x")])
    assert exc.argument == "history[0].status"
    assert exc.problems == (("history[0].status", "bad"), ("history[2].date", "x"))
    assert str(exc) == "2 problems: history[0].status: bad; history[2].date: x"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (422, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (409, APIError),
        (410, APIError),
    ],
)
def test_error_class_for_status(status: int, cls: type[APIError]) -> None:
    assert error_class_for_status(status) is cls


def test_api_error_carries_every_detail_and_says_them() -> None:
    exc = NotFoundError(
        "Shipment not found",
        provider="shiplemon",
        method="GET",
        url="https://api.shiplemon.com/public/v1/shipments/x/tracking",
        status=404,
        code="NOT_FOUND",
        request_id="req-42",
        body={"error": {"code": "NOT_FOUND"}},
        headers={"X-Request-Id": "req-42"},
        metadata={"id": "x"},
    )
    assert (exc.provider, exc.status, exc.code, exc.error_message) == (
        "shiplemon",
        404,
        "NOT_FOUND",
        "Shipment not found",
    )
    assert exc.request_id == "req-42"
    assert exc.body == {"error": {"code": "NOT_FOUND"}}
    assert exc.headers == {"X-Request-Id": "req-42"}
    assert exc.metadata == {"id": "x"}
    assert str(exc) == (
        "[shiplemon] HTTP 404 NOT_FOUND: Shipment not found [request id req-42] "
        "(GET https://api.shiplemon.com/public/v1/shipments/x/tracking)"
    )


def test_api_error_without_details_still_says_its_status() -> None:
    exc = ServerError(status=503)
    assert str(exc) == "HTTP 503"
    assert exc.code is None
    assert exc.error_message is None
    assert exc.request_id is None


def test_rate_limit_error_carries_retry_after() -> None:
    exc = RateLimitError("slow down", status=429, retry_after=12.5, provider="p")
    assert exc.retry_after == 12.5
    assert exc.status == 429
    assert "slow down" in str(exc)


def test_transport_error_says_whether_it_may_have_reached_the_server() -> None:
    assert TransportError("read timeout").may_have_reached_server is True
    never = TransportError("connection refused", may_have_reached_server=False)
    assert never.may_have_reached_server is False


def test_response_error_names_provider_endpoint_status_and_start_of_body() -> None:
    body = "<html>\n  <body>Bad   gateway</body>\n</html>" + "x" * 500
    exc = ResponseError(
        "body is not JSON",
        provider="shiplemon",
        method="GET",
        url="https://api.shiplemon.com/public/v1/shipments/1/tracking",
        status=200,
        body=body,
    )
    text = str(exc)
    assert text.startswith("[shiplemon] body is not JSON; HTTP 200; body starts '<html> <body>Bad")
    assert "GET https://api.shiplemon.com/public/v1/shipments/1/tracking" in text
    assert exc.status == 200
    # The excerpt is bounded, whitespace folded.
    assert exc.body_excerpt.startswith("<html> <body>Bad gateway</body> </html>xxx")
    assert len(exc.body_excerpt) == errors.BODY_EXCERPT + 1
    assert exc.body_excerpt.endswith("…")
