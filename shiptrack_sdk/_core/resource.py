"""Endpoints declared as data: a method, a route, a model and an envelope.

A provider's resource module declares each endpoint once and calls it; the core sends it,
reads the answer, takes the model out of the provider's envelope and structures it::

    TRACKING = Endpoint("GET", "public/v1/shipments/{shipment_id}/tracking", ShipmentTracking)

    class TrackingResource(Resource):
        def get(self, shipment_id: str) -> ShipmentTracking:
            \"\"\"Tracking of one shipment. ``GET /public/v1/shipments/{id}/tracking``.\"\"\"
            return self._call(TRACKING, path={"shipment_id": shipment_id})

Path parameters are checked and percent-encoded as path segments (a ``ValidationError`` names
the parameter); no JSON decoding, error construction, retry or authentication is written in a
provider's module.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import attrs
import requests

from ..errors import ClientClosedError, ResponseError, TokenError
from . import validate
from .answers import REQUEST_ID_HEADERS, Exchange, read_body
from .convert import STRUCTURE_ERRORS, converter, describe_structure_error
from .options import TimeoutLike
from .spec import EnvelopeError

if TYPE_CHECKING:
    from .client import BaseClient
    from .transport import Transport

__all__ = ["SPEC_ENVELOPE", "Answer", "Endpoint", "Resource"]

T = TypeVar("T")

Envelope = Callable[[Any], Any]


class _SpecEnvelope:
    def __repr__(self) -> str:
        return "SPEC_ENVELOPE"


#: An endpoint's envelope is its provider's (the spec's), unless it declares another.
SPEC_ENVELOPE: Any = _SpecEnvelope()


@attrs.frozen
class Answer:
    """A successful answer whose body the caller reads as it comes (an endpoint whose model is
    ``None``): a write whose answer only confirms it.

    Attributes:
        status: The HTTP status.
        body: The decoded JSON, the text when it is not JSON, or ``None`` when empty. A body
            that cannot be read never turns a success into an error.
        request_id: The provider's request id header, when it sent one.
        unread: Why the body was not read (larger than the client's limit), or ``None``.
    """

    status: int
    body: Any = None
    request_id: str | None = None
    unread: str | None = None


@attrs.frozen
class Endpoint(Generic[T]):
    """One endpoint of a provider's API.

    Args:
        method: The HTTP method.
        route: The path relative to the client's base URL, with ``{name}`` parameters.
        model: What the answer holds: a type the converter structures (a model class,
            ``list[Model]``, ``list[Any]`` for the JSON as it is), or ``None`` for an
            :class:`Answer`.
        envelope: Takes the model's data out of the decoded answer; the provider's own by
            default (:data:`SPEC_ENVELOPE`), ``None`` for the whole answer.
    """

    method: str
    route: str
    model: type[T] | None
    envelope: Envelope | None = SPEC_ENVELOPE

    def parameters(self, route: str | None = None) -> tuple[str, ...]:
        """The names of the route's ``{parameters}``."""
        return _parameters(route or self.route)


class Resource:
    """A group of endpoints over one client's transport."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client
        self._transport: Transport = client._transport
        self._envelope: Envelope = client.spec.envelope

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    @overload
    def _call(
        self,
        endpoint: Endpoint[None],
        *,
        route: str | None = ...,
        params: Mapping[str, Any] | None = ...,
        json_body: Any = ...,
        timeout: TimeoutLike | None = ...,
        path: Mapping[str, Any] | None = ...,
    ) -> Answer: ...

    @overload
    def _call(
        self,
        endpoint: Endpoint[T],
        *,
        route: str | None = ...,
        params: Mapping[str, Any] | None = ...,
        json_body: Any = ...,
        timeout: TimeoutLike | None = ...,
        path: Mapping[str, Any] | None = ...,
    ) -> T: ...

    def _call(
        self,
        endpoint: Endpoint[Any],
        *,
        route: str | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        timeout: TimeoutLike | None = None,
        path: Mapping[str, Any] | None = None,
    ) -> Any:
        """Call ``endpoint``: ``route`` replaces its declared route (a path the caller
        configured), ``path`` fills its ``{parameters}``, each checked as one path segment (an
        error names it in snake_case: ``{shipmentId}`` is ``shipment_id``)."""
        template = route or endpoint.route
        given = path or {}
        segments = {
            name: validate.path_segment(_snake(name), given.get(name))
            for name in endpoint.parameters(template)
        }
        request = (endpoint.method, template.format(**segments))
        if endpoint.model is None:
            return self._answer(request, params, json_body, timeout)
        response = self._transport.request(
            *request, params=params, json_body=json_body, timeout=timeout
        )
        exchange = Exchange(self._transport.provider, endpoint.method, response.url)
        payload = exchange.json(response)
        failure: ResponseError | None = None
        envelope = self._envelope if endpoint.envelope is SPEC_ENVELOPE else endpoint.envelope
        data = payload
        if envelope is not None:
            try:
                data = envelope(payload)
            except EnvelopeError as exc:
                failure = exchange.response_error(
                    str(exc), status=response.status_code, body=response.content
                )
            if failure is not None:
                raise failure
        return self._structure(data, endpoint.model, response)

    def _answer(
        self,
        request: tuple[str, str],
        params: Mapping[str, Any] | None,
        json_body: Any,
        timeout: TimeoutLike | None,
    ) -> Answer:
        try:
            response = self._transport.request(
                *request, params=params, json_body=json_body, timeout=timeout
            )
        except ResponseError as exc:
            if exc.status is None or not 200 <= exc.status < 300 or isinstance(exc, TokenError):
                raise
            # A success whose body could not be read (beyond the size limit) is still a
            # success: raising would invite sending the write again.
            return Answer(exc.status, unread=str(exc))
        return _answer(response)

    def _check_open(self) -> None:
        """Raise :class:`~shiptrack_sdk.errors.ClientClosedError` now if the client is closed
        (for a call that would otherwise report it once per item)."""
        transport = self._transport
        if transport.closed:
            raise ClientClosedError(transport.provider)

    def _exchange(self, endpoint: Endpoint[Any], route: str | None = None) -> Exchange:
        """``endpoint``'s call as an error names it, for errors about a run of its answers
        (a paging loop that cannot go on)."""
        transport = self._transport
        return Exchange(transport.provider, endpoint.method, transport.url(route or endpoint.route))

    def _structure(self, data: Any, model: type[T], response: requests.Response) -> T:
        try:
            return converter.structure(data, model)
        except STRUCTURE_ERRORS as exc:
            method = getattr(response.request, "method", None) or "GET"
            exchange = Exchange(self._transport.provider, method, response.url)
            failure = exchange.response_error(
                f"answer does not have the documented shape of {model.__name__}"
                f" ({describe_structure_error(exc)})",
                status=response.status_code,
                body=response.content,
            )
        raise failure


@functools.lru_cache(maxsize=256)
def _parameters(route: str) -> tuple[str, ...]:
    names = (field[1] for field in string.Formatter().parse(route))
    return tuple(name for name in names if name)


@functools.lru_cache(maxsize=256)
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _answer(response: requests.Response) -> Answer:
    request_id = next(
        (response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None
    )
    return Answer(response.status_code, read_body(response.content), request_id)
