"""A tour tracked on a dask.distributed cluster of two worker processes, with the documented
example's code (``docs/examples/dask_tours.py``), against the sandbox of this test process.

The client is pickled to each worker; the workers reach the sandbox on 127.0.0.1 and fetch
their own tokens. Skipped where dask.distributed is not installed (``pip install
shiptrack-sdk[dask]``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from shiptrack_sdk import NotFoundError
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import dask_cluster

distributed = pytest.importorskip("distributed")

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "dask_tours.py"


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    with dask_cluster() as client:
        yield client


@pytest.fixture(scope="module")
def example(dask_client: Any) -> Iterator[ModuleType]:
    """The documented example as the module ``dask_tours``, here and on every worker (dask's
    ``upload_file``, as a user ships a module of their own to a cluster)."""
    spec = importlib.util.spec_from_file_location(EXAMPLE.stem, EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    dask_client.upload_file(str(EXAMPLE))
    yield module
    del sys.modules[spec.name]


def test_a_tour_tracked_on_two_worker_processes(
    sb: Sandbox, example: ModuleType, dask_client: Any
) -> None:
    tour_id = sb.apps["exporto"].add_tour(60)  # type: ignore[attr-defined]
    exporto = sb.exporto_client()
    shipment_ids = exporto.tours.shipment_ids(tour_id)  # the driver holds a token now
    issued = sb.tokens.issued

    trackings = example.track_tour(exporto, tour_id, dask_client, chunk_size=5)

    # Complete, in the tour's order, and what the driver reads itself.
    assert [t.shipment_id for t in trackings] == shipment_ids
    assert trackings == [exporto.shipments.get(sid).to_tracking() for sid in shipment_ids]
    # The work ran in the workers: each fetched its own token (the driver's did not travel),
    # one a worker process however many tasks it ran.
    assert 1 <= sb.tokens.issued - issued <= len(dask_client.scheduler_info()["workers"])
    assert len(sb.calls("/exporto/v1/shipment/*")) == 2 * len(shipment_ids)
    pids = set(dask_client.run(os.getpid).values())
    assert len(pids) == 2  # two worker processes, neither of them this one
    assert os.getpid() not in pids


def test_a_failing_shipment_comes_back_as_its_error(
    sb: Sandbox, example: ModuleType, dask_client: Any
) -> None:
    exporto = sb.exporto_client()
    future = dask_client.submit(example.track_shipments, exporto, ["S-NOPE"], pure=False)
    # The error raised in the worker reaches the caller whole (errors pickle).
    with pytest.raises(NotFoundError) as info:
        future.result(timeout=30)
    assert info.value.status == 404
    assert info.value.provider == "exporto"
