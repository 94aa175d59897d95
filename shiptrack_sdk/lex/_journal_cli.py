"""``shiptrack lex journal FILE [--json]``: what a send journal holds, and what is in doubt."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ..cli import EXIT_OK, EXIT_USAGE, Commands, format_table, write_json

__all__ = ["add_journal_command", "journal_command"]


def add_journal_command(lex_commands: Commands) -> None:
    """Add ``journal`` to the ``shiptrack lex`` commands."""
    journal = lex_commands.add_parser(
        "journal", help="show a send journal: its counts and the messages in doubt"
    )
    journal.add_argument("file", metavar="FILE", help="the journal's file")
    journal.add_argument("--json", action="store_true", help="print JSON instead of text")
    journal.set_defaults(func=journal_command)


def _what(entry: Any) -> str:
    """A few words a person recognises a message by: its id, or its event."""
    if entry.message_id:
        return str(entry.message_id)
    event = entry.wire.get("event") if isinstance(entry.wire, dict) else None
    if isinstance(event, dict):
        return f"{event.get('code')} {event.get('businessReference')} {event.get('occurredAt')}"
    return ""


def journal_command(args: argparse.Namespace, out: TextIO) -> int:
    """``shiptrack lex journal FILE [--json]``: the summary, then every message in doubt."""
    from .journal import JournalError, SendJournal

    try:
        with SendJournal(args.file, create=False) as journal:
            summary = journal.summary()
            doubt = journal.in_doubt()
    except JournalError as exc:  # missing, or not a journal: the FILE given is wrong
        print(f"shiptrack: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        write_json({"summary": summary.to_dict(), "in_doubt": [e.to_dict() for e in doubt]}, out)
        return EXIT_OK
    batches = summary.batches
    out.write(f"send journal {summary.path}\n")
    out.write(
        f"messages: {summary.accepted} accepted, {summary.failed} failed, "
        f"{summary.in_doubt} in doubt ({summary.pending} pending)\n"
    )
    out.write(
        f"batches: {batches['accepted']} accepted, {batches['failed']} failed, "
        f"{batches['in_doubt']} in doubt, {batches['pending']} pending\n"
    )
    if not doubt:
        out.write("nothing in doubt\n")
        return EXIT_OK
    rows = [
        [e.fingerprint, e.kind, e.state, e.batch, e.attempts, _what(e), e.error or ""]
        for e in doubt
    ]
    out.write(f"\n{len(doubt)} message(s) in doubt:\n")
    headers = ["fingerprint", "kind", "state", "batch", "attempts", "message", "error"]
    out.write(format_table(headers, rows) + "\n")
    return EXIT_OK
