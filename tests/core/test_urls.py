"""URL redaction, origins and the log filter that keeps secret query values out of urllib3's
DEBUG lines (over real HTTP to 127.0.0.1)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import urllib3
from hypothesis import given, settings
from hypothesis import strategies as st

from shiptrack_sdk._core.urls import (
    MASK,
    REDACTED_LOGGERS,
    SECRET_NAME_PARTS,
    SECRET_NAME_WORDS,
    RedactingFilter,
    install_log_redaction,
    is_loopback_url,
    is_secret_name,
    leaves_origin,
    origin,
    redact_text,
    redact_url,
    redirect_target,
)

SENTINEL = "SENTINEL-Q-3b9e71"

# -- redact_url: a table ----------------------------------------------------------------------

CASES = [
    # Nothing to mask: the URL comes back unchanged, object and all.
    ("https://api.example.com/v1/shipments/42", "https://api.example.com/v1/shipments/42"),
    ("https://h/x?page=2&limit=50", "https://h/x?page=2&limit=50"),
    ("https://h/x#section-2", "https://h/x#section-2"),
    ("", ""),
    # User info.
    ("https://user:pw@host/x", "https://***@host/x"),
    ("https://user@host", "https://***@host"),
    ("https://:pw@host:8443/x", "https://***@host:8443/x"),
    ("//user:pw@host/x", "//***@host/x"),
    ("https://user:p%40ss@host/x", "https://***@host/x"),
    ("https://user:p@ss@host/x", "https://***@host/x"),
    ("https://user:pa#ss@host/x", "https://***@host/x"),
    ("https://user:pa?ss@host/x", "https://***@host/x"),
    ("https://host/x?email=a@b.example", "https://host/x?email=a@b.example"),
    # The query.
    ("https://h/x?token=abc", "https://h/x?token=***"),
    ("https://h/x?a=1&api_key=abc&b=2", "https://h/x?a=1&api_key=***&b=2"),
    ("https://h/x?TOKEN=abc&Token=def", "https://h/x?TOKEN=***&Token=***"),
    ("https://h/x?token=a&token=b&token=c", "https://h/x?token=***&token=***&token=***"),
    ("https://h/x?token=", "https://h/x?token="),
    ("https://h/x?token", "https://h/x?token"),
    ("https://h/x?token=a=b=c&x=1", "https://h/x?token=***&x=1"),
    ("https://h/x?token=abc/def+ghi==", "https://h/x?token=***"),
    ("https://h/x?a=1;sig=abc;b=2", "https://h/x?a=1;sig=***;b=2"),
    ("https://h/x?a=1&amp;token=abc", "https://h/x?a=1&amp;token=***"),
    ("https://h/x?a?token=abc", "https://h/x?a?token=***"),
    ("/relative/x?password=abc", "/relative/x?password=***"),
    ("?client_secret=abc", "?client_secret=***"),
    # Percent-encoded names, once and twice; '+' is a space in a query.
    ("https://h/x?%74oken=abc", "https://h/x?%74oken=***"),
    ("https://h/x?%2574oken=abc", "https://h/x?%2574oken=***"),
    ("https://h/x?client%5Fsecret=abc", "https://h/x?client%5Fsecret=***"),
    ("https://h/x?api+key=abc", "https://h/x?api+key=***"),
    # S3 and GCS presigned URLs, Azure SAS.
    (
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2024"
        "&X-Amz-Date=20240101T000000Z&X-Amz-Security-Token=tok&X-Amz-Signature=abc",
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***"
        "&X-Amz-Date=20240101T000000Z&X-Amz-Security-Token=***&X-Amz-Signature=***",
    ),
    (
        "https://s.blob.core.windows.net/c/b?sv=2021&se=2024&sp=r&sig=abc%3D",
        "https://s.blob.core.windows.net/c/b?sv=2021&se=2024&sp=r&sig=***",
    ),
    # ';' parameters of path segments.
    ("https://h/app;jsessionid=abc/x", "https://h/app;jsessionid=***/x"),
    ("https://h/a;v=1;session=abc;w=2/b?c=3", "https://h/a;v=1;session=***;w=2/b?c=3"),
    ("https://h/a;token=abc?token=def#token=ghi", "https://h/a;token=***?token=***#token=***"),
    # The fragment (the OAuth implicit flow, hash routes).
    (
        "https://app/cb#access_token=abc&token_type=bearer&state=xyz&expires_in=3600",
        "https://app/cb#access_token=***&token_type=***&state=xyz&expires_in=3600",
    ),
    ("https://app/#/callback?code=abc&state=s", "https://app/#/callback?code=***&state=s"),
    ("https://app/x?a=1#id_token=abc", "https://app/x?a=1#id_token=***"),
    # A URL or a query inside a value.
    (
        "https://h/login?redirect_uri=https://app/cb?code=abc&other=1",
        "https://h/login?redirect_uri=https://app/cb?code=***&other=1",
    ),
    ("https://h/x?next=https%3A%2F%2Fapp%2Fcb%3Fcode%3Dabc", "https://h/x?next=***"),
    ("https://h/x?next=https://u:pw@app/", "https://h/x?next=https://***@app/"),
    ("https://h/x?q=a%3Db", "https://h/x?q=a%3Db"),
    # URLs urlsplit refuses: masked by the same rules.
    ("http://[::1/x?token=abc", "http://[::1/x?token=***"),
    ("http://h:99999/x?token=abc", "http://h:99999/x?token=***"),
    ("http://h:port/x?token=abc#sig=def", "http://h:port/x?token=***#sig=***"),
    ("http://u:pw@[::1/x", "http://***@[::1/x"),
    ("http://h\\x?token=abc", "http://h\\x?token=***"),
]


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    # Redacting twice changes nothing more.
    assert redact_url(expected) == expected


def test_a_url_with_nothing_to_mask_is_returned_as_is() -> None:
    url = "https://api.example.com/v1/x?page=2"
    assert redact_url(url) is url


#: Names whose values must be masked, with the spellings providers and libraries use.
SECRET_NAMES = [
    "secret",
    "client_secret",
    "clientSecret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "accessToken",
    "key",
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "apiKey",
    "password",
    "passwd",
    "pass",
    "passphrase",
    "pwd",
    "auth",
    "authorization",
    "oauth_verifier",
    "x-auth-token",
    "signature",
    "sig",
    "sign",
    "credential",
    "credentials",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Goog-Credential",
    "X-Goog-Signature",
    "session",
    "sessionid",
    "session_id",
    "jsessionid",
    "PHPSESSID",
    "code",
    "auth_code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "jwt",
    "bearer",
    "private",
    "private_key",
    "pin",
    "otp",
    "sid",
    "hmac",
    "ticket",
    "csrf_token",
    "SAMLResponse",
    "cookie",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
@pytest.mark.parametrize("case", [str, str.lower, str.upper, str.swapcase])
def test_every_secret_name_is_masked_in_query_path_parameters_and_fragment(
    name: str, case: Any
) -> None:
    spelled = case(name)
    assert is_secret_name(spelled)
    for url in (
        f"https://h/x?a=1&{spelled}={SENTINEL}&b=2",
        f"https://h/x?{spelled}={SENTINEL}",
        f"https://h/x;{spelled}={SENTINEL}/y",
        f"https://h/x?a=1;{spelled}={SENTINEL}",
        f"https://h/x#{spelled}={SENTINEL}&state=1",
    ):
        redacted = redact_url(url)
        assert SENTINEL not in redacted, url
        assert f"{spelled}={MASK}" in redacted


def test_the_documented_name_lists_are_all_masked() -> None:
    for part in SECRET_NAME_PARTS:
        assert is_secret_name(part), part
        assert is_secret_name(f"x_{part}_y"), part
    for word in SECRET_NAME_WORDS:
        assert is_secret_name(word), word
        assert is_secret_name(f"x_{word}"), word


@pytest.mark.parametrize(
    "name",
    ["page", "limit", "status", "id", "type", "format", "since", "fetch_size", "q", "sort",
     "postcode", "barcode", "country", "carrier", "state", "expires_in", "lang", "cursor"],
)  # fmt: skip
def test_ordinary_names_are_not_masked(name: str) -> None:
    assert not is_secret_name(name)
    assert redact_url(f"https://h/x?{name}=v1") == f"https://h/x?{name}=v1"


def test_names_that_only_look_secret_are_masked_too() -> None:
    # The rule errs on the side of masking: a log reader loses a value, nobody loses a key.
    for name in ("keyword", "monkey", "author", "zip_code", "postCode", "passenger"):
        assert is_secret_name(name), name


def test_look_alike_characters_in_names_are_read_as_their_letters() -> None:
    # NFKC and case folding: fullwidth letters and the long s read as ASCII.
    assert is_secret_name("ｔｏｋｅｎ")
    assert is_secret_name("ſecret")
    assert redact_url(f"https://h/x?ｔｏｋｅｎ={SENTINEL}") == "https://h/x?ｔｏｋｅｎ=***"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_redact_url_never_raises(url: str) -> None:
    assert isinstance(redact_url(url), str)
    assert isinstance(redact_text(url), str)


_part = st.text(alphabet=st.characters(blacklist_characters="&;#?=/@", codec="utf-8"), max_size=8)
_noise = st.text(alphabet="abc:/[]%@?#;=&.-", max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(SECRET_NAMES),
    where=st.sampled_from(["?", "#", ";", "?a=1&", "?a=1;", "#x=1&", "/p;v=1;"]),
    before=_noise,
    tail=_part,
)
def test_a_secret_value_never_survives_whatever_surrounds_it(
    name: str, where: str, before: str, tail: str
) -> None:
    for prefix in ("https://h", "http://[::1", "http://h:99999", "//h", ""):
        url = f"{prefix}/x{before.replace('?', '').replace('#', '')}{where}{name}={SENTINEL}"
        if where == "/p;v=1;":
            url += "/" + tail
        else:
            url += "&" + tail
        assert SENTINEL not in redact_url(url), url
        assert SENTINEL not in redact_text(f"GET {url} HTTP/1.1"), url


def test_non_string_input_is_shown_as_text() -> None:
    assert redact_url(None) == "None"  # type: ignore[arg-type]
    assert redact_text(42) == "42"  # type: ignore[arg-type]


# -- redact_text ------------------------------------------------------------------------------

TEXT_CASES = [
    (
        'http://127.0.0.1:8000 "GET /x?token=abc HTTP/1.1" 200 5',
        'http://127.0.0.1:8000 "GET /x?token=*** HTTP/1.1" 200 5',
    ),
    (
        "Incremented Retry for (url='/x?sig=abc&a=1'): Retry(total=2, connect=None)",
        "Incremented Retry for (url='/x?sig=***&a=1'): Retry(total=2, connect=None)",
    ),
    ("Retry: /x;jsessionid=abc/y?a=1", "Retry: /x;jsessionid=***/y?a=1"),
    (
        "Redirecting http://h/a?code=abc -> http://u:pw@other/b#access_token=def",
        "Redirecting http://h/a?code=*** -> http://***@other/b#access_token=***",
    ),
    (
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
        "/x?api_key=abc (Caused by NewConnectionError('refused'))",
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
        "/x?api_key=*** (Caused by NewConnectionError('refused'))",
    ),
    ("body: grant_type=client_credentials&client_secret=abc", None),
    ("password=hunter2, then", "password=***, then"),
    (
        "['https://u:pw@h/x', 'https://h/y?token=abc']",
        "['https://***@h/x', 'https://h/y?token=***']",
    ),
    ('{"url": "https://h/y?token=abc"}', '{"url": "https://h/y?token=***"}'),
    ("url=https://h/y?X-Amz-Signature=abc.", "url=https://h/y?X-Amz-Signature=***."),
    ("nothing to see: a@b.example, total=3", "nothing to see: a@b.example, total=3"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CASES)
def test_redact_text(text: str, expected: str | None) -> None:
    redacted = redact_text(text)
    for secret in ("abc", "hunter2", "pw@"):
        assert secret not in redacted
    if expected is not None:
        assert redacted == expected


# -- origins and redirects --------------------------------------------------------------------


def test_origin() -> None:
    assert origin("HTTPS://Api.Example.com/x") == ("https", "api.example.com", 443)
    assert origin("http://h:8080/x") == ("http", "h", 8080)
    assert origin("http://h/x") == ("http", "h", 80)
    assert origin("ftp://h/x") == ("ftp", "h", None)
    for unreadable in ("/relative", "h/x", "http://h:99999/x", "http://h:port/", "http://[::1/"):
        assert origin(unreadable) is None, unreadable


def _origin_of_the_whole_url(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port, host = parts.port, (parts.hostname or "").lower()
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme or not host:
        return None
    return (scheme, host, port if port is not None else {"http": 80, "https": 443}.get(scheme))


@settings(max_examples=400)
@given(
    st.from_regex(
        r"\A[A-Za-z][A-Za-z+.-]{0,5}://([a-z:@]{0,4}@)?[A-Za-z0-9.\[\]:-]{0,12}[/?#;@\\ ]?.{0,12}\Z"
    )
)
def test_origin_reads_only_the_authority_as_the_whole_url_would(url: str) -> None:
    # origin() caches by what precedes the path; the answer is the one of the whole URL.
    assert origin(url) == _origin_of_the_whole_url(url)


def test_is_loopback_url() -> None:
    for url in (
        "http://127.0.0.1:1/x",
        "http://127.9.9.9/",
        "http://[::1]:80/",
        "http://LOCALHOST",
    ):
        assert is_loopback_url(url), url
    for url in ("http://10.0.0.1/", "https://example.com", "http://[::1/x", "not a url", ""):
        assert not is_loopback_url(url), url


def _answer(url: str, status: int, location: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.url = url
    if location is not None:
        response.headers["Location"] = location
    return response


def test_redirect_target_and_leaves_origin() -> None:
    here = "https://api.example.com/v1/x"
    assert redirect_target(_answer(here, 200, None)) is None
    assert not leaves_origin(_answer(here, 200, None))
    same = _answer(here, 302, "/v1/y")
    assert redirect_target(same) == "https://api.example.com/v1/y"
    assert not leaves_origin(same)
    for elsewhere in (
        "https://other.example.com/",
        "http://api.example.com/v1/y",  # a downgrade is another origin
        "https://api.example.com:8443/",
        "http://[::1/broken",  # unreadable
    ):
        assert leaves_origin(_answer(here, 307, elsewhere)), elsewhere
    # A UTF-8 Location, as http.client hands it over (decoded as Latin-1).
    utf8 = _answer(here, 301, "/v1/caf\u00e9".encode().decode("latin-1"))
    assert redirect_target(utf8) == "https://api.example.com/v1/caf\u00e9"


# -- the log filter ---------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Answers ``/redirect`` with a 302 to a secret-bearing URL, ``/busy`` with 503, else 200."""

    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", f"/landed?sig={SENTINEL}&a=1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = 503 if self.path.startswith("/busy") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _records_show_no_sentinel(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records
    for record in caplog.records:
        message = record.getMessage()
        assert SENTINEL not in message, message
        assert SENTINEL not in repr(record.args)
        assert SENTINEL not in str(record.msg)
    assert SENTINEL not in caplog.text


def test_urllib3_debug_lines_show_no_secret_query_value(
    server_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    secret_path = f"/x;jsessionid={SENTINEL}?token={SENTINEL}&X-Amz-Credential={SENTINEL}&page=2"

    # Through requests, as the SDK sends.
    with requests.Session() as session:
        assert session.get(server_url + secret_path, timeout=5).status_code == 200
        assert session.get(server_url + "/redirect", timeout=5).status_code == 200
    # Straight through urllib3: its own retries and redirects log URLs too.
    with urllib3.PoolManager() as pool:
        retries = urllib3.Retry(
            total=2, status_forcelist=[503], backoff_factor=0, raise_on_status=False
        )
        answer = pool.request("GET", f"{server_url}/busy?pwd={SENTINEL}", retries=retries)
        assert answer.status == 503
        assert pool.request("GET", f"{server_url}/redirect?auth={SENTINEL}").status == 200

    _records_show_no_sentinel(caplog)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    # The lines are still there, and still say what was requested.
    assert any(f'"GET /x;jsessionid={MASK}?token={MASK}' in m and "page=2" in m for m in messages)
    assert any("Incremented Retry" in m and f"pwd={MASK}" in m for m in messages)
    assert any(m.startswith("Redirecting") and f"sig={MASK}" in m for m in messages)


def test_an_unreachable_host_logs_no_secret_query_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    with urllib3.PoolManager() as pool, pytest.raises(urllib3.exceptions.MaxRetryError):
        pool.request(
            "GET",
            f"http://127.0.0.1:{port}/x?token={SENTINEL}",
            retries=urllib3.Retry(total=1, backoff_factor=0),
        )
    _records_show_no_sentinel(caplog)
    assert any("Retrying" in r.getMessage() for r in caplog.records)


def test_install_log_redaction_is_idempotent_and_thread_safe() -> None:
    threads = [threading.Thread(target=install_log_redaction) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    install_log_redaction()
    for name in REDACTED_LOGGERS:
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, RedactingFilter) for f in filters) == 1, name


def _record(msg: str, args: Any, exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, __file__, 1, msg, args, exc_info
    )


def test_the_filter_redacts_records_with_tuple_or_mapping_arguments() -> None:
    redacting = RedactingFilter()
    by_position = _record('%s "GET %s HTTP/1.1" %s', ("http://h", f"/x?token={SENTINEL}", 200))
    assert redacting.filter(by_position) is True
    assert by_position.getMessage() == 'http://h "GET /x?token=*** HTTP/1.1" 200'
    assert SENTINEL not in repr(by_position.args)

    by_name = _record("Retry: %(url)s", ({"url": f"/x?sig={SENTINEL}"},))
    assert redacting.filter(by_name) is True
    assert by_name.getMessage() == "Retry: /x?sig=***"

    # A '%' in the redacted text is not read as a format again.
    percent = _record("GET %s", (f"/x%20y?token={SENTINEL}&q=100%",))
    redacting.filter(percent)
    assert percent.getMessage() == "GET /x%20y?token=***&q=100%"
    handler_output = logging.Formatter("%(name)s %(message)s").format(percent)
    assert handler_output == "urllib3.connectionpool GET /x%20y?token=***&q=100%"


def test_the_filter_leaves_other_records_alone() -> None:
    redacting = RedactingFilter()
    args = ("127.0.0.1", 8000)
    plain = _record("Starting new HTTP connection (1): %s:%s", args)
    assert redacting.filter(plain) is True
    assert plain.args == args
    assert plain.msg == "Starting new HTTP connection (1): %s:%s"
    broken = _record("%s %s", ("only one",))
    assert redacting.filter(broken) is True  # logging itself reports the bad record
    assert broken.args == ("only one",)


def test_the_filter_redacts_the_exception_text_of_a_record() -> None:
    try:
        raise ValueError(f"failed for http://h/x?token={SENTINEL}")
    except ValueError:
        import sys

        record = _record("request failed", (), sys.exc_info())
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "request failed" in text
    assert "ValueError" in text
    assert SENTINEL not in text
