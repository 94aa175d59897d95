"""Checks of caller input, each rule written once.

Every function takes the name of the argument it checks first, returns the value (converted
where said) and raises :class:`~shiptrack_sdk.errors.ValidationError` naming that argument.
No builtin exception (``OverflowError``, ``UnicodeEncodeError``...) escapes: what would fail
later, at encoding or sending time, is refused here, before anything is sent.

Messages never quote a value that may be a credential (a header value) or carry one (a URL,
whose query may hold a signature or a token).

The character rules, side by side:

=================  ==========================================  ===========================
function           refuses                                     because
=================  ==========================================  ===========================
header_value       CR, LF, NUL, other C0 controls and DEL       a header line cannot carry
                   (TAB allowed), leading whitespace, anything  them; ``http.client``
                   beyond Latin-1                               encodes Latin-1
text               C0 controls and DEL (TAB, LF, CR allowed     not printable; not
                   unless ``single_line``), lone surrogates     encodable as UTF-8
path_segment       C0 controls, DEL, lone surrogates,           a path segment; ``/`` and
                   ``.`` and ``..``                             the rest are percent-encoded
http_url           spaces, C0 controls, DEL, lone surrogates    ``http.client`` refuses them
=================  ==========================================  ===========================
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TypeGuard, TypeVar
from urllib.parse import quote, urlsplit

from ..errors import ValidationError

__all__ = [
    "ValidationError",  # re-exported: what every check raises
    "aware_utc",
    "header_value",
    "http_url",
    "int_in_range",
    "is_text",
    "no_surrogates",
    "path_segment",
    "route",
    "seconds",
    "text",
]

T = TypeVar("T")

# The rules as regexes: the regex engine scans a string far faster than a loop over its
# characters, and these run on every id, code and reference of every call.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEADER_BREAK = re.compile(r"[\r\n\x00]")
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NOT_LATIN1 = re.compile(r"[^\x00-\xff]")
_URL_FORBIDDEN = re.compile(r"[\s\x00-\x20\x7f]")  # \s: any Unicode space too
# In a Python str every surrogate code point is unpaired: a pair written as two escapes
# stays two code points, and neither encodes as UTF-8.
_SURROGATE = re.compile(r"[\ud800-\udfff]")

_CONTROL_MESSAGE = "must not contain control characters"
_SURROGATE_MESSAGE = "must not contain lone surrogates (U+D800 to U+DFFF are not text)"
_AWARE_MESSAGE = "must be time-zone aware (e.g. datetime(..., tzinfo=timezone.utc))"


def header_value(argument: str, value: object) -> str:
    """``value`` if it can go into an HTTP header.

    Raises:
        ValidationError: not a non-empty string; holds CR, LF, NUL or another control
            character (TAB is allowed); starts with whitespace; or holds a character beyond
            Latin-1. The message never quotes the value: it is often a credential.
    """
    if not isinstance(value, str) or not value:
        raise ValidationError(argument, "must be a non-empty string")
    if _HEADER_BREAK.search(value):
        raise ValidationError(argument, "must not contain CR, LF or NUL characters")
    if _HEADER_CONTROL.search(value):
        raise ValidationError(argument, _CONTROL_MESSAGE)
    # requests refuses such a value while sending, quoting it in the message.
    if value[0].isspace():
        raise ValidationError(argument, "must not start with whitespace")
    # http.client encodes header values as Latin-1; anything else fails at the first request
    # with a UnicodeEncodeError that quotes the whole value. Checked without encoding, so no
    # such exception (and no value) is ever chained to the error.
    if _NOT_LATIN1.search(value):
        raise ValidationError(
            argument, "must contain only Latin-1 characters (an HTTP header cannot carry others)"
        )
    return value


def text(
    argument: str,
    value: object,
    *,
    empty: bool = False,
    max_length: int | None = None,
    single_line: bool = False,
) -> str:
    """``value`` if it is text: a string without control characters or lone surrogates.

    Args:
        argument: The name the error gives.
        value: What to check.
        empty: Whether an empty (or all-whitespace) string is accepted.
        max_length: The longest accepted, in characters.
        single_line: Whether TAB, LF and CR are refused too: for codes, references and
            other values that are one token on one line.

    Raises:
        ValidationError: not a string; empty (or only whitespace) unless ``empty``; longer
            than ``max_length``; holds a control character (other than TAB, LF and CR unless
            ``single_line``); or holds a lone surrogate.
    """
    if is_text(value, max_length, empty=empty):
        return value  # the usual case, decided by one scan of the string
    if not isinstance(value, str):
        raise ValidationError(argument, f"must be a string, got {type(value).__name__}")
    if not empty and not value.strip():
        raise ValidationError(argument, "must not be empty")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(argument, f"is {len(value)} characters long; at most {max_length}")
    if (_CONTROL if single_line else _TEXT_CONTROL).search(value):
        raise ValidationError(argument, _CONTROL_MESSAGE)
    if not value.isascii() and _SURROGATE.search(value):
        raise ValidationError(argument, _SURROGATE_MESSAGE)
    return value


def is_text(value: object, max_length: int | None = None, *, empty: bool = False) -> TypeGuard[str]:
    """Whether :func:`text` surely takes ``value``, decided by one scan of the string: for
    checks of many values, which can skip the rest for the usual case. ``False`` means only
    that :func:`text` must look closer (a TAB or a line break is text it may take)."""
    return (
        type(value) is str
        and value.isprintable()  # no control character, no surrogate, no line break
        and (empty or (value != "" and not value.isspace()))
        and (max_length is None or len(value) <= max_length)
    )


def no_surrogates(argument: str, value: T) -> T:
    """``value`` unchanged if no string in it holds a lone surrogate.

    For JSON bodies built from the caller's data: strings, mapping keys and values, lists and
    tuples are looked into, at any depth; anything else is left to the encoder. The error
    names the place: ``body.items[2].name``, ``body['a key']``.

    Raises:
        ValidationError: a string (or a mapping key) holds a lone surrogate.
    """
    _find_surrogates(argument, value)
    return value


def _find_surrogates(argument: str, value: object) -> None:
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE.search(value):
            raise ValidationError(argument, _SURROGATE_MESSAGE)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                if not key.isascii() and _SURROGATE.search(key):
                    # The key cannot be part of the name: the message itself must encode.
                    raise ValidationError(argument, "has a key with lone surrogates (not text)")
                where = f"{argument}.{key}" if key.isidentifier() else f"{argument}[{key!r}]"
            else:
                where = f"{argument}[{key!r}]"
            _find_surrogates(where, item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _find_surrogates(f"{argument}[{index}]", item)


def int_in_range(argument: str, value: object, low: int, high: int | None) -> int:
    """``value`` as an ``int`` if it is an integer from ``low`` to ``high`` (inclusive).

    ``high=None`` sets no upper bound. ``True`` and ``False`` are refused: they are no count.

    Raises:
        ValidationError: not an integer, a bool, or out of range.
    """
    if high is None:
        expected = f"must be an integer >= {low}"
    else:
        expected = f"must be an integer from {low} to {high}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(argument, f"{expected}, got {type(value).__name__}")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise ValidationError(argument, f"{expected}, got {number}")
    return number


def seconds(argument: str, value: object, *, zero: bool = False, infinite: bool = False) -> float:
    """``value`` as a ``float`` number of seconds: finite and positive.

    Args:
        argument: The name the error gives.
        value: What to check: an ``int`` or a ``float`` (not a bool).
        zero: Whether ``0`` is accepted.
        infinite: Whether infinity is accepted ("no limit"). NaN never is.

    Raises:
        ValidationError: not a real number, a bool, NaN, infinite (unless ``infinite``),
            negative, or zero (unless ``zero``).
    """
    expected = "must be a " + ("" if infinite else "finite ") + "number of seconds"
    expected += " >= 0" if zero else " > 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(argument, f"{expected}, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond a float's range
        number = -math.inf if str(value).startswith("-") else math.inf
    if (
        math.isnan(number)
        or (math.isinf(number) and not infinite)
        or number < 0
        or (number == 0 and not zero)
    ):
        raise ValidationError(argument, f"{expected}, got {number!r}")
    return number


def duration(argument: str, value: object, *, zero: bool = False) -> timedelta:
    """``value`` unchanged: a :class:`~datetime.timedelta` above zero (or zero, with ``zero``).

    Raises:
        ValidationError: not a ``timedelta``, negative, or zero (unless ``zero``).
    """
    if not isinstance(value, timedelta):
        raise ValidationError(argument, f"expected a timedelta, got {type(value).__name__}")
    if value < timedelta(0) or (value == timedelta(0) and not zero):
        raise ValidationError(argument, "must not be negative" if zero else "must be positive")
    return value


def aware_utc(argument: str, value: object) -> datetime:
    """``value``, a time-zone aware datetime, converted to UTC.

    Raises:
        ValidationError: not a datetime, naive, its time zone fails to give an offset, or it
            falls outside years 1 to 9999 once in UTC (``0001-01-01T00:30+14:00``).
    """
    if not isinstance(value, datetime):
        raise ValidationError(argument, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is timezone.utc:
        return value  # the usual case (the SDK's models hold UTC): nothing to convert
    try:
        offset = value.utcoffset()
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ValidationError(
            argument, f"has a time zone whose utcoffset() fails ({type(exc).__name__})"
        ) from None
    if offset is None:
        raise ValidationError(argument, _AWARE_MESSAGE)
    try:
        return value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise ValidationError(
            argument, "is out of range once converted to UTC (years 1 to 9999)"
        ) from None


def path_segment(argument: str, value: object) -> str:
    """``value`` checked and percent-encoded for use as one path segment.

    An integer is accepted as its digits. An id like ``../x`` cannot change the path: ``/``
    and every other reserved character are encoded, and the dot segments ``.`` and ``..`` are
    refused.

    Raises:
        ValidationError: not a non-empty string (or an integer), a dot segment, or holds a
            control character or a lone surrogate.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(argument, "must be a non-empty string")
    if value in (".", ".."):
        raise ValidationError(argument, f"{value!r} is not an id")
    if _CONTROL.search(value):
        raise ValidationError(argument, _CONTROL_MESSAGE)
    if not value.isascii() and _SURROGATE.search(value):
        raise ValidationError(argument, _SURROGATE_MESSAGE)
    return quote(value, safe="")


