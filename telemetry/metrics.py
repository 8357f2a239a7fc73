"""Prometheus view of telemetry state kept in the database (dead letters by reason)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import REGISTRY, CollectorRegistry, CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from core.config import ConfigError
from core.db import get_sessionmaker
from telemetry.queries.dead_letters import counts_by_reason

logger = logging.getLogger(__name__)


class DeadLetterCollector(Collector):
    """Counts the dead-letter table by reason at scrape time, so every web process agrees."""

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "fieldcrm_dead_letters",
            "Messages or readings refused by ingest, from the dead-letter table",
            labels=["reason"],
        )
        try:
            with get_sessionmaker()() as session:
                counts = counts_by_reason(session)
        except (SQLAlchemyError, ConfigError) as exc:
            # A scrape must still show the process metrics when the database is away.
            logger.warning("Dead-letter metrics unavailable: %s", exc)
            return
        for reason, count in counts.items():
            family.add_metric([reason], count)
        yield family

    def describe(self) -> Iterator[Metric]:
        # Declared without a scrape, so registering never touches the database.
        yield CounterMetricFamily("fieldcrm_dead_letters", "", labels=["reason"])


_registered: set[int] = set()


def register_telemetry_metrics(registry: CollectorRegistry = REGISTRY) -> None:
    """Add the telemetry collectors to a registry once, however many apps are created."""
    if id(registry) in _registered:
        return
    registry.register(DeadLetterCollector())
    _registered.add(id(registry))
