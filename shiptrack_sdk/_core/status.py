"""Status mapping tables: provider values to :class:`~shiptrack_sdk.TrackingStatus`, kept as data.

Each provider declares one :class:`StatusMap`; the docs' mapping tables are generated from it,
so the mapping is written once. Unknown values never raise: they map to ``UNKNOWN`` and are
logged once per value (once per case-folded value in a case-insensitive map).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping

from ..models import TrackingStatus

logger = logging.getLogger("shiptrack_sdk")


class StatusMap(Mapping[str, TrackingStatus]):
    """A read-only table from a provider's status values to normalized statuses.

    Args:
        provider: The provider's name, for log lines.
        field: Which provider field the values come from (``"tracking_status"``...).
        table: Provider value → normalized status.
        descriptions: Optional explanation of each provider value, for the docs.
        case_sensitive: Whether ``"delivered"`` and ``"DELIVERED"`` differ.
    """

    def __init__(
        self,
        provider: str,
        field: str,
        table: Mapping[str, TrackingStatus],
        *,
        descriptions: Mapping[str, str] | None = None,
        case_sensitive: bool = True,
    ) -> None:
        self.provider = provider
        self.field = field
        self.case_sensitive = case_sensitive
        self._table = dict(table)
        self._lookup = (
            dict(self._table)
            if case_sensitive
            else {key.casefold(): value for key, value in self._table.items()}
        )
        self.descriptions = dict(descriptions or {})
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> TrackingStatus:
        return self._table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"StatusMap({self.provider!r}, {self.field!r}, {len(self)} values)"

    def normalize(self, value: str | None) -> TrackingStatus:
        """The normalized status for ``value``; ``UNKNOWN`` (logged once) when unmapped."""
        if value is None:
            return TrackingStatus.UNKNOWN
        key = value if self.case_sensitive else value.casefold()
        status = self._lookup.get(key)
        if status is not None:
            return status
        # Warned once per key: in a case-insensitive map "Foo" and "FOO" are one value.
        if key not in self._warned:
            with self._lock:
                if key not in self._warned:
                    self._warned.add(key)
                    logger.warning(
                        "%s: %s value %r is not in the status map; reported as UNKNOWN",
                        self.provider,
                        self.field,
                        value,
                    )
        return TrackingStatus.UNKNOWN
