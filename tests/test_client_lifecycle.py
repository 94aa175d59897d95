"""What a client does over its life, against the sandbox over real HTTP: tour results in the
tours' order, a client used after ``close()``, pickling a client, and the package's names."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import shiptrack_sdk
from shiptrack_sdk import NotFoundError, ServerError, ShiptrackError, ValidationError
from shiptrack_sdk.errors import ClientClosedError
from shiptrack_sdk.exporto import ExportoClient
from shiptrack_sdk.sandbox import Sandbox


@pytest.fixture
def exporto(sb: Sandbox) -> Iterator[ExportoClient]:
    with sb.exporto_client(backoff_factor=0.001) as client:
        yield client


# -- tours.track(order="tour") ----------------------------------------------------------------


def test_tour_order_yields_each_tour_as_listed_whatever_completes_first(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    tours = ["T-20240903", "T-19990101", "T-20240902"]  # the second cannot be listed
    listed = {t: exporto.tours.shipment_ids(t) for t in (tours[0], tours[2])}
    first, broken = listed["T-20240903"][0], listed["T-20240902"][2]
    # The first shipment answers last, and one in the middle fails.
    sb.fault(f"/exporto/v1/shipment/{first}", delay=0.5)
    sb.fault(f"/exporto/v1/shipment/{broken}", status=500, times=None)
    results = list(exporto.tours.track(tours, max_workers=4, order="tour"))
    expected = [
        *((sid, "T-20240903") for sid in listed["T-20240903"]),
        (None, "T-19990101"),
        *((sid, "T-20240902") for sid in listed["T-20240902"]),
    ]
    assert [(r.shipment_id, r.tour_id) for r in results] == expected
    assert isinstance(results[len(listed["T-20240903"])].error, NotFoundError)
    assert isinstance(next(r for r in results if r.shipment_id == broken).error, ServerError)
    assert sum(not r.ok for r in results) == 2


def test_tour_order_holds_for_tours_listed_by_tracking_ids(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    app: Any = sb.apps["exporto"]
    by_ref = app.add_tour(12, listed_by="foreignOutboundTrackingIds")
    refs = list(exporto.tours.get(by_ref).foreign_outbound_tracking_ids)
    by_id = exporto.tours.shipment_ids("T-20240902")
    # The tour listed by id also names one of the other tour's shipments: that tracking id
    # then brings nothing new, and must not hold back the results after it.
    [found] = exporto.shipments.search(foreign_outbound_tracking_id=refs[3])
    shared = found.shipment_id
    app.tours["T-20240902"]["shipmentIds"].append(shared)
    sb.fault(f"/exporto/v1/shipment/{by_id[0]}", delay=0.3)
    sb.fault(f"/exporto/v1/tour/{by_ref}", delay=0.3)  # listed second, for certain
    results = list(exporto.tours.track(["T-20240902", by_ref], max_workers=4, order="tour"))
    assert next(r for r in results if r.shipment_id == shared).tour_id == "T-20240902"
    ids = [r.shipment_id for r in results]
    assert len(ids) == len(set(ids)) == len(by_id) + 12
    first = [r for r in results if r.tour_id == "T-20240902"]
    assert results[: len(first)] == first  # the first tour's results, then the second's
    assert [r.shipment_id for r in first][: len(by_id)] == by_id
    rest = results[len(first) :]
    assert [r.tracking_id for r in rest] == [ref for ref in refs if ref != refs[3]]
    assert all(r.ok for r in results)


def test_completed_order_is_the_default_and_yields_as_answers_come(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    listed = exporto.tours.shipment_ids("T-20240902")
    sb.fault(f"/exporto/v1/shipment/{listed[0]}", delay=0.5)
    results = list(exporto.tours.track(["T-20240902"], max_workers=4))
    assert results[-1].shipment_id == listed[0]  # the slow one came last
    assert sorted(r.shipment_id or "" for r in results) == sorted(listed)


def test_tour_order_with_since_follows_the_closing_dates(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    from datetime import date

    tours = exporto.tours.list(since=date(2024, 9, 5))
    results = list(exporto.tours.track(since=date(2024, 9, 5), order="tour"))
    expected = [(sid, t.id) for t in tours for sid in exporto.tours.shipment_ids(t.id)]
    assert [(r.shipment_id, r.tour_id) for r in results] == expected


def test_tour_order_stopped_early_ends_its_threads(sb: Sandbox, exporto: ExportoClient) -> None:
    import threading

    results = exporto.tours.track(["T-20240902"], max_workers=4, order="tour")
    assert next(results).ok
    results.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("shiptrack-exporto")]


@pytest.mark.parametrize("order", ["Tour", "", None, 1, "closing"], ids=repr)
def test_an_unknown_order_is_refused_before_any_request(
    sb: Sandbox, exporto: ExportoClient, order: object
) -> None:
    with pytest.raises(ValidationError) as info:
        exporto.tours.track(["T-20240902"], order=order)  # type: ignore[arg-type]
    assert info.value.argument == "order"
    assert sb.calls() == []


# -- a client after close() -----------------------------------------------------------------


def test_a_client_used_after_its_with_block_says_it_is_closed(sb: Sandbox) -> None:
    with sb.shiplemon_client() as client:
        assert client.tracking.get("6650a1f2c3d4e5f601234567").shipment_id
    sent = len(sb.calls())
    with pytest.raises(ClientClosedError) as info:
        client.tracking.get("6650a1f2c3d4e5f601234567")
    assert "closed" in str(info.value)
    assert "shiplemon" in str(info.value)
    assert info.value.provider == "shiplemon"
    assert isinstance(info.value, ShiptrackError)
    assert len(sb.calls()) == sent  # nothing was sent: no connection reopened
    with pytest.raises(ClientClosedError):
        _ = client.session  # the pool is not made again either


def test_an_oauth2_client_closed_asks_for_no_token(sb: Sandbox) -> None:
    client = sb.exporto_client()
    client.close()
    client.close()  # closing twice is harmless
    with pytest.raises(ClientClosedError):
        client.shipments.get("S-240902-0001")
    with pytest.raises(ClientClosedError):
        list(client.tours.track(["T-20240902"]))
    assert sb.calls() == []


def test_a_callers_session_stays_open_but_the_client_is_closed(sb: Sandbox) -> None:
    session = requests.Session()
    client = sb.shiplemon_client(session=session)
    client.tracking.get("6650a1f2c3d4e5f601234567")
    client.close()
    with pytest.raises(ClientClosedError):
        client.tracking.get("6650a1f2c3d4e5f601234567")
    # The session is the caller's: still theirs, still usable.
    assert client.session is session
    answer = session.get(f"{sb.provider_url('shiplemon')}/public/v1/shipments/x/tracking")
    assert answer.status_code == 401
    session.close()


def test_a_pickled_client_works_and_its_copy_closes_on_its_own(sb: Sandbox) -> None:
    client = sb.exporto_client()
    clone = pickle.loads(pickle.dumps(client))  # noqa: S301 (our own bytes)
    client.close()
    assert clone.shipments.get("S-240902-0001").shipment_id == "S-240902-0001"
    clone.close()
    with pytest.raises(ClientClosedError):
        clone.shipments.get("S-240902-0001")


def test_the_closed_error_pickles_and_is_exported() -> None:
    error = ClientClosedError("exporto")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert type(copy) is ClientClosedError
    assert str(copy) == str(error)
    assert copy.provider == "exporto"
    assert "ClientClosedError" in shiptrack_sdk.errors.__all__
    assert "ClientClosedError" in (shiptrack_sdk.errors.__doc__ or "")


def test_the_closed_error_is_exported_from_the_package() -> None:
    assert shiptrack_sdk.ClientClosedError is ClientClosedError
    assert "ClientClosedError" in shiptrack_sdk.__all__


# -- the package's names --------------------------------------------------------------------


def test_dir_of_the_package_lists_only_public_names() -> None:
    # A fresh interpreter, after importing every public module a notebook would.
    code = (
        "import shiptrack_sdk, shiptrack_sdk.notebook, shiptrack_sdk.sandbox, shiptrack_sdk.cli\n"
        "import shiptrack_sdk.exporto, shiptrack_sdk.lex, shiptrack_sdk.shiplemon\n"
        "names = dir(shiptrack_sdk)\n"
        "print(' '.join(names))\n"
        "for name in names: getattr(shiptrack_sdk, name)\n"
    )
    result = subprocess.run(  # noqa: S603 (this Python)
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    names = result.stdout.split()
    assert [n for n in names if n.startswith("_")] == ["__version__"]
    assert "ShiplemonClient" in names
    assert "Trackings" in names
    for internal in ("importlib", "logging", "ModuleType", "TYPE_CHECKING", "annotations"):
        assert internal not in names
    assert not [n for n in names if n.startswith("_core") or n == "_providers"]
