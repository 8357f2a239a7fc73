"""Dispatch within a second of a new work order: LISTEN work_orders, dispatch, publish."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings
from core.jobs import libpq_conninfo
from service_orders.broker_accounts import start_engineer_account_sync, start_location_listener
from service_orders.dispatch.publish import publish_pending_offers
from service_orders.dispatch.sweep import dispatch_waiting
from service_orders.listener import run_on_notify

log = logging.getLogger(__name__)
CHANNEL = "work_orders"


def run_dispatch_wakeups(
    settings: Settings,
    sessions: sessionmaker[Session],
    stop: threading.Event,
    *,
    debounce_seconds: float = 0.05,
) -> None:
    """Dispatch the waiting work orders whenever one is created, then send the offers."""

    def dispatch_and_publish() -> None:
        if dispatch_waiting(sessions, settings):
            with sessions.begin() as session:
                publish_pending_offers(session, settings)

    run_on_notify(
        libpq_conninfo(settings.resolved_database_url()),
        CHANNEL,
        dispatch_and_publish,
        stop,
        debounce_seconds=debounce_seconds,
        name="dispatch wake-up",
    )


def start_dispatch_threads(
    settings: Settings, sessions: sessionmaker[Session], stop: threading.Event
) -> list[threading.Thread]:
    """Start the dispatch wake-ups, the engineers' location listener and their broker
    account sync (daemon threads)."""
    wakeups = threading.Thread(
        target=run_dispatch_wakeups,
        args=(settings, sessions, stop),
        name="dispatch-wakeups",
        daemon=True,
    )
    wakeups.start()
    return [
        wakeups,
        start_location_listener(settings, sessions, stop),
        start_engineer_account_sync(settings, sessions, stop),
    ]
