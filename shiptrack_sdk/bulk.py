"""Bulk tracking: many shipments, by id, across the pull providers, with bounded concurrency.

::

    from shiptrack_sdk import track_many

    for result in track_many([("shiplemon", "6650a1f2c3d4e5f601234567"),
                              ("exporto", "S-240902-0001")]):
        print(result.provider, result.shipment_id, result.tracking or result.error)

A provider is *pullable* when its spec names a function that tracks one shipment by id
(:attr:`ProviderSpec.track_one <shiptrack_sdk._core.spec.ProviderSpec.track_one>`): its client
has ``track_many(ids)``, and :func:`track_many` takes its shipments. Each provider's shipments
go to a pool of at most ``max_workers`` threads sharing that provider's client (its pooled
connections, its token, its rate limit); providers run side by side. Every item yields one
:class:`TrackingResult`, a tracking or the error met for that shipment alone, in the input's
order or as they complete.

Work is handed to the threads as results are consumed (twice the workers queued at most), so
a consumer that stops early leaves at most a few requests in flight; closing the iterator
(``close()``, ``contextlib.closing``, or letting it be collected) cancels what was queued and
waits for the threads to end.
"""

from __future__ import annotations

import sys
import weakref
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from queue import SimpleQueue
from typing import Any, Literal

import attrs

from ._core import validate
from ._core.answers import unexpected
from ._core.options import Timeout, TimeoutLike
from ._core.progress import Progress, ProgressLike
from ._core.spec import ProviderSpec, load
from ._providers import all_specs
from .errors import ClientClosedError, ShiptrackError, ValidationError
from .models import Tracking, TrackingOutcome

__all__ = ["Fetcher", "Order", "TrackingResult", "TracksMany", "track_many"]

#: ``"input"``: results in the order of the items; ``"completed"``: each as soon as it is read.
Order = Literal["input", "completed"]


@attrs.frozen
class TrackingResult(TrackingOutcome):
    """The outcome for one shipment of a bulk tracking: its tracking, or the error met.

    Attributes:
        provider: The provider's name (``"shiplemon"``).
        shipment_id: The shipment's id, as given.
        index: The item's position in the input (0-based).
        tracking: The normalized tracking, when the shipment was read.
        error: What went wrong for this shipment, when something did: the SDK's error for
            the call (its URL names the shipment), or a
            :class:`~shiptrack_sdk.errors.ShiptrackError` naming the shipment, with the
            original as its ``__cause__``, for anything else raised while reading it.
    """

    provider: str
    shipment_id: str
    index: int
    tracking: Tracking | None = None
    error: ShiptrackError | None = None


#: What fetches a batch of ``(provider, shipment id)`` items: :func:`track_many` with its
#: clients bound, or :class:`shiptrack_sdk.distributed.DaskFetcher`.
Fetcher = Callable[[Sequence[tuple[str, str]]], Iterable[TrackingResult]]

#: Tracks one shipment: ``(client, shipment_id, *, timeout) -> Tracking``.
_TrackOne = Callable[..., Tracking]


def _pullable_names() -> str:
    return ", ".join(repr(s.name) for s in all_specs() if s.pullable)


def pullable_spec(name: Any, argument: str) -> ProviderSpec:
    """The spec of the pullable provider called ``name``.

    Raises:
        ValidationError: no registered provider of that name tracks shipments by id
            (naming ``argument``).
    """
    for found in all_specs():
        if found.name == name and found.pullable:
            return found
    raise ValidationError(
        argument,
        f"{name!r} is not a provider that tracks shipments by id ({_pullable_names()})",
    )


def _iterable(value: Any, argument: str, what: str) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(argument, f"must be an iterable of {what}")
    return list(value)


