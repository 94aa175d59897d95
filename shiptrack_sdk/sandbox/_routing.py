"""What a sandbox app is made of: requests and answers, routes, test credentials.

Each provider package contributes a :class:`SandboxApp` (its routes, its data and the test
credentials it accepts); :mod:`shiptrack_sdk.sandbox._server` serves them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

import attrs
from requests.structures import CaseInsensitiveDict

from .._core.validate import header_value, int_in_range, seconds, text
from ..errors import ValidationError

__all__ = [
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
]

Handler = Callable[..., "SandboxResponse"]


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


class Router:
    """Routes ``METHOD /path/{param}`` patterns to handlers."""

    def __init__(self) -> None:
        self.routes: list[_Route] = []

    def add(self, method: str, pattern: str, handler: Handler, *, name: str | None = None) -> None:
        """Route ``method pattern`` (``{name}`` matches one path segment) to ``handler``.

        The handler is called as ``handler(request, **params)`` with decoded params.
        """
        if not isinstance(method, str) or not method.isalpha() or not method.isupper():
            raise ValidationError("method", "must be an HTTP method in capitals ('GET')")
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            raise ValidationError("pattern", "must be a path starting with '/'")
        if not callable(handler):
            raise ValidationError("handler", "must be callable")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValidationError("name", "must be a non-empty string or None")
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "$"
        self.routes.append(
            _Route(method, re.compile(regex), handler, name or f"{method} {pattern}")
        )

    def resolve(self, method: str, path: str) -> tuple[_Route | None, dict[str, str], bool]:
        """The route for a call, its params, and whether the path exists for another method."""
        other_method = False
        for route in self.routes:
            match = route.pattern.match(path)
            if match:
                if route.method == method:
                    return route, {k: unquote(v) for k, v in match.groupdict().items()}, False
                other_method = True
        return None, {}, other_method


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
