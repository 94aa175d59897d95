"""The ``shiptrack`` command line (also ``python -m shiptrack_sdk``).

Commands:

* ``shiptrack demo``: start the embedded sandbox and run the main job through the public
  clients, each provider playing its part: pull tracking from Shiplemon and from exporto's
  tours, forward it to Michelin LEX Shipment Tracking, and poll LEX Order Execution; print
  normalized timelines.
* ``shiptrack sandbox``: serve the sandbox, print its URL and credentials, wait for Ctrl-C.
* ``shiptrack track <provider> <id>...``: track shipments with any provider that tracks by id
  (Shiplemon, exporto).
* The providers' own commands, such as ``shiptrack tours [--since DATE] [--track]`` (exporto
  tours) and ``shiptrack orders pull [--since TIME] [--checkpoint FILE]`` (LEX business
  messages).

This module names no provider: the track choices, the providers' commands and the parts of the
demo come from the registry of provider specs (:mod:`shiptrack_sdk._providers`), each
provider's from its own ``cli`` module. The helpers here (tables, JSON, argument types, exit
codes, :class:`Demo`) are what those modules share.

Credentials come from the environment (``SHIPTRACK_<PROVIDER>_...``, see the configuration
page); ``SHIPTRACK_<PROVIDER>_BASE_URL`` points a command at another server, such as
``shiptrack sandbox``. Output is a readable table by default, ``--json`` for machines.

Exit codes: 0 ok, 1 API or transport error, 2 usage error (bad arguments, missing credentials,
a sandbox port that cannot be listened on), 130 interrupted by Ctrl-C (``shiptrack sandbox``,
which serves until Ctrl-C, exits 0 then). Errors are printed as one line; ``--debug`` prints the
request log (secrets masked) to stderr, and leaves the ``shiptrack_sdk`` logger as it found it.
``shiptrack track`` tracks every id it is given: a shipment that fails is one line on stderr,
and the exit code is that of the first failure.
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
from typing import Any, TextIO, TypeAlias

import attrs

from . import __version__
from ._core.spec import load
from ._providers import all_specs, spec
from ._render import format_timeline
from .errors import ShiptrackError, ValidationError
from .models import Tracking

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Commands",
    "Demo",
    "date_arg",
    "error_line",
    "exit_code",
    "format_table",
    "main",
    "port_arg",
    "print_trackings",
    "time_arg",
    "track_each",
    "tracking_json",
    "write_json",
]

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE = 0, 1, 2
#: Interrupted by Ctrl-C (SIGINT), as shells report it: 128 + 2.
EXIT_INTERRUPTED = 130

#: What a provider's ``register(commands)`` adds its commands to.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


# -- output ----------------------------------------------------------------------------------


def tracking_json(tracking: Tracking) -> dict[str, Any]:
    """``tracking`` as the JSON the commands print."""
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


def print_trackings(trackings: Iterable[Tracking], *, as_json: bool, out: TextIO) -> None:
    """``trackings`` as timelines, or as a JSON list."""
    if as_json:
        json.dump([tracking_json(t) for t in trackings], out, ensure_ascii=False, indent=2)
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


def write_json(value: Any, out: TextIO) -> None:
    """``value`` as indented JSON (dates and the like as text)."""
    json.dump(value, out, ensure_ascii=False, indent=2, default=str)
    out.write("\n")


# -- argument types ----------------------------------------------------------------------------


def date_arg(text: str) -> date:
    """An argparse type: a date, ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def port_arg(text: str) -> int:
    """An argparse type: a TCP port (``0`` picks a free one)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port (0-65535, 0 picks a free one): {text!r}")
    return port


def time_arg(text: str) -> datetime:
    """An argparse type: an ISO 8601 time with a time zone."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, e.g. {text}Z or {text}+02:00")
    return value


# -- what providers share -------------------------------------------------------------------


def track_each(
    ids: Iterable[str], fetch: Callable[[str], Tracking]
) -> list[Tracking | ShiptrackError]:
    """``fetch(id)`` for each id, in order: what a provider's ``track`` returns.

    An id whose call raises a :class:`~shiptrack_sdk.ShiptrackError` has that error as its
    result; the other ids are still tracked.
    """
    results: list[Tracking | ShiptrackError] = []
    for shipment_id in ids:
        try:
            results.append(fetch(shipment_id))
        except ShiptrackError as exc:
            results.append(exc)
    return results


