"""A test of your own code against the embedded sandbox, with the ``shiptrack_sandbox`` fixture.

``my_sync`` stands for your code; the test checks that it survives a short outage.
"""

from shiptrack_sdk import ShiplemonClient, TrackingStatus


def my_sync(client: ShiplemonClient, shipment_id: str) -> TrackingStatus:
    """Your code: here, it reads a shipment's normalized status."""
    return client.tracking.get(shipment_id).to_tracking().status


def test_my_sync_survives_an_outage(shiptrack_sandbox):
    client = shiptrack_sandbox.shiplemon_client(backoff_factor=0)
    shiptrack_sandbox.fault("/shiplemon/*", status=503, times=2)
    status = my_sync(client, "6650a1f2c3d4e5f601234567")
    assert status is TrackingStatus.TRANSIT
    assert [call.status for call in shiptrack_sandbox.calls()] == [503, 503, 200]