def _shipment_id(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value.strip():
        shown = f"got {type(value).__name__}" if not isinstance(value, str) else "got an empty one"
        raise ValidationError(argument, f"must be a non-empty string (a shipment id), {shown}")
    return value


def checked_items(items: Any) -> tuple[list[tuple[str, str]], dict[str, ProviderSpec]]:
    """``items`` as a list of ``(provider, shipment id)``, each checked, and the spec of each
    provider they name.

    Raises:
        ValidationError: ``items`` is not an iterable of pairs, a pair names a provider that
            does not track shipments by id, or an id is not a non-empty string (naming
            ``items[i]``).
    """
    checked: list[tuple[str, str]] = []
    specs: dict[str, ProviderSpec] = {}
    for index, item in enumerate(_iterable(items, "items", "(provider, shipment id) pairs")):
        where = f"items[{index}]"
        if not isinstance(item, tuple) or len(item) != 2:
            raise ValidationError(where, "must be a (provider, shipment id) pair")
        provider, shipment_id = item
        if not isinstance(provider, str) or provider not in specs:
            specs[provider] = pullable_spec(provider, f"{where}[0]")
        checked.append((provider, _shipment_id(shipment_id, f"{where}[1]")))
    return checked, specs


def checked_settings(
    max_workers: Any, order: Any, progress: Any, timeout: Any
) -> tuple[int, ProgressLike]:
    """``max_workers`` and what to report progress to (``None`` resolved: a bar on a
    terminal), the others checked.

    Raises:
        ValidationError: one of them is refused, naming it.
    """
    workers = validate.int_in_range("max_workers", max_workers, 1, None)
    if not isinstance(order, str) or order not in ("input", "completed"):
        raise ValidationError("order", f"must be 'input' or 'completed', got {order!r}")
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise ValidationError(
            "progress", f"expected a callable (done, total), True, False or None, got {progress!r}"
        )
    if timeout is not None:
        Timeout.of(timeout)  # refused by this call, not by every item's request
    if progress is None:
        # A bar where someone watches: a terminal, not a log file or a pipe.
        stderr = sys.stderr
        progress = stderr is not None and stderr.isatty()
    return workers, progress


def _check_client(name: str, client: Any, spec: ProviderSpec) -> None:
    if getattr(client, "provider", None) != name:
        raise ValidationError(
            f"clients[{name!r}]", f"must be a {spec.title} client, got {type(client).__name__}"
        )
    if getattr(client, "closed", False):
        raise ClientClosedError(name)


class TracksMany:
    """What the client of a pull provider has: :meth:`track_many`, its shipments by id."""

    def track_many(
        self,
        ids: Iterable[str],
        *,
        max_workers: int = 8,
        order: Order = "input",
        progress: ProgressLike = None,
        timeout: TimeoutLike | None = None,
    ) -> Iterator[TrackingResult]:
        """Track many shipments by id, each read as the provider's guide says (its tracking
        by id), on at most ``max_workers`` threads sharing this client: its connections, its
        token and its rate limit.

        Every id yields one :class:`~shiptrack_sdk.TrackingResult`: the normalized tracking,
        or the error met for that shipment alone (the others carry on). Results come in the
        order of ``ids`` (``order="input"``: one read early waits, in memory, for those before
        it) or as each completes (``order="completed"``). Work is handed to the threads as
        results are consumed; closing the iterator cancels what was queued.

        Args:
            ids: The provider's shipment ids (the same id given twice is tracked twice).
            max_workers: Requests in flight at most.
            order: ``"input"`` or ``"completed"``.
            progress: A callable ``(done, total)``, ``True`` for a bar when tqdm is
                installed, ``False`` for none; ``None``: a bar when tqdm is installed and
                standard error is a terminal.
            timeout: Overrides the client's timeout for every request.

        Raises:
            ValidationError: ``ids`` is not an iterable of non-empty strings (naming
                ``ids[i]``), ``max_workers`` is not an integer >= 1, or ``order``,
                ``progress`` or ``timeout`` is refused; before any request.
            ClientClosedError: the client is closed.
        """
        spec = pullable_spec(getattr(self, "provider", None), "client")
        jobs = [
            (spec.name, _shipment_id(sid, f"ids[{i}]"))
            for i, sid in enumerate(_iterable(ids, "ids", "shipment ids"))
        ]
        workers, shown = checked_settings(max_workers, order, progress, timeout)
        _check_client(spec.name, self, spec)
        runners = {spec.name: (load(spec.track_one or ""), self)}
        return _fan_out(jobs, runners, workers, order, shown, timeout, f"{spec.title} shipments")


def track_many(
    items: Iterable[tuple[str, str]],
    *,
    clients: Mapping[str, Any] | None = None,
    max_workers: int = 8,
    order: Order = "input",
    progress: ProgressLike = None,
    timeout: TimeoutLike | None = None,
) -> Iterator[TrackingResult]:
    """Track shipments of several providers by id, each provider's with bounded concurrency.

    Each item is ``(provider, shipment id)``, the provider by its name (``"shiplemon"``,
    ``"exporto"``: the providers whose spec tracks by id). Every item yields one
    :class:`TrackingResult`, in the items' order (``order="input"``, the default: a result
    read early waits, in memory, for those before it) or as each completes
    (``order="completed"``). The same shipment given twice is tracked twice.

    Args:
        items: The shipments to track.
        clients: The client of each provider, by name. A provider of the items without one
            gets a client built from the environment (its ``SHIPTRACK_*`` variables), closed
            once the results are consumed; the clients given are left open.
        max_workers: Requests in flight at most, for each provider (a client's pool keeps up
            to 32 connections alive).
        order: ``"input"`` or ``"completed"``.
        progress: A callable ``(done, total)`` called after each shipment, ``True`` for a
            progress bar when tqdm is installed, ``False`` for none; ``None`` (the default):
            a bar when tqdm is installed and standard error is a terminal.
        timeout: Overrides each client's timeout for every request.

    Returns:
        An iterator of the results; requests start when it is first read.

    Raises:
        ValidationError: ``items`` is not an iterable of ``(provider, shipment id)`` pairs, a
            provider is unknown or does not track by id (naming ``items[i][0]``), an id is not
            a non-empty string (``items[i][1]``), ``clients`` is not a mapping of provider
            name to that provider's client, ``max_workers`` is not an integer >= 1, or
            ``order``, ``progress`` or ``timeout`` is refused; a client built from the
            environment lacks a setting. All before any request.
        ClientClosedError: a client given is closed.
    """
    jobs, needed = checked_items(items)
    workers, shown = checked_settings(max_workers, order, progress, timeout)
    given = checked_clients(clients)
    runners: dict[str, tuple[_TrackOne, Any]] = {}
    owned: list[Any] = []
    try:
        for name, spec in needed.items():
            client = given.get(name)
            if client is None:
                client = spec.client_class()()  # from the environment; closed after
                owned.append(client)
            runners[name] = (load(spec.track_one or ""), client)
    except BaseException:
        _close(owned)
        raise
    results = _fan_out(jobs, runners, workers, order, shown, timeout, "shipments", owned)
    if owned:
        # Closed when the results are consumed or closed; if they are never read, when the
        # iterator is collected.
        weakref.finalize(results, _close, owned)
    return results


def checked_clients(clients: Any) -> dict[str, Any]:
    """``clients`` as a dict of provider name to that provider's client (anything whose
    ``provider`` is the name it is given under), each open.

    Raises:
        ValidationError: not a mapping, a name no provider has, or a value of another
            provider (naming ``clients[name]``).
        ClientClosedError: a client is closed.
    """
    if clients is None:
        return {}
    if not isinstance(clients, Mapping):
        raise ValidationError("clients", "must be a mapping of provider name to client")
    checked: dict[str, Any] = {}
    for name, client in clients.items():
        spec = next((s for s in all_specs() if s.name == name), None)
        if spec is None:
            names = ", ".join(repr(s.name) for s in all_specs())
            raise ValidationError("clients", f"{name!r} is not a provider ({names})")
        _check_client(name, client, spec)
        checked[name] = client
    return checked


def _close(clients: list[Any]) -> None:
    while clients:
        clients.pop().close()


def _track(
    track: _TrackOne, client: Any, provider: str, shipment_id: str, index: int, timeout: Any
) -> TrackingResult:
    """One shipment's result, never raised: one shipment's failure must not end the others'."""
    try:
        tracking = track(client, shipment_id, timeout=timeout)
    except ShiptrackError as exc:
        return TrackingResult(provider, shipment_id, index, error=exc)
    except Exception as exc:  # reported in the result, not raised
        error = unexpected(provider, f"shipment {shipment_id}", exc)
        return TrackingResult(provider, shipment_id, index, error=error)
    return TrackingResult(provider, shipment_id, index, tracking=tracking)


def _fan_out(
    jobs: list[tuple[str, str]],
    runners: Mapping[str, tuple[_TrackOne, Any]],
    max_workers: int,
    order: str,
    progress: ProgressLike,
    timeout: TimeoutLike | None,
    description: str,
    owned: list[Any] | None = None,
) -> Generator[TrackingResult, None, None]:
    queues: dict[str, deque[int]] = {}
    for index, (provider, _) in enumerate(jobs):
        queues.setdefault(provider, deque()).append(index)
    done: SimpleQueue[Future[TrackingResult]] = SimpleQueue()
    executors: dict[str, ThreadPoolExecutor] = {}
    busy = dict.fromkeys(queues, 0)
    # Twice the workers queued keeps every thread busy, yet a consumer that stops reading
    # stops the fan-out: nothing more is handed out until it reads again.
    window = 2 * max_workers
    outstanding = 0
    held: dict[int, TrackingResult] = {}
    following = 0
    try:
        with Progress(progress, len(jobs), description=description) as bar:
            while True:
                for provider, queue in queues.items():
                    if not queue or busy[provider] >= window:
                        continue
                    executor = executors.get(provider)
                    if executor is None:
                        executor = executors[provider] = ThreadPoolExecutor(
                            min(max_workers, len(queue)), thread_name_prefix=f"shiptrack-{provider}"
                        )
                    track, client = runners[provider]
                    while queue and busy[provider] < window:
                        index = queue.popleft()
                        future = executor.submit(
                            _track, track, client, provider, jobs[index][1], index, timeout
                        )
                        future.add_done_callback(done.put)
                        busy[provider] += 1
                        outstanding += 1
                if not outstanding:
                    return
                result = done.get().result()
                outstanding -= 1
                busy[result.provider] -= 1
                bar.advance()
                if order == "completed":
                    yield result
                    continue
                held[result.index] = result
                while following in held:
                    yield held.pop(following)
                    following += 1
    finally:
        for executor in executors.values():
            executor.shutdown(wait=True, cancel_futures=True)
        if owned:
            _close(owned)
