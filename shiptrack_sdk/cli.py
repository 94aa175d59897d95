"""The ``shiptrack`` command line (also ``python -m shiptrack_sdk``).

Commands:

* ``shiptrack demo``: start the embedded sandbox, track shipments through the public clients and
  print normalized timelines.
* ``shiptrack sandbox``: serve the sandbox, print its URL and credentials, wait for Ctrl-C.
* ``shiptrack track <provider> <id>...``: track shipments against the real service, with
  credentials from the environment (``SHIPTRACK_<PROVIDER>_...``).

Exit codes: 0 ok, 1 API or transport error, 2 usage error (bad arguments, missing credentials).
Errors are printed as one line; ``--debug`` prints the request log (secrets masked) to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from . import __version__
from ._convert import unstructure
from ._render import format_timeline
from .errors import ShiptrackError, ValidationError
from .models import Tracking

__all__ = ["main"]

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE = 0, 1, 2

#: The demo's Shiplemon shipments (seeded in the sandbox).
DEMO_SHIPLEMON_IDS = (
    "6650a1f2c3d4e5f601234569",
    "6650a1f2c3d4e5f601234567",
    "6650a1f2c3d4e5f601234568",
    "be96511d-ba23-4268-bd8b-48c9cf930222",
    "60476d7500e47cb69693a202",
)


def _tracking_json(tracking: Tracking) -> dict[str, Any]:
    return {
        "provider": tracking.provider,
        "shipment_id": tracking.shipment_id,
        "status": tracking.status.value,
        "provider_status": tracking.provider_status,
        "carrier": tracking.carrier,
        "tracking_ref": tracking.tracking_ref,
        "tracking_url": tracking.tracking_url,
        "events": [{**unstructure(e), "status": e.status.value} for e in tracking.events],
    }


def _print_trackings(trackings: Sequence[Tracking], *, as_json: bool, out: TextIO) -> None:
    if as_json:
        json.dump([_tracking_json(t) for t in trackings], out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    for i, tracking in enumerate(trackings):
        if i:
            out.write("\n")
        out.write(format_timeline(tracking) + "\n")


def _track_shiplemon(ids: Sequence[str], client: Any = None) -> list[Tracking]:
    from .shiplemon import ShiplemonClient

    with client or ShiplemonClient() as shiplemon:
        return [shiplemon.tracking.get(sid).to_tracking() for sid in ids]


#: ``shiptrack track <provider>``: provider → function tracking a list of ids.
TRACKERS: dict[str, Callable[[Sequence[str]], list[Tracking]]] = {
    "shiplemon": _track_shiplemon,
}


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .sandbox import Sandbox

    with Sandbox() as sandbox:
        out.write(
            f"shiptrack-sdk {__version__} demo, against the embedded sandbox at {sandbox.url}\n\n"
        )
        out.write(
            "Shiplemon: pulling tracking of "
            f"{len(DEMO_SHIPLEMON_IDS)} shipments (GET /public/v1/shipments/:id/tracking)\n\n"
        )
        trackings = _track_shiplemon(DEMO_SHIPLEMON_IDS, sandbox.shiplemon_client())
        _print_trackings(trackings, as_json=args.json, out=out)
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace, out: TextIO) -> int:
    from .sandbox import Sandbox

    sandbox = Sandbox(host=args.host, port=args.port, latency=args.latency)
    sandbox.start()
    creds = sandbox.credentials
    out.write(f"shiptrack sandbox serving at {sandbox.url}\n")
    for name in sandbox.apps:
        out.write(f"  {name:<10} {sandbox.url}/{name}\n")
    out.write("credentials (test values):\n")
    out.write(f"  SHIPTRACK_SHIPLEMON_BASE_URL={sandbox.provider_url('shiplemon')}\n")
    out.write(f"  SHIPTRACK_SHIPLEMON_API_KEY={creds.shiplemon_api_key}\n")
    out.write(
        f"  OAuth2 token URL {sandbox.url}/oauth/token  client id {creds.oauth_client_id}"
        f"  client secret {creds.oauth_client_secret}\n"
    )
    out.write("Ctrl-C to stop.\n")
    out.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return EXIT_OK


def cmd_track(args: argparse.Namespace, out: TextIO) -> int:
    tracker = TRACKERS[args.provider]
    trackings = tracker(args.ids)
    _print_trackings(trackings, as_json=args.json, out=out)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shiptrack",
        description="Shipment tracking across Michelin LEX, exporto and Shiplemon.",
        epilog="Exit codes: 0 ok, 1 API or transport error, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"shiptrack-sdk {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="log every request to stderr (secrets masked)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="track shipments from the embedded sandbox")
    demo.add_argument("--json", action="store_true", help="print JSON instead of timelines")
    demo.set_defaults(func=cmd_demo)

    sandbox = commands.add_parser("sandbox", help="serve the embedded sandbox until Ctrl-C")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument(
        "--latency", type=float, default=0.0, help="seconds every call waits (default 0)"
    )
    sandbox.set_defaults(func=cmd_sandbox)

    track = commands.add_parser(
        "track", help="track shipments (credentials from SHIPTRACK_* environment variables)"
    )
    track.add_argument("provider", choices=sorted(TRACKERS))
    track.add_argument("ids", nargs="+", metavar="ID")
    track.add_argument("--json", action="store_true", help="print JSON instead of timelines")
    track.set_defaults(func=cmd_track)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        sdk_logger = logging.getLogger("shiptrack_sdk")
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
        return 130