def error_line(error: ShiptrackError) -> str:
    """The one line the command line prints for ``error``."""
    if isinstance(error, ValidationError):
        return f"shiptrack: error: {error}"
    return f"shiptrack: {type(error).__name__}: {error}"


def exit_code(error: ShiptrackError) -> int:
    """The exit code of a command ended by ``error``."""
    return EXIT_USAGE if isinstance(error, ValidationError) else EXIT_API_ERROR


@attrs.define
class Demo:
    """What each provider's part of ``shiptrack demo`` is given (``ProviderSpec.demo``).

    The parts run in registry order; a part that uses what the others gathered (LEX forwards
    every tracking) runs its work with :meth:`then`.

    Attributes:
        sandbox: The running :class:`~shiptrack_sdk.sandbox.Sandbox`.
        out: Where the demo writes.
        as_json: ``--json``: trackings as JSON instead of timelines.
        trackings: The normalized trackings gathered so far, by every part.
    """

    sandbox: Any
    out: TextIO
    as_json: bool = False
    trackings: list[Tracking] = attrs.field(factory=list)
    _after: list[Callable[[Demo], None]] = attrs.field(factory=list, init=False)

    def section(self, title: str) -> None:
        """Start a section of the demo's output."""
        self.out.write(f"\n== {title}\n\n")

    def show(self, trackings: Iterable[Tracking]) -> None:
        """Print ``trackings`` (timelines, or JSON with ``--json``)."""
        print_trackings(trackings, as_json=self.as_json, out=self.out)

    def then(self, part: Callable[[Demo], None]) -> None:
        """Run ``part`` once every provider's part has run."""
        self._after.append(part)

    def run(self) -> None:
        """Every registered provider's part, then what they left for the end."""
        for found in all_specs():
            if found.demo is not None:
                load(found.demo)(self)
        while self._after:
            self._after.pop(0)(self)


# -- commands ------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .sandbox import Sandbox

    with Sandbox() as sandbox:
        out.write(
            f"shiptrack-sdk {__version__} demo against the embedded sandbox at {sandbox.url}\n"
        )
        Demo(sandbox, out, as_json=args.json).run()
    return EXIT_OK


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
    found = spec(args.provider)
    if found.tracks is None:  # argparse offers only the providers that track
        raise ValidationError("provider", f"{found.name} does not track shipments by id")
    track: Callable[[Any, Sequence[str]], list[Tracking | ShiptrackError]] = load(found.tracks)
    with found.client_class()() as client:
        results = track(client, args.ids)
    print_trackings([r for r in results if isinstance(r, Tracking)], as_json=args.json, out=out)
    failures = [r for r in results if not isinstance(r, Tracking)]
    for failure in failures:
        print(error_line(failure), file=sys.stderr)
    return exit_code(failures[0]) if failures else EXIT_OK


# -- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    specs = list(all_specs())
    titles = [s.title for s in specs]
    across = ", ".join(titles[:-1]) + (" and " if len(titles) > 1 else "") + titles[-1]
    parser = argparse.ArgumentParser(
        prog="shiptrack",
        description=f"Shipment tracking and order execution across {across}.",
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
    sandbox.add_argument("--port", type=port_arg, default=8765, help="0 picks a free port")
    sandbox.add_argument(
        "--latency", type=float, default=0.0, help="seconds every call waits (default 0)"
    )
    sandbox.set_defaults(func=cmd_sandbox)

    track = commands.add_parser("track", help="track shipments by id")
    track.add_argument("provider", choices=sorted(s.name for s in specs if s.tracks))
    track.add_argument("ids", nargs="+", metavar="ID")
    track.add_argument("--json", action="store_true", help="print JSON instead of timelines")
    track.set_defaults(func=cmd_track)

    for found in specs:
        if found.cli is not None:
            load(found.cli)(commands)
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
    except ShiptrackError as exc:
        print(error_line(exc), file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        if handler is not None:
            sdk_logger.removeHandler(handler)
            sdk_logger.setLevel(previous_level)
