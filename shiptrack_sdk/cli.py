"""The ``shiptrack`` command line (also ``python -m shiptrack_sdk``).

Commands:

* ``shiptrack demo``: start the embedded sandbox and run the main job through the public
  clients, each provider playing its part: pull tracking from Shiplemon and from exporto's
  tours, forward it to Michelin LEX Shipment Tracking, and poll LEX Order Execution; print
  normalized timelines.
* ``shiptrack sandbox [--env-file PATH]``: serve the sandbox until Ctrl-C; print its URL, and
  its credentials as ``export`` lines a shell can source (and write them to ``PATH``).
* ``shiptrack track <provider> <id>...``: track shipments with any provider that tracks by id
  (Shiplemon, exporto).
* ``shiptrack watch add|remove|list|run|status``: follow shipments durably in a SQLite store
  and print each change (:mod:`shiptrack_sdk.watch`).
* The providers' own commands, such as ``shiptrack tours [--since DATE] [--track]`` (exporto
  tours) and ``shiptrack orders pull [--since TIME] [--checkpoint FILE]`` (LEX business
  messages).

This module names no provider: the track choices, the providers' commands and the parts of the
demo come from the registry of provider specs (:mod:`shiptrack_sdk._providers`), each
provider's from its own ``cli`` module; the commands built on every provider (``watch``) come
from :data:`ACROSS_PROVIDERS`. The helpers here (tables, JSON, argument types, exit
codes, :class:`Demo`) are what those modules share.

Credentials come from the environment (``SHIPTRACK_<PROVIDER>_...``, see the configuration
page); ``SHIPTRACK_<PROVIDER>_BASE_URL`` points a command at another server, such as
``shiptrack sandbox``. Output is a readable table by default, ``--json`` for machines.

Exit codes: 0 ok, 1 API or transport error, 2 usage error (bad arguments, missing credentials,
a sandbox port that cannot be listened on), 130 interrupted by Ctrl-C (``shiptrack sandbox``,
which serves until Ctrl-C, exits 0 then), 141 the output was closed early (``| head``), which
ends the command quietly. Errors are printed as one line; a credential that is not set is named
by its environment variable. ``--debug`` (before or after the command) prints the request log
(secrets masked) to stderr, and leaves the ``shiptrack_sdk`` logger as it found it.
``shiptrack track`` tracks every id it is given: a shipment that fails is one line on stderr,
and the exit code is that of the first failure.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import shlex
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO, TypeAlias

import attrs

from . import __version__
from ._core.spec import load
from ._providers import all_specs, spec
from .errors import ShiptrackError, ValidationError
from .export import format_timeline, to_dict, to_json
from .models import Tracking

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Commands",
    "Demo",
    "date_arg",
    "error_line",
    "exit_code",
    "export_lines",
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
#: The output was closed before everything was written (``| head``): 128 + SIGPIPE (13), as
#: shells report a command that a closed pipe ended.
EXIT_BROKEN_PIPE = 141

#: The modules of commands built on every provider rather than one, each with
#: ``register(commands)`` and a part of the demo, ``demo(demo)``, run after the providers'.
ACROSS_PROVIDERS = ("shiptrack_sdk.watch.cli",)

#: What a provider's ``register(commands)`` adds its commands to.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


# -- output ----------------------------------------------------------------------------------


def tracking_json(tracking: Tracking) -> dict[str, Any]:
    """``tracking`` as the JSON the commands print: its
    :func:`~shiptrack_sdk.export.to_dict`."""
    return to_dict(tracking)


def print_trackings(trackings: Iterable[Tracking], *, as_json: bool, out: TextIO) -> None:
    """``trackings`` as timelines, or as a JSON list."""
    if as_json:
        write_json(list(trackings), out)
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
    """``value`` as indented JSON: :func:`~shiptrack_sdk.export.to_json` (models as their
    export, datetimes as ISO 8601 text; other values JSON cannot hold as text)."""
    out.write(to_json(value, ensure_ascii=False, indent=2, default=str) + "\n")


def export_lines(variables: Mapping[str, str]) -> list[str]:
    """``export NAME=value`` lines that a POSIX shell can source, each value quoted."""
    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


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
    """The one line the command line prints for ``error``.

    A credential that is not set is named by its environment variable, which is what a
    shell user sets (the library's message also names the keyword, for Python callers).
    """
    if isinstance(error, ValidationError):
        return f"shiptrack: error: {_missing_setting(error) or error}"
    return f"shiptrack: {type(error).__name__}: {error}"


#: What a credential keyword holds, in the words of a message.
_SETTING_NAMES = {"api_key": "API key", "client_id": "client id", "client_secret": "client secret"}


def _missing_setting(error: ValidationError) -> str | None:
    """For a required setting that is not set, what to export; ``None`` for another error.

    The command line passes no keyword, so an error that names a provider's variable
    (``SHIPTRACK_<PROVIDER>_<KEYWORD>``) while that variable is unset is such a setting.
    """
    if len(error.problems) != 1 or not error.argument.isidentifier():
        return None
    for found in all_specs():
        variable = f"{found.env_prefix}_{error.argument.upper()}"
        if variable in str(error) and not os.environ.get(variable):
            what = _SETTING_NAMES.get(error.argument, error.argument.replace("_", " "))
            return (
                f"the {found.title} {what} is not set: export {variable}=... first "
                "(shiptrack sandbox prints test values)"
            )
    return None


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
        for module in ACROSS_PROVIDERS:
            load(f"{module}:demo")(self)
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


def _write_env_file(path: Path, text: str) -> None:
    """``text`` into ``path``, whole: written beside it, then renamed into place, so that a
    script waiting for the file never reads half of it."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _remove_env_file(path: Path, text: str) -> None:
    """Remove ``path`` if it still holds ``text``: a file rewritten since is another's."""
    try:
        if path.read_text(encoding="utf-8") == text:
            path.unlink()
    except OSError:
        pass  # already gone, or no longer ours to read: nothing to clean up


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # ``kill PID``, as a script stops what it started, stops the sandbox as Ctrl-C does.
    raise KeyboardInterrupt


def cmd_sandbox(args: argparse.Namespace, out: TextIO) -> int:
    from .sandbox import Sandbox

    env_file = Path(args.env_file) if args.env_file else None
    sandbox = Sandbox(
        host=args.host, port=args.port, latency=args.latency, admin=True if args.admin else None
    )
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
    # Every line is a shell comment or an export, so what is printed can be sourced whole.
    exports = "".join(line + "\n" for line in export_lines(sandbox.environment()))
    written = f"# shiptrack sandbox at {sandbox.url} (test credentials)\n{exports}"
    handled = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm) if handled else None
    try:
        if env_file is not None:
            try:
                _write_env_file(env_file, written)
            except OSError as exc:
                print(
                    f"shiptrack: error: cannot write --env-file {env_file}: {exc.strerror or exc}",
                    file=sys.stderr,
                )
                return EXIT_USAGE
        out.write(f"# shiptrack sandbox serving at {sandbox.url}\n")
        out.write("# environment for the command line and the clients (test credentials):\n")
        out.write(exports)
        if env_file is not None:
            out.write(f"# written to {env_file} (removed when the sandbox stops)\n")
        if sandbox.admin:
            out.write(f"# admin endpoint (no authentication): {sandbox.url}/_sandbox/\n")
        out.write("# Ctrl-C to stop.\n")
        out.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass  # Ctrl-C (or SIGTERM) is how the sandbox is stopped: a clean exit
    finally:
        sandbox.stop()
        if env_file is not None:
            _remove_env_file(env_file, written)
        if handled and previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK


