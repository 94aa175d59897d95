"""What a :class:`requests.Session` lends a request: making the client's own, preparing a
request on it, and the environment's proxies and CA bundle, read once per origin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict

from .urls import origin

#: Settings from the environment (``proxies``, ``verify``, ``cert``, ``stream``) by origin.
Environment = dict[tuple[str, str, int | None], dict[str, Any]]


def new_session() -> requests.Session:
    """The session a client makes when it is given none."""
    session = requests.Session()
    # Pool size above the default 10 so a fan-out of N workers keeps N connections alive
    # instead of opening and dropping them.
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def prepare(
    session: requests.Session,
    method: str,
    url: str,
    params: Mapping[str, Any] | None,
    data: bytes | None,
    headers: Mapping[str, str],
) -> requests.PreparedRequest:
    """The request as ``session.prepare_request`` makes it, less the credentials it adds.

    The session lends its headers (the call's own win; a session header set to ``None`` is
    dropped), its query parameters, cookies and hooks. Its ``auth`` and ``~/.netrc`` do not
    apply: the client authenticates every request itself, and HTTP Basic from either would
    replace the ``Authorization`` it sends. Merging only what is set also keeps the path
    cheap: ``prepare_request`` merges every setting through generic checks on each request.
    """
    merged = CaseInsensitiveDict(session.headers)
    merged.update(headers)
    for name in [name for name, value in merged.items() if value is None]:
        del merged[name]
    if session.params:
        params = merge_setting(params, session.params)  # type: ignore[no-untyped-call]
    prepared = requests.PreparedRequest()
    prepared.prepare(
        method=method,
        url=url,
        headers=merged,
        params=params,
        data=data,
        cookies=session.cookies,
        hooks=session.hooks,
    )
    return prepared


def environment_settings(session: requests.Session, url: str, known: Environment) -> dict[str, Any]:
    """Proxies and CA bundle from the environment, as requests reads them, but once per origin
    (kept in ``known``) rather than on every request: the lookup scans the whole environment
    (tens of microseconds, more with a large one), and ``NO_PROXY`` matches hosts, not paths."""
    key = origin(url)
    if key is not None and key in known:
        return known[key]
    settings: dict[str, Any] = dict(session.merge_environment_settings(url, {}, None, None, None))
    if key is not None:
        known[key] = settings
    return settings
