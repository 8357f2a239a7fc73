"""Fixtures of the simulator tests: the whole-app client, and the real ingest in a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from telemetry.ingest.pipeline import Ingest, IngestOptions
from tests.conftest import IngestWorld
from tests.fieldcrm.conftest import browser  # noqa: F401
from tests.ingest_support import wait_until


@pytest.fixture
def ingest(ingest_world: IngestWorld) -> Iterator[Ingest]:
    """The product's ingest, as in tests/telemetry (its own instance name)."""
    running = Ingest(
        ingest_world.settings,
        ingest_world.sessions,
        options=IngestOptions(instance="simulators", batch_wait=0.02, profile_ttl=0.5),
    )
    stop = threading.Event()
    thread = threading.Thread(target=running.run, args=(stop,), daemon=True)
    thread.start()
    wait_until(lambda: running.client.connected, what="ingest to connect")
    yield running
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()
