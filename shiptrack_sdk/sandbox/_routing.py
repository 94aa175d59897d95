"""What a sandbox app is made of: requests and answers, routes, test credentials.

Each provider package contributes a :class:`SandboxApp` (its routes, its data and the test
credentials it accepts); :mod:`shiptrack_sdk.sandbox._server` serves them.
"""

from __future__ import annotations

import base64
import difflib
import fnmatch
import json
import re
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import attrs
from requests.structures import CaseInsensitiveDict

from .._core.validate import aware_utc, header_value, int_in_range, path_segment, seconds, text
from ..errors import ValidationError

__all__ = [
    "ADMIN_PREFIX",
    "ApiKeyCredentials",
    "ClientCredentials",
    "Router",
    "SandboxApp",
    "SandboxRequest",
    "SandboxResponse",
    "check_host",
    "check_port",
    "check_seconds",
    "credential",
    "header_text",
    "json_response",
    "seed_id",
    "seed_time",
]

Handler = Callable[..., "SandboxResponse"]

#: Where the sandbox's admin endpoint lives; no app may add a route under it.
ADMIN_PREFIX = "/_sandbox/"


def check_seconds(value: Any, argument: str) -> float:
    """``value`` as seconds (a finite number >= 0), or :class:`ValidationError`."""
    return seconds(argument, value, zero=True)


def check_port(value: Any, argument: str = "port") -> int:
    """``value`` if it is a TCP port (``0`` picks a free one), or :class:`ValidationError`."""
    return int_in_range(argument, value, 0, 65535)


