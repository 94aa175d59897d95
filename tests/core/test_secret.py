"""Secret, MaskedStr and MaskedBytes: masked wherever they are printed, logged or captured in a
traceback, and sent intact over real HTTP (to 127.0.0.1)."""

from __future__ import annotations

import copy
import logging
import pickle
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import urllib3

from shiptrack_sdk._core.secret import MASK, MaskedBytes, MaskedStr, Secret

SENTINEL = "SENTINEL-S-c0ffee42"

# -- Secret -----------------------------------------------------------------------------------


def _every_rendering(value: object) -> list[str]:
    return [
        repr(value),
        str(value),
        f"{value}",
        f"{value!r}",
        f"{value!s}",
        f"{value:>40}",
        "%s" % (value,),  # noqa: UP031 (the %-operator is what is tested)
        "%r" % (value,),  # noqa: UP031
        "{}".format(value),  # noqa: UP032
        repr([value]),
        repr({"k": value}),
        repr((value,)),
    ]


def test_a_secret_shows_masked_everywhere() -> None:
    secret = Secret(SENTINEL)
    assert repr(secret) == "Secret('***')"
    assert str(secret) == MASK
    assert f"{secret}" == MASK
    assert f"{secret:>5}" == "  ***"
    for text in _every_rendering(secret):
        assert SENTINEL not in text, text


def test_a_secret_reveals_its_value() -> None:
    secret = Secret(SENTINEL)
    assert secret.reveal() == SENTINEL
    assert Secret(secret).reveal() == SENTINEL  # a Secret of a Secret is the same secret


def test_a_secret_in_a_log_record_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("tests.secret")
    secret = Secret(SENTINEL)
    logger.debug("key %s", secret)
    logger.debug("key %r", secret)
    logger.debug("key %(key)s", {"key": secret})
    logger.debug("keys %s", [secret])
    assert len(caplog.records) == 4
    for record in caplog.records:
        assert SENTINEL not in record.getMessage()
    assert SENTINEL not in caplog.text


def test_secrets_compare_by_value_in_constant_time() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("caf\u00e9 \u20ac") == Secret("caf\u00e9 \u20ac")  # compare_digest wants bytes
    assert Secret("\udc80") == Secret("\udc80")  # even a lone surrogate does not raise
    # A secret is not equal to its plain value: code must say reveal() to compare that.
    assert Secret("a") != "a"
    assert Secret("a") != "a"


def test_a_secret_is_unhashable_and_immutable() -> None:
    secret = Secret(SENTINEL)
    with pytest.raises(TypeError):
        hash(secret)
    with pytest.raises(TypeError):
        {secret}  # noqa: B018
    with pytest.raises(AttributeError):
        secret._value = "other"
    with pytest.raises(AttributeError):
        secret.other = 1
    with pytest.raises(AttributeError):
        del secret._value
    assert not hasattr(secret, "__dict__")
    assert secret.reveal() == SENTINEL


def test_a_secret_is_true_when_not_empty() -> None:
    assert Secret("x")
    assert not Secret("")


def test_a_secret_holds_text_only_and_says_so_without_the_value() -> None:
    for value in (SENTINEL.encode(), 42, None, [SENTINEL]):
        with pytest.raises(TypeError) as info:
            Secret(value)  # type: ignore[arg-type]
        assert SENTINEL not in str(info.value)
        assert "Secret holds a string" in str(info.value)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_secret_pickles_with_its_value(protocol: int) -> None:
    # Clients are pickled to worker processes, credentials included.
    secret = Secret(SENTINEL)
    back = pickle.loads(pickle.dumps(secret, protocol=protocol))  # noqa: S301 (our own bytes)
    assert type(back) is Secret
    assert back.reveal() == SENTINEL
    assert back == secret
    assert repr(back) == "Secret('***')"


def test_a_secret_copies() -> None:
    secret = Secret(SENTINEL)
    for other in (copy.copy(secret), copy.deepcopy(secret), copy.deepcopy([secret])[0]):
        assert other.reveal() == SENTINEL


# -- MaskedStr and MaskedBytes ----------------------------------------------------------------


def test_a_masked_str_is_the_string_it_wraps_and_shows_masked() -> None:
    header = MaskedStr(f"Bearer {SENTINEL}")
    assert isinstance(header, str)
    assert header == f"Bearer {SENTINEL}"
    assert header.startswith("Bearer ")
    assert header.encode("latin-1") == f"Bearer {SENTINEL}".encode("latin-1")
    assert repr(header) == "'***'"
    assert str(header) == MASK
    for text in _every_rendering(header):
        assert SENTINEL not in text, text
    assert SENTINEL not in repr({"Authorization": header})


def test_a_masked_bytes_is_the_bytes_it_wraps_and_shows_masked() -> None:
    body = MaskedBytes(f"client_secret={SENTINEL}".encode())
    assert isinstance(body, bytes)
    assert body == f"client_secret={SENTINEL}".encode()
    assert len(body) == len(f"client_secret={SENTINEL}")
    assert repr(body) == "b'***'"
    assert str(body) == "b'***'"
    for text in _every_rendering(body):
        assert SENTINEL not in text, text


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_masked_values_pickle_as_themselves(protocol: int) -> None:
    for value in (MaskedStr(SENTINEL), MaskedBytes(SENTINEL.encode())):
        back = pickle.loads(pickle.dumps(value, protocol=protocol))  # noqa: S301 (our own bytes)
        assert type(back) is type(value)
        assert back == value
        assert SENTINEL not in repr(back)


def test_masked_values_have_no_instance_dict() -> None:
    # No place to hang state on, and no memory overhead per header.
    assert not hasattr(MaskedStr("x"), "__dict__")
    assert not hasattr(MaskedBytes(b"x"), "__dict__")


