"""The audit trail: who changed which record, with JSON snapshots before and after."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from geoalchemy2.elements import WKBElement, WKTElement
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from crm.geo import point_lat_lon
from crm.models import AuditLog

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
LOGIN = "login"


def record_change(
    session: Session,
    *,
    actor: Principal,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditLog:
    """Append one audit row; the system actor is stored as no user and no org."""
    is_system = actor == SYSTEM
    entry = AuditLog(
        actor_user_id=None if is_system else actor.user_id,
        actor_org_id=None if is_system else actor.org_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of a record as a JSON-safe dict."""
    return {name: _json_safe(getattr(obj, name)) for name in fields}


def _json_safe(value: object) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, WKBElement | WKTElement):
        lat, lon = point_lat_lon(value)
        return {"lat": lat, "lon": lon}
    raise TypeError(f"cannot snapshot a {type(value).__name__} for the audit log")
