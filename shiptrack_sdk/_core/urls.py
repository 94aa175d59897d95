"""URLs as the SDK shows and compares them: secrets masked, origins compared, redirects read.

Every URL that reaches a log line, an error or a ``repr`` goes through :func:`redact_url`
first; free text that may hold URLs (other libraries' log lines) goes through
:func:`redact_text`. :func:`install_log_redaction` applies the latter to the records of
urllib3, which logs request targets, query included, at DEBUG (and to the SDK's own logger,
as a second line of defence).

The rule for what is masked:

- **User info**: everything between ``//`` and the last ``@`` before the first ``/`` of the
  authority becomes ``***`` (``https://user:pw@host`` -> ``https://***@host``). An ``@`` after
  a ``?`` or ``#`` that comes before the first ``/`` counts too: a password may hold those
  characters unencoded, and masking too much is the safe error.
- **Parameters**: ``name=value`` pairs in the query, in path segments (``;`` parameters,
  and a segment such as ``/token=abc/``), and in the fragment (OAuth's implicit flow answers
  ``#access_token=...``); pairs are separated by ``&`` or ``;``. The value of a pair is
  masked when its name looks secret. A name is read percent-decoded (repeatedly, for double
  encoding), Unicode-normalized (NFKC) and case-folded, then matched two ways:

  * it *contains*, once its separators are dropped, one of :data:`SECRET_NAME_PARTS`
    (``secret``, ``token``, ``key``, ``pass``, ``pwd``, ``auth``, ``signature``,
    ``credential``, ``session``, ``assertion``, ``jwt``, ``bearer``, ``private``, ...), so
    ``client_secret``, ``X-Amz-Credential``, ``api-key``, ``sessionid`` and also ``keyword``
    or ``author`` are masked: masking a harmless value costs a log reader little;
  * one of its *words* (split at non-alphanumerics and at camelCase humps) is one of
    :data:`SECRET_NAME_WORDS` (``code``, ``sig``, ``pin``, ``otp``, ...): short words that
    as substrings would hit ordinary names (``postcode``, ``design``), while ``auth_code``,
    ``zip_code`` or ``sig`` are masked.

  A value that is itself a URL or a query (``redirect_uri=https://app/cb?code=...``) is
  redacted in turn, or masked whole when only its percent-decoded form shows a secret.

Nothing here raises on odd input: a URL that :func:`urllib.parse.urlsplit` refuses (a bad
port, an unclosed IPv6 bracket) is read by the same character rules and masked the same way.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import logging
import re
import threading
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import unquote, unquote_plus, urljoin, urlsplit, urlunsplit

from .secret import Secret

if TYPE_CHECKING:
    import requests

__all__ = [
    "MASK",
    "REDACTED_LOGGERS",
    "SECRET_NAME_PARTS",
    "SECRET_NAME_WORDS",
    "RedactingFilter",
    "install_log_redaction",
    "is_loopback_url",
    "is_secret_name",
    "leaves_origin",
    "origin",
    "redact_text",
    "redact_url",
    "redirect_target",
    "split_userinfo",
]

#: What a masked secret reads as.
MASK = "***"

#: A parameter whose name contains one of these (separators dropped) has its value masked.
SECRET_NAME_PARTS: tuple[str, ...] = (
    "secret",
    "token",
    "key",
    "pass",  # password, passwd, passphrase
    "pwd",
    "auth",  # auth, authorization, oauth_*, x-auth-*
    "signature",  # signature, x-amz-signature, x-goog-signature
    "credential",  # x-amz-credential, credentials
    "session",  # session, sessionid, jsessionid
    "sessid",  # PHPSESSID
    "assertion",  # client_assertion, saml assertions
    "jwt",
    "bearer",
    "private",
    "cookie",
    "csrf",
    "xsrf",
    "saml",
)

#: A parameter with one of these as a whole word of its name has its value masked.
SECRET_NAME_WORDS: frozenset[str] = frozenset(
    {"code", "sig", "sign", "pin", "otp", "sid", "hmac", "mac", "ticket", "nonce"}
)

_DEFAULT_PORTS = {"http": 80, "https": 443}

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
_PAIR_SEPARATORS = re.compile(r"([&;])")
# What ends a URL inside free text: whitespace, and characters every client percent-encodes.
_TEXT_TOKEN = re.compile(r"[^\s\"<>]+")
_CLOSING = "'),:]}.!"
_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")

# A value nested in a value is redacted in turn, this deep at most.
_MAX_DEPTH = 4


def redact_url(url: str) -> str:
    """``url`` with user info and the values of secret-looking parameters masked as ``***``.

    See the module's docstring for the rule. The rest of the URL is kept as it was written
    (no re-encoding), so a redacted URL still reads as the one that was sent.

    Args:
        url: An absolute or relative URL; anything else is shown as its ``str``.

    Returns:
        The redacted URL; ``url`` itself when nothing needed masking.
    """
    return _redact(_as_text(url), 0)


def redact_text(text: str) -> str:
    """``text`` with every URL, request target and query string in it redacted.

    Made for other libraries' log lines, such as urllib3's
    ``http://127.0.0.1:8000 "GET /x?token=abc HTTP/1.1" 200 5``: each run of characters
    between whitespace, ``"``, ``<`` and ``>`` that holds a URL (``scheme://``), a path, a
    query (``?``), a fragment (``#``) or ``;`` parameters is read as a URL, and a bare
    ``name=value&...`` run as a query string. Values run to the next ``&``, ``;``, ``#`` or
    such a delimiter, so a closing quote or bracket after a masked value may be masked too.
    """
    text = _as_text(text)
    if "=" not in text and "@" not in text:
        return text
    return _TEXT_TOKEN.sub(_redact_token, text)


def origin(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of ``url``, lower-cased, the scheme's default port made explicit;
    ``None`` when ``url`` has no scheme or host, or a port that is not a number."""
    # Asked twice a request (the token's destination, the environment's settings) about URLs
    # that differ in their paths only: what follows the authority is cut off, and so is user
    # info (no credential is kept in the cache), the rest cached.
    scheme, separator, rest = url.partition("://")
    if separator:
        end = len(rest)
        for mark in "/?#":
            found = rest.find(mark, 0, end)
            if found >= 0:
                end = found
        authority = rest[:end]
        user, at, host = authority.rpartition("@")
        if at and user.isascii() and "[" not in user and "]" not in user:
            authority = host  # user info urlsplit would not refuse
        return _origin(scheme + separator + authority)
    return _origin(url)


@functools.lru_cache(maxsize=256)
def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").lower()
    except (ValueError, TypeError, AttributeError):
        return None
    scheme = parts.scheme.lower()
    if not scheme or not host:
        return None
    return (scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme))


