"""Michelin LEX: Shipment Tracking (carriers send events) and Order Execution (3PL warehouses
poll, post and receive pushed business messages), over one :class:`LexClient`."""

from .client import LexClient

__all__ = ["LexClient"]