# -- captured locals --------------------------------------------------------------------------


def _fails_holding(**values: Any) -> None:
    secret = values["secret"]  # noqa: F841 (locals are what is tested)
    header = values["header"]  # noqa: F841
    body = values["body"]  # noqa: F841
    headers = {"Authorization": values["header"], "Accept": "application/json"}  # noqa: F841
    raise RuntimeError("the send failed")


def _captured(**values: Any) -> str:
    try:
        _fails_holding(**values)
    except RuntimeError as exc:
        summary = traceback.TracebackException(
            type(exc), exc, exc.__traceback__, capture_locals=True
        )
        return "".join(summary.format())
    raise AssertionError("no exception")


def test_captured_locals_show_the_masked_form() -> None:
    text = _captured(
        secret=Secret(SENTINEL),
        header=MaskedStr(f"Bearer {SENTINEL}"),
        body=MaskedBytes(f"client_secret={SENTINEL}".encode()),
    )
    assert "the send failed" in text
    assert "secret = Secret('***')" in text
    assert "header = '***'" in text
    assert "body = b'***'" in text
    assert SENTINEL not in text


def test_captured_locals_would_show_plain_values() -> None:
    # The control: what the masked types keep out of an error reporter.
    text = _captured(
        secret=SENTINEL, header=f"Bearer {SENTINEL}", body=f"client_secret={SENTINEL}".encode()
    )
    assert SENTINEL in text


# -- over real HTTP ---------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """Records each request's headers and body; answers 200, or 302 for ``/redirect``."""

    seen: list[tuple[str, dict[str, str], bytes]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append((self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        if self.path == "/redirect":
            self.send_response(307)
            self.send_header("Location", "/landed")
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_requests_sends_a_masked_header_and_body_intact(
    recorder: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, seen = recorder
    token = Secret(SENTINEL)
    header = MaskedStr(f"Bearer {token.reveal()}")
    body = MaskedBytes(f"grant_type=client_credentials&client_secret={token.reveal()}".encode())
    with requests.Session() as session:
        request = requests.Request(
            "POST",
            url + "/token",
            headers={"Authorization": header, "x-api-key": MaskedStr(SENTINEL)},
            data=body,
        )
        prepared = session.prepare_request(request)
        # requests keeps the very objects: nothing in the prepared request shows the values.
        assert prepared.body is body
        assert prepared.headers["Authorization"] is header
        assert SENTINEL not in repr(prepared.headers)
        assert SENTINEL not in repr(prepared.body)
        assert SENTINEL not in repr(vars(prepared))
        answer = session.send(prepared, timeout=5)
        assert answer.status_code == 200
        # ...and a redirect is followed with them too (307 keeps method and body).
        redirected = session.post(url + "/redirect", headers={"x-api-key": header}, timeout=5)
        assert redirected.status_code == 200
        assert SENTINEL not in repr(redirected.request.headers)
    path, headers, received = seen[0]
    assert path == "/token"
    assert headers["Authorization"] == f"Bearer {SENTINEL}"
    assert headers["x-api-key"] == SENTINEL
    assert received == f"grant_type=client_credentials&client_secret={SENTINEL}".encode()
    assert headers["Content-Length"] == str(len(body))
    assert [p for p, _, _ in seen[1:]] == ["/redirect", "/landed"]
    assert all(h["x-api-key"] == f"Bearer {SENTINEL}" for _, h, _ in seen[1:])


def test_urllib3_sends_a_masked_header_and_body_intact(
    recorder: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, seen = recorder
    with urllib3.PoolManager() as pool:
        answer = pool.request(
            "POST",
            url + "/x",
            headers={"Authorization": MaskedStr(f"Bearer {SENTINEL}")},
            body=MaskedBytes(SENTINEL.encode()),
        )
    assert answer.status == 200
    assert seen[0][1]["Authorization"] == f"Bearer {SENTINEL}"
    assert seen[0][2] == SENTINEL.encode()


def test_an_invalid_masked_header_is_refused_without_showing_it() -> None:
    # requests quotes a bad header value in its error, with repr: masked.
    bad = MaskedStr(f"a\n{SENTINEL}")
    with pytest.raises(requests.exceptions.InvalidHeader) as info:
        requests.Request("GET", "http://127.0.0.1/", headers={"x": bad}).prepare()
    assert SENTINEL not in str(info.value)


def test_a_failed_send_captures_only_masked_values_in_requests_and_urllib3_frames() -> None:
    # A connection refused while sending: the locals of requests' and urllib3's frames that
    # hold the headers and body show them masked. (http.client's own encoded buffer holds the
    # plain bytes: the transport must not chain such a traceback to the errors it raises.)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(requests.ConnectionError) as info:
        requests.post(
            f"http://127.0.0.1:{port}/x",
            headers={"Authorization": MaskedStr(f"Bearer {SENTINEL}")},
            data=MaskedBytes(SENTINEL.encode()),
            timeout=5,
        )
    exc = info.value
    checked = 0
    for link in (exc, exc.__context__, exc.__cause__):
        if link is None:
            continue
        summary = traceback.StackSummary.extract(
            traceback.walk_tb(link.__traceback__), capture_locals=True
        )
        for frame in summary:
            if "http/client.py" in frame.filename:
                continue
            checked += 1
            for value in (frame.locals or {}).values():
                assert SENTINEL not in value, (frame.filename, frame.name)
    assert checked > 5  # requests' and urllib3's frames were there
    assert isinstance(exc.request, requests.PreparedRequest)
    assert SENTINEL not in repr(exc.request.headers)
    assert SENTINEL not in repr(exc.request.body)
