"""Hypothesis property tests of every response parser and every normalizer.

Payloads are generated in the shape of the provider samples under ``tests/fixtures`` (each
field kept, dropped, nulled, of the wrong type, or varied; unknown fields added; statuses
known and unknown; dates in odd formats and time zones), serialized as a provider would send
them, and read through the same code the resources run on an answer. Whatever comes in, only
a valid model or the SDK's public error (``ResponseError``; ``PushError`` for pushes;
``AuthenticationError`` for a token endpoint's refusal) may come out. Normalized trackings
always have sorted, time-zone aware events; models survive a round trip to their wire dict.

What every provider has is fuzzed from the registry of provider specs: its error-body parser,
its answer envelope and its status map (:func:`test_error_bodies`, :func:`test_envelopes`,
:func:`test_status_maps`, parametrized by spec), so a provider added to the registry is fuzzed
without a line here.

Every test runs the ``reliability`` profile: at least 1,000 examples each.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from shiptrack_sdk import ExportoClient, LexClient, ShiplemonClient
from shiptrack_sdk._core.answers import Exchange, parse_retry_after
from shiptrack_sdk._core.convert import converter, parse_datetime
from shiptrack_sdk._core.spec import (
    EnvelopeError,
    ErrorDetails,
    ErrorParser,
    ProviderSpec,
    default_error_parser,
    load,
)
from shiptrack_sdk._core.status import StatusMap
from shiptrack_sdk._core.tokens import OAuth2Tokens, TokenRequest
from shiptrack_sdk._providers import all_specs
from shiptrack_sdk.errors import APIError, AuthenticationError, ResponseError
from shiptrack_sdk.exporto import Shipment as ExportoShipment
from shiptrack_sdk.exporto import Tour, TourDetail
from shiptrack_sdk.lex import BusinessMessage, SendResult
from shiptrack_sdk.lex.checkpoint import CheckpointError, Cursor
from shiptrack_sdk.lex.push import (
    InMemoryDedupStore,
    IntrospectionResult,
    IntrospectionVerifier,
    PushError,
    PushReceiver,
    VerifierUnavailableError,
)
from shiptrack_sdk.lex.tracking_models import (
    Anomaly,
    Attribute,
    Carrier,
    DeliveryNote,
    Location,
    Party,
    ShipmentEvent,
    TrackingAddress,
    TrackingMessage,
)
from shiptrack_sdk.models import Tracking, TrackingStatus
from shiptrack_sdk.shiplemon.models import Shipment as ShiplemonShipment
from shiptrack_sdk.shiplemon.models import ShipmentTracking
from tests.conftest import load_fixture

from .conftest import PROFILE
from .inventory import FUZZ_TARGETS

FUZZ = settings(parent=settings.get_profile(PROFILE))
UTC = timezone.utc


def status_maps() -> dict[str, StatusMap]:
    """Each registered provider's status map, by provider name."""
    return {s.name: load(s.status_map) for s in all_specs() if s.status_map is not None}


def specs() -> list[ProviderSpec]:
    return list(all_specs())


# -- strategies built from the samples' shapes ----------------------------------------------

LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=8),
)
ANY_JSON = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
#: JSON that equals itself (no NaN), for round trips.
FINITE_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
FINITE_JSON = st.recursive(
    FINITE_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
#: A value of some other JSON type than the field's.
WRONG = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.booleans(),
    st.text(max_size=6),
    st.lists(LEAF, max_size=2),
    st.dictionaries(st.text(max_size=4), LEAF, max_size=2),
)

# Whole minutes, as every real UTC offset is.
OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
AWARE = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS
)


def _wire(moment: datetime, spec: str) -> str:
    if spec == "Z":
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return moment.isoformat(timespec=spec)


