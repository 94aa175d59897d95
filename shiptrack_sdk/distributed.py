"""Bulk tracking on a dask.distributed cluster: shipments fetched in partitions on the workers.

The coordinator (the process that calls) splits the items into partitions; each partition is
one task, run on a worker with :func:`shiptrack_sdk.track_many` (each provider's shipments on
``max_workers`` threads of that worker), and the results come back, in the items' order or as
partitions complete. Nothing is sent from the coordinator.

Each worker process tracks with **its own clients**: connections, tokens and rate limit are
the worker's. What a worker builds them from is sent to each worker once
(``scatter(..., broadcast=True)``) and kept there, so a worker builds one client per provider
(and fetches one token) however many partitions it runs, across calls of one
:class:`DaskFetcher` too. For each provider, it is one of:

* a :class:`ClientFactory`: the provider's name and keyword options, built on the worker.
  Options left out are read from the *worker's* environment (``SHIPTRACK_*`` variables), so
  credentials can stay on the workers; options given travel with the factory (in its pickle,
  credentials held as :class:`~shiptrack_sdk._core.secret.Secret`; its ``repr`` names the
  options, never a value);
* a client: pickled to each worker, its configuration and credentials with it (never its
  token nor its connections, see :doc:`/performance`);
* nothing: ``ClientFactory(provider)``, the worker's environment alone.

Install the extra: ``python -m pip install ".[dask]"``.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ._core import validate
from ._core.answers import unexpected
from ._core.options import TimeoutLike
from ._core.progress import Progress, ProgressLike
from ._core.secret import Secret
from ._providers import all_specs, spec
from .bulk import Order, TrackingResult, checked_clients, checked_items, checked_settings
from .bulk import track_many as _track_here
from .errors import ShiptrackError, ValidationError

__all__ = ["DEFAULT_PARTITION_SIZE", "ClientFactory", "DaskFetcher", "track_many"]

#: Shipments in one task, by default: enough to keep a worker's threads busy, few enough that
#: the partitions spread over the workers.
DEFAULT_PARTITION_SIZE = 100

#: The client keywords that hold a credential: kept as a Secret until the client is built.
_CREDENTIALS = frozenset({"api_key", "apikey", "client_secret"})


class ClientFactory:
    """How a worker builds its own client of a provider: the provider's name and the client's
    keyword options, resolved where it is built (an option given, else the worker's
    ``SHIPTRACK_*`` variable, else the default).

    ::

        ClientFactory("exporto")                        # the worker's environment
        ClientFactory("shiplemon", api_key=key, rate_limit=10)

    It pickles with its options (credentials included, as the client's own pickle does); its
    ``repr`` and ``str`` name the options, never a value.

    Args:
        provider: The provider's name (``"exporto"``).
        **options: The client's keywords (its credentials, ``base_url``, the shared
            :class:`~shiptrack_sdk.ClientOptions`).

    Raises:
        ValidationError: no provider is called ``provider``.
    """

    __slots__ = ("_options", "provider")

    provider: str
    _options: dict[str, Any]

    def __init__(self, provider: str, **options: Any) -> None:
        spec(provider)  # a provider of the registry, or ValidationError naming "provider"
        held = {
            name: Secret(value) if name in _CREDENTIALS and isinstance(value, str) else value
            for name, value in options.items()
        }
        object.__setattr__(self, "provider", provider)
        object.__setattr__(self, "_options", held)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_factory, (self.provider, self._options))

    def __repr__(self) -> str:
        names = ", ".join(sorted(self._options)) or "none: the environment"
        return f"<ClientFactory {self.provider} (options: {names})>"

    @property
    def options(self) -> tuple[str, ...]:
        """The names of the options given (their values are not shown)."""
        return tuple(sorted(self._options))

    def build(self) -> Any:
        """A new client of the provider, from the options and this process's environment.

        Raises:
            ValidationError: a setting is refused or missing (naming it, as the client does).
        """
        options = {
            name: value.reveal() if isinstance(value, Secret) else value
            for name, value in self._options.items()
        }
        return spec(self.provider).client_class()(**options)


def _factory(provider: str, options: dict[str, Any]) -> ClientFactory:
    return ClientFactory(provider, **options)


class _Built:
    """The clients built from one set of sources in this process, shared by its copies."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.lock = threading.Lock()


#: What each set of sources has built in this process, by its key; an entry goes when the
#: last copy of its sources does.
_BUILT: weakref.WeakValueDictionary[str, _Built] = weakref.WeakValueDictionary()
_BUILT_LOCK = threading.Lock()


