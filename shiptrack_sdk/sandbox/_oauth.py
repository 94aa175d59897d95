"""OAuth2 in the sandbox: the tokens it issues, and client-credentials token endpoints."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qs

from ..errors import ValidationError
from ._routing import Router, SandboxRequest, SandboxResponse, json_response

__all__ = ["TokenIssuer", "credentials_match", "oauth_token_routes"]


class TokenIssuer:
    """Issues and checks bearer tokens for sandbox OAuth2 endpoints.

    Args:
        lifetime: Seconds a token lives (the ``expires_in`` answered).
    """

    def __init__(self, lifetime: int = 1800) -> None:
        if isinstance(lifetime, bool) or not isinstance(lifetime, int):
            raise ValidationError("lifetime", "must be an integer number of seconds")
        self.lifetime = lifetime
        self._tokens: dict[str, tuple[str, float, str | None]] = {}
        self._lock = threading.Lock()
        #: Token requests answered with a token.
        self.issued = 0

    def issue(self, client_id: str, scope: str | None = None) -> dict[str, Any]:
        """A token response for ``client_id``."""
        if not isinstance(client_id, str) or not client_id:
            raise ValidationError("client_id", "must be a non-empty string")
        if scope is not None and not isinstance(scope, str):
            raise ValidationError("scope", "must be a string or None")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (client_id, time.monotonic() + self.lifetime, scope)
            self.issued += 1
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.lifetime,
        }
        if scope:
            answer["scope"] = scope
        return answer

    def check(self, token: str | None) -> str | None:
        """The client id a valid ``token`` was issued to, or ``None``."""
        if not token:
            return None
        if not isinstance(token, str):
            raise ValidationError("token", "must be a string or None")
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def expire_all(self) -> None:
        """Make every issued token invalid (as a server-side expiry or revocation would)."""
        with self._lock:
            self._tokens.clear()


def credentials_match(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret."""
    if not isinstance(expected, str):
        raise ValidationError("expected", "must be a string")
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def oauth_token_routes(
    router: Router,
    path: str,
    issuer: TokenIssuer,
    clients: Mapping[str, str],
    *,
    client_auth: Iterable[Literal["body", "basic"]] = ("body", "basic"),
    body_format: Literal["form", "json"] = "form",
    name: str = "oauth.token",
) -> None:
    """Add an RFC 6749 client-credentials token endpoint at ``path``.

    Args:
        clients: client id → client secret accepted.
        client_auth: How the client may authenticate (form fields and/or HTTP Basic).
        body_format: ``"form"`` (RFC 6749) or ``"json"`` (what some providers take).
    """
    methods = set(client_auth)

    def token(request: SandboxRequest) -> SandboxResponse:
        content_type = request.headers.get("Content-Type", "")
        try:
            if body_format == "json":
                if "json" not in content_type:
                    return _oauth_error(400, "invalid_request", "body must be application/json")
                fields = request.json()
                if not isinstance(fields, dict):
                    raise ValueError
            else:
                if "x-www-form-urlencoded" not in content_type:
                    return _oauth_error(
                        400, "invalid_request", "body must be application/x-www-form-urlencoded"
                    )
                fields = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        except (ValueError, UnicodeDecodeError):
            return _oauth_error(400, "invalid_request", "body could not be read")
        fields.update({k: v[0] for k, v in request.query.items() if k == "grant_type"})
        if fields.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "grant_type must be client_credentials"
            )
        basic = request.basic()
        if basic is not None and "basic" in methods:
            client_id, secret = basic
        elif "body" in methods and "client_id" in fields:
            client_id, secret = str(fields.get("client_id")), str(fields.get("client_secret", ""))
        else:
            return _oauth_error(401, "invalid_client", "client authentication missing")
        expected = clients.get(client_id)
        if expected is None or not credentials_match(secret, expected):
            return _oauth_error(401, "invalid_client", "client authentication failed")
        scope = fields.get("scope") or None
        return json_response(200, issuer.issue(client_id, scope), {"Cache-Control": "no-store"})

    router.add("POST", path, token, name=name)


def _oauth_error(status: int, error: str, description: str) -> SandboxResponse:
    return json_response(status, {"error": error, "error_description": description})
