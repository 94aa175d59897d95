"""The embedded sandbox: a real local HTTP server that speaks each provider's documented contract.

It is the default target of the demo, of the docs' examples and of the integration tests, and
it is there for your own tests::

    from shiptrack_sdk.sandbox import Sandbox

    with Sandbox() as sb:
        client = sb.shiplemon_client()
        print(client.tracking.get("be96511d-ba23-4268-bd8b-48c9cf930222").to_tracking().status)

Each provider lives under its own prefix (``/shiplemon``, ...), and a provider-neutral OAuth2
client-credentials endpoint sits at ``/oauth/token`` with a protected ``/oauth/whoami``.
Faults are injected with :meth:`Sandbox.fault`; every call is recorded (:meth:`Sandbox.calls`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ..auth import OAuth2ClientCredentials
from ..errors import ValidationError
from ._server import (
    FAULT_ACTIONS,
    Fault,
    RecordedCall,
    Router,
    SandboxApp,
    SandboxRequest,
    SandboxResponse,
    SandboxServer,
    TokenIssuer,
    check_seconds,
    json_response,
    oauth_token_routes,
)

if TYPE_CHECKING:
    from ..exporto import ExportoClient
    from ..lex import LexClient
    from ..shiplemon import ShiplemonClient

__all__ = ["Fault", "RecordedCall", "Sandbox", "SandboxApp", "SandboxCredentials"]


def _credential(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Never quoted: a test may pass a value it checks the SDK never shows.
    if not isinstance(value, str) or not value:
        raise ValidationError(attribute.name, "must be a non-empty string")


@attrs.frozen
class SandboxCredentials:
    """The credentials the sandbox accepts. They are test values, printed freely."""

    shiplemon_api_key: str = attrs.field(default="sandbox-shiplemon-key", validator=_credential)
    oauth_client_id: str = attrs.field(default="sandbox-client", validator=_credential)
    # a published test credential
    oauth_client_secret: str = attrs.field(default="sandbox-secret", validator=_credential)
    exporto_client_id: str = attrs.field(default="sandbox-exporto-client", validator=_credential)
    exporto_client_secret: str = attrs.field(
        default="sandbox-exporto-secret", validator=_credential
    )
    lex_client_id: str = attrs.field(default="sandbox-lex-client", validator=_credential)
    lex_client_secret: str = attrs.field(default="sandbox-lex-secret", validator=_credential)


class _OAuthApp(SandboxApp):
    """A provider-neutral OAuth2 token endpoint and a resource that needs its token."""

    name = "oauth"

    def routes(self, router: Router) -> None:
        creds = self.sandbox.credentials
        oauth_token_routes(
            router,
            "/oauth/token",
            self.sandbox.tokens,
            {creds.oauth_client_id: creds.oauth_client_secret},
        )
        router.add("GET", "/oauth/whoami", self.whoami, name="oauth.whoami")
        router.add("POST", "/oauth/echo", self.echo, name="oauth.echo")

    def _client(self, request: SandboxRequest) -> str | None:
        return self.sandbox.tokens.check(request.bearer())  # type: ignore[no-any-return]

    def whoami(self, request: SandboxRequest) -> SandboxResponse:
        client = self._client(request)
        if client is None:
            return json_response(
                401,
                {"error": "invalid_token"},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return json_response(200, {"client_id": client})

    def echo(self, request: SandboxRequest) -> SandboxResponse:
        if self._client(request) is None:
            return json_response(401, {"error": "invalid_token"})
        return SandboxResponse(200, request.body or b"{}", {"Content-Type": "application/json"})


def _provider_apps() -> list[type[SandboxApp]]:
    # The one place providers join the sandbox.
    from ..exporto._sandbox import ExportoApp
    from ..lex._sandbox import LexApp
    from ..shiplemon._sandbox import ShiplemonApp

    return [ShiplemonApp, ExportoApp, LexApp]


class Sandbox:
    """A real HTTP server on 127.0.0.1 serving every provider's contract.

    Args:
        host: Address to listen on (loopback by default).
        port: Port, ``0`` to ``65535``; ``0`` picks a free one.
        latency: Seconds every call waits before it is answered (a network's round trip),
            a finite number >= 0.
        token_lifetime: ``expires_in`` of the OAuth2 tokens it issues, whole seconds >= 1.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.

    Raises:
        ValidationError: an argument is refused (before anything listens).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        token_lifetime: int = 1800,
    ) -> None:
        if isinstance(token_lifetime, bool) or not isinstance(token_lifetime, int):
            raise ValidationError("token_lifetime", "must be a whole number of seconds >= 1")
        if token_lifetime < 1:
            raise ValidationError("token_lifetime", "must be a whole number of seconds >= 1")
        self._server = SandboxServer(host=host, port=port, latency=latency)
        #: The credentials the sandbox accepts.
        self.credentials = SandboxCredentials()
        #: The OAuth2 tokens the sandbox has issued.
        self.tokens = TokenIssuer(lifetime=token_lifetime)
        self.apps: dict[str, SandboxApp] = {}
        app_classes: list[type[SandboxApp]] = [_OAuthApp, *_provider_apps()]
        for app_class in app_classes:
            app = app_class(self)
            app.routes(self._server.router)
            self.apps[app.name] = app

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start serving (idempotent); returns the sandbox."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._server.running else "stopped"
        return f"<Sandbox {state}>"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if not self._server.running:
            raise RuntimeError("the sandbox is not started; use `with Sandbox() as sb:`")
        return self._server.url

    def provider_url(self, provider: str) -> str:
        """The base URL of ``provider``'s routes (``<url>/<provider>``)."""
        if not isinstance(provider, str) or not provider or "/" in provider:
            raise ValidationError("provider", "must be a provider name ('shiplemon')")
        return f"{self.url}/{provider}"

    @property
    def latency(self) -> float:
        """Seconds every call waits before it is answered."""
        return self._server.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        # Checked here: a negative or NaN latency would fail every call (as a 500).
        self._server.latency = check_seconds(seconds, "latency")

    def reset(self) -> None:
        """Clear faults and recorded calls and restore every provider's seeded data.

        Calls still being answered (a delayed answer a client gave up on) are let finish
        first, for up to 5 seconds, so that they are not recorded after the reset.
        """
        self._server.wait_idle(timeout=5.0)
        self._server.clear_faults()
        self._server.clear_calls()
        for app in self.apps.values():
            app.reset()

    # -- faults and records ------------------------------------------------------------------

    def fault(
        self,
        path: str,
        *,
        method: str | None = None,
        times: int | None = 1,
        status: int | None = None,
        body: bytes | str | None = None,
        content_type: str = "application/json",
        retry_after: str | int | None = None,
        delay: float = 0.0,
        action: Literal["respond", "drop", "reset_mid"] = "respond",
        after: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Fault:
        """Make the next ``times`` calls matching ``path`` (a glob) misbehave.

        Examples::

            sb.fault("/shiplemon/*", status=503, times=2)             # two 503s, then normal
            sb.fault("/shiplemon/*", status=429, retry_after=1)       # 429 with Retry-After
            sb.fault("/shiplemon/*", action="drop")                   # connection closed
            sb.fault("/shiplemon/*", delay=2)                         # slow answer
            sb.fault("/lex/*", method="POST", after=True, delay=2)    # accepted, then slow

        See :class:`~shiptrack_sdk.sandbox._server.Fault` for every field. ``times`` is an
        integer >= 1 or ``None`` (until cleared); ``status`` an HTTP status (100 to 599);
        ``delay`` finite seconds >= 0; ``retry_after`` seconds >= 0 or an HTTP date;
        ``method`` is matched in capitals.

        Raises:
            ValidationError: an argument is refused, naming it (the fault is not added).
        """
        data: Any = body
        if isinstance(data, str):
            data = data.encode()
        elif isinstance(data, bytearray):
            data = bytes(data)
        elif data is not None and not isinstance(data, bytes):
            raise ValidationError("body", "must be bytes, a string or None")
        if retry_after is not None:
            if isinstance(retry_after, bool) or not isinstance(retry_after, (int, str)):
                raise ValidationError("retry_after", "must be seconds (an integer) or an HTTP date")
            if isinstance(retry_after, int) and retry_after < 0:
                raise ValidationError("retry_after", "must be seconds >= 0 or an HTTP date")
        if headers is not None and not isinstance(headers, Mapping):
            raise ValidationError("headers", "must be a mapping of header name to value, or None")
        if action not in FAULT_ACTIONS:
            raise ValidationError("action", f"must be one of {', '.join(FAULT_ACTIONS)}")
        return self._server.add_fault(
            Fault(
                path=path,
                method=method,
                times=times,
                status=status,
                body=data,
                content_type=content_type,
                retry_after=str(retry_after) if retry_after is not None else None,
                delay=delay,
                action=action,
                after=after,
                headers=dict(headers or {}),
            )
        )

    def clear_faults(self) -> None:
        """Remove every pending fault."""
        self._server.clear_faults()

    def calls(self, path: str | None = None, method: str | None = None) -> list[RecordedCall]:
        """The calls answered so far, optionally filtered by path glob and method."""
        return self._server.calls(path, method)

    def clear_calls(self) -> None:
        """Forget the recorded calls and route statistics."""
        self._server.clear_calls()

    def route_stats(self, route: str) -> tuple[int, int]:
        """``(calls, max_in_flight)`` of a named route (``"shiplemon.tracking.get"``...)."""
        if not isinstance(route, str) or not route:
            raise ValidationError("route", "must be a route name (see route_names)")
        return self._server.stats(route)

    @property
    def route_names(self) -> list[str]:
        """The names of every route served."""
        return [r.name for r in self._server.router.routes]

    def environment(self) -> dict[str, str]:
        """``SHIPTRACK_*`` variables that point every client (and the command line) here.

        Example::

            os.environ.update(sandbox.environment())
            ShiplemonClient()      # now talks to the sandbox
        """
        creds = self.credentials
        lex = self.provider_url("lex")
        return {
            "SHIPTRACK_SHIPLEMON_BASE_URL": self.provider_url("shiplemon"),
            "SHIPTRACK_SHIPLEMON_API_KEY": creds.shiplemon_api_key,
            "SHIPTRACK_EXPORTO_BASE_URL": f"{self.provider_url('exporto')}/v1/",
            "SHIPTRACK_EXPORTO_TOKEN_URL": f"{self.provider_url('exporto')}/v1/auth/token",
            "SHIPTRACK_EXPORTO_CLIENT_ID": creds.exporto_client_id,
            "SHIPTRACK_EXPORTO_CLIENT_SECRET": creds.exporto_client_secret,
            "SHIPTRACK_LEX_BASE_URL": lex,
            "SHIPTRACK_LEX_TOKEN_URL": f"{lex}{_lex_token_path()}?grant_type=client_credentials",
            "SHIPTRACK_LEX_CLIENT_ID": creds.lex_client_id,
            "SHIPTRACK_LEX_CLIENT_SECRET": creds.lex_client_secret,
        }

    # -- clients pointed at the sandbox -------------------------------------------------------

    def shiplemon_client(self, **overrides: Any) -> ShiplemonClient:
        """A :class:`~shiptrack_sdk.shiplemon.ShiplemonClient` pointed at this sandbox."""
        from ..shiplemon import ShiplemonClient

        options: dict[str, Any] = {
            "api_key": self.credentials.shiplemon_api_key,
            "base_url": self.provider_url("shiplemon"),
        }
        options.update(overrides)
        return ShiplemonClient(**options)

    def exporto_client(self, **overrides: Any) -> ExportoClient:
        """An :class:`~shiptrack_sdk.exporto.ExportoClient` pointed at this sandbox."""
        from ..exporto import ExportoClient

        options: dict[str, Any] = {
            "client_id": self.credentials.exporto_client_id,
            "client_secret": self.credentials.exporto_client_secret,
            "base_url": f"{self.provider_url('exporto')}/v1/",
            "token_url": f"{self.provider_url('exporto')}/v1/auth/token",
        }
        options.update(overrides)
        return ExportoClient(**options)

    def lex_client(self, **overrides: Any) -> LexClient:
        """A :class:`~shiptrack_sdk.lex.LexClient` pointed at this sandbox (tracking and orders)."""
        from ..lex import LexClient
        from ..lex._sandbox import TOKEN_PATH

        options: dict[str, Any] = {
            "client_id": self.credentials.lex_client_id,
            "client_secret": self.credentials.lex_client_secret,
            "base_url": self.provider_url("lex"),
            "token_url": f"{self.provider_url('lex')}{TOKEN_PATH}?grant_type=client_credentials",
        }
        options.update(overrides)
        return LexClient(**options)

    def oauth2_auth(self, **overrides: Any) -> OAuth2ClientCredentials:
        """An :class:`~shiptrack_sdk.auth.OAuth2ClientCredentials` for ``/oauth/token``."""
        options: dict[str, Any] = {
            "token_url": f"{self.url}/oauth/token",
            "client_id": self.credentials.oauth_client_id,
            "client_secret": self.credentials.oauth_client_secret,
        }
        options.update(overrides)
        return OAuth2ClientCredentials(**options)


def _lex_token_path() -> str:
    from ..lex._sandbox import TOKEN_PATH

    return TOKEN_PATH
