"""Imports every package's models so that Base.metadata is complete (migrations, tests)."""

from __future__ import annotations

import importlib

from core.db import Base

MODEL_MODULES = (
    "core.auth.models",
    "crm.models",
    "telemetry.models",
    "telemetry.rules.models",
    "telemetry.alerts.models",
    "telemetry.health.models",
    "service_orders.models",
    "service_orders.tracking",
    "ledger.models",
    "partner_portal.models",
    "customer_app.models",
)


def load_all_models() -> type[Base]:
    """Import each package's models module that exists; return the shared Base."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return Base
