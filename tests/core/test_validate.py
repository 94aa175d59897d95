"""The validators: each rule, its edge cases, and properties over any input."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiptrack_sdk._core import validate
from shiptrack_sdk.errors import ValidationError

#: Something a message must never quote.
SECRET = "s3cr3t-VALUE"


def problem(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """The ``(argument, message)`` of the ValidationError ``call`` raises."""
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    assert len(info.value.problems) == 1
    return info.value.problems[0]


def attempt(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, ValidationError | None]:
    """What ``call`` returns, or the ValidationError it raises (any other exception escapes)."""
    try:
        return call(*args, **kwargs), None
    except ValidationError as exc:
        return None, exc


# -- header_value -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "Bearer x.y-z", "a\tb", "caf\xe9", "x "])
def test_header_value_accepts(value: str) -> None:
    assert validate.header_value("api_key", value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must be a non-empty string"),
        (None, "must be a non-empty string"),
        (b"abc", "must be a non-empty string"),
        (f"{SECRET}\r\nX-Injected: 1", "must not contain CR, LF or NUL characters"),
        (f"{SECRET}\n", "must not contain CR, LF or NUL characters"),
        (f"{SECRET}\0", "must not contain CR, LF or NUL characters"),
        (f"{SECRET}\x01", "must not contain control characters"),
        (f"{SECRET}\x7f", "must not contain control characters"),
        (f" {SECRET}", "must not start with whitespace"),
        (f"\t{SECRET}", "must not start with whitespace"),
        (
            f"{SECRET}\u20ac",
            "must contain only Latin-1 characters (an HTTP header cannot carry others)",
        ),
        (
            f"{SECRET}\ud800",
            "must contain only Latin-1 characters (an HTTP header cannot carry others)",
        ),
    ],
)
def test_header_value_refuses_without_quoting(value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate.header_value("api_key", value)
    assert info.value.problems == (("api_key", message),)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


# -- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", "two words", "line\nnext\r\n", "tab\there", "\u20ac 😀"])
def test_text_accepts(value: str) -> None:
    assert validate.text("name", value) == value


def test_text_empty_only_when_allowed() -> None:
    assert problem(validate.text, "name", "") == ("name", "must not be empty")
    assert problem(validate.text, "name", " \t") == ("name", "must not be empty")
    assert validate.text("name", "", empty=True) == ""


def test_text_max_length() -> None:
    assert validate.text("name", "abc", max_length=3) == "abc"
    assert problem(validate.text, "name", "abcd", max_length=3) == (
        "name",
        "is 4 characters long; at most 3",
    )


@pytest.mark.parametrize("value", ["a\x00", "a\x1b[31m", "\x7f", "a\x0bb", "a\x0cb"])
def test_text_refuses_controls(value: str) -> None:
    assert problem(validate.text, "name", value) == ("name", "must not contain control characters")


@pytest.mark.parametrize("value", ["a\tb", "a\nb", "a\rb", "a\x00"])
def test_single_line_text_refuses_tab_and_line_breaks_too(value: str) -> None:
    assert problem(validate.text, "code", value, single_line=True) == (
        "code",
        "must not contain control characters",
    )


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb", "\ud83d\ude00"])
def test_text_refuses_surrogates(value: str) -> None:
    argument, message = problem(validate.text, "name", value)
    assert argument == "name"
    assert "lone surrogates" in message


def test_text_refuses_non_strings() -> None:
    assert problem(validate.text, "name", 3) == ("name", "must be a string, got int")
    assert problem(validate.text, "name", None) == ("name", "must be a string, got NoneType")


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_any_str_passes_text_or_raises_validation_error(value: str) -> None:
    checked, error = attempt(validate.text, "name", value, empty=True)
    if error is not None:
        assert error.argument == "name"
        str(error).encode("utf-8")  # the message itself always encodes
    else:
        assert checked is value
        checked.encode("utf-8")


# -- no_surrogates ----------------------------------------------------------------------------


def test_no_surrogates_returns_the_value() -> None:
    body = {"a": [1, 2.5, None, True, "x"], "b": {"c": ("d",)}, 3: "e"}
    assert validate.no_surrogates("body", body) is body


@pytest.mark.parametrize(
    ("value", "argument"),
    [
        ("\ud800", "body"),
        ({"name": "\ud800"}, "body.name"),
        ({"items": [{"a": "ok"}, {"a": "x\udc00"}]}, "body.items[1].a"),
        ({"a key": "\ud800"}, "body['a key']"),
        ({7: "\ud800"}, "body[7]"),
        (("ok", "\ud800"), "body[1]"),
    ],
)
def test_no_surrogates_names_the_place(value: Any, argument: str) -> None:
    assert problem(validate.no_surrogates, "body", value)[0] == argument


def test_no_surrogates_in_a_key() -> None:
    with pytest.raises(ValidationError) as info:
        validate.no_surrogates("body", {"outer": {"\ud800": 1}})
    assert info.value.argument == "body.outer"
    str(info.value).encode("utf-8")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_no_surrogates_passes_or_raises_validation_error(value: Any) -> None:
    _, error = attempt(validate.no_surrogates, "body", value)
    if error is not None:
        str(error).encode("utf-8")
    else:
        json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8")


# -- duration ---------------------------------------------------------------------------------


def test_duration() -> None:
    assert validate.duration("every", timedelta(minutes=5)) == timedelta(minutes=5)
    assert validate.duration("every", timedelta(0), zero=True) == timedelta(0)
    for value, zero, problem in (
        (timedelta(0), False, "must be positive"),
        (timedelta(seconds=-1), False, "must be positive"),
        (timedelta(seconds=-1), True, "must not be negative"),
        (300, True, "expected a timedelta, got int"),
    ):
        with pytest.raises(ValidationError) as info:
            validate.duration("every", value, zero=zero)
        assert info.value.argument == "every"
        assert info.value.problems[0][1] == problem


# -- int_in_range -----------------------------------------------------------------------------


def test_int_in_range() -> None:
    assert validate.int_in_range("port", 0, 0, 65535) == 0
    assert validate.int_in_range("port", 65535, 0, 65535) == 65535
    assert validate.int_in_range("retries", 10**30, 0, None) == 10**30
    assert problem(validate.int_in_range, "port", 65536, 0, 65535) == (
        "port",
        "must be an integer from 0 to 65535, got 65536",
    )
    assert problem(validate.int_in_range, "retries", -1, 0, None) == (
        "retries",
        "must be an integer >= 0, got -1",
    )


@pytest.mark.parametrize("value", [True, False, 1.0, "1", None])
def test_int_in_range_refuses_non_integers(value: Any) -> None:
    argument, message = problem(validate.int_in_range, "port", value, 0, 65535)
    assert argument == "port"
    assert message == f"must be an integer from 0 to 65535, got {type(value).__name__}"


@given(st.integers(), st.integers(), st.integers())
def test_int_in_range_property(value: int, low: int, high: int) -> None:
    checked, error = attempt(validate.int_in_range, "n", value, low, high)
    if error is not None:
        assert not low <= value <= high
    else:
        assert low <= checked <= high
        assert checked == value


# -- seconds ----------------------------------------------------------------------------------


def test_seconds_accepts() -> None:
    assert validate.seconds("timeout", 5) == 5.0
    assert isinstance(validate.seconds("timeout", 5), float)
    assert validate.seconds("timeout", 0.001) == 0.001
    assert validate.seconds("delay", 0, zero=True) == 0.0
    assert validate.seconds("wait", math.inf, infinite=True) == math.inf


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (0, {}, "must be a finite number of seconds > 0, got 0.0"),
        (-1, {}, "must be a finite number of seconds > 0, got -1.0"),
        (math.nan, {}, "must be a finite number of seconds > 0, got nan"),
        (math.inf, {}, "must be a finite number of seconds > 0, got inf"),
        (10**400, {}, "must be a finite number of seconds > 0, got inf"),
        (-math.inf, {"zero": True}, "must be a finite number of seconds >= 0, got -inf"),
        (-0.5, {"zero": True}, "must be a finite number of seconds >= 0, got -0.5"),
        (math.nan, {"infinite": True}, "must be a number of seconds > 0, got nan"),
        (True, {}, "must be a finite number of seconds > 0, got bool"),
        ("5", {}, "must be a finite number of seconds > 0, got str"),
        (None, {"zero": True}, "must be a finite number of seconds >= 0, got NoneType"),
    ],
)
def test_seconds_refuses(value: Any, kwargs: dict[str, bool], message: str) -> None:
    assert problem(validate.seconds, "timeout", value, **kwargs) == ("timeout", message)


@given(
    st.one_of(st.floats(), st.integers(), st.booleans(), st.none(), st.text()),
    st.booleans(),
    st.booleans(),
)
def test_seconds_is_finite_and_positive_or_refused(value: Any, zero: bool, infinite: bool) -> None:
    number, error = attempt(validate.seconds, "timeout", value, zero=zero, infinite=infinite)
    if error is not None:
        assert error.argument == "timeout"
    else:
        assert isinstance(number, float)
        assert not math.isnan(number)
        assert number > 0 or (zero and number == 0)
        assert infinite or math.isfinite(number)


# -- aware_utc --------------------------------------------------------------------------------


def test_aware_utc_converts() -> None:
    paris = timezone(timedelta(hours=2))
    converted = validate.aware_utc("since", datetime(2024, 5, 1, 12, 0, tzinfo=paris))
    assert converted == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert converted.tzinfo is timezone.utc


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:30:00+14:00", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+00:01"]
)
def test_aware_utc_out_of_range_in_utc(value: str) -> None:
    assert problem(validate.aware_utc, "since", datetime.fromisoformat(value)) == (
        "since",
        "is out of range once converted to UTC (years 1 to 9999)",
    )


def test_aware_utc_refuses_naive_and_non_datetimes() -> None:
    assert problem(validate.aware_utc, "since", datetime(2024, 1, 1)) == (
        "since",
        "must be time-zone aware (e.g. datetime(..., tzinfo=timezone.utc))",
    )
    assert problem(validate.aware_utc, "since", date(2024, 1, 1)) == (
        "since",
        "expected a datetime, got date",
    )
    assert problem(validate.aware_utc, "since", "2024-01-01T00:00Z") == (
        "since",
        "expected a datetime, got str",
    )


class _BrokenZone(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=30)  # beyond what datetime allows: ValueError

    def tzname(self, dt: datetime | None) -> str:
        return "broken"

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


class _NaiveZone(tzinfo):
    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None


def test_aware_utc_with_a_broken_or_naive_time_zone() -> None:
    argument, message = problem(
        validate.aware_utc, "since", datetime(2024, 1, 1, tzinfo=_BrokenZone())
    )
    assert argument == "since"
    assert "utcoffset() fails" in message
    assert problem(validate.aware_utc, "since", datetime(2024, 1, 1, tzinfo=_NaiveZone()))[1] == (
        "must be time-zone aware (e.g. datetime(..., tzinfo=timezone.utc))"
    )


@given(
    st.datetimes(
        timezones=st.builds(
            timezone,
            st.timedeltas(
                min_value=timedelta(hours=-23, minutes=-59),
                max_value=timedelta(hours=23, minutes=59),
            ),
        )
    )
)
@settings(max_examples=300, deadline=None)
def test_any_aware_datetime_converts_or_raises_validation_error(value: datetime) -> None:
    converted, error = attempt(validate.aware_utc, "since", value)
    if error is not None:
        assert error.argument == "since"
    else:
        assert converted == value
        assert converted.utcoffset() == timedelta(0)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_aware_datetimes_away_from_the_ends_always_convert(value: datetime) -> None:
    zone = timezone(timedelta(hours=14))
    assert validate.aware_utc("since", value.replace(tzinfo=zone)) == value.replace(tzinfo=zone)


# -- path_segment -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("SHP-1", "SHP-1"),
        ("../x", "..%2Fx"),
        ("a/b?c#d", "a%2Fb%3Fc%23d"),
        ("a b", "a%20b"),
        ("caf\xe9", "caf%C3%A9"),
        ("%2e%2e", "%252e%252e"),
        (42, "42"),
        (-3, "-3"),
        ("...", "..."),
    ],
)
def test_path_segment_encodes(value: Any, encoded: str) -> None:
    assert validate.path_segment("shipment_id", value) == encoded


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must be a non-empty string"),
        ("  ", "must be a non-empty string"),
        (None, "must be a non-empty string"),
        (True, "must be a non-empty string"),
        (1.5, "must be a non-empty string"),
        (".", "'.' is not an id"),
        ("..", "'..' is not an id"),
        ("a\nb", "must not contain control characters"),
        ("a\x7f", "must not contain control characters"),
        ("\ud800", "must not contain lone surrogates (U+D800 to U+DFFF are not text)"),
    ],
)
def test_path_segment_refuses(value: Any, message: str) -> None:
    assert problem(validate.path_segment, "shipment_id", value) == ("shipment_id", message)


@given(st.one_of(st.text(), st.integers()))
@settings(max_examples=300, deadline=None)
def test_path_segment_round_trips(value: str | int) -> None:
    encoded, error = attempt(validate.path_segment, "shipment_id", value)
    if error is not None:
        assert error.argument == "shipment_id"
    else:
        assert "/" not in encoded
        assert encoded.isascii()
        assert unquote(encoded) == str(value)
        assert encoded not in (".", "..")


# -- http_url ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["https://api.example.com", "http://127.0.0.1:8080/v1/?a=b", "HTTPS://x.example/caf\xe9"],
)
def test_http_url_accepts(value: str) -> None:
    assert validate.http_url("base_url", value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "must be an http(s) URL, got NoneType"),
        (f"ftp://host/?token={SECRET}", "is not an absolute http(s) URL (http://host/...)"),
        (f"host/?token={SECRET}", "is not an absolute http(s) URL (http://host/...)"),
        (f"https:///path?token={SECRET}", "is not an absolute http(s) URL (http://host/...)"),
        (
            f"https://host/?token={SECRET} x",
            "must be a URL without spaces or control characters",
        ),
        (
            f"https://host/?token={SECRET}\n",
            "must be a URL without spaces or control characters",
        ),
        (f"https://host:99999/?token={SECRET}", "is not a valid URL (check the host and port)"),
        (f"https://[::1/?token={SECRET}", "is not a valid URL (check the host and port)"),
        (
            f"https://host/?token={SECRET}\udc80",
            "must not contain lone surrogates (U+D800 to U+DFFF are not text)",
        ),
    ],
)
def test_http_url_refuses_without_quoting(value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate.http_url("base_url", value)
    assert info.value.problems == (("base_url", message),)
    assert SECRET not in str(info.value)


# -- route ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["lex-orders/v1/messages", "/v1/tour/{}", "https://other.example/v1/x?a=b"]
)
def test_route_accepts(value: str) -> None:
    assert validate.route("path", value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "must be a non-empty path"),
        ("", "must be a non-empty path"),
        ("  ", "must be a non-empty path"),
        ("v1/a b", "must not contain spaces or control characters"),
        ("v1/a\n", "must not contain spaces or control characters"),
        ("v1/\ud800", "must not contain lone surrogates (U+D800 to U+DFFF are not text)"),
        (f"https://host:99999/?token={SECRET}", "is not a valid URL (check the host and port)"),
    ],
)
def test_route_refuses(value: Any, message: str) -> None:
    assert problem(validate.route, "path", value) == ("path", message)


@given(st.text(), st.integers(min_value=0, max_value=12), st.booleans())
def test_is_text_is_a_sure_yes_of_text(value: str, max_length: int, empty: bool) -> None:
    # The shortcut many checks take: when it says yes, text() takes the value; when text()
    # refuses it, the shortcut never said yes.
    try:
        validate.text("v", value, max_length=max_length, empty=empty, single_line=True)
    except ValidationError:
        assert not validate.is_text(value, max_length, empty=empty)
    else:
        if validate.is_text(value, max_length, empty=empty):
            assert validate.text("v", value, max_length=max_length, empty=empty) == value


def test_is_text_says_no_to_what_is_not_one_plain_line() -> None:
    assert validate.is_text("Madrid Coslada", 20)
    assert not validate.is_text("", 20)
    assert not validate.is_text(" \u3000", 20)
    assert not validate.is_text("a\tb", 20)  # text() may take a TAB: it looks closer
    assert not validate.is_text("abc", 2)
    assert not validate.is_text(b"abc", 20)
