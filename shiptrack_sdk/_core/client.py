"""What every provider client and resource is built from.

A provider client subclasses :class:`BaseClient` (it says its name, base URLs and auth); its
resources subclass :class:`Resource` and declare endpoints as a route plus a model::

    def get(self, shipment_id: str) -> ShipmentTracking:
        return self._get(f"public/v1/shipments/{path_id(shipment_id)}/tracking", ShipmentTracking)

Settings resolve per call > constructor keyword > ``SHIPTRACK_*`` environment variable > default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import requests
from requests.auth import AuthBase

from .convert import STRUCTURE_ERRORS, converter, describe_structure_error
from .transport import (
    ErrorParser,
    RetryPolicy,
    Timeout,
    TimeoutLike,
    Transport,
    VerifyLike,
    redact_url,
)
from ..auth import check_header_value
from ..errors import ResponseError, ValidationError

__all__ = [
    "BaseClient",
    "Resource",
    "aware_datetime",
    "env_setting",
    "path_id",
    "require_setting",
    "resolve_base_url",
]

T = TypeVar("T")

# Control characters (C0 and DEL), looked for by the regex engine: every id of every call
# is checked.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def env_setting(value: str | None, env_var: str) -> str | None:
    """``value`` when given, else the environment variable ``env_var`` (empty counts as unset)."""
    if value is not None:
        return value
    return os.environ.get(env_var) or None


def require_setting(value: str | None, *, argument: str, env_var: str) -> str:
    """A required setting (a credential): the argument, or its environment variable.

    Credentials travel in HTTP headers, so they are checked as header values (Latin-1 text
    without control characters) here, where the error can name what the caller set.

    Raises:
        ValidationError: neither is set (the message names both), or the value cannot go into
            a header (naming the argument, or the variable when the value came from it; the
            value itself is never quoted).
    """
    resolved = env_setting(value, env_var)
    if not resolved:
        raise ValidationError(argument, f"is required: pass {argument}= or set {env_var}")
    return check_header_value(argument if value is not None else env_var, resolved)


def resolve_base_url(
    *,
    base_url: str | None,
    environment: str | None,
    environments: Mapping[str, str],
    env_prefix: str,
    default: str = "production",
) -> str:
    """The base URL: ``base_url``, else ``{env_prefix}_BASE_URL``, else the URL of
    ``environment`` (or ``{env_prefix}_ENVIRONMENT``, or ``default``) in ``environments``."""
    url = env_setting(base_url, f"{env_prefix}_BASE_URL")
    if url:
        return url
    env = env_setting(environment, f"{env_prefix}_ENVIRONMENT") or default
    if env not in environments:
        raise ValidationError(
            "environment", f"{env!r} is not one of {', '.join(map(repr, environments))}"
        )
    return environments[env]


def _env_timeout() -> Timeout | None:
    raw = os.environ.get("SHIPTRACK_TIMEOUT")
    if not raw:
        return None
    parts = raw.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValidationError("SHIPTRACK_TIMEOUT", "must be seconds or 'connect,read'") from None
    if len(numbers) == 1:
        return Timeout.of(numbers[0], argument="SHIPTRACK_TIMEOUT")
    if len(numbers) == 2:
        return Timeout.of((numbers[0], numbers[1]), argument="SHIPTRACK_TIMEOUT")
    raise ValidationError("SHIPTRACK_TIMEOUT", "must be seconds or 'connect,read'")


def _env_max_retries() -> int | None:
    raw = os.environ.get("SHIPTRACK_MAX_RETRIES")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError("SHIPTRACK_MAX_RETRIES", "must be an integer >= 0")
    return int(raw)


def path_id(value: Any, argument: str = "shipment_id") -> str:
    """``value`` checked and percent-encoded for use as one path segment.

    An id like ``../x`` cannot change the path: ``/`` and every other reserved character are
    encoded, and the dot segments ``.`` and ``..`` are refused.

    Raises:
        ValidationError: not a non-empty string, a dot segment, or has control characters.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(argument, "must be a non-empty string")
    if value in (".", ".."):
        raise ValidationError(argument, f"{value!r} is not an id")
    if _CONTROL.search(value):
        raise ValidationError(argument, "must not contain control characters")
    return quote(value, safe="")


def aware_datetime(value: Any, argument: str) -> datetime:
    """``value`` if it is a time-zone aware datetime, else :class:`ValidationError`."""
    if not isinstance(value, datetime):
        raise ValidationError(argument, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            argument, "must be time-zone aware (e.g. datetime(..., tzinfo=timezone.utc))"
        )
    return value