class _WorkerClients:
    """What a worker tracks with: each provider's client, or the factory it is built from,
    built at most once in each process it is unpickled in, however many times it is (dask
    may deserialize scattered data more than once in a worker): the copies share the clients,
    from the partitions the worker runs on its threads."""

    def __init__(self, sources: Mapping[str, Any], key: str | None = None) -> None:
        self._sources = dict(sources)
        self._key = key or uuid.uuid4().hex
        with _BUILT_LOCK:
            built = _BUILT.get(self._key)
            if built is None:
                built = _BUILT[self._key] = _Built()
        self._built = built

    def __getstate__(self) -> dict[str, Any]:
        return {"sources": self._sources, "key": self._key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["sources"], state["key"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"<worker clients of {', '.join(sorted(self._sources))}>"

    def clients(self, providers: Iterable[str]) -> dict[str, Any]:
        """The client of each of ``providers``, built now where it is not yet."""
        built = self._built
        with built.lock:
            for name in providers:
                if name not in built.clients:
                    source = self._sources.get(name) or ClientFactory(name)
                    client = source.build() if isinstance(source, ClientFactory) else source
                    built.clients[name] = client
            return dict(built.clients)


def _partition(
    clients: _WorkerClients,
    items: list[tuple[str, str]],
    indexes: list[int],
    max_workers: int,
    timeout: TimeoutLike | None,
) -> list[TrackingResult]:
    """Runs on a worker: one partition's results, in its order, each with its place in the
    whole input."""
    try:
        resolved = clients.clients({provider for provider, _ in items})
    except ShiptrackError as exc:  # a setting missing on this worker: every item says so
        return [
            TrackingResult(provider, sid, index, error=exc)
            for (provider, sid), index in zip(items, indexes, strict=True)
        ]
    results = _track_here(
        items,
        clients=resolved,
        max_workers=max_workers,
        order="input",
        progress=False,
        timeout=timeout,
    )
    return [attrs.evolve(r, index=indexes[r.index]) for r in results]


def _failed(
    items: list[tuple[str, str]], indexes: list[int], exc: BaseException
) -> list[TrackingResult]:
    """A partition whose task failed (its worker died, the cluster went away): an error for
    each of its items, naming the shipment, the cluster's exception as its ``__cause__``."""
    return [
        TrackingResult(
            provider,
            sid,
            index,
            error=exc
            if isinstance(exc, ShiptrackError)
            else unexpected(provider, f"shipment {sid} (a partition on the dask cluster)", exc),
        )
        for (provider, sid), index in zip(items, indexes, strict=True)
    ]


def _sources(clients: Any) -> dict[str, Any]:
    """Each pullable provider's client or factory: those given, a factory of the worker's
    environment for the others."""
    given = checked_clients(clients)
    sources: dict[str, Any] = {s.name: ClientFactory(s.name) for s in all_specs() if s.pullable}
    sources.update(given)
    return sources


def _check_dask(dask_client: Any) -> None:
    if not callable(getattr(dask_client, "submit", None)) or not callable(
        getattr(dask_client, "scatter", None)
    ):
        raise ValidationError(
            "dask_client",
            f"must be a distributed.Client, got {type(dask_client).__name__}",
        )


def track_many(
    items: Iterable[tuple[str, str]],
    *,
    dask_client: Any,
    clients: Mapping[str, Any] | None = None,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    max_workers: int = 8,
    order: Order = "input",
    progress: ProgressLike = None,
    timeout: TimeoutLike | None = None,
) -> Iterator[TrackingResult]:
    """Track shipments of several providers by id on the workers of a dask cluster.

    The same as :func:`shiptrack_sdk.track_many`, the work spread over ``dask_client``'s
    workers: the items go in partitions of ``partition_size``, each one task, whose
    shipments the worker tracks with its own clients, ``max_workers`` requests in flight per
    provider and task (a worker with ``threads_per_worker`` threads runs as many tasks at
    once). Every item yields one :class:`~shiptrack_sdk.TrackingResult`; a partition whose
    task fails (its worker died) yields an error for each of its shipments.

    Args:
        items: ``(provider, shipment id)`` pairs.
        dask_client: A :class:`distributed.Client`.
        clients: For each provider, a :class:`ClientFactory` or a client, sent to each
            worker once; a provider without one is built on the worker from its environment.
        partition_size: Shipments per task.
        max_workers: Requests in flight per provider in one task.
        order: ``"input"`` (the default) or ``"completed"`` (each partition as it comes).
        progress: As for :func:`shiptrack_sdk.track_many`, counted as partitions complete.
        timeout: Overrides each client's timeout for every request.

    Raises:
        ValidationError: as :func:`shiptrack_sdk.track_many` does (before anything is sent
            to the cluster), or ``partition_size`` is not an integer >= 1, or
            ``dask_client`` is not a dask client.
    """
    jobs, _ = checked_items(items)
    workers, shown = checked_settings(max_workers, order, progress, timeout)
    size = validate.int_in_range("partition_size", partition_size, 1, None)
    _check_dask(dask_client)
    remote = _Remote(dask_client, _sources(clients))
    return remote.run(jobs, size, workers, order, shown, timeout, release=True)


class _Remote:
    """The clients' sources, scattered to the workers once, and the partitions run with them."""

    def __init__(self, dask_client: Any, sources: dict[str, Any]) -> None:
        self.dask = dask_client
        self.sources = _WorkerClients(sources)
        self._scattered: Any = None
        self._lock = threading.Lock()

    def scattered(self) -> Any:
        with self._lock:
            if self._scattered is None:
                # hash=False: a key of its own, so that a copy scattered by another call is
                # never taken for this one.
                self._scattered = self.dask.scatter(self.sources, broadcast=True, hash=False)
            return self._scattered

    def release(self) -> None:
        with self._lock:
            scattered, self._scattered = self._scattered, None
        if scattered is not None:
            scattered.release()

    def run(
        self,
        jobs: list[tuple[str, str]],
        size: int,
        max_workers: int,
        order: str,
        progress: ProgressLike,
        timeout: TimeoutLike | None,
        *,
        release: bool,
    ) -> Iterator[TrackingResult]:
        from distributed import as_completed

        # As Any: dask is typed where installed and absent (Any) where not, alike.
        completed: Any = as_completed
        partitions = [
            (jobs[start : start + size], list(range(start, min(start + size, len(jobs)))))
            for start in range(0, len(jobs), size)
        ]
        futures: dict[Any, int] = {}
        try:
            with Progress(progress, len(jobs), description="shipments (dask)") as bar:
                if not partitions:
                    return
                remote = self.scattered()
                for number, (part, indexes) in enumerate(partitions):
                    # pure=False: the same shipments fetched again are fetched, not recalled.
                    future = self.dask.submit(
                        _partition, remote, part, indexes, max_workers, timeout, pure=False
                    )
                    futures[future] = number
                held: dict[int, list[TrackingResult]] = {}
                following = 0
                for future in completed(list(futures)):
                    number = futures.pop(future)
                    part, indexes = partitions[number]
                    try:
                        results: list[TrackingResult] = future.result()
                    except Exception as exc:  # the task failed: each item says so
                        results = _failed(part, indexes, exc)
                    future.release()
                    bar.advance(len(part))
                    if order == "completed":
                        yield from results
                        continue
                    held[number] = results
                    while following in held:
                        yield from held.pop(following)
                        following += 1
        finally:
            for future in futures:
                future.cancel()
            if release:
                self.release()


class DaskFetcher:
    """A fetcher (:data:`shiptrack_sdk.bulk.Fetcher`) that tracks on a dask cluster: what a
    :class:`~shiptrack_sdk.watch.Watcher` takes as ``fetch=`` to poll its shipments on the
    workers while the store stays with it.

    Called with ``(provider, shipment id)`` pairs, it returns their results, as
    :func:`track_many` does. The clients' sources are sent to the workers on the first call
    and kept there until :meth:`close`, so each worker keeps its clients, connections and
    tokens from one poll to the next.

    Args:
        dask_client: A :class:`distributed.Client`.
        clients: For each provider, a :class:`ClientFactory` or a client (see
            :func:`track_many`).
        partition_size: Shipments per task.
        max_workers: Requests in flight per provider in one task.
        order: ``"input"`` or ``"completed"`` (the default: each partition as it comes).
        timeout: Overrides each client's timeout for every request.

    Raises:
        ValidationError: an argument is refused, naming it.
    """

    def __init__(
        self,
        dask_client: Any,
        *,
        clients: Mapping[str, Any] | None = None,
        partition_size: int = DEFAULT_PARTITION_SIZE,
        max_workers: int = 8,
        order: Order = "completed",
        timeout: TimeoutLike | None = None,
    ) -> None:
        _check_dask(dask_client)
        self.max_workers, _ = checked_settings(max_workers, order, False, timeout)
        self.partition_size = validate.int_in_range("partition_size", partition_size, 1, None)
        self.order: Order = order
        self.timeout = timeout
        self._remote = _Remote(dask_client, _sources(clients))

    def __call__(self, items: Sequence[tuple[str, str]]) -> Iterator[TrackingResult]:
        """The results of ``items``, tracked on the cluster.

        Raises:
            ValidationError: ``items`` is refused (as :func:`track_many` says).
        """
        jobs, _ = checked_items(items)
        return self._remote.run(
            jobs,
            self.partition_size,
            self.max_workers,
            self.order,
            False,
            self.timeout,
            release=False,
        )

    def close(self) -> None:
        """Let the workers drop their clients (the next call sends the sources again)."""
        self._remote.release()

    def __enter__(self) -> DaskFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DaskFetcher of {self._remote.sources!r} on {self._remote.dask!r}>"