def redirect_target(response: requests.Response) -> str | None:
    """The absolute URL ``response`` redirects to, or ``None`` when it is no redirect.

    A ``Location`` that cannot be joined to the request's URL is returned as it is, so
    :func:`leaves_origin` finds it unreadable.
    """
    if not response.is_redirect:
        return None
    location = response.headers["location"]
    # As requests reads it: http.client decodes headers as Latin-1, servers send UTF-8.
    with contextlib.suppress(UnicodeError):
        location = location.encode("latin-1").decode("utf-8")
    try:
        return urljoin(response.url or "", location)
    except ValueError:
        return location


def leaves_origin(response: requests.Response) -> bool:
    """Whether ``response`` redirects to another origin than its request's (or an unreadable
    one): where credentials must not follow."""
    target = redirect_target(response)
    if target is None:
        return False
    here = origin(response.url or "")
    return here is None or origin(target) != here


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is a loopback address (127.0.0.0/8, ::1 or localhost).

    ``False`` for a URL that cannot be read (an unclosed IPv6 bracket, for one).
    """
    try:
        host = (urlsplit(url).hostname or "").lower()
    except (ValueError, TypeError, AttributeError):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- redaction --------------------------------------------------------------------------------


def _as_text(value: object) -> str:
    # Typed callers pass str; anything else is shown as its str rather than raising.
    return value if isinstance(value, str) else str(value)


def _redact(url: str, depth: int) -> str:
    if not any(c in url for c in "@?#;="):
        return url
    head, rest = _mask_user_info(url)
    fragment: str | None = None
    query: str | None = None
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
    if "?" in rest:
        rest, query = rest.split("?", 1)
    # ';' parameters are read in the authority too: no valid host holds one, so a URL that
    # has one there is malformed, and is masked as if the authority were a path segment.
    out = [_mask_path_parameters(head, depth), _mask_path_parameters(rest, depth)]
    if query is not None:
        out += ["?", _mask_pairs(query, depth)]
    if fragment is not None:
        out += ["#", _mask_pairs(fragment, depth)]
    redacted = "".join(out)
    return url if redacted == url else redacted


def _mask_user_info(url: str) -> tuple[str, str]:
    """``url`` split after its authority, user info masked in the first part."""
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    if not url.startswith("//", start):
        return "", url
    start += 2
    # The authority ends at the first of these, as urllib3 reads it (backslash included).
    end = len(url)
    for stop in "/?#\\":
        found = url.find(stop, start, end)
        if found >= 0:
            end = found
    # User info ends at the last '@' before the path: a password may hold '?' or '#'.
    path_start = len(url)
    for stop in "/\\":
        found = url.find(stop, start, path_start)
        if found >= 0:
            path_start = found
    at = url.rfind("@", start, path_start)
    if at < 0:
        return url[:end], url[end:]
    end = len(url)
    for stop in "/?#\\":
        found = url.find(stop, at + 1, end)
        if found >= 0:
            end = found
    return url[:start] + MASK + url[at:end], url[end:]


def _mask_path_parameters(path: str, depth: int) -> str:
    # Pairs in a segment are masked wherever they stand: after ';' (path parameters), and
    # also a segment that is itself "name=value" or "a&name=value" (a query whose '?' is
    # missing), since a secret is a secret wherever a server chose to read it.
    if "=" not in path:
        return path
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if "=" in segment:
            segments[index] = _mask_pairs(segment, depth)
    return "/".join(segments)


def _mask_pairs(text: str, depth: int) -> str:
    """``name=value`` pairs separated by ``&`` or ``;``, secret values masked."""
    if "=" not in text:
        return text
    pieces = _PAIR_SEPARATORS.split(text)
    for index in range(0, len(pieces), 2):
        piece = pieces[index]
        if "=" not in piece:
            continue
        name, value = piece.split("=", 1)
        if not value:
            continue
        if is_secret_name(name):
            pieces[index] = f"{name}={MASK}"
        elif depth < _MAX_DEPTH:
            pieces[index] = f"{name}={_mask_nested(value, depth + 1)}"
    return "".join(pieces)


def _mask_nested(value: str, depth: int) -> str:
    """A parameter's value that may itself be a URL or a query with secrets."""
    if any(c in value for c in "?#;@"):
        redacted = _redact(value, depth)
        if redacted != value:
            return redacted
    decoded = _decode(value)
    # Masked whole: re-encoding a redacted copy would not read as what was sent.
    if (
        decoded != value
        and "=" in decoded
        and (_redact(decoded, depth) != decoded or _mask_pairs(decoded, depth) != decoded)
    ):
        return MASK
    return value