def cmd_track(args: argparse.Namespace, out: TextIO) -> int:
    found = spec(args.provider)
    if found.track_one is None:  # argparse offers only the providers that track
        raise ValidationError("provider", f"{found.name} does not track shipments by id")
    track_one: Callable[[Any, str], Tracking] = load(found.track_one)
    with found.client_class()() as client:
        results = track_each(args.ids, lambda shipment_id: track_one(client, shipment_id))
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
        epilog="Exit codes: 0 ok, 1 API or transport error, 2 usage error, 130 interrupted, "
        "141 output closed early. Credentials and base URLs come from SHIPTRACK_* environment "
        "variables.",
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
    sandbox.add_argument(
        "--env-file",
        metavar="PATH",
        help="also write the export lines to PATH once the server listens (removed when it "
        "stops), for a script to source",
    )
    sandbox.add_argument(
        "--admin",
        action="store_true",
        help="serve the admin endpoint /_sandbox/ (faults, seeding, reset, recorded calls; no "
        "authentication) on a non-loopback --host too; on loopback it is always served",
    )
    sandbox.set_defaults(func=cmd_sandbox)

    trackers = sorted(s.name for s in specs if s.pullable)
    track = commands.add_parser(
        "track",
        help="track shipments by id",
        # Wrapped here: the raw formatter keeps the examples' columns, and every line.
        description=textwrap.fill(
            "Track shipments by id with one provider and print each one's timeline, oldest "
            "event first (--json: a JSON list). Every id is tracked: one that fails is one "
            "line on stderr, the others are still printed, and the exit code is the first "
            "failure's (1 an API or transport error, 2 an id that cannot be sent).",
            79,
        ),
        epilog=_track_examples(trackers),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    track.add_argument("provider", choices=trackers, help="the provider: %(choices)s")
    track.add_argument("ids", nargs="+", metavar="ID", help="the provider's shipment id")
    track.add_argument("--json", action="store_true", help="print JSON instead of timelines")
    track.set_defaults(func=cmd_track)

    for found in specs:
        if found.cli is not None:
            load(found.cli)(commands)
    for module in ACROSS_PROVIDERS:
        load(f"{module}:register")(commands)
    _debug_after_each_command(parser)
    return parser


def _track_examples(providers: Sequence[str]) -> str:
    first, last = providers[0], providers[-1]
    examples = [
        (f"shiptrack track {first} ID1 ID2", "the timelines of two shipments"),
        (f"shiptrack track {last} ID --json", "the same as JSON"),
        (f"shiptrack track {first} ID --debug", "with every request logged to stderr"),
    ]
    width = max(len(command) for command, _ in examples)
    return (
        "examples:\n"
        + "".join(f"  {command.ljust(width)}  {what}\n" for command, what in examples)
        + "\n"
        "Credentials and base URLs come from SHIPTRACK_<PROVIDER>_* environment variables;\n"
        "shiptrack sandbox serves a test server and prints the lines to export."
    )


def _debug_after_each_command(parser: argparse.ArgumentParser) -> None:
    """Accept ``--debug`` after every command and action too, as in ``shiptrack track ...
    --debug``: given there, it sets what the top-level flag sets."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                if "--debug" not in command._option_string_actions:
                    command.add_argument(
                        "--debug",
                        action="store_true",
                        # Absent here, the top-level flag's value is kept.
                        default=argparse.SUPPRESS,
                        help="log every request to stderr (secrets masked)",
                    )
                _debug_after_each_command(command)


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
        code = int(args.func(args, stream))
        # Flushed here, where a closed pipe can still be handled, not at interpreter exit.
        stream.flush()
        return code
    except ShiptrackError as exc:
        print(error_line(exc), file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): what is left unwritten is not wanted. Standard
        # output is pointed at the null device so that Python's own flush at exit, finding
        # the pipe closed, prints no traceback.
        if stream is sys.stdout:
            # (A replaced sys.stdout may have no file descriptor to point elsewhere.)
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        if handler is not None:
            sdk_logger.removeHandler(handler)
            sdk_logger.setLevel(previous_level)