class BaseClient:
    """The shared part of every provider client: configuration and one :class:`Transport`.

    Args:
        base_url: Prefix of every path of the provider's API.
        auth: How requests authenticate.
        session: A :class:`requests.Session` of the caller's (proxies, certificates).
        timeout: Default timeout: seconds, ``(connect, read)`` or :class:`Timeout`
            (env ``SHIPTRACK_TIMEOUT``; default connect 5 s, read 30 s).
        max_retries: Retries after the first attempt, ``0`` disables
            (env ``SHIPTRACK_MAX_RETRIES``; default 3).
        backoff_factor: First backoff in seconds, doubled at each retry (default 0.5).
        retry: A full :class:`RetryPolicy`, instead of ``max_retries``/``backoff_factor``.
        verify: ``True`` (the default), the path of a CA bundle file or directory that
            exists, or ``False`` (which logs a warning); anything else is refused.
        user_agent: Replaces the ``shiptrack-sdk/<version>`` User-Agent.
    """

    #: The provider's name, as used in errors, logs and :attr:`Tracking.provider`.
    provider: ClassVar[str] = ""

    def __init__(
        self,
        *,
        base_url: str,
        auth: AuthBase | None,
        session: requests.Session | None = None,
        timeout: TimeoutLike | None = None,
        max_retries: int | None = None,
        backoff_factor: float | None = None,
        retry: RetryPolicy | None = None,
        verify: VerifyLike = True,
        user_agent: str | None = None,
        error_parser: ErrorParser | None = None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            shown = redact_url(base_url) if isinstance(base_url, str) else base_url
            raise ValidationError("base_url", f"must be an http(s) URL, got {shown!r}")
        if any(ord(c) <= 32 or ord(c) == 127 for c in base_url):
            raise ValidationError("base_url", "must not contain spaces or control characters")
        if session is not None and not isinstance(session, requests.Session):
            raise ValidationError("session", "must be a requests.Session")
        resolved_timeout = Timeout.of(timeout) if timeout is not None else _env_timeout()
        if retry is None:
            policy: dict[str, Any] = {}
            retries = max_retries if max_retries is not None else _env_max_retries()
            if retries is not None:
                policy["max_retries"] = retries
            if backoff_factor is not None:
                policy["backoff_factor"] = backoff_factor
            retry = RetryPolicy(**policy)
        extra: dict[str, Any] = {}
        if user_agent is not None:
            extra["user_agent"] = user_agent
        self._transport = Transport(
            provider=self.provider,
            base_url=base_url,
            auth=auth,
            session=session,
            timeout=resolved_timeout,
            retry=retry,
            verify=verify,
            error_parser=error_parser,
            **extra,
        )
        bind = getattr(auth, "bind", None)
        if callable(bind):
            bind(self._transport)

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

    def close(self) -> None:
        """Release pooled connections (a session passed in by the caller is left open)."""
        self._transport.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redact_url(self.base_url)}>"

    def unwrap(self, payload: Any, response: requests.Response) -> Any:
        """The part of a successful answer that holds the model (the whole, by default)."""
        return payload


class Resource:
    """A group of endpoints over one client's transport."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client
        self._transport = client._transport

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    def _request(
        self,
        method: str,
        path: str,
        model: type[T],
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        timeout: TimeoutLike | None = None,
        unwrap: Callable[[Any, requests.Response], Any] | None = None,
    ) -> T:
        transport = self._transport
        response = transport.request(
            method, path, params=params, json_body=json_body, timeout=timeout
        )
        payload = transport.decode_json(response, method)
        data = (unwrap or self._client.unwrap)(payload, response)
        return self._structure(data, model, response, method)

    def _structure(self, data: Any, model: type[T], response: requests.Response, method: str) -> T:
        try:
            return converter.structure(data, model)
        except STRUCTURE_ERRORS as exc:
            raise ResponseError(
                f"answer does not have the documented shape of {getattr(model, '__name__', model)}"
                f" ({describe_structure_error(exc)})",
                provider=self._transport.provider,
                method=method,
                url=redact_url(response.url),
                status=response.status_code,
                body=response.content[:400].decode("utf-8", "replace"),
            ) from exc

    def _get(self, path: str, model: type[T], **kwargs: Any) -> T:
        return self._request("GET", path, model, **kwargs)

    def _put(self, path: str, model: type[T], **kwargs: Any) -> T:
        return self._request("PUT", path, model, **kwargs)

    def _post(self, path: str, model: type[T], **kwargs: Any) -> T:
        return self._request("POST", path, model, **kwargs)
