"""The durable watcher: :class:`Watcher`.

A poll chooses the shipments that are due (:mod:`~shiptrack_sdk.watch.schedule`), fetches them
through the watcher's fetcher, and stores what it read (:mod:`~shiptrack_sdk.watch.store`):
each shipment's latest tracking, each event once, and a :class:`TrackingChange` for each
shipment with new events or a new status. Changes wait in the store's outbox until they are
acknowledged: handed to a handler (:meth:`Watcher.deliver`) and marked delivered once it
returns, or acknowledged by the caller (:meth:`Watcher.acknowledge`). So a change is handed
over at least once; after a crash, the one change being handed over when it happened may be
handed over again (its handler returned, its acknowledgement was not written), and no change
acknowledged ever is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .._core import validate
from .._providers import all_specs, spec
from ..bulk import Fetcher, TrackingResult, track_many
from ..errors import ShiptrackError, ValidationError
from . import polling, tours
from .model import (
    ProviderState,
    RecentError,
    TrackingChange,
    WatchedShipment,
    WatchStatus,
    from_epoch,
)
from .schedule import Schedule, utc_now
from .store import WatchStore, check_path, epoch

if TYPE_CHECKING:
    import pandas

    from .forward import ForwardReport

__all__ = ["DEFAULT_STORE", "Handler", "Watcher", "watchable"]

logger = logging.getLogger("shiptrack_sdk")

#: The store a watcher opens when none is named.
DEFAULT_STORE = "shiptrack-watch.sqlite"
#: Changes read from the outbox at a time by :meth:`Watcher.deliver`.
_DELIVER_CHUNK = 100


#: Takes one change; the change is acknowledged once it returns.
Handler = Callable[[TrackingChange], object]


def watchable() -> list[str]:
    """The providers a watcher can follow: those that track shipments by id."""
    return [s.name for s in all_specs() if s.pullable]


def _provider(value: Any) -> str:
    names = watchable()
    if not isinstance(value, str) or value not in names:
        raise ValidationError("provider", f"{value!r} is not one of {', '.join(names)}")
    return value


def _labels(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError("labels", f"expected a mapping of str to str, got {value!r}")
    for key, text in value.items():
        validate.text("labels", key, single_line=True)
        validate.text(f"labels[{key!r}]", text, empty=True)
    return dict(value)


def _items(items: Any) -> list[tuple[str, str]]:
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise ValidationError("items", "must be (provider, shipment id) pairs")
    found = []
    for index, item in enumerate(items):
        if not isinstance(item, tuple) or len(item) != 2:
            raise ValidationError(f"items[{index}]", "must be a (provider, shipment id) pair")
        provider, shipment_id = item
        _provider(provider)
        validate.path_segment(f"items[{index}]", shipment_id)
        found.append((provider, str(shipment_id)))
    return list(dict.fromkeys(found))


class Watcher:
    """Follows shipments across providers, durably, in one SQLite file.

    Args:
        store: The store's file (created if missing), or ``":memory:"`` for one that lives
            as long as the watcher.
        clients: Provider name → client. A provider without one gets a client built from
            the environment (``SHIPTRACK_<PROVIDER>_...``) the first time it is fetched,
            closed with the watcher.
        fetch: What fetches the due shipments (a :data:`~shiptrack_sdk.bulk.Fetcher`, such
            as :class:`shiptrack_sdk.distributed.DaskFetcher` to fetch on a dask cluster); by
            default :func:`shiptrack_sdk.track_many` over the watcher's clients.
        schedule: When each shipment is fetched (:class:`~shiptrack_sdk.watch.Schedule`).
        clock: Gives the current time (an aware datetime); the system's by default.
        timeout: Seconds to wait for another process holding the store's write lock.

    Raises:
        ValidationError: an argument is refused.
        WatchStoreError: the store cannot be opened, or is not a watcher's store.
    """

    def __init__(
        self,
        store: str | os.PathLike[str] = DEFAULT_STORE,
        *,
        clients: Mapping[str, Any] | None = None,
        fetch: Fetcher | None = None,
        schedule: Schedule | None = None,
        clock: Callable[[], datetime] | None = None,
        timeout: float = 30.0,
    ) -> None:
        path = check_path(store)
        if clients is not None and not isinstance(clients, Mapping):
            raise ValidationError("clients", "must be a mapping of provider name to client")
        for name in clients or {}:
            _provider(name)
        if fetch is not None and not callable(fetch):
            raise ValidationError("fetch", "must be callable: (provider, id) pairs -> results")
        if schedule is not None and not isinstance(schedule, Schedule):
            raise ValidationError("schedule", f"expected a Schedule, got {type(schedule)!r}")
        if clock is not None and not callable(clock):
            raise ValidationError("clock", "must be callable and return an aware datetime")
        validate.seconds("timeout", timeout)
        self._clients: dict[str, Any] = dict(clients or {})
        self._owned: dict[str, Any] = {}
        self._fetch = fetch
        self.schedule = schedule or Schedule()
        self._clock = clock or utc_now
        self._stop = threading.Event()
        self._running = False
        self._previous_handlers: dict[int, Any] = {}
        self._polling = threading.Lock()
        self._store = WatchStore(path, timeout=timeout)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The store's file (``":memory:"`` for one in memory)."""
        return self._store.path

    @property
    def store(self) -> WatchStore:
        """The store (for the watcher's own modules and tests)."""
        return self._store

    def close(self) -> None:
        """Close the store, and the clients the watcher built itself. Everything stored is
        on disk already."""
        self._store.close()
        owned, self._owned = self._owned, {}
        for client in owned.values():
            with contextlib.suppress(Exception):
                client.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Watcher {self.path}{' (closed)' if self._store.closed else ''}>"

    def now(self) -> datetime:
        """The watcher's clock."""
        return validate.aware_utc("clock()", self._clock())

    def client(self, provider: str) -> Any:
        """The client the watcher fetches ``provider``'s shipments with (built from the
        environment the first time, when none was given)."""
        name = _provider(provider)
        found = self._clients.get(name) or self._owned.get(name)
        if found is None:
            found = self._owned[name] = spec(name).client_class()()
        return found

    # -- what is watched ------------------------------------------------------------------------

    def add(
        self, provider: str, shipment_id: str, *, labels: Mapping[str, str] | None = None
    ) -> bool:
        """Watch a shipment, due at once; returns whether it was not watched yet.

        One already watched keeps its history and gets ``labels``, when given; one retired
        is watched again.

        Raises:
            ValidationError: the provider does not track by id, or the id is empty.
        """
        validate.path_segment("shipment_id", shipment_id)
        return self.add_many([(provider, str(shipment_id))], labels=labels) == 1

    def add_many(
        self, items: Iterable[tuple[str, str]], *, labels: Mapping[str, str] | None = None
    ) -> int:
        """Watch many shipments at once (one transaction); returns how many were new."""
        pairs = _items(items)
        return self._store.add(pairs, _labels(labels), self.now())

    def remove(self, provider: str, shipment_id: str) -> bool:
        """Stop watching a shipment; returns whether it was watched. Its events go; its
        changes stay in the outbox (those pending are still handed over)."""
        return self._store.remove(_items([(provider, shipment_id)])) == 1

    def shipments(
        self, provider: str | None = None, *, status: str | None = None
    ) -> list[WatchedShipment]:
        """The watched shipments (retired ones included), by provider and id.

        Args:
            provider: Only this provider's.
            status: Only those in this status: a :class:`~shiptrack_sdk.TrackingStatus`
                value, ``"NEW"`` (not polled yet) or ``"RETIRED"``.
        """
        if provider is not None:
            _provider(provider)
        allowed = ["NEW", "RETIRED", "PRE_TRANSIT", "TRANSIT", "DELIVERED", "EXCEPTION", "UNKNOWN"]
        if status is not None and str(status) not in allowed:
            raise ValidationError("status", f"must be one of {', '.join(allowed)}")
        return self._store.shipments(provider, None if status is None else str(status))

    def follow_tours(
        self,
        provider: str,
        *,
        since: date | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """Follow a provider's tours (exporto's daily closings): at each poll, at most every
        :attr:`Schedule.tours_every <shiptrack_sdk.watch.Schedule.tours_every>`, its tours
        are listed and the shipments of each new one join the watch, labelled with
        ``labels`` and ``{"tour": <tour id>}``. A tour joins once.

        Args:
            provider: A provider whose client has tours (``client.tours``).
            since: Only tours closed on this day or later.
            labels: Labels for the shipments that join.

        Raises:
            ValidationError: the provider has no tours, or an argument is refused.
        """
        name = _provider(provider)
        if since is not None and (not isinstance(since, date) or isinstance(since, datetime)):
            raise ValidationError("since", f"expected a date, got {type(since).__name__}")
        if not hasattr(self.client(name), "tours"):
            raise ValidationError("provider", f"{name}'s client has no tours to follow")
        tours.follow(self._store, name, since, _labels(labels) or {}, self.now())

    def unfollow_tours(self, provider: str) -> bool:
        """Stop following a provider's tours; returns whether they were followed. The
        shipments that joined stay watched."""
        return tours.unfollow(self._store, _provider(provider))

    # -- polling --------------------------------------------------------------------------------

    def poll(self, handler: Handler | None = None) -> list[TrackingChange]:
        """Fetch the shipments that are due and store what they say.

        Followed tours are listed first (when due), so their new shipments are fetched by
        this poll. Then, for each provider that is not backed off, up to
        :attr:`Schedule.batch_size <shiptrack_sdk.watch.Schedule.batch_size>` of its due
        shipments, longest due first, go to the fetcher together.

        Args:
            handler: Hand every pending change to it (those of earlier polls first), as
                :meth:`deliver` does.

        Returns:
            The changes this poll found, oldest first. They are pending until acknowledged:
            by ``handler``, or by :meth:`acknowledge`.

        Raises:
            WatchStoreError: the store cannot be written.
            Exception: what ``handler`` raised (its change, and those after, stay pending).
        """
        with self._polling:
            now = self.now()
            found: list[TrackingChange] = []
            backed_off = self._backed_off(now)
            for provider in tours.followed(self._store, now):
                if provider not in backed_off:
                    self._join_tours(provider, now)
            backed_off = self._backed_off(now)
            batch: list[tuple[str, str]] = []
            for provider in watchable():
                if provider not in backed_off:
                    batch += self._store.due(provider, now, self.schedule.batch_size)
            if batch:
                found += polling.fetch_and_record(
                    self._store, self.schedule, self._fetcher(), batch, now, self._stopping
                )
            with self._store.transaction() as tx:
                self._store.set_meta(tx, "last_poll", repr(epoch(self.now())))
        if handler is not None:
            self.deliver(handler)
        return found

    def _backed_off(self, now: datetime) -> set[str]:
        at = epoch(now)
        return {
            provider
            for provider in watchable()
            if (until := self._store.provider_state(provider)[1]) is not None and until > at
        }

    def _join_tours(self, provider: str, now: datetime) -> None:
        try:
            tours.join_new(self._store, self.client(provider), provider, now, self.schedule)
        except ValidationError:
            raise  # the caller's settings (a credential not set): not the provider's failure
        except ShiptrackError as exc:
            logger.warning("watch: %s tours could not be listed: %s", provider, exc)
            with self._store.transaction() as tx:
                self._store.record_failure(tx, provider, None, exc, now)
                polling.provider_failed(self._store, self.schedule, tx, provider, [exc], now)

    def _stopping(self) -> bool:
        return self._running and self._stop.is_set()

    def _fetcher(self) -> Fetcher:
        if self._fetch is not None:
            return self._fetch
        return self._track_many

    def _track_many(self, items: Sequence[tuple[str, str]]) -> Iterator[TrackingResult]:
        """The default fetcher: :func:`shiptrack_sdk.track_many` over the watcher's clients."""
        providers = dict.fromkeys(provider for provider, _ in items)
        clients = {provider: self.client(provider) for provider in providers}
        return track_many(items, clients=clients, progress=False)

    # -- handing changes over --------------------------------------------------------------------

    def pending(self, limit: int | None = None) -> list[TrackingChange]:
        """The changes not yet acknowledged, oldest first."""
        if limit is not None:
            validate.int_in_range("limit", limit, 1, None)
        return self._store.pending(limit)

    def deliver(self, handler: Handler) -> int:
        """Hand every pending change to ``handler``, oldest first, each acknowledged (on
        disk) as soon as the handler returns. Returns how many were handed over.

        Raises:
            ValidationError: ``handler`` is not callable.
            Exception: what ``handler`` raised: that change and the later ones stay pending,
                and are handed over by the next call.
        """
        if not callable(handler):
            raise ValidationError("handler", "must be callable: change -> anything")
        handed = 0
        while True:
            changes = self._store.pending(_DELIVER_CHUNK)
            if not changes:
                return handed
            for change in changes:
                handler(change)
                self._store.acknowledge([change.id], self.now())
                handed += 1

    def acknowledge(self, changes: TrackingChange | Iterable[TrackingChange | int]) -> int:
        """Mark changes delivered (durably), for a caller that handles :meth:`poll`'s
        result itself; returns how many were pending."""
        if isinstance(changes, TrackingChange):
            changes = [changes]
        ids = []
        for index, change in enumerate(changes):
            if isinstance(change, TrackingChange):
                ids.append(change.id)
            else:
                ids.append(validate.int_in_range(f"changes[{index}]", change, 1, None))
        return self._store.acknowledge(ids, self.now())

    # -- running ------------------------------------------------------------------------------

    def run(self, handler: Handler | None = None, *, max_wait: float = 60.0) -> int:
        """Poll until :meth:`stop` is called, or the process gets SIGTERM or SIGINT
        (Ctrl-C); returns how many polls ran.

        Between polls it waits until the next shipment or tour listing is due, at most
        ``max_wait`` seconds. In the main thread, SIGTERM and SIGINT stop it cleanly: the
        results read so far are stored, the changes found are handed to ``handler``, and it
        returns; a second signal acts as it would have without the watcher. A ``handler``
        that raises is logged, its change stays pending, and the next poll hands it over
        again.

        Raises:
            ValidationError: ``max_wait`` is not a positive number of seconds.
        """
        validate.seconds("max_wait", max_wait)
        if handler is not None and not callable(handler):
            raise ValidationError("handler", "must be callable: change -> anything")
        self._stop.clear()
        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        self._previous_handlers = previous
        self._running = True
        polls = 0
        try:
            while not self._stop.is_set():
                self.poll()
                polls += 1
                if handler is not None:
                    try:
                        self.deliver(handler)
                    except Exception:
                        logger.exception("watch: the handler raised; its change stays pending")
                if self._stop.is_set():
                    break
                self._stop.wait(self._until_next(max_wait))
        finally:
            self._running = False
            for number, old in previous.items():
                if signal.getsignal(number) == self._on_signal:
                    signal.signal(number, old)
        return polls

    def _on_signal(self, signum: int, frame: object) -> None:
        logger.info("watch: signal %d: stopping once the work in flight is done", signum)
        self._stop.set()
        # A second signal does what it did before: Ctrl-C twice interrupts.
        for number, old in self._previous_handlers.items():
            signal.signal(number, old)

    def stop(self) -> None:
        """Make :meth:`run` return once the work in flight is done (from any thread)."""
        self._stop.set()

    def _until_next(self, max_wait: float) -> float:
        now = self.now()
        at = epoch(now)
        times = [at + max_wait]
        for provider in watchable():
            until = self._store.provider_state(provider)[1]
            due = self._store.next_due(provider)
            if until is not None and until > at:
                times.append(until)
            elif due is not None:
                times.append(epoch(due))
        times += [epoch(t) for t in tours.next_listing(self._store)]
        return max(0.0, min(times) - at)

    # -- what the store holds ------------------------------------------------------------------

    def status(self, *, errors: int = 10) -> WatchStatus:
        """Shipments per provider and status, due shipments, pending changes, the last
        poll, each provider's back-off and the latest ``errors`` errors."""
        validate.int_in_range("errors", errors, 0, None)
        now = self.now()
        counts = self._store.counts()
        providers = []
        due = {}
        for provider in watchable():
            failures, until, last = self._store.provider_state(provider)
            if provider in counts or failures or last:
                due[provider] = self._store.count_due(provider, now)
                providers.append(
                    ProviderState(
                        provider=provider,
                        cadence=str(self.schedule.cadence(provider)),
                        failures=failures,
                        backoff_until=from_epoch(until) if until and until > epoch(now) else None,
                        last_poll=from_epoch(last),
                    )
                )
        last_poll = self._store.meta("last_poll")
        recent = [
            RecentError(at=from_epoch(at) or now, provider=p, shipment_id=s, error=e)
            for at, p, s, e in self._store.recent_errors(errors)
        ]
        return WatchStatus(
            path=self.path,
            counts=counts,
            due=due,
            pending_changes=self._store.count_pending(),
            last_poll=from_epoch(float(last_poll)) if last_poll else None,
            providers=providers,
            recent_errors=recent,
        )

    def forward_to_lex(self, lex_client: Any, **options: Any) -> ForwardReport:
        """Send every event not yet forwarded to LEX as tracking messages, through LEX's send
        journal; see :func:`shiptrack_sdk.watch.forward.forward_to_lex` for the options."""
        from .forward import forward_to_lex

        return forward_to_lex(self, lex_client, **options)

    def history(self, *, per: str = "event", provider: str | None = None) -> pandas.DataFrame:
        """The watcher's history as a pandas data frame (needs the ``pandas`` extra); see
        :func:`shiptrack_sdk.watch.history.history_frame`."""
        from .history import history_frame

        return history_frame(self._store, per=per, provider=provider)

    def plot_status(self, *, provider: str | None = None, ax: Any = None) -> Any:
        """Plot how many shipments were in each status over time (needs the ``plot`` and
        ``pandas`` extras); see :func:`shiptrack_sdk.watch.history.plot_status`."""
        from .history import plot_status

        return plot_status(self.history(provider=provider), ax=ax)
