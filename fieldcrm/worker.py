"""The worker process: one procrastinate App with every package's job blueprint."""

from __future__ import annotations

import importlib
import logging
import threading

from procrastinate import App, Blueprint

from core.config import get_settings
from core.db import get_sessionmaker
from core.jobs import libpq_conninfo, make_job_app
from service_orders.dispatch.live import start_dispatch_threads
from service_orders.listener import start_alert_intake

logger = logging.getLogger(__name__)

WORKER_STARTED = "Starting worker: jobs, alert intake and dispatch are running"
"""Logged once everything runs (tests and benchmarks wait for it)."""

# (namespace, module with a `blueprint`); modules that do not exist yet are skipped.
JOB_MODULES = (
    ("auth", "core.auth.jobs"),
    ("crm", "crm.jobs"),
    ("telemetry", "telemetry.jobs"),
    ("service_orders", "service_orders.jobs"),
    ("ledger", "ledger.jobs"),
    ("partner_portal", "partner_portal.jobs"),
    ("customer_app", "customer_app.jobs"),
)


def blueprints() -> list[tuple[str, Blueprint]]:
    found = []
    for namespace, name in JOB_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        found.append((namespace, module.blueprint))
    return found


def job_app(url: str | None = None) -> App:
    return make_job_app(blueprints(), url=url)


def run_worker() -> None:
    """Run jobs until interrupted (SIGINT/SIGTERM finish the current jobs first)."""
    app = job_app()
    stop = threading.Event()
    settings = get_settings()
    # alerts become work orders within a second; the periodic sweep is the safety net
    start_alert_intake(
        libpq_conninfo(settings.resolved_database_url()),
        get_sessionmaker(),
        stop,
        debounce_ms=settings.service_orders_intake_debounce_ms,
    )
    # new work orders are dispatched at once and the offers sent after commit;
    # engineers' phones report their location over MQTT
    start_dispatch_threads(settings, get_sessionmaker(), stop)
    try:
        with app.open():
            logger.info(WORKER_STARTED)
            app.run_worker(install_signal_handlers=True)
    finally:
        stop.set()
