"""What every provider client is built from: its spec, its credentials and one transport.

A provider client subclasses :class:`BaseClient` and sets one class attribute, its
:class:`~.spec.ProviderSpec`; everything else (base URL, credentials, error parser, envelope)
is read from there. Settings resolve per call > constructor keyword > ``SHIPTRACK_*``
environment variable > default.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import requests

from ..auth import ApiKeyAuth, OAuth2ClientCredentials
from ..errors import ValidationError
from . import validate
from .options import OPTION_NAMES, RetryPolicy, Timeout, Unpack, env_max_retries, env_timeout
from .ratelimit import RateLimit, resolve_rate_limit
from .secret import Secret
from .spec import ApiKeyAuthSpec, OAuth2AuthSpec, ProviderSpec
from .tokens import Credentials, WithApiKey
from .transport import USER_AGENT, Transport
from .urls import redact_url

if TYPE_CHECKING:
    from .options import ClientOptions

__all__ = ["BaseClient", "env_setting", "require_setting"]

T = TypeVar("T")


def env_setting(value: str | None, env_var: str) -> str | None:
    """``value`` when given, else the environment variable ``env_var`` (empty counts as unset)."""
    if value is not None:
        return value
    return os.environ.get(env_var) or None


def require_setting(value: str | None, *, argument: str, env_var: str) -> str:
    """A required setting (a credential): the argument, or its environment variable.

    Credentials travel in HTTP headers, so they are checked as header values here, where the
    error can name what the caller set.

    Raises:
        ValidationError: neither is set (the message names the keyword and the variable),
            or the value cannot go into a header (naming the argument, or the variable when
            the value came from it; the value itself is never quoted).
    """
    resolved = env_setting(value, env_var)
    if not resolved:
        raise ValidationError(argument, f"is required: pass {argument}= or set {env_var}")
    return validate.header_value(argument if value is not None else env_var, resolved)


#: The credential keywords each kind of authentication takes.
_CREDENTIALS: dict[type, tuple[str, ...]] = {
    ApiKeyAuthSpec: ("api_key",),
    OAuth2AuthSpec: ("client_id", "client_secret", "token_url", "scope"),
}


class BaseClient:
    """The shared part of every provider client: configuration and one transport.

    Args:
        environment: A named environment of the provider's (env ``<PREFIX>_ENVIRONMENT``).
        base_url: Overrides the environment's URL (env ``<PREFIX>_BASE_URL``).
        api_key: The API key, for providers that authenticate with one.
        client_id: The OAuth2 client id, for providers that use OAuth2.
        client_secret: The OAuth2 client secret.
        token_url: The OAuth2 token endpoint (env ``<PREFIX>_TOKEN_URL``).
        scope: OAuth2 scopes to ask for (env ``<PREFIX>_SCOPE``).
        apikey: An API key sent beside the OAuth2 token, for providers whose gateway may ask
            for one (env ``<PREFIX>_APIKEY``; the header is the spec's ``api_key_header``).
        **options: The shared options (:class:`~shiptrack_sdk.ClientOptions`).
    """

    #: The provider this client speaks to.
    spec: ClassVar[ProviderSpec]

    def __init__(
        self,
        *,
        environment: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str | None = None,
        scope: Any = None,
        apikey: str | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        unknown = sorted(set(options) - OPTION_NAMES)
        if unknown:
            known = ", ".join(sorted(OPTION_NAMES))
            raise ValidationError(unknown[0], f"is not an option of this client (options: {known})")
        spec = self.spec
        given = {"api_key": api_key, "client_id": client_id, "client_secret": client_secret}
        given.update(token_url=token_url, scope=scope, apikey=apikey)
        takes = _CREDENTIALS.get(type(spec.auth), ())
        if isinstance(spec.auth, OAuth2AuthSpec) and spec.auth.api_key_header:
            takes += ("apikey",)
        for name, value in given.items():
            if value is not None and name not in takes:
                raise ValidationError(name, f"is not a setting of the {spec.title} client")
        url = self._base_url(base_url, environment)
        self.auth: ApiKeyAuth | OAuth2ClientCredentials | None = self._auth(
            url, api_key=api_key, client_id=client_id, client_secret=client_secret,
            token_url=token_url, scope=scope,
        )  # fmt: skip
        timeout = options.get("timeout")
        retry = options.get("retry")
        if retry is None:
            policy: dict[str, Any] = {}
            retries = options.get("max_retries")
            if retries is None:
                retries = env_max_retries()
            if retries is not None:
                policy["max_retries"] = retries
            if options.get("backoff_factor") is not None:
                policy["backoff_factor"] = options["backoff_factor"]
            retry = RetryPolicy(**policy)
        elif not isinstance(retry, RetryPolicy):
            raise ValidationError("retry", "must be a RetryPolicy")
        self._transport = Transport(
            provider=spec.name,
            base_url=url,
            credentials=self._with_api_key(self.auth, apikey),
            session=options.get("session"),
            timeout=Timeout.of(timeout) if timeout is not None else env_timeout(),
            retry=retry,
            verify=options.get("verify", True),
            error_parser=spec.error_parser,
            max_response_bytes=options.get("max_response_bytes", 32 * 1024 * 1024),
            user_agent=options.get("user_agent", USER_AGENT),
        )
        self._transport.limiter.rate_limit = resolve_rate_limit(
            options.get("rate_limit"), f"{spec.env_prefix}_RATE_LIMIT", spec.rate_limit
        )
        if isinstance(self.auth, OAuth2ClientCredentials):
            # The token's own requests (on a session of the caller's) share this pool.
            self.auth.bind(self._transport)

    def _base_url(self, base_url: str | None, environment: str | None) -> str:
        spec = self.spec
        url = env_setting(base_url, f"{spec.env_prefix}_BASE_URL")
        if not url:
            env = env_setting(environment, f"{spec.env_prefix}_ENVIRONMENT")
            env = env or spec.default_environment
            if env not in spec.environments:
                names = ", ".join(map(repr, spec.environments))
                raise ValidationError("environment", f"{env!r} is not one of {names}")
            url = spec.environments[env]
        return validate.http_url("base_url", url)

    def _auth(
        self, base_url: str, *, api_key: str | None, client_id: str | None,
        client_secret: str | None, token_url: str | None, scope: Any,
    ) -> ApiKeyAuth | OAuth2ClientCredentials | None:  # fmt: skip
        spec = self.spec
        prefix = spec.env_prefix
        auth = spec.auth
        if isinstance(auth, ApiKeyAuthSpec):
            env_var = f"{prefix}_{auth.argument.upper()}"
            return ApiKeyAuth(
                auth.header, require_setting(api_key, argument=auth.argument, env_var=env_var)
            )
        if isinstance(auth, OAuth2AuthSpec):
            url = env_setting(token_url, f"{prefix}_TOKEN_URL") or auth.token_url
            if not url.startswith(("http://", "https://")):
                url = base_url.rstrip("/") + "/" + url.lstrip("/")
            oauth = OAuth2ClientCredentials(
                url,
                require_setting(client_id, argument="client_id", env_var=f"{prefix}_CLIENT_ID"),
                require_setting(
                    client_secret, argument="client_secret", env_var=f"{prefix}_CLIENT_SECRET"
                ),
                scope=scope if scope is not None else env_setting(None, f"{prefix}_SCOPE"),
                client_auth=auth.client_auth,
                body=auth.body,
                grant_type_in_query=auth.grant_type_in_query,
                provider=spec.name,
            )
            # The API's own origin is checked now: a bearer token never goes over plain HTTP.
            oauth.tokens.check_destination(base_url)
            return oauth
        return None

    def _with_api_key(
        self, auth: ApiKeyAuth | OAuth2ClientCredentials | None, apikey: str | None
    ) -> Credentials | None:
        """``auth``, with the API key the spec's gateway may ask for beside it, when one is
        set."""
        spec = self.spec
        header = spec.auth.api_key_header if isinstance(spec.auth, OAuth2AuthSpec) else None
        env_var = f"{spec.env_prefix}_APIKEY"
        key = env_setting(apikey, env_var) if header else None
        if auth is None or header is None or key is None:
            return auth
        checked = validate.header_value("apikey" if apikey is not None else env_var, key)
        return WithApiKey(auth, header, Secret(checked))

    @property
    def provider(self) -> str:
        """The provider's name, as in errors, logs and :attr:`Tracking.provider`."""
        return self.spec.name

    @property
    def base_url(self) -> str:
        """The base URL every path is relative to."""
        return self._transport.base_url

    @property
    def session(self) -> requests.Session:
        """The pooled :class:`requests.Session` this client sends through."""
        return self._transport.session

    @property
    def timeout(self) -> Timeout:
        """The default timeout."""
        return self._transport.timeout

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy."""
        return self._transport.retry

    @property
    def rate_limit(self) -> RateLimit | None:
        """The client's rate limit, or ``None`` when it has none (see the ``rate_limit``
        option)."""
        return self._transport.limiter.rate_limit

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (every request then raises
        :class:`~shiptrack_sdk.errors.ClientClosedError`)."""
        return self._transport.closed

    def close(self) -> None:
        """Release pooled connections (a session passed in by the caller is left open)."""
        self._transport.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redact_url(self.base_url)}>"
