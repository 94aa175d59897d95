"""Track a tour's shipments on a dask.distributed cluster.

Run it as it is (``python docs/examples/dask_tours.py``): it starts the embedded sandbox, a
tour of 200 shipments in it, and a local cluster of two worker processes. Against exporto,
build the client with your credentials instead and connect to your own cluster.

The client is sent to each worker once (``scatter(..., broadcast=True)``): its configuration
and credentials travel, and each worker process opens its own connections and fetches its
own token the first time it sends a request. The tasks running on one worker share that
worker's client from several threads.
"""

from __future__ import annotations

import logging
from collections import Counter

from distributed import Client, LocalCluster

from shiptrack_sdk import ExportoClient, Tracking
from shiptrack_sdk.sandbox import Sandbox


def track_shipments(exporto: ExportoClient, shipment_ids: list[str]) -> list[Tracking]:
    """Runs on a worker: the normalized tracking of each shipment, with the worker's client."""
    return [exporto.shipments.get(shipment_id).to_tracking() for shipment_id in shipment_ids]


def track_tour(
    exporto: ExportoClient, tour_id: str, dask: Client, *, chunk_size: int = 25
) -> list[Tracking]:
    """Every shipment of ``tour_id``, tracked in parallel on ``dask``'s workers.

    The tour is listed here, its shipments are tracked in chunks of ``chunk_size`` on the
    workers, and the trackings come back in the tour's order.
    """
    shipment_ids = exporto.tours.shipment_ids(tour_id)
    chunks = [
        shipment_ids[start : start + chunk_size]
        for start in range(0, len(shipment_ids), chunk_size)
    ]
    remote = dask.scatter(exporto, broadcast=True)
    futures = dask.map(track_shipments, [remote] * len(chunks), chunks)
    return [tracking for chunk in dask.gather(futures) for tracking in chunk]


def main() -> None:
    with Sandbox() as sandbox:
        tour_id = sandbox.apps["exporto"].add_tour(200)
        exporto = sandbox.exporto_client()
        with (
            LocalCluster(
                n_workers=2,
                processes=True,
                threads_per_worker=2,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as dask,
        ):
            trackings = track_tour(exporto, tour_id, dask)
        statuses = Counter(tracking.status.value for tracking in trackings)
        print(f"tour {tour_id}: {len(trackings)} shipments tracked on 2 worker processes")
        for status, count in sorted(statuses.items()):
            print(f"  {status:<12} {count}")
        print(f"tokens the sandbox issued: {sandbox.tokens.issued} (the driver's, one a worker)")


if __name__ == "__main__":
    main()
