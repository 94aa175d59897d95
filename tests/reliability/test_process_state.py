"""TLS verification is on by default and never off silently; the SDK changes no process-wide
state: not the root logger, not the SSL default context, not urllib's global opener, not the
environment (``OAUTHLIB_INSECURE_TRANSPORT``...), not requests' or urllib3's defaults, not the
warning filters."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import urllib.request
import warnings
from datetime import date
from typing import Any

import pytest
import requests
import urllib3

from shiptrack_sdk.lex import BusinessMessage, OrderStatus
from shiptrack_sdk.lex.push import IntrospectionVerifier, PushReceiver, PushWSGIApp
from shiptrack_sdk.sandbox import Sandbox

# -- TLS ------------------------------------------------------------------------------------


class RecordingAdapter(requests.adapters.HTTPAdapter):
    """Records the keyword arguments of every send."""

    def __init__(self) -> None:
        super().__init__()
        self.sends: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sends.append(kwargs)
        return super().send(request, **kwargs)


def _calls(sb: Sandbox, **options: Any) -> list[Any]:
    """One call per provider (OAuth2 token requests included) through ``options``."""
    clients = [
        sb.shiplemon_client(**options),
        sb.exporto_client(**options),
        sb.lex_client(**options),
    ]
    shiplemon, exporto, lex = clients
    shiplemon.tracking.get("be96511d-ba23-4268-bd8b-48c9cf930222")
    exporto.shipments.get("S-240902-0001")
    lex.orders.fetch(5)
    return clients


def test_tls_verification_is_on_by_default(sb: Sandbox) -> None:
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount("http://", adapter)
    clients = _calls(sb, session=session)
    for client in clients:
        assert client._transport.verify is True
    verifier = IntrospectionVerifier("https://idp.example/introspect", "c", "s")
    assert verifier._transport.verify is True
    # API calls and token requests alike were sent verifying certificates.
    assert len(adapter.sends) == 5
    assert all(send["verify"] is True for send in adapter.sends)


def test_disabling_tls_verification_is_never_silent(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount("http://", adapter)
    _calls(sb, session=session, verify=False)
    warned = [r for r in caplog.records if "TLS certificate verification is disabled" in r.message]
    assert {r.getMessage().split(":")[0] for r in warned} >= {"shiplemon", "exporto", "lex"}
    assert all(r.levelno == logging.WARNING for r in warned)
    assert all(send["verify"] is False for send in adapter.sends)


def test_a_ca_bundle_is_passed_through(sb: Sandbox) -> None:
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount("http://", adapter)
    _calls(sb, session=session, verify="/etc/ssl/certs/ca-certificates.crt")
    assert {send["verify"] for send in adapter.sends} == {"/etc/ssl/certs/ca-certificates.crt"}


# -- process-wide state ---------------------------------------------------------------------


def snapshot() -> dict[str, Any]:
    """What the SDK must leave as it found it."""
    root = logging.getLogger()
    return {
        "root handlers": list(root.handlers),
        "root level": root.level,
        "logging disable": logging.root.manager.disable,
        "sdk logger": (
            logging.getLogger("shiptrack_sdk").level,
            logging.getLogger("shiptrack_sdk").propagate,
        ),
        "urllib3 logger": (
            logging.getLogger("urllib3").level,
            logging.getLogger("urllib3").handlers,
        ),
        "ssl default https context": ssl._create_default_https_context,
        "ssl create_default_context": ssl.create_default_context,
        "urllib opener": urllib.request._opener,  # type: ignore[attr-defined]
        "environment": dict(os.environ),
        "requests Session.request": requests.Session.request,
        "requests Session.send": requests.Session.send,
        "requests HTTPAdapter.send": requests.adapters.HTTPAdapter.send,
        "requests default retries": requests.adapters.DEFAULT_RETRIES,
        "requests CA bundle": requests.utils.DEFAULT_CA_BUNDLE_PATH,
        "urllib3 connection defaults": urllib3.connection.HTTPConnection.default_socket_options,
        "http.client debuglevel": http.client.HTTPConnection.debuglevel,
        "socket default timeout": socket.getdefaulttimeout(),
        "warning filters": list(warnings.filters),
        "recursion limit": sys.getrecursionlimit(),
    }


def test_nothing_process_wide_changes(tmp_path: Any) -> None:
    before = snapshot()
    with Sandbox() as sb:
        for verify in (True, False):
            _calls(sb, verify=verify, backoff_factor=0.001)
        exporto = sb.exporto_client()
        results = list(exporto.tours.track(since=date(2024, 9, 6), max_workers=4, progress=True))
        assert all(r.ok for r in results)
        lex = sb.lex_client()
        lex.orders.send(BusinessMessage.create("ORDER_STATUS", OrderStatus(order_number="1")))
        sb.tokens.expire_all()
        lex.orders.fetch(3)  # a renewal and a replay
        receiver = PushReceiver(allow_unauthenticated=True)
        app = PushWSGIApp(receiver, lambda messages: None)
        body = json.dumps([{"messageId": "m", "messageType": "X"}]).encode()
        environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body))}
        environ["wsgi.input"] = io.BytesIO(body)
        app(environ, lambda *a: None)
    after = snapshot()
    changed = {key for key in before if before[key] != after[key]}
    assert changed == set(), {key: (before[key], after[key]) for key in changed}


_IMPORT_SCRIPT = r"""
import json, logging, os, ssl, sys, urllib.request, warnings, socket
def snap():
    root = logging.getLogger()
    return {
        "root handlers": [type(h).__name__ for h in root.handlers],
        "root level": root.level,
        "ssl": repr(ssl._create_default_https_context),
        "opener": repr(urllib.request._opener),
        "env": dict(os.environ),
        "warnings": [repr(f) for f in warnings.filters],
        "socket timeout": socket.getdefaulttimeout(),
        "recursion": sys.getrecursionlimit(),
    }
before = snap()
import requests, urllib3
IMPORTS
after = snap()
print(json.dumps({k: [before[k], after[k]] for k in before if before[k] != after[k]}))
"""
_SDK_IMPORTS = """
import importlib, pkgutil, shiptrack_sdk
for module in pkgutil.walk_packages(shiptrack_sdk.__path__, "shiptrack_sdk."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
"""


def _changes(imports: str) -> dict[str, Any]:
    code = _IMPORT_SCRIPT.replace("IMPORTS", imports)
    out = subprocess.run(  # noqa: S603 - this interpreter, code written here
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_sdk_changes_nothing_process_wide() -> None:
    """In fresh interpreters: what importing every module of the SDK changes, against what
    importing requests and urllib3 alone changes."""
    assert _changes(_SDK_IMPORTS) == _changes("")
