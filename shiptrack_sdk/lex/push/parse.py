"""Reading a delivery's JSON strictly: what Python's ``json`` accepts but is not JSON, or is
ambiguous, is refused (400) rather than guessed at.

Refused, each with a message naming the problem: ``NaN``, ``Infinity`` and ``-Infinity``
(not JSON); a number too large for a float (``1e999``, read as infinity); a key twice in one
object (which one counts would be a guess, and LEX's parser may pick the other); a lone
surrogate (``"\\ud800"``, or its raw bytes), which is not text and cannot be stored as UTF-8;
a ``messageId`` that is not a string (an object such as ``{"$ne": null}``, a number, ``true``),
which would otherwise be read as its Python text, and ``1`` would be the same message as
``"1"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from ..._core import validate
from ..._core.convert import STRUCTURE_ERRORS, converter, describe_structure_error
from ...errors import ValidationError
from ..order_models import BusinessMessage, message_list
from .errors import MalformedDeliveryError, TooManyMessagesError

__all__ = ["parse_delivery", "strict_json"]

_JSON_TYPES = {dict: "object", list: "array", bool: "boolean", int: "number", float: "number"}


class _Refused(ValueError):
    """A document that parses, but is refused."""


def strict_json(body: bytes) -> Any:
    """``body`` decoded as strict JSON, or :class:`MalformedDeliveryError` saying why not."""
    try:
        document = json.loads(
            body, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float
        )
    except _Refused as exc:
        raise MalformedDeliveryError(str(exc)) from None
    except (ValueError, RecursionError):
        raise MalformedDeliveryError("the body is not JSON") from None
    try:
        validate.no_surrogates("body", document)
    except ValidationError as exc:
        raise MalformedDeliveryError(str(exc)) from None
    except RecursionError:
        raise MalformedDeliveryError("the body is nested too deeply") from None
    return document


def parse_delivery(body: bytes, max_messages: int) -> list[BusinessMessage]:
    """The messages of a (deciphered) delivery body, or :class:`MalformedDeliveryError`."""
    if not body.strip():
        raise MalformedDeliveryError("the body is empty")
    items = message_list(strict_json(body))
    if items is None:
        raise MalformedDeliveryError(
            "expected a JSON array of business messages, or an object wrapping one"
        )
    if len(items) > max_messages:
        raise TooManyMessagesError(f"{len(items)} messages in one delivery; at most {max_messages}")
    messages: list[BusinessMessage] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise MalformedDeliveryError(f"messages[{index}] is not a JSON object")
        message_id = item.get("messageId")
        if message_id is not None and not isinstance(message_id, str):
            kind = _JSON_TYPES.get(type(message_id), type(message_id).__name__)
            raise MalformedDeliveryError(
                f"messages[{index}].messageId is a JSON {kind}, not a string"
            )
        try:
            messages.append(converter.structure(item, BusinessMessage))
        except STRUCTURE_ERRORS as exc:
            raise MalformedDeliveryError(
                f"messages[{index}] is not a business message ({describe_structure_error(exc)})"
            ) from None
    return messages


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) < len(pairs):
        keys: set[str] = set()
        for key, _ in pairs:
            if key in keys:
                raise _Refused(
                    f"the key {_shown(key)} appears twice in one object (which one counts "
                    "would be a guess)"
                )
            keys.add(key)
    return document


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON (numbers must be finite)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {_shown(text, 40)[1:-1]} is too large for a float")
    return value


def _shown(text: str, limit: int = 64) -> str:
    """``text`` quoted for a message: escaped (``repr``), and cut at ``limit`` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "...")
