"""Prometheus view of the ledger kept in the database: documents by anchoring status."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from prometheus_client.core import REGISTRY, CollectorRegistry, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.config import ConfigError
from core.db import get_sessionmaker
from ledger.models import AnchorRequest

logger = logging.getLogger(__name__)
_NAME = "fieldcrm_ledger_documents"


class AnchorStatusCollector(Collector):
    """Documents pending, anchored and orphaned (after a chain reset, until re-anchored)."""

    def __init__(self, sessions: Callable[[], AbstractContextManager[Session]] | None = None):
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(_NAME, "Documents by ledger anchoring status", labels=["status"])
        try:
            with (self._sessions or get_sessionmaker())() as session:
                rows = session.execute(
                    select(AnchorRequest.status, func.count()).group_by(AnchorRequest.status)
                ).all()
        except (SQLAlchemyError, ConfigError) as exc:
            logger.warning("Ledger metrics unavailable: %s", exc)
            return
        counts = {"pending": 0, "anchored": 0, "orphaned": 0}
        counts.update({str(status): int(count) for status, count in rows})
        for status, count in counts.items():
            family.add_metric([status], count)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(_NAME, "", labels=["status"])


_registered: set[int] = set()


def register_ledger_metrics(registry: CollectorRegistry = REGISTRY) -> None:
    """Add the ledger collector to a registry once, however many apps are created."""
    if id(registry) in _registered:
        return
    registry.register(AnchorStatusCollector())
    _registered.add(id(registry))
