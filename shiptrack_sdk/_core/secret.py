"""Credentials that do not show: in a ``repr``, a ``str``, a log line or a captured traceback.

Error reporters record the ``repr`` of every local of every frame of a traceback
(``traceback.TracebackException(..., capture_locals=True)``, Sentry, Rollbar), and the
prepared request of a failed call holds its headers and body. So a credential is kept as a
:class:`Secret` from the moment the SDK is given it, revealed only in the expression that
builds a header value or a body, and that value is a :class:`MaskedStr` or
:class:`MaskedBytes`: what ``http.client`` encodes and sends is the real value, what anyone
prints of it is ``***``.

::

    secret = Secret(client_secret)
    headers["x-api-key"] = MaskedStr(secret.reveal())
    body = MaskedBytes(urlencode(fields).encode())
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

__all__ = ["MASK", "MaskedBytes", "MaskedStr", "Secret"]

#: What a masked value reads as.
MASK = "***"


def _digest_input(value: str) -> bytes:
    # compare_digest takes str only when ASCII; any text is compared as UTF-8 bytes instead.
    return value.encode("utf-8", "surrogatepass")


class Secret:
    """A credential (API key, client secret, token) that shows as ``***``.

    ``str``, ``repr``, ``format`` (f-strings included) and ``%``-formatting are masked;
    :meth:`reveal` gives the value. Two secrets are equal when their values are, compared in
    constant time; a secret is never equal to a plain string, and is unhashable (a hash would
    let a dictionary tell values apart). It pickles with its value, so a client pickled to a
    worker process keeps its credentials; it is immutable.

    Args:
        value: The credential, or another :class:`Secret` (its value is taken).

    Raises:
        TypeError: ``value`` is neither a string nor a :class:`Secret` (the message names the
            type only).
    """

    __slots__ = ("_value",)

    _value: str

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value._value
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a string, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The value: call it only where a header or a body is built."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(_digest_input(self._value), _digest_input(other._value))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._value,))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")


class MaskedStr(str):
    """A string (a header value) whose ``repr``, ``str`` and formatting show ``***``.

    It is a :class:`str`: ``requests`` validates it and ``http.client`` encodes it
    (``.encode("latin-1")``) like any other, so the real value is what is sent, while a
    request's headers printed, logged or captured in a traceback show ``'***'``. Operations
    that make a new string (``+``, slicing, ``.strip()``) return a plain :class:`str` of the
    value: wrap the finished value, once.

    ``str(value)`` is ``'***'`` too, so code that needs the plain text back asks for it
    explicitly with :meth:`plain` (a library that calls ``str()`` on a header value before
    sending would send the mask, and fail loudly at the server, never leak).
    """

    __slots__ = ()

    def plain(self) -> str:
        """The value as a plain :class:`str` (what ``str()`` of it does not give)."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return repr(MASK)

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle's older protocols rebuild a str subclass from str(self): the mask.
        return (type(self), (self.plain(),))


class MaskedBytes(bytes):
    """Bytes (a request body) whose ``repr``, ``str`` and formatting show ``b'***'``.

    ``requests`` keeps a bytes body as the very object it is given, and ``http.client`` sends
    it as is, so the real value is what is sent, while the prepared request's ``body``
    printed, logged or captured in a traceback shows ``b'***'``.
    """

    __slots__ = ()

    def plain(self) -> bytes:
        """The value as plain :class:`bytes`."""
        return bytes(memoryview(self))

    def __repr__(self) -> str:
        return repr(MASK.encode())

    def __str__(self) -> str:
        return repr(MASK.encode())

    def __format__(self, format_spec: str) -> str:
        return format(str(self), format_spec)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.plain(),))