#: Date-times a provider may send, well formed, in any offset, to the millisecond.
MS_DATES = st.builds(
    _wire,
    AWARE.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    st.sampled_from(["Z", "milliseconds", "seconds"]),
)
#: ...and everything odd: microseconds, naive, date only, epoch numbers, impossible dates.
ODD_DATES = st.one_of(
    MS_DATES,
    st.builds(_wire, AWARE, st.sampled_from(["microseconds", "auto", "minutes"])),
    st.datetimes().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()),
    st.integers(min_value=-(10**15), max_value=10**16),
    st.floats(),
    st.sampled_from(
        [
            "2024-02-30T00:00:00Z",
            "9999-12-31T23:59:59-05:00",
            "0001-01-01T00:00:00+14:00",
            "2024-13-01T00:00:00Z",
            "2024-07-15T10:02:00.000+25:00",
            "2024-07-15T24:00:00Z",
            "2024-W29-1T10:00Z",
            "20240715T100200Z",
            "2024-07-15 10:02",
            "1721037720",
            "yesterday",
            "",
        ]
    ),
    st.text(alphabet="0123456789-:TZ+.", max_size=25),
)

#: Field names whose values are statuses or types: known values, and any other text.
STATUS_KEYS = frozenset(
    {"status", "tracking_status", "carrierState", "messageType", "statusCode", "type", "state"}
)
KNOWN_STATUSES = sorted(
    {
        *(value for status_map in status_maps().values() for value in status_map),
        "SHIPMENT_ORDER",
        "RECEIVING_ORDER",
        "ITEM_MASTER",
        "ORDER_STATUS",
        "shipment-order",
        "inbound",
        "outbound",
        "DELIVERED ",
        "delivered",
        "Delivered",
    }
)
STATUSES = st.sampled_from(KNOWN_STATUSES) | st.text(max_size=12)


def _looks_like_date(value: str) -> bool:
    return len(value) >= 10 and value[:4].isdigit() and value[4] == "-" and value[7] == "-"


def shaped(
    template: Any, key: str | None = None, *, ms_dates: bool = False
) -> st.SearchStrategy[Any]:
    """Values in the shape of ``template``, a sample payload (or part of one)."""
    dates = MS_DATES if ms_dates else ODD_DATES
    if isinstance(template, Mapping):
        fields = {k: field(k, v, ms_dates=ms_dates) for k, v in template.items()}
        known = st.fixed_dictionaries({}, optional=fields)
        unknown = st.dictionaries(
            st.text(string.ascii_letters, min_size=1, max_size=6).map("x_".__add__),
            FINITE_JSON if ms_dates else ANY_JSON,
            max_size=1 if ms_dates else 2,
        )
        return st.builds(lambda a, b: {**b, **a}, known, unknown)
    if isinstance(template, list):
        items = [shaped(item, key, ms_dates=ms_dates) for item in template[:4]]
        return st.lists(
            st.one_of(*items) if items else (FINITE_JSON if ms_dates else ANY_JSON),
            max_size=2 if ms_dates else 4,
        )
    if isinstance(template, bool):
        return st.booleans()
    if isinstance(template, (int, float)):
        return st.one_of(st.just(template), st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6))
    if isinstance(template, str):
        if _looks_like_date(template):
            return dates
        if key in STATUS_KEYS:
            return STATUSES
        return st.one_of(st.just(template), st.text(max_size=15))
    return FINITE_LEAF if ms_dates else LEAF


def field(key: str, template: Any, *, ms_dates: bool = False) -> st.SearchStrategy[Any]:
    """A field's value: in shape most of the time, sometimes null or of the wrong type."""
    good = shaped(template, key, ms_dates=ms_dates)
    if ms_dates:
        return good
    return st.one_of(good, good, good, st.none(), WRONG)


def documents(template: Any) -> st.SearchStrategy[bytes]:
    """Bodies: the shaped payload as JSON, now and then arbitrary JSON or bytes."""
    payload = st.one_of(
        shaped(template), shaped(template), shaped(template), shaped(template), ANY_JSON
    )
    return st.one_of(
        payload.map(lambda v: json.dumps(v).encode()),
        payload.map(lambda v: json.dumps(v).encode()),
        payload.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=20),
    )


# -- the code the resources run on an answer ------------------------------------------------


def answer(body: bytes, *, method: str = "GET", status: int = 200) -> requests.Response:
    """A received answer, as the transport hands it to a resource."""
    url = "https://api.example.test/p"
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = url
    response.request = requests.Request(method, url).prepare()
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    return response


