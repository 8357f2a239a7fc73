"""Who may touch which organization's records, and loading records by id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import Base
from core.errors import NotFound, PermissionDenied
from crm.audit import CREATE, record_change, snapshot
from crm.models import Organization, OrgKind

_Record = TypeVar("_Record", bound=Base)

ROLES_OF_ORG_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.MANUFACTURER: frozenset({Role.ADMIN, Role.DISPATCHER, Role.ENGINEER}),
    OrgKind.DISTRIBUTOR: frozenset({Role.DISTRIBUTOR}),
    OrgKind.CUSTOMER: frozenset({Role.CUSTOMER}),
}


def require_staff(actor: Principal, *, to: str) -> None:
    """Refuse anyone but manufacturer staff; `to` completes "Only staff may ..."."""
    if not actor.is_staff:
        raise PermissionDenied(f"Only staff may {to}.")


def require_own_org_or_staff(actor: Principal, org_id: int) -> None:
    """Staff work for every organization; everyone else only for their own."""
    if not actor.is_staff and actor.org_id != org_id:
        raise PermissionDenied("You may only change records of your own organization.")


def get_record(session: Session, model: type[_Record], record_id: int) -> _Record:
    """The record with this id, or NotFound naming the table."""
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"No {model.__tablename__} record {record_id}.", entity=model.__tablename__)
    return record


def get_organization(session: Session, org_id: int) -> Organization:
    return get_record(session, Organization, org_id)


def add_audited(
    session: Session, *, actor: Principal, record: _Record, fields: Sequence[str]
) -> _Record:
    """Insert a new record and write its create audit row."""
    session.add(record)
    session.flush()
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity=record.__tablename__,
        entity_id=_primary_key(record),
        before=None,
        after=snapshot(record, fields),
    )
    return record


def _primary_key(record: Base) -> str:
    return ",".join(str(part) for part in inspect(record).identity or ())
