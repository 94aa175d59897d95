"""Export models as plain data, JSON and text.

Every model — :class:`~shiptrack_sdk.Tracking`, :class:`~shiptrack_sdk.TrackingEvent`, each
provider's wire models — has ``to_dict()`` and ``to_json()`` (from :class:`Exportable`), and
so does :class:`~shiptrack_sdk.notebook.Trackings` (a list, a JSON array)::

    tracking.to_dict()       # {"provider": "exporto", "status": "TRANSIT", "events": [...]}
    tracking.to_json(indent=2)
    print(format_timeline(tracking))

The export is a model in its own field names (snake_case), with datetimes as ISO 8601 text in
UTC (``"2024-07-15T10:02:00.000Z"``, the form the SDK sends and reads), enum members as their
values, every field present, and ``raw`` — the payload a wire model came from — left out. It
is what a person, a file or another system reads; the wire form, in each provider's own names,
is what the SDK sends and receives (``raw`` of an answer, ``to_wire()`` of a LEX message).

The functions here do the same for what holds models: :func:`to_json` writes a list of
trackings, or a dict of models and dates, as one JSON document. The command line's ``--json``
output is this export.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from . import _render
from ._render import Exportable
from .errors import ValidationError
from .models import Tracking
from .notebook import _trackings

__all__ = ["Exportable", "format_timeline", "to_dict", "to_json"]


def to_dict(model: Any) -> dict[str, Any]:
    """``model`` as plain data, as ``model.to_dict()`` gives it.

    Args:
        model: A model: a :class:`~shiptrack_sdk.Tracking`, a
            :class:`~shiptrack_sdk.TrackingEvent`, a wire model (any attrs instance).

    Raises:
        ValidationError: ``model`` is not a model (for a list, use :func:`to_json`, or
            ``[m.to_dict() for m in models]``).
    """
    if isinstance(model, type) or not attrs.has(type(model)):
        raise ValidationError(
            "model", f"expected a model (an attrs instance), got {type(model).__name__}"
        )
    data: dict[str, Any] = _render.plain(model)
    return data


def to_json(value: Any, **json_kwargs: Any) -> str:
    """``value`` as JSON text.

    Args:
        value: A model, a :class:`~shiptrack_sdk.notebook.Trackings`, or lists, tuples and
            dicts of models and JSON values; datetimes and dates are written as ISO 8601
            text, enum members as their values.
        **json_kwargs: Passed to :func:`json.dumps` (``indent=2``, ``ensure_ascii=False``,
            ``default=str`` for values JSON cannot hold...).

    Raises:
        ValidationError: a value JSON cannot hold (and no ``default=`` says how), or a
            keyword :func:`json.dumps` does not take.
    """
    return _render.dumps(value, **json_kwargs)


def format_timeline(tracking: Any) -> str:
    """A shipment as text: a header line, then its events oldest first, one per line::

        exporto  S-240902-0001  DELIVERED  ref CH0012345678
          2024-09-02 09:14 UTC  TRANSIT      Processed by exporto
          2024-09-05 13:22 UTC  DELIVERED    Delivered by the last-mile carrier

    What ``shiptrack track`` prints.

    Args:
        tracking: A :class:`~shiptrack_sdk.Tracking` or a wire model with ``to_tracking()``;
            or several (anything :class:`~shiptrack_sdk.notebook.Trackings` accepts), whose
            timelines are separated by blank lines.

    Raises:
        ValidationError: ``tracking`` holds no tracking (every bad item named, as
            ``tracking[3]``).
    """
    if isinstance(tracking, Tracking):
        return _render.format_timeline(tracking)
    if callable(getattr(tracking, "to_tracking", None)):
        found = tracking.to_tracking()
        if not isinstance(found, Tracking):
            got = type(found).__name__
            raise ValidationError("tracking", f"to_tracking() returned {got}, not a Tracking")
        return _render.format_timeline(found)
    if isinstance(tracking, (str, bytes, Mapping)) or not isinstance(tracking, Iterable):
        raise ValidationError(
            "tracking", f"expected a Tracking or a list of them, got {type(tracking).__name__}"
        )
    return _render.format_timelines(_trackings(tracking, "tracking"))