def _decode(text: str) -> str:
    for _ in range(3):
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    return text


def is_secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` has its value masked (see the module's rule)."""
    text = unicodedata.normalize("NFKC", _decode(name))
    words = _WORD.findall(_CAMEL_HUMP.sub(" ", text).casefold())
    joined = "".join(words)
    return any(part in joined for part in SECRET_NAME_PARTS) or any(
        word in SECRET_NAME_WORDS for word in words
    )


def _redact_token(match: re.Match[str]) -> str:
    token = match.group()
    if "=" not in token and "@" not in token:
        return token
    # Punctuation that closes the run in prose or a repr ("(url='/x?token=abc'):") is kept
    # out of the masked value, so the line still reads.
    body = token.rstrip(_CLOSING)
    if body and len(body) < len(token):
        return _redact_run(body) + token[len(body) :]
    return _redact_run(token)


def _url_start(token: str) -> int | None:
    """Where the first ``scheme://`` in ``token`` starts (found in linear time: log lines
    come from anywhere, and a backtracking pattern over a long one would stall logging)."""
    found = token.find("://")
    while found > 0:
        start = found
        while start > 0 and token[start - 1] in _SCHEME_CHARACTERS:
            start -= 1
        # A scheme starts with a letter: digits or signs before one are not part of it.
        while start < found and not (token[start].isascii() and token[start].isalpha()):
            start += 1
        if start < found:
            return start
        found = token.find("://", found + 3)
    return None


def _redact_run(token: str) -> str:
    start = _url_start(token)
    if start is not None and start > 0:
        # Text glued before a URL ("url='https://..."): each part on its own.
        return _redact_run(token[:start]) + _redact(token[start:], 0)
    if start is not None or token.startswith("/"):
        return _redact(token, 0)
    # A query string, a lone name=value ("client_secret=...&grant_type=..."), or the rest of
    # a URL cut at a quote: read as a URL, then its pairs wherever they stand.
    return _mask_pairs(_redact(token, 0), 0)


# -- log records ------------------------------------------------------------------------------

#: The loggers of the libraries on the SDK's request path that log URLs: urllib3 logs the
#: request target of every exchange, retries and redirects (query included) at DEBUG.
REDACTED_LOGGERS: tuple[str, ...] = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "urllib3.http2.connection",
    "urllib3.contrib.pyopenssl",
    "urllib3.contrib.emscripten.response",
    "shiptrack_sdk",
)

_install_lock = threading.Lock()


class RedactingFilter(logging.Filter):
    """Rewrites a record so that its rendered message (and exception text) is redacted.

    The message is rendered once with its arguments, redacted, and stored as the record's
    ``msg`` with no arguments left (a tuple or a mapping alike), so ``getMessage()`` and every
    handler's formatter see the redacted text. A record with nothing to redact is left as is.
    """

    #: Marks the SDK's filter on a logger, so that installing twice adds none.
    shiptrack_redaction = True

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A record whose arguments do not fit its format: logging reports it as broken
            # when a handler formats it, and this filter has nothing it could show instead.
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            cleaned = redact_text(text)
            if cleaned != text:
                # Formatters use exc_text when it is set instead of formatting exc_info.
                record.exc_text = cleaned
        return True


def install_log_redaction() -> None:
    """Add a :class:`RedactingFilter` to each of :data:`REDACTED_LOGGERS`, once.

    Idempotent and thread-safe: a second call, from any thread, adds nothing. A filter on a
    logger sees the records logged there (not those of its children), hence one per logger.
    """
    # Checked under the lock each time: a call costs a lock and a look at a few filter lists,
    # and a logger whose filters someone reset gets the filter back.
    with _install_lock:
        for name in REDACTED_LOGGERS:
            target = logging.getLogger(name)
            if not any(getattr(f, "shiptrack_redaction", False) for f in target.filters):
                target.addFilter(RedactingFilter())


def split_userinfo(url: str) -> tuple[str, tuple[str, Secret] | None]:
    """``url`` without its user info, and the user info as ``(user, password)``: a
    credential, held as a secret and kept out of every URL shown or sent."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, (unquote(user), Secret(unquote(password)))
