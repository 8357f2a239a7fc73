"""Dependencies shared by the telemetry API and pages: broker sync and short-lived sessions."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import get_sessionmaker
from telemetry.devices import sync_local_broker

SyncBroker = Callable[[Session], object]
OpenSession = Callable[[], AbstractContextManager[Session]]


def broker_sync() -> SyncBroker:
    """How the broker learns of device changes; called after the request's commit."""
    return lambda session: sync_local_broker(session, get_settings())


def session_opener() -> OpenSession:
    """Opens a short session of its own, for streams that outlive the request's session."""
    return get_sessionmaker()


BrokerSync = Annotated[SyncBroker, Depends(broker_sync)]
SessionOpener = Annotated[OpenSession, Depends(session_opener)]


def mqtt_topic(device_key: str) -> str:
    """The telemetry topic a device publishes to (ACL: fleet/<key>/#)."""
    return f"fleet/{device_key}/telemetry"
