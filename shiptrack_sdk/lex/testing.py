"""Helpers for your own tests of the LEX flows, over the embedded sandbox.

* :func:`push_copies` pushes the same deliveries to a receiver many times at once, as LEX does
  when it delivers again while a first copy is still being handled;
* :func:`drip` sends a delivery's body slowly, or declares more than it sends;
* :class:`OrdersPart` is the sandbox's Order Execution data (``sb.apps["lex"].orders``), with
  :meth:`OrdersPart.add_hostile` for messages dated far ahead, far back, null or unreadable;
  its messages come from a :class:`MessageGenerator` (:meth:`OrdersPart.seed`), and each
  simulated push answers with a :class:`PushOutcome`;
* :data:`INTROSPECTION_CLIENT_ID` / :data:`INTROSPECTION_CLIENT_SECRET` are the credentials
  the sandbox's token introspection endpoint accepts from a push receiver.
"""

from __future__ import annotations

from ._sandbox_orders import (
    INTROSPECTION_CLIENT_ID,
    INTROSPECTION_CLIENT_SECRET,
    MessageGenerator,
    OrdersPart,
    PushOutcome,
)
from ._sandbox_push import DripOutcome, drip, push_copies

__all__ = [
    "INTROSPECTION_CLIENT_ID",
    "INTROSPECTION_CLIENT_SECRET",
    "DripOutcome",
    "MessageGenerator",
    "OrdersPart",
    "PushOutcome",
    "drip",
    "push_copies",
]
