"""Kill and restart things in the middle of a stream: every reading is stored exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from core.config import PROJECT_ROOT
from fieldcrm.services import postgres
from fieldcrm.services.mosquitto import ensure_ingest_session, start_broker, stop_broker
from tests.brokers import LocalBroker
from tests.conftest import IngestWorld
from tests.ingest_support import (
    FleetDevice,
    Publisher,
    duplicates,
    ingest_env,
    ingest_process,
    make_fleet,
    reading,
    stored_count,
    wait_until,
)

pytestmark = pytest.mark.slow

DEVICES = 8
MESSAGES_PER_DEVICE = 400
LOG = PROJECT_ROOT / "test-results" / "faults-ingest.log"


class Stream:
    """Devices publishing in a thread, each retrying until the broker acknowledged."""

    def __init__(self, broker: LocalBroker, fleet: list[FleetDevice]) -> None:
        self.publishers = [Publisher(broker, device) for device in fleet]
        self.sent = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        base = int(time.time() * 1000) - 60_000
        try:
            for seq in range(MESSAGES_PER_DEVICE):
                for publisher in self.publishers:
                    publisher.send(reading(seq, ts_ms=base + seq * 10), patience=60)
                    self.sent += 1
                    time.sleep(0.001)  # a steady stream, so the fault lands in its middle
        except Exception as exc:  # noqa: BLE001  # reported by progress() and finish()
            self.error = exc

    def progress(self, stored: int, at_least: int) -> bool:
        """For wait_until: fail at once when publishing broke, instead of timing out."""
        assert self.error is None, f"publishing failed: {self.error!r}"
        return stored >= at_least

    def finish(self) -> None:
        self.thread.join(timeout=120)
        for publisher in self.publishers:
            publisher.close()
        assert self.error is None, f"publishing failed: {self.error!r}"
        assert self.sent == DEVICES * MESSAGES_PER_DEVICE


@pytest.fixture(scope="module", autouse=True)
def _faults_instance_leaves(ingest_world: IngestWorld) -> Iterator[None]:
    """End the "faults" ingest's persistent session afterwards: a member of the shared
    subscription that is gone for good keeps getting its share queued (as in production,
    where an instance scaled down for good runs `fieldcrm ingest --leave`)."""
    yield
    subprocess.run(
        [sys.executable, "-m", "fieldcrm.cli", "ingest", "--instance", "faults", "--leave"],
        env=ingest_env(ingest_world.settings),
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _run_with_fault(
    world: IngestWorld, broker: LocalBroker, fault: Callable[[list[int]], None]
) -> None:
    LOG.parent.mkdir(exist_ok=True)
    fleet = make_fleet(world.sessions, broker, DEVICES)
    ids = [device.device_id for device in fleet]
    total = DEVICES * MESSAGES_PER_DEVICE
    with ingest_process(world.settings, LOG, instance="faults"):
        stream = Stream(broker, fleet)
        stream.thread.start()
        wait_until(
            lambda: stored_count(world.sessions, ids) >= total // 5,
            timeout=60,
            what="the stream to get going",
        )
        fault(ids)
        stream.finish()
        wait_until(
            lambda: stored_count(world.sessions, ids) == total,
            timeout=90,
            what=f"all {total} readings",
        )
    assert duplicates(world.sessions, ids) == 0
    time.sleep(1)
    assert stored_count(world.sessions, ids) == total


def test_kill_9_of_ingest_mid_stream_loses_and_duplicates_nothing(
    ingest_world: IngestWorld, mqtt_broker: LocalBroker
) -> None:
    LOG.parent.mkdir(exist_ok=True)
    fleet = make_fleet(ingest_world.sessions, mqtt_broker, DEVICES)
    ids = [device.device_id for device in fleet]
    total = DEVICES * MESSAGES_PER_DEVICE
    stream = Stream(mqtt_broker, fleet)
    with ingest_process(ingest_world.settings, LOG, instance="faults") as first:
        stream.thread.start()
        wait_until(
            lambda: stored_count(ingest_world.sessions, ids) >= total // 5,
            timeout=60,
            what="the stream to get going",
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = stored_count(ingest_world.sessions, ids)
    assert at_kill < total, "the kill came after the stream ended; the test proves nothing"
    with ingest_process(ingest_world.settings, LOG, instance="faults"):
        stream.finish()
        wait_until(
            lambda: stored_count(ingest_world.sessions, ids) == total,
            timeout=90,
            what=f"all {total} readings after the restart",
        )
    assert duplicates(ingest_world.sessions, ids) == 0


def test_broker_restart_mid_stream_loses_and_duplicates_nothing(
    ingest_world: IngestWorld, mqtt_broker: LocalBroker
) -> None:
    port = int(mqtt_broker.url.rsplit(":", 1)[1])

    def restart_broker(ids: list[int]) -> None:
        stop_broker(mqtt_broker.paths)  # SIGTERM: Mosquitto saves sessions and queues
        time.sleep(0.5)
        # as `fieldcrm services start` does: ingest sessions first, then devices
        start_broker(
            mqtt_broker.paths,
            port=port,
            before_devices=lambda: ensure_ingest_session(ingest_world.settings, instance="faults"),
        )

    _run_with_fault(ingest_world, mqtt_broker, restart_broker)


def test_database_restart_mid_stream_loses_and_duplicates_nothing(
    ingest_world: IngestWorld, mqtt_broker: LocalBroker
) -> None:
    def restart_database(ids: list[int]) -> None:
        postgres.stop(ingest_world.settings)
        time.sleep(2)  # the ingest retries its batch meanwhile; the broker holds the rest
        postgres.start(ingest_world.settings)

    _run_with_fault(ingest_world, mqtt_broker, restart_database)
