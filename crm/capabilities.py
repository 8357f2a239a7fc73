"""Capabilities beyond a role: partner admins, finance, sales managers, directors."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from crm.models import Capability, User, UserCapability


def has_capability(session: Session, *, user_id: int, capability: Capability) -> bool:
    """Whether the user holds the capability (inactive users hold none)."""
    return (
        session.scalar(
            select(UserCapability.user_id)
            .join(User, User.id == UserCapability.user_id)
            .where(
                UserCapability.user_id == user_id,
                UserCapability.capability == capability,
                User.is_active,
            )
        )
        is not None
    )


def capabilities_of(session: Session, *, user_id: int) -> set[Capability]:
    """Every capability the user holds."""
    return {
        Capability(c)
        for c in session.scalars(
            select(UserCapability.capability).where(UserCapability.user_id == user_id)
        )
    }


def users_with_capability(
    session: Session, *, capability: Capability, org_id: int | None = None
) -> Sequence[User]:
    """Active users holding the capability, optionally only of one organisation."""
    query = (
        select(User)
        .join(UserCapability, UserCapability.user_id == User.id)
        .where(UserCapability.capability == capability, User.is_active)
        .order_by(User.id)
    )
    if org_id is not None:
        query = query.where(User.org_id == org_id)
    return session.scalars(query).all()


def grant(session: Session, *, user_id: int, capability: Capability) -> None:
    """Give the capability (idempotent). Callers check who may grant it."""
    session.execute(
        insert(UserCapability)
        .values(user_id=user_id, capability=capability.value)
        .on_conflict_do_nothing()
    )


def revoke(session: Session, *, user_id: int, capability: Capability) -> None:
    """Take the capability away (idempotent)."""
    session.execute(
        delete(UserCapability).where(
            UserCapability.user_id == user_id, UserCapability.capability == capability
        )
    )