def http_url(argument: str, value: object) -> str:
    """``value`` if it is an absolute http(s) URL that can be sent as it is.

    Raises:
        ValidationError: not a string; holds a space, a control character or a lone
            surrogate; or not an ``http``/``https`` URL with a host and a valid port. The
            message never quotes the URL: its query may hold a secret.
    """
    if not isinstance(value, str):
        raise ValidationError(argument, f"must be an http(s) URL, got {type(value).__name__}")
    # http.client refuses such a URL while sending, with the whole URL (and any secret in its
    # query) in the message; refused here instead, before anything is sent.
    if _URL_FORBIDDEN.search(value):
        raise ValidationError(argument, "must be a URL without spaces or control characters")
    if not value.isascii() and _SURROGATE.search(value):
        raise ValidationError(argument, _SURROGATE_MESSAGE)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parsed for its ValueError
    except ValueError:
        raise ValidationError(argument, "is not a valid URL (check the host and port)") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(argument, "is not an absolute http(s) URL (http://host/...)")
    return value


def route(argument: str, value: object) -> str:
    """``value`` if it is a path (or an absolute http(s) URL) an endpoint can be sent to.

    Raises:
        ValidationError: not a non-empty string, or holds a space, a control character or a
            lone surrogate.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(argument, "must be a non-empty path")
    if _URL_FORBIDDEN.search(value):
        raise ValidationError(argument, "must not contain spaces or control characters")
    if not value.isascii() and _SURROGATE.search(value):
        raise ValidationError(argument, _SURROGATE_MESSAGE)
    if value.startswith(("http://", "https://")):
        return http_url(argument, value)
    return value
