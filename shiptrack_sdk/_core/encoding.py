"""JSON request bodies, encoded once: what the transport sends for ``json_body``."""

from __future__ import annotations

import json
from typing import Any

from . import validate

__all__ = ["EncodedJSON", "encode_json"]

# One encoder for every body: json.dumps with options builds a new one on each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class EncodedJSON:
    """A JSON body encoded ahead of sending, by :func:`encode_json`.

    Passed as ``json_body``, it is sent as it is: a caller that must know a body can be
    encoded before sending anything encodes it once, not once to check and again to send.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        #: The UTF-8 JSON text.
        self.data = data

    def __repr__(self) -> str:
        return f"<EncodedJSON of {len(self.data)} bytes>"


def encode_json(value: Any, *, argument: str = "body") -> EncodedJSON:
    """``value`` encoded the way the transport sends JSON: compact, UTF-8, strict (no NaN).

    Raises:
        ValidationError: ``value`` holds something JSON cannot represent, a circular
            reference, a float that is not finite, or a lone surrogate.
    """
    try:
        return EncodedJSON(_ENCODER.encode(value).encode())
    except (TypeError, ValueError, RecursionError) as exc:
        problem = f"is not JSON data ({type(exc).__name__}: {str(exc)[:120]})"
    except UnicodeEncodeError:
        problem = "holds a lone surrogate, which is not text"
    raise validate.ValidationError(argument, problem)
