"""exporto on the command line: ``shiptrack track exporto ID...``, ``shiptrack tours`` and its
part of the demo."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .._render import format_when
from ..cli import (
    EXIT_API_ERROR,
    EXIT_OK,
    Commands,
    Demo,
    date_arg,
    format_table,
    tracking_json,
    write_json,
)

if TYPE_CHECKING:
    pass

__all__ = ["demo", "register"]


def register(commands: Commands) -> None:
    """Add ``shiptrack tours``."""
    tours = commands.add_parser("tours", help="list exporto tours, or track their shipments")
    tours.add_argument(
        "--since",
        type=date_arg,
        metavar="YYYY-MM-DD",
        help="only tours closed on this day or later",
    )
    tours.add_argument("--track", action="store_true", help="track every shipment of the tours")
    tours.add_argument("--json", action="store_true", help="print JSON instead of a table")
    tours.set_defaults(func=cmd_tours)


def cmd_tours(args: argparse.Namespace, out: TextIO) -> int:
    """``shiptrack tours [--since DATE] [--track] [--json]``."""
    from .client import ExportoClient

    with ExportoClient() as exporto:
        tours = exporto.tours.list(since=args.since)
        if not args.track:
            if args.json:
                write_json([{"id": t.id, "closing_date": t.closing_date} for t in tours], out)
            else:
                out.write(
                    format_table(["tour", "closing date"], [[t.id, t.closing_date] for t in tours])
                    + "\n"
                )
            return EXIT_OK
        progress = True if sys.stderr.isatty() and not args.json else None
        # In the tours' order: the same run prints the same JSON.
        results = list(exporto.tours.track([t.id for t in tours], progress=progress, order="tour"))
    failed = [r for r in results if r.error is not None]
    if args.json:
        write_json(
            [
                {
                    "shipment_id": r.shipment_id,
                    "tour_id": r.tour_id,
                    "tracking_id": r.tracking_id,
                    "tracking": tracking_json(r.tracking) if r.tracking else None,
                    "error": str(r.error) if r.error else None,
                }
                for r in results
            ],
            out,
        )
    else:
        out.write(
            format_table(["tour", "shipment", "status", "ref", "last event", ""], _rows(results))
        )
        out.write("\n")
        out.write(f"{len(results) - len(failed)} tracked, {len(failed)} failed\n")
    return EXIT_API_ERROR if failed else EXIT_OK


def _shown(result: Any) -> str:
    # A tracking id the tour listed stands in for a shipment it could not be resolved to.
    return str(result.shipment_id or result.tracking_id or "")


def _rows(results: list[Any]) -> list[list[Any]]:
    rows = []
    for r in sorted(results, key=lambda r: (r.tour_id or "", _shown(r))):
        t = r.tracking
        last = t.last_event if t else None
        rows.append(
            [
                r.tour_id,
                _shown(r),
                t.status.value if t else "ERROR",
                t.tracking_ref if t else "",
                format_when(last.occurred_at) if last else "",
                (last.description or "") if last else type(r.error).__name__,
            ]
        )
    return rows


def demo(demo: Demo) -> None:
    """Track every shipment of the last tour, eight at a time."""
    with demo.sandbox.client("exporto") as exporto:
        tour = exporto.tours.list()[-1]
        demo.section(
            f"exporto: track the tour of {tour.closing_date} "
            "(GET tour -> GET tour/:id -> GET shipment/:id, 8 workers)"
        )
        results = sorted(
            exporto.tours.track([tour.id], max_workers=8),
            key=lambda r: r.shipment_id or "",
        )
    exported = [r.tracking for r in results if r.tracking is not None]
    demo.trackings += exported
    demo.show(exported[:3])
    failed = [r for r in results if r.tracking is None]
    demo.out.write(f"\n... {len(exported)} shipments of the tour tracked, {len(failed)} failed.\n")