def answering(client: Any, response: requests.Response) -> Any:
    """``client`` with its transport answering ``response`` to every request: the resource
    methods then decode, unwrap and structure it exactly as they do a real answer."""
    client._transport.request = lambda *args, **kwargs: response
    return client


SHIPLEMON = ShiplemonClient(api_key="k", base_url="https://api.example.test")
EXPORTO = ExportoClient(client_id="c", client_secret="s", base_url="https://api.example.test/v1/")
LEX = LexClient(client_id="c", client_secret="s", base_url="https://api.example.test")


def check_tracking(tracking: Any) -> None:
    """A normalized tracking: a known status, events sorted oldest first, all aware UTC."""
    assert isinstance(tracking, Tracking)
    assert isinstance(tracking.status, TrackingStatus)
    times = [event.occurred_at for event in tracking.events]
    assert times == sorted(times)
    for event in tracking.events:
        assert isinstance(event.status, TrackingStatus)
        assert event.occurred_at.tzinfo is not None
        assert event.occurred_at.utcoffset() == timedelta(0)
    repr(tracking)


def only_model_or_response_error(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except ResponseError as exc:
        str(exc)
        return None


# -- the targets ---------------------------------------------------------------------------

SHIPLEMON_GET = load_fixture("shiplemon", "get_tracking_200.json")
SHIPLEMON_PUT = load_fixture("shiplemon", "put_tracking_200.json")
EXPORTO_SHIPMENT = load_fixture("exporto", "shipment_delivered.json")
EXPORTO_PAGE = load_fixture("exporto", "search_page.json")
TOUR_LIST = load_fixture("exporto", "tour_list.json")
TOUR_DETAIL = load_fixture("exporto", "tour_detail.json")
LEX_PAGE = load_fixture("lex", "orders_get_page.json")
LEX_STATUS = load_fixture("lex", "orders_post_order_status.json")
TOKEN = load_fixture("exporto", "token.json")


@FUZZ
@given(documents(SHIPLEMON_GET))
def test_shiplemon_tracking_get(body: bytes) -> None:
    client = answering(SHIPLEMON, answer(body))
    result = only_model_or_response_error(lambda: client.tracking.get("sid"))
    if result is not None:
        assert isinstance(result, ShipmentTracking)
        assert result.shipment_id == "sid"
        check_tracking(result.to_tracking())


@FUZZ
@given(documents(SHIPLEMON_PUT))
def test_shiplemon_tracking_update_answer(body: bytes) -> None:
    client = answering(SHIPLEMON, answer(body, method="PUT"))
    history = [{"status": "TRANSIT", "status_date": datetime(2024, 1, 1, tzinfo=UTC)}]
    result = only_model_or_response_error(lambda: client.tracking.update("sid", history))
    if result is not None:
        assert isinstance(result, ShiplemonShipment)
        check_tracking(result.to_tracking())


@FUZZ
@given(documents(EXPORTO_SHIPMENT))
def test_exporto_shipments_get(body: bytes) -> None:
    client = answering(EXPORTO, answer(body))
    result = only_model_or_response_error(lambda: client.shipments.get("S-1"))
    if result is not None:
        assert isinstance(result, ExportoShipment)
        assert result.shipment_id
        check_tracking(result.to_tracking())


@FUZZ
@given(documents(EXPORTO_PAGE))
def test_exporto_shipments_search_page(body: bytes) -> None:
    client = answering(EXPORTO, answer(body))
    result = only_model_or_response_error(lambda: client.shipments.search_page(0))
    if result is not None:
        assert all(isinstance(s, ExportoShipment) for s in result)
        for shipment in result:
            check_tracking(shipment.to_tracking())


@FUZZ
@given(documents(TOUR_LIST))
def test_exporto_tours_list(body: bytes) -> None:
    client = answering(EXPORTO, answer(body))
    result = only_model_or_response_error(lambda: client.tours.list())
    if result is not None:
        assert all(isinstance(t, Tour) and isinstance(t.id, str) for t in result)
        days = [t.closing_date for t in result if t.closing_date is not None]
        assert days == sorted(days)


@FUZZ
@given(documents(TOUR_DETAIL))
def test_exporto_tours_get(body: bytes) -> None:
    client = answering(EXPORTO, answer(body))
    result = only_model_or_response_error(lambda: client.tours.get("T-1"))
    if result is not None:
        assert isinstance(result, TourDetail)
        assert result.tour_id
        assert all(isinstance(i, str) and i for i in result.shipment_ids)


@FUZZ
@given(documents(LEX_PAGE))
def test_lex_orders_fetch_page(body: bytes) -> None:
    client = answering(LEX, answer(body))
    result = only_model_or_response_error(lambda: client.orders.fetch(100))
    if result is not None:
        assert all(isinstance(m, BusinessMessage) for m in result)
        for message in result:
            assert message.timestamp is None or message.timestamp.utcoffset() == timedelta(0)


@FUZZ
@given(documents({"messageId": "m-1", "status": "ACCEPTED"}))
def test_lex_orders_send_answer(body: bytes) -> None:
    client = answering(LEX, answer(body, method="POST"))
    message = BusinessMessage.create("ORDER_STATUS", {"orderNumber": "1"})
    result = only_model_or_response_error(lambda: client.orders.send(message))
    if result is not None:
        assert isinstance(result, SendResult)


RECEIVER = PushReceiver(allow_unauthenticated=True)


@FUZZ
@given(
    st.one_of(
        documents(LEX_PAGE),
        documents({"messages": LEX_PAGE}),
        documents(LEX_STATUS),
    )
)
def test_lex_push_bodies(body: bytes) -> None:
    receiver = PushReceiver(allow_unauthenticated=True, dedup_store=InMemoryDedupStore())
    for attempt in range(2):  # the same delivery again: duplicates are recognised
        refused: PushError | None = None
        try:
            messages = receiver.receive({"Content-Type": "application/json"}, body)
        except PushError as exc:
            refused = exc
        if refused is not None:
            assert refused.status in (200, 400), refused
            return
        assert all(isinstance(m, BusinessMessage) for m in messages)
        assert attempt == 0 or messages == [], "a replayed delivery was processed twice"
        receiver.mark_processed(messages)


TOKEN_STATUS = st.sampled_from([200, 200, 200, 400, 401, 403])


class _AnsweringTransport:
    """Stands in for a token or introspection transport: answers ``response``."""

    provider = "answering"

    def __init__(self, response: requests.Response) -> None:
        self.response = response

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        return self.response

    def url(self, path: str) -> str:
        return path


@FUZZ
@given(documents(TOKEN), TOKEN_STATUS, st.sampled_from(["body", "basic"]))
def test_oauth2_token_answers(body: bytes, status: int, client_auth: Any) -> None:
    tokens = OAuth2Tokens(
        "https://idp.example.test/token", "client", "secret", client_auth=client_auth
    )

    def send(request: TokenRequest, exchange: Exchange) -> requests.Response:
        return answer(body, method="POST", status=status)

    refused: Exception | None = None
    try:
        token = tokens.token(send, "t").value.reveal()
    except (ResponseError, AuthenticationError) as exc:
        refused = exc
    if refused is not None:
        assert "secret" not in str(refused)
        return
    assert status == 200
    assert isinstance(token, str)
    assert token
    assert not any(ord(c) < 32 or ord(c) == 127 for c in token)


ERROR_BODY = {
    "error": {"code": "NOT_FOUND", "message": "m", "metadata": {"id": "x"}},
    "message": "m",
    "requestId": "r",
    "code": "404",
    "errors": [{"path": "p"}],
}


#: The default error parser, then each registered provider's.
ERROR_PARSERS: list[Any] = [
    pytest.param(default_error_parser, id="default"),
    *(pytest.param(s.error_parser, id=s.name) for s in specs()),
]


@pytest.mark.parametrize("parser", ERROR_PARSERS)
@FUZZ
@given(body=documents(ERROR_BODY), status=st.integers(min_value=400, max_value=599))
def test_error_bodies(parser: ErrorParser, body: bytes, status: int) -> None:
    decoded = json.loads(body) if _is_json(body) else body.decode("utf-8", "replace")
    details = parser(decoded)
    assert isinstance(details, ErrorDetails)
    for text in (details.code, details.message, details.request_id):
        assert text is None or isinstance(text, str)
    exchange = Exchange(provider="p", method="GET", target="https://x.test/p")
    error = exchange.api_error(answer(body, status=status), parser)
    assert isinstance(error, APIError)
    assert error.status == status
    assert error.code is None or isinstance(error.code, str)
    assert error.error_message is None or isinstance(error.error_message, str)
    str(error)
    repr(error)


@pytest.mark.parametrize("envelope", [pytest.param(s.envelope, id=s.name) for s in specs()])
@FUZZ
@given(payload=ANY_JSON)
def test_envelopes(envelope: Callable[[Any], Any], payload: Any) -> None:
    # An envelope takes the model's data out of an answer, or says the answer holds none:
    # nothing else may come out of it.
    try:
        envelope(payload)
    except EnvelopeError as exc:
        str(exc)


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


VERIFIER = IntrospectionVerifier(
    "https://idp.example.test/introspect", "rs", "rs-secret", cache_ttl=0
)


@FUZZ
@given(
    documents(
        {
            "active": True,
            "scope": "lex.push",
            "client_id": "c",
            "token_type": "Bearer",
            "exp": 4102444800,
            "sub": "s",
            "aud": "a",
        }
    ),
    st.sampled_from([200, 200, 401, 500]),
)
def test_introspection_answers(body: bytes, status: int) -> None:
    verifier = VERIFIER
    response = answer(body, method="POST", status=status)
    verifier._transport = _AnsweringTransport(response)  # type: ignore[assignment]
    if status >= 400:
        response.raise_for_status = lambda: None  # type: ignore[method-assign]
    try:
        valid = verifier.verify("the-token")
    except VerifierUnavailableError:
        return
    assert valid in (True, False)
    if valid:
        result = converter.structure(json.loads(body), IntrospectionResult)
        assert result.active is True


@FUZZ
@given(
    st.one_of(
        shaped(
            {
                "version": 1,
                "timestamp": "2024-09-02T06:00:00.250000+00:00",
                "seen_ids": ["LEX-1", "LEX-2"],
            }
        ),
        ANY_JSON,
    )
)
def test_checkpoint_cursor_files(data: Any) -> None:
    try:
        cursor = Cursor.from_json(data)
    except CheckpointError:
        return
    assert cursor.timestamp is None or cursor.timestamp.utcoffset() == timedelta(0)
    assert Cursor.from_json(cursor.to_json()) == cursor  # the file written reads back


@FUZZ
@given(
    st.one_of(
        st.integers(min_value=-(10**6), max_value=10**12).map(str),
        st.floats().map(str),
        AWARE.map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
        st.text(max_size=40),
        st.none(),
    )
)
def test_retry_after_values(value: str | None) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or (isinstance(seconds, float) and seconds >= 0)


@FUZZ
@given(st.one_of(ODD_DATES, LEAF))
def test_datetimes(value: Any) -> None:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "status_map", [pytest.param(m, id=name) for name, m in status_maps().items()]
)
@FUZZ
@given(value=st.one_of(STATUSES, st.none()))
def test_status_maps(status_map: Any, value: str | None) -> None:
    status = status_map.normalize(value)
    assert isinstance(status, TrackingStatus)
    if value is not None and value not in status_map and status is not TrackingStatus.UNKNOWN:
        assert not status_map.case_sensitive


