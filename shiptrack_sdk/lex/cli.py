"""Michelin LEX on the command line: ``shiptrack orders pull`` and its part of the demo
(forwarding every tracking the other providers gathered, then polling order execution)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from .._render import format_when
from ..cli import EXIT_OK, Commands, Demo, format_table, time_arg
from ..models import TrackingStatus
from ._journal_cli import add_journal_command

__all__ = ["demo", "register"]


def register(commands: Commands) -> None:
    """Add ``shiptrack orders pull`` and ``shiptrack lex journal``."""
    orders = commands.add_parser("orders", help="LEX order execution messages")
    orders_commands = orders.add_subparsers(dest="orders_command", metavar="ACTION", required=True)
    pull = orders_commands.add_parser("pull", help="drain business messages, each once")
    pull.add_argument(
        "--since",
        type=time_arg,
        metavar="TIME",
        help="ISO 8601 time with a zone, e.g. 2024-09-01T00:00:00Z",
    )
    pull.add_argument(
        "--checkpoint", metavar="FILE", help="resume from and save the cursor to this file"
    )
    pull.add_argument("--fetch-size", type=int, default=100, help="messages per page (1-100)")
    pull.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    pull.set_defaults(func=cmd_orders_pull)
    lex = commands.add_parser("lex", help="Michelin LEX tools")
    lex_commands = lex.add_subparsers(dest="lex_command", metavar="ACTION", required=True)
    add_journal_command(lex_commands)


def _message_row(message: Any) -> list[Any]:
    payload = message.payload
    order = getattr(payload, "order_number", None) or getattr(payload, "item", None) or ""
    return [message.id, message.type, format_when(message.timestamp), order]


def cmd_orders_pull(args: argparse.Namespace, out: TextIO) -> int:
    """``shiptrack orders pull [--since TIME] [--checkpoint FILE] [--fetch-size N] [--json]``."""
    from .checkpoint import FileCheckpoint
    from .client import LexClient

    checkpoint = FileCheckpoint(args.checkpoint) if args.checkpoint else None
    with LexClient() as lex:
        stream = lex.orders.iter_messages(
            since=args.since,
            checkpoint=checkpoint,
            fetch_size=args.fetch_size,
            progress=True if sys.stderr.isatty() and not args.json else None,
        )
        count = 0
        if args.json:
            # Each message as LEX's own JSON, one per line: what a downstream system expects.
            for message in stream:
                out.write(json.dumps(message.to_wire(), ensure_ascii=False, default=str) + "\n")
                count += 1
        else:
            rows = []
            for message in stream:
                rows.append(_message_row(message))
                count += 1
            out.write(format_table(["id", "type", "timestamp", "order"], rows) + "\n")
            out.write(f"{count} messages\n")
    return EXIT_OK


def _demo_codes() -> Any:
    """The demo's partner table from normalized status to LEX event code: the suggested
    INOVERT codes, plus an explicit code for exceptions (a real partner chooses its own)."""
    from .forward import SUGGESTED_INOVERT_CODES

    return SUGGESTED_INOVERT_CODES.with_overrides({"EXCEPTION": "ANO", "PRE_TRANSIT": "PEC"})


def demo(demo: Demo) -> None:
    """Once every other part has gathered its trackings: forward them, then poll orders."""
    demo.then(_forward_and_poll)


def _forward_and_poll(demo: Demo) -> None:
    from .forward import messages_from_tracking
    from .tracking_models import Carrier, Party

    demo.section(
        "Michelin LEX: forward every event as tracking messages  "
        "(POST /lex-shipmenttracking-v1/shipment-tracking)"
    )
    with demo.sandbox.client("lex") as lex:
        messages = messages_from_tracking(
            demo.trackings,
            codes=_demo_codes(),
            sender=Party(id="DEMO-CARRIER", name="Demo Carrier"),
            carrier=lambda t: Carrier(
                name=t.carrier or "Demo Carrier",
                tracking_number=t.tracking_ref,
                tracking_url=t.tracking_url,
            ),
            # Delivered events need a proof of delivery document for legal reasons.
            document_url=lambda t, e: (
                f"https://pod.example.com/{t.provider}/{t.shipment_id}.pdf"
                if e.status is TrackingStatus.DELIVERED
                else None
            ),
        )
        report = lex.tracking.send(messages, batch_size=100)
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items() if v)
        demo.out.write(f"{len(messages)} messages in batches of 100: {counts}\n")

        demo.section(
            "Michelin LEX: poll order execution messages  "
            "(GET /lex-orderexecution-v1/business-messages)"
        )
        polled = list(lex.orders.iter_messages(fetch_size=50))
        rows = [_message_row(m) for m in polled[:8]]
        demo.out.write(format_table(["id", "type", "timestamp", "order"], rows) + "\n")
        demo.out.write(f"... {len(polled)} messages drained, each once.\n")