def check_host(value: Any, argument: str = "host") -> str:
    """``value`` if it can be an address to listen on, or :class:`ValidationError`."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ValidationError(argument, "must be a host name or address (a non-empty string)")
    return text(argument, value, single_line=True)


def header_text(value: Any, argument: str) -> str:
    """``value`` if it can be sent as a header value (an empty one too)."""
    if value == "":
        return ""
    return header_value(argument, value)


@attrs.define
class SandboxRequest:
    """A request as a sandbox route sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict[str]
    body: bytes
    route: str = ""

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body decoded as JSON (``ValueError`` when it is not)."""
        return json.loads(self.body)

    def bearer(self) -> str | None:
        """The bearer token of the ``Authorization`` header, if any."""
        value = self.headers.get("Authorization", "")
        scheme, _, token = value.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def basic(self) -> tuple[str, str] | None:
        """The ``(user, password)`` of an HTTP Basic ``Authorization`` header, if any."""
        value = self.headers.get("Authorization", "")
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
            user, _, password = decoded.partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password


@attrs.define
class SandboxResponse:
    """What a route answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = attrs.field(factory=dict)


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> SandboxResponse:
    """A JSON answer."""
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValidationError("status", "must be an HTTP status from 100 to 599")
    if headers is not None and not isinstance(headers, Mapping):
        raise ValidationError("headers", "must be a mapping or None")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return SandboxResponse(
        status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


@attrs.define
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    name: str
    #: The pattern as written (``/shiplemon/public/v1/shipments/{sid}/tracking``).
    path: str = ""


class Router:
    """Routes ``METHOD /path/{param}`` patterns to handlers."""

    def __init__(self) -> None:
        self.routes: list[_Route] = []
        self._by_name: dict[str, _Route] = {}
        # Routes by their first path segment ("shiplemon"), so that a call is matched against
        # its provider's few routes only; routes whose first segment is a {param}, in order.
        self._by_first: dict[str, list[_Route]] = {}
        self._open: list[_Route] = []

    def add(self, method: str, pattern: str, handler: Handler, *, name: str | None = None) -> None:
        """Route ``method pattern`` (``{name}`` matches one path segment) to ``handler``.

        The handler is called as ``handler(request, **params)`` with decoded params.
        """
        if not isinstance(method, str) or not method.isalpha() or not method.isupper():
            raise ValidationError("method", "must be an HTTP method in capitals ('GET')")
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            raise ValidationError("pattern", "must be a path starting with '/'")
        if pattern.startswith(ADMIN_PREFIX) or pattern == ADMIN_PREFIX.rstrip("/"):
            raise ValidationError("pattern", f"{ADMIN_PREFIX} is the sandbox's admin endpoint")
        if not callable(handler):
            raise ValidationError("handler", "must be callable")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValidationError("name", "must be a non-empty string or None")
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "$"
        route = _Route(method, re.compile(regex), handler, name or f"{method} {pattern}", pattern)
        self.routes.append(route)
        self._by_name.setdefault(route.name, route)
        first = pattern.split("/", 2)[1]
        if "{" in first:
            self._open.append(route)
        else:
            self._by_first.setdefault(first, []).append(route)

    def resolve(self, method: str, path: str) -> tuple[_Route | None, dict[str, str], bool]:
        """The route for a call, its params, and whether the path exists for another method."""
        candidates = self._by_first.get(path.split("/", 2)[1] if "/" in path else "", [])
        if self._open:  # those and the open ones, in the order they were added
            keep = {id(route) for route in (*candidates, *self._open)}
            candidates = [route for route in self.routes if id(route) in keep]
        other_method = False
        for route in candidates:
            match = route.pattern.match(path)
            if match:
                if route.method == method:
                    return route, {k: unquote(v) for k, v in match.groupdict().items()}, False
                other_method = True
        return None, {}, other_method

    def named(self, name: str) -> _Route | None:
        """The route called ``name``, if any."""
        return self._by_name.get(name)

    def matching(self, glob: str) -> list[_Route]:
        """The routes some path matched by ``glob`` (:func:`fnmatch.fnmatchcase`) would reach."""
        tokens = _glob_tokens(glob)
        return [route for route in self.routes if _can_meet(tokens, _template_tokens(route.path))]

    def nearest(self, text: str, count: int = 5) -> list[_Route]:
        """The ``count`` routes whose pattern or name reads most like ``text``."""

        def likeness(route: _Route) -> float:
            return max(
                difflib.SequenceMatcher(None, text, route.path).ratio(),
                difflib.SequenceMatcher(None, text, route.name).ratio(),
            )

        return sorted(self.routes, key=likeness, reverse=True)[:count]


# -- can a glob meet a route? ------------------------------------------------------------------
#
# A fault's glob and a route's pattern are both regular languages over the characters of a
# path: the glob's ``*`` is any run of characters ('/' included, as fnmatch has it), ``?`` any
# one, ``[...]`` a set; a route's ``{param}`` is one or more characters other than '/'. The
# glob can fire on the route when some path is in both: a walk of the product of the two
# automata, a few hundred states for the longest route.

_ANY, _LITERAL, _SET, _STAR, _SEGMENT = "any", "literal", "set", "star", "segment"
# Characters a set is tried against: a set that takes none of them is taken to take none.
_PROBES = string.printable + "\u00e9\u0394"


def _glob_tokens(glob: str) -> list[tuple[str, Any]]:
    """``glob`` as tokens, parsed as :func:`fnmatch.translate` does."""
    tokens: list[tuple[str, Any]] = []
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        i += 1
        if char == "*":
            if not tokens or tokens[-1][0] != _STAR:
                tokens.append((_STAR, None))
        elif char == "?":
            tokens.append((_ANY, None))
        elif char == "[":
            j = i
            if j < n and glob[j] == "!":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:
                tokens.append((_LITERAL, "["))
                continue
            # fnmatch's own translation of the set alone decides which characters it takes.
            single = re.compile(fnmatch.translate(glob[i - 1 : j + 1]))
            i = j + 1
            tokens.append((_SET, frozenset(c for c in _PROBES if single.match(c))))
        else:
            tokens.append((_LITERAL, char))
    return tokens


def _template_tokens(path: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    for piece in re.split(r"(\{\w+\})", path):
        if piece.startswith("{") and piece.endswith("}") and len(piece) > 2:
            tokens.append((_SEGMENT, None))
        else:
            tokens.extend((_LITERAL, char) for char in piece)
    return tokens


def _meet(glob: tuple[str, Any], template: tuple[str, Any]) -> bool:
    """Whether one character can be taken by both a glob token and a template token."""
    kind, value = glob
    if template[0] == _LITERAL:
        char = template[1]
        return (
            kind in (_ANY, _STAR)
            or (kind == _LITERAL and value == char)
            or (kind == _SET and char in value)
        )
    # A segment character: anything but '/'.
    if kind == _LITERAL:
        return bool(value != "/")
    if kind == _SET:
        return bool(value - {"/"})
    return True


def _can_meet(glob: list[tuple[str, Any]], template: list[tuple[str, Any]]) -> bool:
    # A state: (glob token, template token, inside a segment having taken a character of it).
    start = (0, 0, False)
    seen = {start}
    todo = [start]
    while todo:
        g, t, inside = todo.pop()
        if g == len(glob) and t == len(template) and not inside:
            return True
        following: list[tuple[int, int, bool]] = []
        if g < len(glob) and glob[g][0] == _STAR:
            following.append((g + 1, t, inside))  # the star takes nothing more
        if inside:
            following.append((g, t + 1, False))  # the segment ends here
        if g < len(glob):
            step = g if glob[g][0] == _STAR else g + 1
            if inside:
                if _meet(glob[g], (_SEGMENT, None)):
                    following.append((step, t, True))
            elif t < len(template) and _meet(glob[g], template[t]):
                if template[t][0] == _SEGMENT:
                    following.append((step, t, True))
                else:
                    following.append((step, t + 1, False))
        for state in following:
            if state not in seen:
                seen.add(state)
                todo.append(state)
    return False


# -- seeding ---------------------------------------------------------------------------------


def seed_id(value: Any, argument: str = "shipment_id") -> str:
    """``value`` if it can be a seeded shipment's id: one path segment, as its routes take it."""
    if not isinstance(value, str):
        raise ValidationError(argument, "must be a string (the id the routes will find)")
    path_segment(argument, value)
    if "/" in value:
        raise ValidationError(argument, "must be one path segment (no '/')")
    return value


def seed_time(value: Any, argument: str) -> datetime:
    """``value`` as an aware UTC datetime: a datetime with a time zone, or an ISO 8601 string
    with an offset (``"2024-10-01T08:00:00Z"``), as a JSON body of the admin endpoint has it."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                argument, "must be an ISO 8601 date-time with an offset ('2024-10-01T08:00:00Z')"
            ) from None
        if parsed.utcoffset() is None:
            raise ValidationError(argument, "must have an offset ('Z' or '+02:00')")
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationError(
            argument, "must be an aware datetime or an ISO 8601 string ('2024-10-01T08:00:00Z')"
        )
    return aware_utc(argument, value)


def seed_entries(
    value: Any, argument: str, fields: tuple[str, ...], required: tuple[str, ...]
) -> list[dict[str, Any]]:
    """``value`` as a list of history entries, each a mapping of ``fields`` (``required``
    among them), as :meth:`SandboxApp.seed` takes them."""
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise ValidationError(argument, "must be a list of entries (mappings)")
    entries: list[dict[str, Any]] = []
    for index, entry in enumerate(value):
        where = f"{argument}[{index}]"
        if not isinstance(entry, Mapping):
            raise ValidationError(where, f"must be a mapping with {', '.join(required)}")
        unknown = sorted(str(k) for k in entry if k not in fields)
        if unknown:
            raise ValidationError(
                where, f"has no field {unknown[0]!r} (its fields: {', '.join(fields)})"
            )
        for name in required:
            if entry.get(name) is None:
                raise ValidationError(f"{where}.{name}", "is required")
        entries.append(dict(entry))
    return entries


def credential(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An attrs validator of a test credential: a non-empty string that can go into a header."""
    # Never quoted: a test may pass a value it checks the SDK never shows.
    header_value(attribute.name, value)


@attrs.frozen
class ApiKeyCredentials:
    """A test API key a sandbox app accepts. Test values are printed freely."""

    api_key: str = attrs.field(validator=credential)


@attrs.frozen
class ClientCredentials:
    """A test OAuth2 client a sandbox app accepts. Test values are printed freely."""

    client_id: str = attrs.field(validator=credential)
    client_secret: str = attrs.field(validator=credential)


class SandboxApp:
    """One provider's part of the sandbox. Subclasses set ``name`` and add routes.

    A provider's spec names its app (:attr:`ProviderSpec.sandbox_app
    <shiptrack_sdk._core.spec.ProviderSpec.sandbox_app>`); every :class:`Sandbox
    <shiptrack_sdk.sandbox.Sandbox>` builds one of each registered provider's.
    """

    #: The provider's name; its routes live under ``/<name>/``.
    name: str = ""

    #: The test credentials the app's routes accept (an attrs instance, such as
    #: :class:`ApiKeyCredentials`), or ``None``. A sandbox made with ``credentials=``
    #: replaces fields of it before the routes are added.
    credentials: Any = None

    #: Ids of seeded shipments the provider's ``track`` finds: what the cross-provider test
    #: suites and examples track.
    sample_ids: tuple[str, ...] = ()

    def __init__(self, sandbox: Any) -> None:
        #: The :class:`~shiptrack_sdk.sandbox.Sandbox` this app is part of.
        self.sandbox = sandbox

    @property
    def prefix(self) -> str:
        return f"/{self.name}"

    def routes(self, router: Router) -> None:
        """Add this provider's routes to ``router``."""
        raise NotImplementedError

    def reset(self) -> None:
        """Restore the seeded data."""

    def seed(self, *args: Any, **fields: Any) -> str:
        """Serve a shipment with a chosen id (the first argument) and the history ``fields``
        describe, until :meth:`reset`; returns the id. Each provider's app documents its
        fields (its own signature: ``seed(shipment_id, *, ...)``).

        Raises:
            ValidationError: this app seeds no shipments, or a field is refused.
        """
        raise ValidationError("provider", f"the {self.name!r} app seeds no shipments")
