"""The Fake Parcels client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from shiptrack_sdk._core.client import BaseClient

from .parcels import ParcelsResource
from .spec import SPEC

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from shiptrack_sdk._core.options import ClientOptions

__all__ = ["FakeClient"]


class FakeClient(BaseClient):
    """Client of the Fake Parcels API.

    Args:
        api_key: Sent as ``x-fake-key`` (env ``SHIPTRACK_FAKE_API_KEY``).
        environment: ``"production"`` or ``"staging"`` (env ``SHIPTRACK_FAKE_ENVIRONMENT``).
        base_url: Overrides the environment's URL (env ``SHIPTRACK_FAKE_BASE_URL``).
        **options: The shared client options.
    """

    spec = SPEC

    def __init__(
        self,
        *,
        api_key: str | None = None,
        environment: Literal["production", "staging"] | None = None,
        base_url: str | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(api_key=api_key, environment=environment, base_url=base_url, **options)
        #: Parcels: ``get``.
        self.parcels = ParcelsResource(self)
