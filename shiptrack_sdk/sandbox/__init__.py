"""The embedded sandbox: a real local HTTP server that speaks each provider's documented contract.

It is the default target of the demo, of the docs' examples and of the integration tests, and
it is there for your own tests::

    from shiptrack_sdk.sandbox import Sandbox

    with Sandbox() as sb:
        client = sb.shiplemon_client()          # the same as sb.client("shiplemon")
        print(client.tracking.get("be96511d-ba23-4268-bd8b-48c9cf930222").to_tracking().status)

Every registered provider (:mod:`shiptrack_sdk._providers`) brings its app
(:attr:`ProviderSpec.sandbox_app <shiptrack_sdk._core.spec.ProviderSpec.sandbox_app>`): its
routes under its own prefix (``/shiplemon``, ...), its seeded data and the test credentials
it accepts (``sb.apps["shiplemon"].credentials``). A provider-neutral OAuth2
client-credentials endpoint sits at ``/oauth/token`` with a protected ``/oauth/whoami``; its
credentials are :attr:`Sandbox.credentials`. Faults are injected with :meth:`Sandbox.fault`
(on a path glob, checked against the routes, or on a route by name); the newest calls are
recorded (:meth:`Sandbox.calls`, :data:`DEFAULT_RECORD_LIMIT` of them by default); each
provider's app seeds a shipment with a chosen id and history (:meth:`Sandbox.seed`). The same
controls are an HTTP endpoint under ``/_sandbox/``, for code that is not Python (the
``admin`` argument of :class:`Sandbox`).

Clients pointed at the sandbox come from the registry too: :meth:`Sandbox.client` builds any
provider's client from its spec (:attr:`ProviderSpec.sandbox_client
<shiptrack_sdk._core.spec.ProviderSpec.sandbox_client>`), and ``sb.<provider>_client()`` is
the same call, found at run time by ``Sandbox.__getattr__``: this module imports no provider.
For type checkers and IDEs, the helpers of the providers shipped with the SDK are declared,
with their client types, under ``if TYPE_CHECKING:`` (declarations only, never run), and
``__getattr__`` is hidden from them (``if not TYPE_CHECKING:``), so that a misspelt attribute
of a sandbox is still an error to ``mypy``. A provider added later works the same way at run
time (``sb.client("name")``, or ``sb.name_client()`` typed as ``Any``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._core.spec import ProviderSpec, load
from .._providers import all_specs
from ..auth import OAuth2ClientCredentials
from ..errors import ValidationError
from ._admin import AdminEndpoint, is_loopback_host
from ._server import (
    DEFAULT_RECORD_LIMIT,
    FAULT_ACTIONS,
    ApiKeyCredentials,
    ClientCredentials,
    Fault,
    RecordedCall,
    Router,
    SandboxApp,
    SandboxRequest,
    SandboxResponse,
    SandboxServer,
    TokenIssuer,
    check_seconds,
    credential,
    json_response,
    oauth_token_routes,
)

if TYPE_CHECKING:
    from ..exporto import ExportoClient
    from ..lex import LexClient
    from ..shiplemon import ShiplemonClient

__all__ = [
    "DEFAULT_RECORD_LIMIT",
    "ApiKeyCredentials",
    "ClientCredentials",
    "Fault",
    "RecordedCall",
    "Sandbox",
    "SandboxApp",
    "SandboxCredentials",
]

#: ``Sandbox(credentials=...)``: app name -> field -> value.
CredentialOverrides = Mapping[str, Mapping[str, Any]]


@attrs.frozen
class SandboxCredentials:
    """The credentials of the provider-neutral ``/oauth/token`` endpoint. They are test values,
    printed freely. Each provider's are its app's: ``sb.apps["lex"].credentials``."""

    oauth_client_id: str = attrs.field(default="sandbox-client", validator=credential)
    # a published test credential
    oauth_client_secret: str = attrs.field(default="sandbox-secret", validator=credential)


class _OAuthApp(SandboxApp):
    """A provider-neutral OAuth2 token endpoint and a resource that needs its token."""

    name = "oauth"
    credentials = SandboxCredentials()

    def routes(self, router: Router) -> None:
        creds = self.credentials
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


def _provider_apps() -> list[tuple[ProviderSpec, type[SandboxApp]]]:
    """Each registered provider's spec and sandbox app, in registry order."""
    return [(spec, load(spec.sandbox_app)) for spec in all_specs() if spec.sandbox_app]


