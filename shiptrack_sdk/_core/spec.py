"""How a provider plugs into the core: one :class:`ProviderSpec`, declared in its package.

A spec says everything the shared parts need to know of a provider: its name, environments,
environment-variable prefix, how it authenticates, how its error bodies and answer envelopes
read, its sandbox app, how a client is pointed at the sandbox, and its command-line part. The
package root, the sandbox, the command line, the generated docs tables and the cross-provider
test suites read the registry of specs (:mod:`shiptrack_sdk._providers`); none of them names a
provider.

Specs are cheap to import: what is heavy (the client class, the sandbox app, the command-line
part) is named as ``"module:attribute"`` and imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from .ratelimit import RateLimit

__all__ = [
    "ApiKeyAuthSpec",
    "AuthSpec",
    "EnvelopeError",
    "ErrorDetails",
    "OAuth2AuthSpec",
    "ProviderSpec",
    "default_error_parser",
    "load",
]


@attrs.frozen
class ErrorDetails:
    """What a provider's error body says, as read by the provider's error parser."""

    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    metadata: Any = None


ErrorParser = Callable[[Any], ErrorDetails]


class EnvelopeError(Exception):
    """Raised by an envelope: a successful answer does not hold what the endpoint returns.

    The core turns it into a :class:`~shiptrack_sdk.errors.ResponseError` naming the request.

    Args:
        what: What the answer should be, as in ``"answer has no \"data\" object"``.
    """


def text_or_none(value: Any) -> str | None:
    """``value`` as text when it is a non-empty string or an integer, else ``None``: what an
    error parser keeps of a field of a body nobody vouches for."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return None
    return str(value)


def default_error_parser(body: Any) -> ErrorDetails:
    """The usual shapes: ``{"message"|"error_description"|"detail", "code"|"error",
    "requestId"|"request_id"}``."""
    if not isinstance(body, Mapping):
        return ErrorDetails()
    return ErrorDetails(
        code=text_or_none(body.get("code") or body.get("error")),
        message=text_or_none(
            body.get("message") or body.get("error_description") or body.get("detail")
        ),
        request_id=text_or_none(body.get("requestId") or body.get("request_id")),
    )


@attrs.frozen
class ApiKeyAuthSpec:
    """A fixed API key sent in a header.

    Args:
        header: The header's name (``"x-api-key"``).
        argument: The client's keyword for the key; its environment variable is the spec's
            prefix plus the argument upper-cased (``SHIPTRACK_SHIPLEMON_API_KEY``).
    """

    header: str
    argument: str = "api_key"


@attrs.frozen
class OAuth2AuthSpec:
    """OAuth2 client credentials (RFC 6749 §4.4).

    Args:
        token_url: The token endpoint: absolute, or relative to the client's base URL.
        client_auth: ``"body"`` (``client_secret_post``) or ``"basic"`` (HTTP Basic).
        body: How the token request's fields travel: ``"form"`` (RFC 6749) or ``"json"``.
        grant_type_in_query: ``grant_type`` travels in the token URL's query (added there
            when the URL has none), not in the body: RFC 6749 §3.2 forbids a repeated
            parameter.
        api_key_header: The header of an API key the provider's gateway may ask for beside
            the token (on API calls and token requests alike), or ``None``. The key is the
            client's optional ``apikey`` setting (env ``<PREFIX>_APIKEY``); no header is
            sent without one.
    """

    token_url: str
    client_auth: Literal["body", "basic"] = "body"
    body: Literal["form", "json"] = "form"
    grant_type_in_query: bool = False
    api_key_header: str | None = None


AuthSpec = ApiKeyAuthSpec | OAuth2AuthSpec


def load(reference: str) -> Any:
    """The object ``"package.module:attribute"`` names, imported now."""
    module, _, attribute = reference.partition(":")
    value: Any = importlib.import_module(module)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def _no_envelope(payload: Any) -> Any:
    return payload


@attrs.frozen(kw_only=True)
class ProviderSpec:
    """One provider, as the core and the shared tools see it.

    Args:
        name: The provider's name, as in errors, logs, :attr:`Tracking.provider
            <shiptrack_sdk.Tracking.provider>`, the sandbox's URL prefix and the command line.
        title: The name people read (``"Shiplemon"``).
        client: ``"module:Class"`` of the provider's client.
        env_prefix: Prefix of the provider's environment variables (``SHIPTRACK_SHIPLEMON``).
        environments: The base URL of each named environment; the first is the default.
        auth: How requests authenticate.
        error_parser: Reads an error body (decoded JSON, or text) into :class:`ErrorDetails`.
        envelope: The part of a successful answer that holds the model; raises
            :class:`EnvelopeError` when the answer has none.
        sandbox_app: ``"module:Class"`` of the provider's :class:`SandboxApp`, or ``None``.
        sandbox_client: Keyword arguments for a client of this provider against a running
            sandbox (given the sandbox).
        cli: ``"module:function"`` that adds the provider's commands to the command line,
            or ``None``.
        track_one: ``"module:function"`` giving one shipment's normalized tracking by its id
            (``function(client, shipment_id, *, timeout=None) -> Tracking``), or ``None``.
            A provider that declares one is *pullable*: ``client.track_many``,
            :func:`shiptrack_sdk.track_many` and ``shiptrack track`` call it.
        poll_minutes: The minutes past each hour the provider asks to be polled at (its
            documented cadence, which :mod:`shiptrack_sdk.watch` follows), or ``()`` when it
            documents none.
        rate_limit: The provider's documented rate limit, a client's default (its
            ``rate_limit`` option and ``<PREFIX>_RATE_LIMIT`` variable replace it), or
            ``None`` when the provider documents none: no client-side limit by default.
        guide: The docs page of the provider's guide, relative to ``docs/``.
        demo: ``"module:function"`` of the provider's part of ``shiptrack demo``
            (``function(demo)``, given a :class:`shiptrack_sdk.cli.Demo`), or ``None``.
        status_map: ``"module:attribute"`` of the provider's
            :class:`~shiptrack_sdk._core.status.StatusMap`, or ``None`` when it has none.
    """

    name: str
    title: str
    client: str
    env_prefix: str
    environments: Mapping[str, str]
    auth: AuthSpec | None
    error_parser: ErrorParser = default_error_parser
    envelope: Callable[[Any], Any] = _no_envelope
    sandbox_app: str | None = None
    sandbox_client: Callable[[Any], dict[str, Any]] | None = None
    cli: str | None = None
    track_one: str | None = None
    poll_minutes: tuple[int, ...] = ()
    rate_limit: RateLimit | None = None
    guide: str | None = None
    demo: str | None = None
    status_map: str | None = None

    def client_class(self) -> type[Any]:
        """The client class, imported now."""
        cls: type[Any] = load(self.client)
        return cls

    @property
    def pullable(self) -> bool:
        """Whether shipments of this provider can be tracked by id (``track_one`` is set)."""
        return self.track_one is not None

    @property
    def default_environment(self) -> str:
        """The environment used when none is chosen: the first listed."""
        return next(iter(self.environments))
