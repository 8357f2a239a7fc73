"""The ingest's session moves from the old guessable client id to the derived one without
losing what the broker queued under the old id."""

from __future__ import annotations

from core.mqtt import MqttClient
from telemetry.ingest.pipeline import SESSION_EXPIRY, SUBSCRIPTION, ingest_client_id
from tests.brokers import LocalBroker
from tests.conftest import IngestWorld
from tests.ingest_support import (
    Publisher,
    ingest_thread,
    make_fleet,
    reading,
    stored_count,
    wait_until,
)

INSTANCE = "upgraded"
OLD_ID = f"fieldcrm-ingest-{INSTANCE}"


def _old_session(broker: LocalBroker) -> MqttClient:
    return broker.client(
        "fieldcrm-ingest",
        client_id=OLD_ID,
        clean_start=False,
        session_expiry=SESSION_EXPIRY,
        manual_ack=True,
    )


def test_what_the_old_session_queued_is_stored_and_the_old_session_ended(
    ingest_world: IngestWorld, mqtt_broker: LocalBroker
) -> None:
    old = _old_session(mqtt_broker)
    old.subscribe(SUBSCRIPTION)
    old.connect()
    assert old.wait_subscribed()
    old.close()  # as an ingest of an older version stops: the broker queues for it
    device = make_fleet(ingest_world.sessions, mqtt_broker, 1)[0]
    publisher = Publisher(mqtt_broker, device)
    for seq in range(20):
        publisher.send(reading(seq))
    publisher.close()

    with ingest_thread(ingest_world, instance=INSTANCE) as ingest:
        assert ingest.client.client_id == ingest_client_id(ingest_world.settings, INSTANCE)
        wait_until(
            lambda: stored_count(ingest_world.sessions, [device.device_id]) == 20,
            what="the readings queued for the old session",
        )

    probe = _old_session(mqtt_broker)
    probe.connect()
    try:
        assert not probe.session_present
    finally:
        probe.close(end_session=True)
