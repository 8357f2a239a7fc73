"""Builders for work-order, intake and PM tests: engineers, alerts, staff, open orders."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

from geoalchemy2 import WKTElement
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from crm.models import Asset, OrgKind
from service_orders.models import Engineer, WorkOrder, WorkOrderType
from service_orders.schemas import WorkOrderCreate
from service_orders.workorders import create_work_order
from telemetry.alerts.models import Alert
from telemetry.rules.models import Rule
from tests.crm.factories import make_org, make_user, principal_of
from tests.telemetry.rule_factories import Reporting


def staff(db: Session) -> Principal:
    return principal_of(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER)))


def make_engineer(db: Session) -> tuple[Engineer, Principal]:
    user = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.ENGINEER)
    point = WKTElement("POINT(11.5 48.1)", srid=4326)
    engineer = Engineer(user_id=user.id, home_base=point, location=point)
    db.add(engineer)
    db.flush()
    return engineer, principal_of(user)


def open_order(db: Session, asset: Asset, *, actor: Principal, priority: int = 3) -> WorkOrder:
    data = WorkOrderCreate(
        type=WorkOrderType.CORRECTIVE, asset_id=asset.id, priority=priority, title="Oil leak"
    )
    return create_work_order(db, actor=actor, data=data)


def make_alert(
    db: Session,
    r: Reporting,
    rule: Rule,
    *,
    severity: str = "critical",
    kind: str | None = None,
    predicted_failure_at: datetime | None = None,
) -> Alert:
    alert = Alert(
        device_id=r.device.id,
        asset_id=r.asset.id,
        rule_id=rule.id,
        metric_key=rule.metric_key,
        kind=kind or rule.kind,
        severity=severity,
        status="open",
        message=f"pressure {severity}",
        predicted_failure_at=predicted_failure_at,
    )
    db.add(alert)
    db.flush()
    return alert


def clear(db: Session, alert: Alert) -> None:
    alert.status = "cleared"
    alert.cleared_at = datetime.now(UTC)
    alert.clear_reason = "condition"
    db.flush()


def png(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG, as signature_pad would send."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
