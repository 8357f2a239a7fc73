"""The ingest against the real broker and database: stored once, or dead-lettered with a reason."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from core.db import utcnow
from telemetry.devices import revoke_device, sync_broker
from telemetry.ingest.pipeline import Ingest
from telemetry.models import DeadLetter, RollupMinute
from tests.brokers import LocalBroker
from tests.conftest import IngestWorld
from tests.ingest_support import (
    FleetDevice,
    Publisher,
    dead_letter_reasons,
    duplicates,
    ingest_thread,
    make_fleet,
    reading,
    stored_count,
    wait_until,
)


@pytest.fixture
def ingest(ingest_world: IngestWorld) -> Iterator[Ingest]:
    """The product's ingest in a thread (one stable instance name, as in production)."""
    with ingest_thread(ingest_world, instance="tests") as running:
        yield running


@pytest.fixture
def device(ingest_world: IngestWorld, mqtt_broker: LocalBroker) -> FleetDevice:
    return make_fleet(ingest_world.sessions, mqtt_broker, 1)[0]


def test_every_reading_is_stored_exactly_once(
    ingest: Ingest, ingest_world: IngestWorld, mqtt_broker: LocalBroker
) -> None:
    fleet = make_fleet(ingest_world.sessions, mqtt_broker, 4)
    publishers = [Publisher(mqtt_broker, d) for d in fleet]
    base = int(time.time() * 1000) - 120_000
    for seq in range(50):
        for p in publishers:
            p.send(reading(seq, ts_ms=base + seq * 1000))
    # the batch form, as a device sends what it buffered while offline
    publishers[0].send([reading(seq, ts_ms=base + seq * 1000) for seq in range(50, 80)])
    ids = [d.device_id for d in fleet]
    wait_until(lambda: stored_count(ingest_world.sessions, ids) == 4 * 50 + 30, what="rows")
    assert duplicates(ingest_world.sessions, ids) == 0
    with ingest_world.sessions() as session:
        rolled = session.scalar(
            select(func.sum(RollupMinute.n)).where(
                RollupMinute.device_id.in_(ids), RollupMinute.position == 0
            )
        )
    assert rolled == 4 * 50 + 30
    for p in publishers:
        p.close()


BAD_INPUT = [
    ("malformed_json", b'{"ts": 1, "seq": '),
    ("invalid_schema", b'{"ts": 1, "seq": "one", "m": {"rpm": 1}}'),
    ("invalid_schema", b'{"ts": 1, "seq": 1, "m": {"rpm": true}}'),
    ("non_finite", b'{"ts": 1, "seq": 1, "m": {"rpm": NaN}}'),
    ("non_finite", b'{"ts": 1, "seq": 1, "m": {"rpm": 1e999}}'),
    ("unknown_metric", {"seq": 1, "m": {"torque": 3.0}}),
    ("out_of_range", {"seq": 1, "m": {"rpm": 10_000_000.0}}),
    ("empty", {"seq": 1, "m": {}}),
    ("ts_future", {"seq": 1, "ts": "2099-01-01T00:00:00Z", "m": {"rpm": 1.0}}),
    ("ts_past", {"seq": 1, "ts": "2001-01-01T00:00:00+00:00", "m": {"rpm": 1.0}}),
    ("invalid_schema", {"seq": 1, "ts": "2026-01-01T00:00:00", "m": {"rpm": 1.0}}),
    ("oversize", b'{"pad": "' + b"x" * 20_000 + b'"}'),
]


@pytest.mark.parametrize(
    ("reason", "payload"), BAD_INPUT, ids=[f"{r}-{i}" for i, (r, _) in enumerate(BAD_INPUT)]
)
def test_bad_input_is_dead_lettered_and_ingest_goes_on(
    ingest: Ingest,
    ingest_world: IngestWorld,
    mqtt_broker: LocalBroker,
    device: FleetDevice,
    reason: str,
    payload: object,
) -> None:
    if isinstance(payload, dict) and "ts" not in payload:
        payload = {"ts": int(time.time() * 1000), **payload}
    publisher = Publisher(mqtt_broker, device)
    publisher.send(payload)
    publisher.send(reading(7))
    wait_until(
        lambda: stored_count(ingest_world.sessions, [device.device_id]) == 1,
        what="the good reading after the bad one",
    )
    assert dead_letter_reasons(ingest_world.sessions, device.key) == [reason]
    publisher.close()


