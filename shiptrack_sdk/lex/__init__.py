"""Michelin LEX: Shipment Tracking (carriers send events) and Order Execution (3PL warehouses
poll, post and receive pushed business messages), over one :class:`LexClient`.

LEX has no status map: the SDK never reads a shipment status from LEX. Tracking goes *to* LEX
(normalized statuses become LEX event codes through the partner's
:class:`~shiptrack_sdk.lex.forward.EventCodeTable`), and order messages carry their own status
codes, kept verbatim.

The models of both APIs are importable from here. Where both APIs have one of a kind, the
name says which it belongs to: an order's :class:`OrderAddress`, a tracking party's
:class:`TrackingAddress`.
"""

from .._core.convert import converter as _converter
from ._hooks import register_hooks as _register_hooks
from .checkpoint import Checkpoint, CheckpointError, Cursor, FileCheckpoint, MemoryCheckpoint
from .client import LexClient
from .forward import SUGGESTED_INOVERT_CODES, EventCode, EventCodeTable, messages_from_tracking
from .journal import SendJournal
from .order_models import (
    BusinessMessage,
    ItemMaster,
    MessageType,
    OrderAddress,
    OrderLine,
    OrderStatus,
    ReceivingOrder,
    SendResult,
    ShipmentOrder,
)
from .orders import MessageStream, OrdersResource, StreamNotice
from .profile import WireProfile
from .tracking import (
    Anomaly,
    Attribute,
    BatchResult,
    Carrier,
    DeliveryNote,
    Location,
    MessageResult,
    Party,
    SendOutcome,
    SendReport,
    ShipmentEvent,
    TrackingAddress,
    TrackingMessage,
    TrackingResource,
    TrackingValidator,
    validate_messages,
)

# Every wire model's converter hooks, registered once the models are all imported.
_register_hooks(_converter)

__all__ = [
    "SUGGESTED_INOVERT_CODES",
    "Anomaly",
    "Attribute",
    "BatchResult",
    "BusinessMessage",
    "Carrier",
    "Checkpoint",
    "CheckpointError",
    "Cursor",
    "DeliveryNote",
    "EventCode",
    "EventCodeTable",
    "FileCheckpoint",
    "ItemMaster",
    "LexClient",
    "Location",
    "MemoryCheckpoint",
    "MessageResult",
    "MessageStream",
    "MessageType",
    "OrderAddress",
    "OrderLine",
    "OrderStatus",
    "OrdersResource",
    "Party",
    "ReceivingOrder",
    "SendJournal",
    "SendOutcome",
    "SendReport",
    "SendResult",
    "ShipmentEvent",
    "ShipmentOrder",
    "StreamNotice",
    "TrackingAddress",
    "TrackingMessage",
    "TrackingResource",
    "TrackingValidator",
    "WireProfile",
    "messages_from_tracking",
    "validate_messages",
]
