"""Fixtures of the simulator tests: the whole-app client, and the real ingest in a thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from telemetry.ingest.pipeline import Ingest
from tests.conftest import IngestWorld
from tests.fieldcrm.conftest import browser  # noqa: F401
from tests.ingest_support import ingest_thread


@pytest.fixture
def ingest(ingest_world: IngestWorld) -> Iterator[Ingest]:
    """The product's ingest, as in tests/telemetry (its own instance name)."""
    with ingest_thread(ingest_world, instance="simulators") as running:
        yield running
