"""Michelin LEX: Shipment Tracking (carriers send events) and Order Execution (3PL warehouses
poll, post and receive pushed business messages), over one :class:`LexClient`.

LEX has no status map: the SDK never reads a shipment status from LEX. Tracking goes *to* LEX
(normalized statuses become LEX event codes through the partner's
:class:`~shiptrack_sdk.lex.forward.EventCodeTable`), and order messages carry their own status
codes, kept verbatim.
"""

from .checkpoint import Checkpoint, CheckpointError, Cursor, FileCheckpoint, MemoryCheckpoint
from .client import LexClient
from .forward import SUGGESTED_INOVERT_CODES, EventCode, EventCodeTable, messages_from_tracking
from .order_models import (
    Address,
    BusinessMessage,
    ItemMaster,
    MessageType,
    OrderLine,
    OrderStatus,
    ReceivingOrder,
    SendResult,
    ShipmentOrder,
)
from .orders import MessageStream, OrdersResource
from .tracking import (
    SendOutcome,
    SendReport,
    ShipmentEvent,
    TrackingMessage,
    TrackingResource,
    TrackingValidator,
)

__all__ = [
    "SUGGESTED_INOVERT_CODES",
    "Address",
    "BusinessMessage",
    "Checkpoint",
    "CheckpointError",
    "Cursor",
    "EventCode",
    "EventCodeTable",
    "FileCheckpoint",
    "ItemMaster",
    "LexClient",
    "MemoryCheckpoint",
    "MessageStream",
    "MessageType",
    "OrderLine",
    "OrderStatus",
    "OrdersResource",
    "ReceivingOrder",
    "SendOutcome",
    "SendReport",
    "SendResult",
    "ShipmentEvent",
    "ShipmentOrder",
    "TrackingMessage",
    "TrackingResource",
    "TrackingValidator",
    "messages_from_tracking",
]