def test_repeated_message_is_stored_once_and_the_repeat_dead_lettered(
    ingest: Ingest, ingest_world: IngestWorld, mqtt_broker: LocalBroker, device: FleetDevice
) -> None:
    publisher = Publisher(mqtt_broker, device)
    message = reading(1)
    publisher.send(message)
    publisher.send(message)
    wait_until(
        lambda: dead_letter_reasons(ingest_world.sessions, device.key) == ["duplicate"],
        what="the duplicate's dead letter",
    )
    assert stored_count(ingest_world.sessions, [device.device_id]) == 1
    publisher.close()


def test_payload_naming_another_device_is_refused(
    ingest: Ingest, ingest_world: IngestWorld, mqtt_broker: LocalBroker, device: FleetDevice
) -> None:
    publisher = Publisher(mqtt_broker, device)
    publisher.send({**reading(1), "dev": "dev-somebody-else"})
    wait_until(
        lambda: dead_letter_reasons(ingest_world.sessions, device.key) == ["topic_mismatch"],
        what="the dead letter",
    )
    assert stored_count(ingest_world.sessions, [device.device_id]) == 0
    publisher.close()


def test_unknown_device_with_broker_credentials_is_dead_lettered(
    ingest: Ingest, ingest_world: IngestWorld, mqtt_broker: LocalBroker
) -> None:
    mqtt_broker.passwords["dev-ghost"] = "ghost-password-1"
    mqtt_broker.add_account("dev-ghost", "ghost-password-1")
    ghost = mqtt_broker.client("dev-ghost")
    ghost.connect()
    ghost.publish("fleet/dev-ghost/telemetry", b'{"ts": 1, "seq": 1, "m": {}}')
    ghost.close()
    wait_until(
        lambda: dead_letter_reasons(ingest_world.sessions, "dev-ghost") == ["unknown_device"],
        what="the dead letter",
    )


def test_revoked_device_is_dead_lettered_then_cut_off_by_the_broker(
    ingest: Ingest, ingest_world: IngestWorld, mqtt_broker: LocalBroker, device: FleetDevice
) -> None:
    from core.auth.principal import SYSTEM

    publisher = Publisher(mqtt_broker, device)
    with ingest_world.sessions() as session:
        revoke_device(session, actor=SYSTEM, device_id=device.device_id)
        session.commit()
    time.sleep(1)  # the ingest's profile cache (0.5 s here, 30 s by default) lets go
    publisher.send(reading(1))
    wait_until(
        lambda: dead_letter_reasons(ingest_world.sessions, device.key) == ["revoked_device"],
        what="the dead letter",
    )
    pid_before = mqtt_broker.paths.pid_file.read_text()
    with ingest_world.sessions() as session:
        sync_broker(session, passwd=mqtt_broker.paths.passwd, pid_file=mqtt_broker.paths.pid_file)
    time.sleep(0.3)
    publisher.close()
    with pytest.raises(Exception, match="refused"):
        mqtt_broker.client(device.key).connect(timeout=5)
    assert mqtt_broker.paths.pid_file.read_text() == pid_before  # no broker restart


def test_dead_letter_keeps_a_truncated_payload(
    ingest: Ingest, ingest_world: IngestWorld, mqtt_broker: LocalBroker, device: FleetDevice
) -> None:
    publisher = Publisher(mqtt_broker, device)
    publisher.send(b"[" + b"1," * 5000 + b"]")
    wait_until(
        lambda: dead_letter_reasons(ingest_world.sessions, device.key) != [], what="the dead letter"
    )
    with ingest_world.sessions() as session:
        letter = session.scalars(
            select(DeadLetter).where(DeadLetter.device_key == device.key)
        ).one()
    assert letter.payload_size == 10_002
    assert len(letter.payload) == 2048
    assert letter.received_at <= utcnow()
    publisher.close()


def test_the_hypertable_exists_with_daily_chunks(ingest_world: IngestWorld) -> None:
    with ingest_world.sessions() as session:
        interval = session.execute(
            text(
                "SELECT time_interval FROM timescaledb_information.dimensions "
                "WHERE hypertable_name = 'readings'"
            )
        ).scalar()
    assert str(interval) == "1 day, 0:00:00"
