"""A partner admin manages their own organisation's portal users: invite, (de)activate, and
who else is a partner admin. Everyone else in the organisation sees the list only.

Another organisation's user is NotFound, never "forbidden": ids do not reveal who exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.audit import CREATE, DELETE, record_change
from crm.capabilities import capabilities_of, grant, has_capability, revoke
from crm.models import Capability, Organization, User, UserCapability
from crm.schemas import UserCreate, UserUpdate
from crm.service.users import apply_user_update, create_user

INITIAL_PASSWORD_BYTES = 12  # 16 URL-safe characters


@dataclass(frozen=True, slots=True)
class PartnerUser:
    """One row of the users page."""

    user: User
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Invitation:
    """A new user and the initial password, shown to the inviting admin once."""

    user: User
    initial_password: str


def require_partner_admin(session: Session, actor: Principal) -> None:
    """Only a distributor user holding the partner admin capability manages users."""
    if actor.role != Role.DISTRIBUTOR or not has_capability(
        session, user_id=actor.user_id, capability=Capability.PARTNER_ADMIN
    ):
        raise PermissionDenied("Only a partner admin of your organisation may manage its users.")


def list_partner_users(session: Session, *, actor: Principal) -> list[PartnerUser]:
    """The actor's organisation's users, active first, by name."""
    if actor.role != Role.DISTRIBUTOR:
        raise PermissionDenied("This list is for distributor partners.")
    admins = set(session.scalars(_admin_ids()))
    users = session.scalars(
        select(User)
        .where(User.org_id == actor.org_id)
        .order_by(User.is_active.desc(), User.full_name, User.id)
    )
    return [PartnerUser(user, user.id in admins) for user in users]


def invite_user(
    session: Session, *, actor: Principal, email: str, full_name: str, make_admin: bool = False
) -> Invitation:
    """Create a colleague's account with a generated initial password (shown once)."""
    require_partner_admin(session, actor)
    password = secrets.token_urlsafe(INITIAL_PASSWORD_BYTES)
    try:
        data = UserCreate(
            org_id=actor.org_id,
            email=email,
            full_name=full_name,
            role=Role.DISTRIBUTOR,
            password=password,
        )
    except ValueError as exc:  # pydantic's ValidationError: a bad e-mail or an empty name
        raise InvalidInput(
            "Enter the colleague's full name and a valid e-mail address.", field="email"
        ) from exc
    user = create_user(session, actor=actor, data=data)
    if make_admin:
        _set_admin(session, actor, user, admin=True)
    return Invitation(user, password)


def set_user_active(session: Session, *, actor: Principal, user_id: int, active: bool) -> User:
    """Deactivate (their sessions end at once) or reactivate a colleague."""
    # another organisation's user is not found, whoever asks; then only admins may act
    user = _colleague(session, actor, user_id)
    require_partner_admin(session, actor)
    _lock_org(session, actor.org_id)
    if user.is_active == active:
        return user
    if not active:
        if user.id == actor.user_id:
            raise Conflict("You cannot deactivate yourself; ask another partner admin.")
        _keep_an_admin(session, actor, user)
    return apply_user_update(session, actor=actor, user=user, data=UserUpdate(is_active=active))


def set_partner_admin(session: Session, *, actor: Principal, user_id: int, admin: bool) -> User:
    """Make a colleague a partner admin, or take it away (never from the last one)."""
    user = _colleague(session, actor, user_id)
    require_partner_admin(session, actor)
    _lock_org(session, actor.org_id)
    if admin and not user.is_active:
        raise Conflict("Reactivate this user before making them a partner admin.")
    if not admin:
        _keep_an_admin(session, actor, user)
    _set_admin(session, actor, user, admin=admin)
    return user


def _set_admin(session: Session, actor: Principal, user: User, *, admin: bool) -> None:
    held = Capability.PARTNER_ADMIN in capabilities_of(session, user_id=user.id)
    if held == admin:
        return
    if admin:
        grant(session, user_id=user.id, capability=Capability.PARTNER_ADMIN)
    else:
        revoke(session, user_id=user.id, capability=Capability.PARTNER_ADMIN)
    record_change(
        session,
        actor=actor,
        action=CREATE if admin else DELETE,
        entity="user_capabilities",
        entity_id=f"{user.id},{Capability.PARTNER_ADMIN.value}",
        before=None if admin else {"capability": Capability.PARTNER_ADMIN.value},
        after={"capability": Capability.PARTNER_ADMIN.value} if admin else None,
    )


def _colleague(session: Session, actor: Principal, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.org_id != actor.org_id:
        raise NotFound(f"No user {user_id} in your organisation.", entity="users")
    return user


def _keep_an_admin(session: Session, actor: Principal, leaving: User) -> None:
    """Refuse when `leaving` is the organisation's only active partner admin."""
    if not has_capability(session, user_id=leaving.id, capability=Capability.PARTNER_ADMIN):
        return
    others = session.scalar(
        select(User.id)
        .where(User.org_id == actor.org_id, User.is_active, User.id != leaving.id)
        .where(User.id.in_(_admin_ids()))
        .limit(1)
    )
    if others is None:
        raise Conflict(
            "This is the last partner admin of your organisation; make someone else a "
            "partner admin first.",
            code="last_partner_admin",
        )


def _admin_ids() -> Select[int]:
    return select(UserCapability.user_id).where(
        UserCapability.capability == Capability.PARTNER_ADMIN
    )


def _lock_org(session: Session, org_id: int) -> None:
    # two admins demoting each other at once must not leave the organisation without one
    session.execute(select(Organization.id).where(Organization.id == org_id).with_for_update())