# -- round trips: model -> wire dict -> model ------------------------------------------------

ROUND_TRIPS: dict[str, tuple[type[Any], Any]] = {
    "shiplemon.ShipmentTracking": (ShipmentTracking, SHIPLEMON_GET["data"]),
    "shiplemon.Shipment": (ShiplemonShipment, SHIPLEMON_PUT["data"]),
    "exporto.Shipment": (ExportoShipment, EXPORTO_SHIPMENT),
    "exporto.Tour": (Tour, TOUR_LIST[0]),
    "exporto.TourDetail": (TourDetail, TOUR_DETAIL),
    "lex.BusinessMessage": (BusinessMessage, LEX_PAGE[0]),
    "lex.SendResult": (SendResult, {"messageId": "m", "status": "ACCEPTED"}),
}


#: Payloads for the round trips, built once (building a strategy costs more than drawing).
EXACT_PAYLOADS = {
    name: shaped(template, ms_dates=True) for name, (_, template) in ROUND_TRIPS.items()
}


def known_fields(model: Any) -> dict[str, Any]:
    """The model's fields, nested models included, without ``raw`` (the source payload)."""
    return attrs.asdict(model, filter=lambda a, _: a.name != "raw", recurse=True)


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
@FUZZ
@given(data=st.data())
def test_round_trip(name: str, data: st.DataObject) -> None:
    model_type, _ = ROUND_TRIPS[name]
    # Date-times at the wire's precision (milliseconds, as every provider writes them).
    payload = data.draw(EXACT_PAYLOADS[name])
    try:
        model = converter.structure(payload, model_type)
    except Exception:  # a payload the model refuses is the parse tests' business
        return
    wire = converter.unstructure(model)
    again = converter.structure(json.loads(json.dumps(wire)), model_type)
    assert known_fields(again) == known_fields(model)
    assert converter.unstructure(again) == wire


