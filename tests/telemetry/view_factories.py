"""Builders for telemetry page and query tests: stored readings, rollups, alerts, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.db import utcnow
from crm.models import Organization, OrgKind
from telemetry.alerts.models import Alert
from telemetry.health.models import AssetHealth
from telemetry.models import DeadLetter
from telemetry.rules.models import Rule
from telemetry.web import broker_sync
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm.conftest import Browser
from tests.telemetry.rule_factories import Reporting, make_reporting_asset, make_rule

_ROLLUP = """
INSERT INTO {table} (device_id, position, bucket, n, total, low, high, last_ts, last)
VALUES (:device_id, :position, :bucket, :n, :total, :low, :high, :last_ts, :last)
"""


@pytest.fixture
def broker_syncs(browser: Browser) -> list[int]:
    """Records broker syncs instead of rewriting the developer's broker password file."""
    calls: list[int] = []
    app_of(browser).dependency_overrides[broker_sync] = lambda: lambda session: calls.append(1)
    return calls


def app_of(browser: Browser) -> FastAPI:
    app = browser.app
    assert isinstance(app, FastAPI)
    return app


def make_asset_without_device(db: Session) -> Reporting:
    """A reporting asset whose device is gone again: ready to be provisioned."""
    r = make_reporting_asset(db)
    db.delete(r.device)
    db.flush()
    return r


def add_rollup(
    db: Session,
    *,
    device_id: int,
    position: int,
    bucket: datetime,
    values: Sequence[float],
    hourly: bool = False,
) -> None:
    """A 1-minute (or 1-hour) bucket holding these values, the last one newest."""
    width = timedelta(hours=1) if hourly else timedelta(minutes=1)
    db.execute(
        text(_ROLLUP.format(table="readings_1h" if hourly else "readings_1m")),
        {
            "device_id": device_id,
            "position": position,
            "bucket": bucket,
            "n": len(values),
            "total": sum(values),
            "low": min(values),
            "high": max(values),
            "last_ts": bucket + width - timedelta(seconds=1),
            "last": values[-1],
        },
    )


def add_reading(
    db: Session, *, device_id: int, ts: datetime, values: Sequence[float | None]
) -> None:
    db.execute(
        text("INSERT INTO readings (device_id, ts, seq, values) VALUES (:d, :ts, :seq, :v)"),
        {"d": device_id, "ts": ts, "seq": int(ts.timestamp() * 1000), "v": list(values)},
    )


def add_alert(db: Session, r: Reporting, *, severity: str = "major", status: str = "open") -> Alert:
    rule = db.scalar(select(Rule).where(Rule.product_model_id == r.model.id)) or make_rule(
        db, r, kind="threshold", severity=severity
    )
    alert = Alert(
        device_id=r.device.id,
        asset_id=r.asset.id,
        rule_id=rule.id,
        metric_key="pressure",
        kind="threshold",
        severity=severity,
        status=status,
        message="Hydraulic pressure 171 bar above the critical limit 160 bar",
        value=171.0,
        cleared_at=utcnow() if status == "cleared" else None,
    )
    db.add(alert)
    db.flush()
    return alert


def add_health(db: Session, r: Reporting, *, score: int) -> AssetHealth:
    health = AssetHealth(
        asset_id=r.asset.id,
        score=score,
        contributors=[
            {
                "name": "pressure zone",
                "detail": "in the warning zone",
                "value": 0.5,
                "penalty": 12.5,
            },
            {"name": "alerts", "detail": "1 major alert open", "value": 0.4, "penalty": 8.0},
            {"name": "runtime", "detail": "well within the service interval", "penalty": 0.0},
        ],
        computed_at=utcnow(),
        predicted_failure_at=None,
    )
    db.add(health)
    db.flush()
    return health


def add_dead_letter(
    db: Session, *, reason: str, device_key: str | None, payload: bytes = b"{}"
) -> DeadLetter:
    letter = DeadLetter(
        topic=f"fleet/{device_key or 'Bad Key'}/telemetry",
        device_key=device_key,
        reason=reason,
        detail=f"refused: {reason}",
        payload=payload,
        payload_size=len(payload),
    )
    db.add(letter)
    db.flush()
    return letter


def log_in_as(browser: Browser, db: Session, role: Role, org: Organization | None = None) -> None:
    """Log the browser in as a new user with this role, in `org` or a new one of its kind."""
    kind = {
        Role.ADMIN: OrgKind.MANUFACTURER,
        Role.DISPATCHER: OrgKind.MANUFACTURER,
        Role.ENGINEER: OrgKind.MANUFACTURER,
        Role.DISTRIBUTOR: OrgKind.DISTRIBUTOR,
        Role.CUSTOMER: OrgKind.CUSTOMER,
    }[role]
    user = make_user(db, org=org or make_org(db, kind=kind), role=role)
    browser.log_in(user.email, PASSWORD)