def _checked_overrides(credentials: Any) -> dict[str, dict[str, Any]]:
    if credentials is None:
        return {}
    problem = "must be a mapping of app name to {field: value}, e.g. {'lex': {'client_id': 'x'}}"
    if not isinstance(credentials, Mapping):
        raise ValidationError("credentials", problem)
    checked: dict[str, dict[str, Any]] = {}
    for name, fields in credentials.items():
        if not isinstance(name, str) or not isinstance(fields, Mapping):
            raise ValidationError("credentials", problem)
        checked[name] = dict(fields)
    return checked


def _with_credentials(app: SandboxApp, fields: dict[str, Any]) -> Any:
    """``app``'s credentials with ``fields`` replaced (each checked by the credentials' class)."""
    where = f"credentials[{app.name!r}]"
    if app.credentials is None:
        raise ValidationError(where, f"the {app.name!r} app accepts no credentials")
    names = [field.name for field in attrs.fields(type(app.credentials))]
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise ValidationError(
            where, f"has no field {unknown[0]!r} (its fields: {', '.join(names)})"
        )
    try:
        return attrs.evolve(app.credentials, **fields)
    except ValidationError as exc:
        raise ValidationError(f"{where}.{exc.argument}", exc.problems[0][1]) from None


class Sandbox:
    """A real HTTP server on 127.0.0.1 serving every registered provider's contract.

    Args:
        host: Address to listen on (loopback by default).
        port: Port, ``0`` to ``65535``; ``0`` picks a free one.
        latency: Seconds every call waits before it is answered (a network's round trip),
            a finite number >= 0.
        token_lifetime: ``expires_in`` of the OAuth2 tokens it issues, whole seconds >= 1.
        credentials: Test credentials to accept instead of the defaults, by app name, then
            field: ``{"shiplemon": {"api_key": "my-key"}, "oauth": {"oauth_client_secret":
            "s"}}``. The fields are those of each app's ``credentials``.
        record_limit: How many calls :meth:`calls` keeps, the newest (an integer >= 0;
            :data:`DEFAULT_RECORD_LIMIT` by default): older ones are forgotten, so memory
            stays flat however long the sandbox serves.
        admin: Whether the admin endpoint under ``/_sandbox/`` answers. It has no
            authentication, so by default (``None``) it is on when ``host`` is a loopback
            address and off otherwise; ``True`` turns it on anywhere.

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
        credentials: CredentialOverrides | None = None,
        record_limit: int = DEFAULT_RECORD_LIMIT,
        admin: bool | None = None,
    ) -> None:
        if admin is not None and not isinstance(admin, bool):
            raise ValidationError("admin", "must be True, False or None (on for loopback)")
        if isinstance(token_lifetime, bool) or not isinstance(token_lifetime, int):
            raise ValidationError("token_lifetime", "must be a whole number of seconds >= 1")
        if token_lifetime < 1:
            raise ValidationError("token_lifetime", "must be a whole number of seconds >= 1")
        overrides = _checked_overrides(credentials)
        self._server = SandboxServer(
            host=host, port=port, latency=latency, record_limit=record_limit
        )
        enabled = is_loopback_host(self._server.host) if admin is None else admin
        self._server.admin = AdminEndpoint(self, enabled=enabled)
        #: The OAuth2 tokens the sandbox has issued.
        self.tokens = TokenIssuer(lifetime=token_lifetime)
        #: Every app, by name: ``"oauth"`` and each registered provider's.
        self.apps: dict[str, SandboxApp] = {}
        self._specs: dict[str, ProviderSpec] = {}
        apps: list[tuple[ProviderSpec | None, type[SandboxApp]]] = [
            (None, _OAuthApp),
            *_provider_apps(),
        ]
        for spec, app_class in apps:
            app = app_class(self)
            if spec is not None and app.name != spec.name:
                # A provider's routes, clients and credentials are all found by its name.
                raise TypeError(f"{app_class.__qualname__}.name must be {spec.name!r}")
            if app.name in overrides:
                # Before the routes: a token endpoint reads its clients when it is added.
                app.credentials = _with_credentials(app, overrides.pop(app.name))
            app.routes(self._server.router)
            self.apps[app.name] = app
            if spec is not None:
                self._specs[spec.name] = spec
        if overrides:
            raise ValidationError(
                "credentials",
                f"no app is called {sorted(overrides)[0]!r} (apps: {', '.join(self.apps)})",
            )

    @property
    def credentials(self) -> SandboxCredentials:
        """The credentials ``/oauth/token`` accepts (a provider's: ``apps[name].credentials``)."""
        found: SandboxCredentials = self.apps["oauth"].credentials
        return found

    @property
    def host(self) -> str:
        """The address it listens on."""
        return self._server.host

    @property
    def admin(self) -> bool:
        """Whether the admin endpoint under ``/_sandbox/`` answers (see the ``admin``
        argument)."""
        endpoint: AdminEndpoint | None = self._server.admin  # type: ignore[assignment]
        return endpoint is not None and endpoint.enabled

    @property
    def providers(self) -> list[str]:
        """The names of the providers served, in registry order."""
        return list(self._specs)

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
        """Clear faults and recorded calls and restore every provider's seeded data (what
        :meth:`seed` added is gone).

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
        path: str | None = None,
        *,
        route: str | None = None,
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
        unrouted: bool = False,
    ) -> Fault:
        """Make the next ``times`` calls matching ``path`` (a glob), or reaching the route
        named ``route``, misbehave.

        Examples::

            sb.fault("/shiplemon/*", status=503, times=2)             # two 503s, then normal
            sb.fault(route="shiplemon.tracking.get", status=503)      # that route only
            sb.fault("/shiplemon/*", status=429, retry_after=1)       # 429 with Retry-After
            sb.fault("/shiplemon/*", action="drop")                   # connection closed
            sb.fault("/shiplemon/*", delay=2)                         # slow answer
            sb.fault("/lex/*", method="POST", after=True, delay=2)    # accepted, then slow

        A glob is matched with :func:`fnmatch.fnmatchcase` against the request's path (``*``
        spans ``/`` too). It is checked at once against the routes (:attr:`route_names`): a
        glob that matches none of their paths, or a ``method`` none of those routes takes,
        would never fire, and is refused. ``unrouted=True`` lets a glob name a path no route
        serves (the fault then answers it: an old address that redirects, say).

        See :class:`~shiptrack_sdk.sandbox._server.Fault` for every field. ``times`` is an
        integer >= 1 or ``None`` (until cleared); ``status`` an HTTP status (100 to 599);
        ``delay`` finite seconds >= 0; ``retry_after`` seconds >= 0 or an HTTP date;
        ``method`` is matched in capitals.

        Raises:
            ValidationError: an argument is refused, naming it (the fault is not added): a
                glob that matches no route names ``path`` and lists the nearest routes.
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
                route=route,
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
            ),
            unrouted=unrouted,
        )

    def faults(self) -> list[Fault]:
        """The faults still pending, in the order they are tried."""
        with self._server._lock:
            return list(self._server.faults)

    def clear_faults(self) -> None:
        """Remove every pending fault."""
        self._server.clear_faults()

    def calls(self, path: str | None = None, method: str | None = None) -> list[RecordedCall]:
        """The calls answered so far, oldest first, optionally filtered by path glob and
        method: the newest :attr:`record_limit` of them."""
        return self._server.calls(path, method)

    @property
    def record_limit(self) -> int:
        """How many calls :meth:`calls` keeps (the newest)."""
        return self._server.record_limit

    @property
    def calls_seen(self) -> int:
        """How many calls were recorded since the last reset, those forgotten included."""
        return self._server.calls_seen

    def clear_calls(self) -> None:
        """Forget the recorded calls and route statistics."""
        self._server.clear_calls()

    # -- seeding -----------------------------------------------------------------------------

    def seed(self, provider: str, shipment_id: str, /, **fields: Any) -> str:
        """Serve a shipment of ``provider`` with the id ``shipment_id`` and the history
        ``fields`` describe, until :meth:`reset`; returns the id.

        The same as ``sb.apps[provider].seed(shipment_id, **fields)``, whose docstring
        describes each provider's fields (``help(sb.apps["shiplemon"].seed)``). Example::

            sb.seed("shiplemon", "my-order-1", history=[
                {"status": "PRE_TRANSIT", "at": "2024-10-01T08:00:00Z", "details": "Created"},
            ])

        Raises:
            ValidationError: no such provider, or one that seeds no shipments; a field the
                app does not take, or refuses (naming it).
        """
        app = self.apps.get(provider) if isinstance(provider, str) else None
        if app is None or app.name == "oauth":
            served = ", ".join(repr(name) for name in self._specs)
            raise ValidationError("provider", f"{provider!r} is not one of {served}")
        parameters = inspect.signature(app.seed).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            accepted = [name for name in parameters if name != "shipment_id"]
            for name in fields:
                if name not in accepted:
                    raise ValidationError(
                        name,
                        f"is not a field of the {provider!r} seed (its fields: "
                        f"{', '.join(accepted) or 'none'})",
                    )
        seeded: str = app.seed(shipment_id, **fields)
        return seeded

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

        One per keyword of each provider's sandbox client (:meth:`client`): the provider's
        prefix and the keyword in capitals, as ``SHIPTRACK_SHIPLEMON_API_KEY``.

        Example::

            os.environ.update(sandbox.environment())
            ShiplemonClient()      # now talks to the sandbox
        """
        variables: dict[str, str] = {}
        for spec in self._specs.values():
            if spec.sandbox_client is None:
                continue
            for keyword, value in spec.sandbox_client(self).items():
                variables[f"{spec.env_prefix}_{keyword.upper()}"] = str(value)
        return variables

    # -- clients pointed at the sandbox -------------------------------------------------------

    def client(self, provider: str, **overrides: Any) -> Any:
        """A client of ``provider`` pointed at this sandbox.

        Its base URL (and token URL) are the sandbox's, its credentials those the provider's
        app accepts; ``overrides`` replace any of them, or add client options::

            exporto = sb.client("exporto", max_retries=0)

        ``sb.exporto_client(**overrides)`` is the same call, typed for the providers shipped
        with the SDK.

        Raises:
            ValidationError: this sandbox serves no provider called ``provider``.
        """
        spec = self._specs.get(provider) if isinstance(provider, str) else None
        if spec is None or spec.sandbox_client is None:
            served = ", ".join(repr(name) for name, s in self._specs.items() if s.sandbox_client)
            raise ValidationError("provider", f"{provider!r} is not one of {served}")
        return spec.client_class()(**{**spec.sandbox_client(self), **overrides})

    if TYPE_CHECKING:
        # Declarations for type checkers; at run time __getattr__ finds these in the registry.
        def shiplemon_client(self, **overrides: Any) -> ShiplemonClient:
            """A :class:`~shiptrack_sdk.shiplemon.ShiplemonClient` pointed at this sandbox."""

        def exporto_client(self, **overrides: Any) -> ExportoClient:
            """An :class:`~shiptrack_sdk.exporto.ExportoClient` pointed at this sandbox."""

        def lex_client(self, **overrides: Any) -> LexClient:
            """A :class:`~shiptrack_sdk.lex.LexClient` pointed at this sandbox."""

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # Called only for what is not found otherwise: sb.<provider>_client.
            specs = self.__dict__.get("_specs", {})
            provider = name.removesuffix("_client")
            if provider == name or provider not in specs:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

            def make(**overrides: Any) -> Any:
                return self.client(provider, **overrides)

            make.__name__ = make.__qualname__ = name
            make.__doc__ = f"A {specs[provider].title} client pointed at this sandbox."
            return make

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(f"{name}_client" for name in self._specs)})

    def oauth2_auth(self, **overrides: Any) -> OAuth2ClientCredentials:
        """An :class:`~shiptrack_sdk.auth.OAuth2ClientCredentials` for ``/oauth/token``."""
        options: dict[str, Any] = {
            "token_url": f"{self.url}/oauth/token",
            "client_id": self.credentials.oauth_client_id,
            "client_secret": self.credentials.oauth_client_secret,
        }
        options.update(overrides)
        return OAuth2ClientCredentials(**options)