TEXT = st.text(max_size=12).filter(lambda s: s.strip() != "" or s == "")
EXTRA = st.dictionaries(
    st.text(string.ascii_letters, min_size=1, max_size=5).map("x".__add__),
    LEAF.filter(lambda v: v == v),
    max_size=2,
)
OPT = st.none() | st.text(min_size=1, max_size=10)


def _parts() -> dict[str, st.SearchStrategy[Any]]:
    address = st.builds(
        TrackingAddress,
        street=OPT,
        city=OPT,
        postal_code=OPT,
        region=OPT,
        country_code=OPT,
        extra=EXTRA,
    )
    party = st.builds(
        Party,
        id=OPT,
        name=OPT,
        address=st.none() | address,
        contact_name=OPT,
        phone=OPT,
        email=OPT,
        extra=EXTRA,
    )
    return {"address": address, "party": party}


PARTS = _parts()
TRACKING_MESSAGES = st.builds(
    TrackingMessage,
    event=st.builds(
        ShipmentEvent,
        code=st.text(min_size=1, max_size=5),
        business_reference=st.text(min_size=1, max_size=10),
        occurred_at=AWARE.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
        type=OPT,
        description=OPT,
        location=st.none()
        | st.builds(Location, name=OPT, city=OPT, postal_code=OPT, country_code=OPT, extra=EXTRA),
        extra=EXTRA,
    ),
    anomaly=st.none()
    | st.builds(Anomaly, code=st.text(min_size=1, max_size=5), description=OPT, extra=EXTRA),
    document_url=OPT,
    attributes=st.lists(
        st.builds(Attribute, name=st.text(min_size=1, max_size=5), value=st.text(max_size=5)),
        max_size=2,
    ),
    ship_from=st.none() | PARTS["party"],
    ship_to=st.none() | PARTS["party"],
    carrier=st.none()
    | st.builds(Carrier, id=OPT, name=OPT, tracking_number=OPT, tracking_url=OPT, extra=EXTRA),
    delivery_notes=st.lists(
        st.builds(DeliveryNote, number=st.text(min_size=1, max_size=5), extra=EXTRA), max_size=2
    ),
    sender=st.none() | PARTS["party"],
    extra=EXTRA,
)


@FUZZ
@given(TRACKING_MESSAGES)
def test_lex_tracking_messages_round_trip(message: TrackingMessage) -> None:
    wire = json.loads(json.dumps(message.to_wire()))
    again = converter.structure(wire, TrackingMessage)
    assert again == message
    assert again.to_wire() == wire


# -- the inventory the docs count -----------------------------------------------------------

_META_TESTS = {
    "test_every_fuzz_target_is_listed_for_the_docs",
}


def test_every_fuzz_target_is_listed_for_the_docs() -> None:
    here = {
        name.removeprefix("test_")
        for name, value in globals().items()
        if name.startswith("test_") and callable(value) and name not in _META_TESTS
    }
    parametrized = {
        "error_bodies": len(ERROR_PARSERS),
        "envelopes": len(specs()),
        "status_maps": len(status_maps()),
        "round_trip": len(ROUND_TRIPS),
    }
    assert set(FUZZ_TARGETS) == here
    for name, count in parametrized.items():
        assert FUZZ_TARGETS[name] == count
    assert all(count == 1 for name, count in FUZZ_TARGETS.items() if name not in parametrized)
