"""``shiptrack watch``: a watcher on the command line, and its part of ``shiptrack demo``.

* ``shiptrack watch add PROVIDER ID... [--label KEY=VALUE] [--tours [--since DATE]]``
* ``shiptrack watch remove PROVIDER ID...``
* ``shiptrack watch list [--provider P] [--status S]``
* ``shiptrack watch run [--once] [--max-wait SECONDS]``: poll until SIGTERM or Ctrl-C, printing
  each change as it is handed over (``--json``: one JSON object a line)
* ``shiptrack watch status``: shipments per provider and status, due shipments, pending
  changes, the last poll, back-offs and recent errors

Each takes ``--store PATH`` (default ``$SHIPTRACK_WATCH_STORE``, else
``shiptrack-watch.sqlite``) and ``--json``. The providers' credentials come from the
environment, as for every command. Exit codes: 0 ok, 1 an API, transport or store error,
2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

from .._render import format_when
from ..cli import EXIT_OK, EXIT_USAGE, Commands, Demo, date_arg, format_table, write_json
from ..models import TrackingEvent, TrackingStatus
from .model import TrackingChange
from .schedule import Interval, Schedule
from .watcher import DEFAULT_STORE, Watcher, watchable

__all__ = ["change_line", "demo", "register"]

#: The environment variable naming the store when ``--store`` is not given.
STORE_VARIABLE = "SHIPTRACK_WATCH_STORE"

_STATUSES = ["NEW", "RETIRED", *(s.value for s in TrackingStatus)]


def _label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"not KEY=VALUE: {text!r}")
    return key.strip(), value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def register(commands: Commands) -> None:
    """Add ``shiptrack watch``."""
    watch = commands.add_parser(
        "watch",
        help="follow shipments durably and print their changes",
        description="Follow shipments across providers in one SQLite file (--store), and "
        "print each change once it is seen.",
    )
    actions = watch.add_subparsers(dest="watch_command", metavar="ACTION", required=True)
    providers = watchable()

    def action(name: str, help: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
        parser.add_argument(
            "--store",
            metavar="PATH",
            help=f"the watcher's store (default ${STORE_VARIABLE}, else {DEFAULT_STORE})",
        )
        parser.add_argument("--json", action="store_true", help="print JSON")
        return parser

    add = action("add", "watch shipments (or follow a provider's tours with --tours)")
    add.add_argument("provider", choices=providers, help="the provider: %(choices)s")
    add.add_argument("ids", nargs="*", metavar="ID", help="the provider's shipment id")
    add.add_argument(
        "--label",
        type=_label,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label for the shipments (repeatable)",
    )
    add.add_argument("--tours", action="store_true", help="follow the provider's new tours")
    add.add_argument(
        "--since", type=date_arg, metavar="YYYY-MM-DD", help="with --tours: tours from this day"
    )
    add.set_defaults(func=cmd_add)

    remove = action("remove", "stop watching shipments")
    remove.add_argument("provider", choices=providers, help="the provider: %(choices)s")
    remove.add_argument("ids", nargs="+", metavar="ID", help="the provider's shipment id")
    remove.set_defaults(func=cmd_remove)

    listing = action("list", "list the watched shipments")
    listing.add_argument("--provider", choices=providers, help="only this provider's")
    listing.add_argument("--status", choices=_STATUSES, help="only those in this status")
    listing.set_defaults(func=cmd_list)

    run = action("run", "poll until SIGTERM or Ctrl-C, printing each change")
    run.add_argument("--once", action="store_true", help="poll once, print, and exit")
    run.add_argument(
        "--max-wait",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="the longest wait between two polls (default 60)",
    )
    run.set_defaults(func=cmd_run)

    status = action("status", "counts per provider and status, due shipments, recent errors")
    status.set_defaults(func=cmd_status)


def _store(args: argparse.Namespace) -> str:
    return str(args.store or os.environ.get(STORE_VARIABLE) or DEFAULT_STORE)


def _missing(args: argparse.Namespace) -> bool:
    """Whether the store a command reads is missing (said on stderr): only ``add`` makes one."""
    path = _store(args)
    if path == ":memory:" or Path(path).exists():
        return False
    print(
        f"shiptrack: error: no watcher's store at {path} (shiptrack watch add creates one; "
        f"--store or ${STORE_VARIABLE} names another)",
        file=sys.stderr,
    )
    return True


def _watcher(args: argparse.Namespace) -> Watcher:
    return Watcher(_store(args))


def cmd_add(args: argparse.Namespace, out: TextIO) -> int:
    """``shiptrack watch add PROVIDER ID... [--label K=V] [--tours [--since DATE]]``."""
    if not args.ids and not args.tours:
        print("shiptrack: error: give shipment ids, or --tours", file=sys.stderr)
        return EXIT_USAGE
    if args.since is not None and not args.tours:
        print("shiptrack: error: --since goes with --tours", file=sys.stderr)
        return EXIT_USAGE
    labels = dict(args.label) or None
    with _watcher(args) as watcher:
        added = [sid for sid in args.ids if watcher.add(args.provider, sid, labels=labels)]
        if args.tours:
            watcher.follow_tours(args.provider, since=args.since, labels=labels)
    already = [sid for sid in args.ids if sid not in added]
    if args.json:
        write_json({"added": added, "already_watched": already, "tours": args.tours}, out)
        return EXIT_OK
    out.write(f"{len(added)} added, {len(already)} already watched\n")
    if args.tours:
        since = f" closed on {args.since} or later" if args.since else ""
        out.write(f"following {args.provider} tours{since}: their shipments join at each poll\n")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace, out: TextIO) -> int:
    """``shiptrack watch remove PROVIDER ID...``."""
    if _missing(args):
        return EXIT_USAGE
    with _watcher(args) as watcher:
        removed = [sid for sid in args.ids if watcher.remove(args.provider, sid)]
    missing = [sid for sid in args.ids if sid not in removed]
    if args.json:
        write_json({"removed": removed, "not_watched": missing}, out)
    else:
        out.write(f"{len(removed)} removed, {len(missing)} not watched\n")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    """``shiptrack watch list [--provider P] [--status S]``."""
    if _missing(args):
        return EXIT_USAGE
    with _watcher(args) as watcher:
        found = watcher.shipments(args.provider, status=args.status)
    if args.json:
        write_json([s.to_dict() for s in found], out)
        return EXIT_OK
    rows = [
        [
            s.provider,
            s.shipment_id,
            "RETIRED" if s.retired_at else (s.status.value if s.status else "NEW"),
            format_when(s.polled_at),
            format_when(s.due_at) if s.due_at else "-",
            s.errors or "",
            ", ".join(f"{k}={v}" for k, v in sorted(s.labels.items())),
        ]
        for s in found
    ]
    headers = ["provider", "shipment", "status", "last poll", "due", "errors", "labels"]
    out.write(format_table(headers, rows) + "\n")
    out.write(f"{len(found)} shipments\n")
    return EXIT_OK


def change_line(change: TrackingChange) -> str:
    """One change in one line: ``shiplemon:ID TRANSIT -> DELIVERED, 1 new event; latest
    ...`` (``still TRANSIT`` when the status did not change)."""
    before = change.status_before.value if change.status_before else "new"
    status = change.status_after.value
    moved = f"{before} -> {status}" if change.status_changed else f"still {status}"
    count = len(change.new_events)
    events = f"{count} new event{'' if count == 1 else 's'}"
    text = f"{change.provider}:{change.shipment_id} {moved}, {events}"
    if change.new_events:
        last = change.new_events[-1]
        text += f"; latest {format_when(last.occurred_at)}"
        if last.description:
            text += f": {last.description}"
    return text


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    """``shiptrack watch run [--once] [--max-wait SECONDS]``."""
    if _missing(args):
        return EXIT_USAGE

    def show(change: TrackingChange) -> None:
        if args.json:
            out.write(change.to_json(ensure_ascii=False) + "\n")
        else:
            out.write(change_line(change) + "\n")
        out.flush()  # each change as it is handed over, not when a buffer fills

    with _watcher(args) as watcher:
        if args.once:
            watcher.poll(show)
        else:
            if not args.json:
                print(
                    f"# watching {watcher.status().watched} shipments from {watcher.path}; "
                    "Ctrl-C to stop",
                    file=sys.stderr,
                )
            watcher.run(show, max_wait=args.max_wait)
    return EXIT_OK


def cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    """``shiptrack watch status``."""
    if _missing(args):
        return EXIT_USAGE
    with _watcher(args) as watcher:
        status = watcher.status()
    if args.json:
        write_json(status.to_dict(), out)
        return EXIT_OK
    rows = [
        [provider, name, count]
        for provider, counts in sorted(status.counts.items())
        for name, count in sorted(counts.items())
    ]
    out.write(f"store {status.path}: {status.watched} shipments\n\n")
    out.write(format_table(["provider", "status", "shipments"], rows) + "\n\n")
    provider_rows = [
        [
            p.provider,
            p.cadence,
            status.due.get(p.provider, 0),
            format_when(p.last_poll),
            f"{p.failures} failures, until {format_when(p.backoff_until)}"
            if p.backoff_until
            else "",
        ]
        for p in status.providers
    ]
    headers = ["provider", "schedule", "due now", "last poll", "backed off"]
    out.write(format_table(headers, provider_rows) + "\n\n")
    out.write(f"last poll: {format_when(status.last_poll)}\n")
    out.write(f"pending changes: {status.pending_changes}\n")
    if status.recent_errors:
        out.write("recent errors:\n")
        for error in status.recent_errors:
            where = f"{error.provider}:{error.shipment_id}" if error.shipment_id else error.provider
            out.write(f"  {format_when(error.at)}  {where}  {error.error}\n")
    return EXIT_OK


# -- the demo -------------------------------------------------------------------------------------


def demo(demo: Demo) -> None:
    """Once the providers' parts have run: a watcher follows shipments of both pull
    providers, prints the changes it sees as the sandbox moves them on, and forwards their
    events to LEX."""
    demo.then(_watch)


def _watch(demo: Demo) -> None:
    from ..lex.forward import SUGGESTED_INOVERT_CODES
    from ..lex.tracking_models import Carrier, Party

    sandbox = demo.sandbox
    demo.section(
        "Watching: a durable watcher follows Shiplemon and exporto shipments, prints their "
        "changes and forwards them to LEX  (shiptrack watch)"
    )
    now = [datetime(2024, 9, 7, 8, 0, tzinfo=timezone.utc)]
    shiplemon, exporto = sandbox.client("shiplemon"), sandbox.client("exporto")
    with tempfile.TemporaryDirectory() as folder, shiplemon, exporto:
        schedule = Schedule(cadences={"exporto": Interval(timedelta(hours=1))})
        watcher = Watcher(
            Path(folder) / "watch.sqlite",
            clients={"shiplemon": shiplemon, "exporto": exporto},
            schedule=schedule,
            clock=lambda: now[0],
        )
        with watcher:
            sid = "6650a1f2c3d4e5f601234567"
            watcher.add_many([("shiplemon", sid), ("shiplemon", "6650a1f2c3d4e5f601234568")])
            parcel = "S-240906-1017"  # processed and declared, not with a carrier yet
            watcher.add("exporto", parcel, labels={"order": "demo"})
            first = watcher.poll()
            demo.out.write(
                f"first poll: {len(first)} shipments, {sum(len(c.new_events) for c in first)} "
                "events, all new to the store\n"
            )
            watcher.acknowledge(first)
            read = {(c.provider, c.shipment_id): c.tracking for c in first}
            # The carrier puts the shipment's whole history, with a delivery at the end.
            history = [*read["shiplemon", sid].events]
            delivered = datetime(2024, 9, 7, 9, 12, tzinfo=timezone.utc)
            history.append(TrackingEvent("DELIVERED", delivered, "Delivered to recipient"))
            shiplemon.tracking.update(sid, history)
            # exporto hands the parcel over to the last-mile carrier.
            steps = {e.provider_status: e.occurred_at for e in read["exporto", parcel].events}
            sandbox.seed(
                "exporto",
                parcel,
                processed_at=steps.get("processedAt"),
                declared_at=steps.get("declaredAt"),
                carrier_received_at=delivered - timedelta(minutes=40),
                carrier_state="in_transit",
                foreign_outbound_tracking_id="CH0906000017",
            )
            now[0] += timedelta(hours=1)
            demo.out.write("an hour later, the next poll hands over what changed:\n")
            watcher.poll(lambda change: demo.out.write(f"  {change_line(change)}\n"))
            with sandbox.client("lex") as lex:
                options = {
                    "codes": SUGGESTED_INOVERT_CODES.with_overrides({"EXCEPTION": "ANO"}),
                    "sender": Party(id="DEMO-CARRIER", name="Demo Carrier"),
                    "carrier": lambda t: Carrier(
                        name=t.carrier or "Demo Carrier",
                        tracking_number=t.tracking_ref,
                        tracking_url=t.tracking_url,
                    ),
                    # Delivered events need a proof of delivery document for legal reasons.
                    "document_url": lambda t, e: (
                        f"https://pod.example.com/{t.provider}/{t.shipment_id}.pdf"
                        if e.status is TrackingStatus.DELIVERED
                        else None
                    ),
                }
                report = watcher.forward_to_lex(lex, **options)
                demo.out.write(
                    f"forwarded to LEX through the send journal: {len(report.accepted)} "
                    f"accepted, {len(report.in_doubt)} in doubt, {report.skipped} left out by "
                    "the code table\n"
                )
                again = watcher.forward_to_lex(lex, **options)
                demo.out.write(f"forwarded again: {len(again.accepted)} sent (each event once)\n")
            status = watcher.status()
            demo.out.write(
                f"store: {status.watched} shipments, {status.pending_changes} changes pending\n"
            )
