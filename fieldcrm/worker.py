"""The worker process: one procrastinate App with every package's job blueprint."""

from __future__ import annotations

import importlib

from procrastinate import App, Blueprint

from core.jobs import make_job_app

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
    with app.open():
        app.run_worker(install_signal_handlers=True)
