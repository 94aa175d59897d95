"""The ``shiptrack`` command line (also ``python -m shiptrack_sdk``).

Commands:

* ``shiptrack demo``: start the embedded sandbox and run the main job through the public
  clients: pull tracking from Shiplemon and from exporto's tours, forward it to Michelin LEX
  Shipment Tracking, and poll LEX Order Execution; print normalized timelines.
* ``shiptrack sandbox``: serve the sandbox, print its URL and credentials, wait for Ctrl-C.
* ``shiptrack track <provider> <id>...``: track shipments (Shiplemon or exporto).
* ``shiptrack tours [--since DATE] [--track]``: list exporto tours, or track their shipments.
* ``shiptrack orders pull [--since TIME] [--checkpoint FILE]``: drain LEX business messages.

Credentials come from the environment (``SHIPTRACK_<PROVIDER>_...``, see the configuration
page); ``SHIPTRACK_<PROVIDER>_BASE_URL`` points a command at another server, such as
``shiptrack sandbox``. Output is a readable table by default, ``--json`` for machines.

Exit codes: 0 ok, 1 API or transport error, 2 usage error (bad arguments, missing credentials,
a sandbox port that cannot be listened on), 130 interrupted by Ctrl-C (``shiptrack sandbox``,
which serves until Ctrl-C, exits 0 then). Errors are printed as one line; ``--debug`` prints the
request log (secrets masked) to stderr, and leaves the ``shiptrack_sdk`` logger as it found it.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TextIO

from . import __version__
from ._render import format_timeline, format_when
from .errors import ShiptrackError, ValidationError
from .models import Tracking, TrackingStatus

__all__ = ["main"]

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE = 0, 1, 2
#: Interrupted by Ctrl-C (SIGINT), as shells report it: 128 + 2.
EXIT_INTERRUPTED = 130

#: The demo's Shiplemon shipments (seeded in the sandbox).
DEMO_SHIPLEMON_IDS = (
    "6650a1f2c3d4e5f601234569",
    "6650a1f2c3d4e5f601234567",
    "6650a1f2c3d4e5f601234568",
    "be96511d-ba23-4268-bd8b-48c9cf930222",
)


#: The demo's partner table from normalized status to LEX event code: the suggested INOVERT
#: codes, plus an explicit code for exceptions (a real partner chooses its own).
def _demo_codes() -> Any:
    from .lex.forward import SUGGESTED_INOVERT_CODES

    return SUGGESTED_INOVERT_CODES.with_overrides({"EXCEPTION": "ANO", "PRE_TRANSIT": "PEC"})


# -- output ----------------------------------------------------------------------------------


def _tracking_json(tracking: Tracking) -> dict[str, Any]:
    return {
        "provider": tracking.provider,
        "shipment_id": tracking.shipment_id,
        "status": tracking.status.value,
        "provider_status": tracking.provider_status,
        "carrier": tracking.carrier,
        "tracking_ref": tracking.tracking_ref,
        "tracking_url": tracking.tracking_url,
        "events": [
            {
                "status": e.status.value,
                "occurred_at": e.occurred_at.isoformat(),
                "description": e.description,
                "provider_status": e.provider_status,
                "provider_status_detail": e.provider_status_detail,
                "location": e.location,
            }
            for e in tracking.events
        ],
    }


def _print_trackings(trackings: Iterable[Tracking], *, as_json: bool, out: TextIO) -> None:
    if as_json:
        json.dump([_tracking_json(t) for t in trackings], out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    for i, tracking in enumerate(trackings):
        if i:
            out.write("\n")
        out.write(format_timeline(tracking) + "\n")


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns."""
    text_rows = [["" if c is None else str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in text_rows
    ]
    return "\n".join([line, rule, *body])


def _write_json(value: Any, out: TextIO) -> None:
    json.dump(value, out, ensure_ascii=False, indent=2, default=str)
    out.write("\n")


# -- argument types ----------------------------------------------------------------------------


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _port_arg(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port (0-65535, 0 picks a free one): {text!r}")
    return port


def _time_arg(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, e.g. {text}Z or {text}+02:00")
    return value


# -- providers -----------------------------------------------------------------------------------


def _track_shiplemon(ids: Sequence[str], client: Any = None) -> list[Tracking]:
    from .shiplemon import ShiplemonClient

    with client or ShiplemonClient() as shiplemon:
        return [shiplemon.tracking.get(sid).to_tracking() for sid in ids]


def _track_exporto(ids: Sequence[str], client: Any = None) -> list[Tracking]:
    from .exporto import ExportoClient

    with client or ExportoClient() as exporto:
        return [exporto.shipments.get(sid).to_tracking() for sid in ids]


#: ``shiptrack track <provider>``: provider → function tracking a list of ids.
TRACKERS: dict[str, Callable[[Sequence[str]], list[Tracking]]] = {
    "shiplemon": _track_shiplemon,
    "exporto": _track_exporto,
}


# -- commands ------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .lex.forward import messages_from_tracking
    from .lex.tracking_models import Carrier, Party
    from .sandbox import Sandbox

    with Sandbox() as sandbox:
        out.write(
            f"shiptrack-sdk {__version__} demo against the embedded sandbox at {sandbox.url}\n"
        )
        trackings: list[Tracking] = []

        out.write("\n== Shiplemon: pull tracking  (GET /public/v1/shipments/:id/tracking)\n\n")
        shiplemon = _track_shiplemon(DEMO_SHIPLEMON_IDS, sandbox.shiplemon_client())
        trackings += shiplemon
        _print_trackings(shiplemon, as_json=args.json, out=out)

        with sandbox.exporto_client() as exporto:
            tour = exporto.tours.list()[-1]
            out.write(
                f"\n== exporto: track the tour of {tour.closing_date} "
                "(GET tour -> GET tour/:id -> GET shipment/:id, 8 workers)\n\n"
            )
            results = sorted(
                exporto.tours.track([tour.id], max_workers=8),
                key=lambda r: r.shipment_id or "",
            )
        exported = [r.tracking for r in results if r.tracking is not None]
        trackings += exported
        _print_trackings(exported[:3], as_json=args.json, out=out)
        failed = [r for r in results if r.tracking is None]
        out.write(f"\n... {len(exported)} shipments of the tour tracked, {len(failed)} failed.\n")

        out.write(
            "\n== Michelin LEX: forward every event as tracking messages  "
            "(POST /lex-shipmenttracking-v1/shipment-tracking)\n\n"
        )
        with sandbox.lex_client() as lex:
            messages = messages_from_tracking(
                trackings,
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
            out.write(f"{len(messages)} messages in batches of 100: {counts}\n")

            out.write(
                "\n== Michelin LEX: poll order execution messages  "
                "(GET /lex-orderexecution-v1/business-messages)\n\n"
            )
            polled = list(lex.orders.iter_messages(fetch_size=50))
            rows = [_message_row(m) for m in polled[:8]]
            out.write(format_table(["id", "type", "timestamp", "order"], rows) + "\n")
            out.write(f"... {len(polled)} messages drained, each once.\n")
    return EXIT_OK


def _message_row(message: Any) -> list[Any]:
    payload = message.payload
    order = getattr(payload, "order_number", None) or getattr(payload, "item", None) or ""
    return [message.id, message.type, format_when(message.timestamp), order]


def cmd_sandbox(args: argparse.Namespace, out: TextIO) -> int:
    from .sandbox import Sandbox

    sandbox = Sandbox(host=args.host, port=args.port, latency=args.latency)
    try:
        sandbox.start()
    except OSError as exc:  # the port is taken, or the host is not an address of this machine
        hint = (
            "choose another --port, or --port 0 for a free one"
            if exc.errno == errno.EADDRINUSE
            else "check --host and --port"
        )
        print(
            f"shiptrack: error: cannot serve the sandbox on {args.host} port {args.port}: "
            f"{exc.strerror or exc} ({hint})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    out.write(f"shiptrack sandbox serving at {sandbox.url}\n")
    out.write("environment for the command line and the clients (test credentials):\n")
    for name, value in sandbox.environment().items():
        out.write(f"  {name}={value}\n")
    out.write("Ctrl-C to stop.\n")
    out.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how the sandbox is stopped: a clean exit
    finally:
        sandbox.stop()
    return EXIT_OK


def cmd_track(args: argparse.Namespace, out: TextIO) -> int:
    tracker = TRACKERS[args.provider]
    trackings = tracker(args.ids)
    _print_trackings(trackings, as_json=args.json, out=out)
    return EXIT_OK


def cmd_tours(args: argparse.Namespace, out: TextIO) -> int:
    from .exporto import ExportoClient

    with ExportoClient() as exporto:
        tours = exporto.tours.list(since=args.since)
        if not args.track:
            if args.json:
                _write_json([{"id": t.id, "closing_date": t.closing_date} for t in tours], out)
            else:
                out.write(
                    format_table(["tour", "closing date"], [[t.id, t.closing_date] for t in tours])
                    + "\n"
                )
            return EXIT_OK
        progress = True if sys.stderr.isatty() and not args.json else None
        results = list(exporto.tours.track([t.id for t in tours], progress=progress))
    failed = [r for r in results if r.error is not None]
    if args.json:
        _write_json(
            [
                {
                    "shipment_id": r.shipment_id,
                    "tour_id": r.tour_id,
                    "tracking": _tracking_json(r.tracking) if r.tracking else None,
                    "error": str(r.error) if r.error else None,
                }
                for r in results
            ],
            out,
        )
    else:
        rows = []
        for r in sorted(results, key=lambda r: (r.tour_id or "", r.shipment_id or "")):
            t = r.tracking
            last = t.last_event if t else None
            rows.append(
                [
                    r.tour_id,
                    r.shipment_id,
                    t.status.value if t else "ERROR",
                    t.tracking_ref if t else "",
                    format_when(last.occurred_at) if last else "",
                    (last.description or "") if last else type(r.error).__name__,
                ]
            )
        out.write(
            format_table(["tour", "shipment", "status", "ref", "last event", ""], rows) + "\n"
        )
        out.write(f"{len(results) - len(failed)} tracked, {len(failed)} failed\n")
    return EXIT_API_ERROR if failed else EXIT_OK


def cmd_orders_pull(args: argparse.Namespace, out: TextIO) -> int:
    from .lex import LexClient
    from .lex.checkpoint import FileCheckpoint

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


# -- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shiptrack",
        description="Shipment tracking and order execution across Michelin LEX, exporto and "
        "Shiplemon.",
        epilog="Exit codes: 0 ok, 1 API or transport error, 2 usage error, 130 interrupted. "
        "Credentials and base URLs come from SHIPTRACK_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"shiptrack-sdk {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="log every request to stderr (secrets masked)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="the main job, against the embedded sandbox")
    demo.add_argument("--json", action="store_true", help="print JSON instead of timelines")
    demo.set_defaults(func=cmd_demo)

    sandbox = commands.add_parser("sandbox", help="serve the embedded sandbox until Ctrl-C")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_port_arg, default=8765, help="0 picks a free port")
    sandbox.add_argument(
        "--latency", type=float, default=0.0, help="seconds every call waits (default 0)"
    )
    sandbox.set_defaults(func=cmd_sandbox)

    track = commands.add_parser("track", help="track shipments by id")
    track.add_argument("provider", choices=sorted(TRACKERS))
    track.add_argument("ids", nargs="+", metavar="ID")
    track.add_argument("--json", action="store_true", help="print JSON instead of timelines")
    track.set_defaults(func=cmd_track)

    tours = commands.add_parser("tours", help="list exporto tours, or track their shipments")
    tours.add_argument(
        "--since",
        type=_date_arg,
        metavar="YYYY-MM-DD",
        help="only tours closed on this day or later",
    )
    tours.add_argument("--track", action="store_true", help="track every shipment of the tours")
    tours.add_argument("--json", action="store_true", help="print JSON instead of a table")
    tours.set_defaults(func=cmd_tours)

    orders = commands.add_parser("orders", help="LEX order execution messages")
    orders_commands = orders.add_subparsers(dest="orders_command", metavar="ACTION", required=True)
    pull = orders_commands.add_parser("pull", help="drain business messages, each once")
    pull.add_argument(
        "--since",
        type=_time_arg,
        metavar="TIME",
        help="ISO 8601 time with a zone, e.g. 2024-09-01T00:00:00Z",
    )
    pull.add_argument(
        "--checkpoint", metavar="FILE", help="resume from and save the cursor to this file"
    )
    pull.add_argument("--fetch-size", type=int, default=100, help="messages per page (1-100)")
    pull.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    pull.set_defaults(func=cmd_orders_pull)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    handler: logging.Handler | None = None
    sdk_logger = logging.getLogger("shiptrack_sdk")
    previous_level = sdk_logger.level
    if args.debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        sdk_logger.addHandler(handler)
        sdk_logger.setLevel(logging.DEBUG)
    stream = out or sys.stdout
    try:
        return int(args.func(args, stream))
    except ValidationError as exc:
        print(f"shiptrack: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ShiptrackError as exc:
        print(f"shiptrack: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_API_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        if handler is not None:
            sdk_logger.removeHandler(handler)
            sdk_logger.setLevel(previous_level)
