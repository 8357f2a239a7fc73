"""Users: creation, role and status changes, passwords and logging in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.passwords import MIN_PASSWORD_LENGTH, dummy_hash, hash_password, verify_password
from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Role
from core.auth.sessions import (
    check_login_allowed,
    clear_login_failures,
    record_login_failure,
    revoke_user_sessions,
)
from core.config import get_settings
from core.db import utcnow
from core.errors import Conflict, InvalidInput, PermissionDenied
from crm.audit import LOGIN, UPDATE, record_change, snapshot
from crm.models import OrgKind, User
from crm.schemas import UserCreate, UserUpdate
from crm.service._access import (
    ROLES_OF_ORG_KIND,
    add_audited,
    get_organization,
    get_record,
    require_staff,
)

# Never the password hash: the audit log is readable by more people than the users table.
USER_FIELDS = ("id", "org_id", "email", "full_name", "role", "is_active")
CREDENTIALS_SET = "set_password"


def create_user(session: Session, *, actor: Principal, data: UserCreate) -> User:
    """Add a user; non-staff may only add colleagues with their own role. A password chosen by
    a person other than the user must be changed at the user's first login (the system's
    accounts, the demo's and an invitee's own choice, need not)."""
    if not actor.is_staff and (
        data.org_id != actor.org_id or data.role != actor.role or actor.role == Role.ENGINEER
    ):
        raise PermissionDenied("Only staff may create users in other organizations or roles.")
    _require_role_fits_org(session, org_id=data.org_id, role=data.role)
    if session.scalar(select(User.id).where(User.email == data.email)) is not None:
        raise Conflict("A user with this e-mail already exists.", code="email_taken", field="email")
    user = User(
        org_id=data.org_id,
        email=data.email,
        full_name=data.full_name,
        role=data.role.value,
        password_hash=hash_password(data.password),
        is_active=True,
        must_change_password=actor != SYSTEM,
    )
    return add_audited(session, actor=actor, record=user, fields=USER_FIELDS)


def update_user(session: Session, *, actor: Principal, user_id: int, data: UserUpdate) -> User:
    """Rename, change role or (de)activate; a new role or deactivation ends their sessions."""
    user = get_record(session, User, user_id)
    if data.role is not None or data.is_active is not None:
        require_staff(actor, to="change roles or deactivate users")
    elif not actor.is_staff and actor.user_id != user_id:
        raise PermissionDenied("You may only change your own profile.")
    return apply_user_update(session, actor=actor, user=user, data=data)


def apply_user_update(session: Session, *, actor: Principal, user: User, data: UserUpdate) -> User:
    """Make an update the caller has allowed: a new role or deactivation ends the user's
    sessions at once; audited. (Partner admins deactivate colleagues through this too.)"""
    before = snapshot(user, USER_FIELDS)
    if data.role is not None:
        _require_role_fits_org(session, org_id=user.org_id, role=data.role)
        user.role = data.role.value
    if data.is_active is not None:
        user.is_active = data.is_active
    if data.full_name is not None:
        user.full_name = data.full_name
    session.flush()
    if user.role != before["role"] or (before["is_active"] and not user.is_active):
        revoke_user_sessions(session, user_id=user.id)
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=User.__tablename__,
        entity_id=user.id,
        before=before,
        after=snapshot(user, USER_FIELDS),
    )
    return user


def set_password(session: Session, *, actor: Principal, user_id: int, password: str) -> None:
    """Replace a user's password (their own, or anyone's for staff) and end their sessions;
    one that staff chose for someone else must be changed at that user's next login."""
    if not actor.is_staff and actor.user_id != user_id:
        raise PermissionDenied("You may only change your own password.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    user = get_record(session, User, user_id)
    user.password_hash = hash_password(password)
    user.must_change_password = actor.user_id != user.id
    session.flush()
    revoke_user_sessions(session, user_id=user.id)
    record_change(
        session,
        actor=actor,
        action=CREDENTIALS_SET,
        entity=User.__tablename__,
        entity_id=user.id,
        before=None,
        after={"password": "changed"},
    )


def authenticate(session: Session, *, email: str, password: str, client: str) -> Principal:
    """The principal for a correct e-mail and password; failures are recorded and throttled.

    The failure row is flushed before PermissionDenied is raised: the caller must commit
    it (not roll back) or the throttle never sees it.
    """
    email = email.strip().lower()
    throttle_login(session, email=email, client=client)
    user = session.scalar(select(User).where(User.email == email))
    # Verify even for an unknown e-mail so the response time does not reveal which exist.
    valid, new_hash = verify_password(password, user.password_hash if user else dummy_hash())
    if user is None or not valid or not user.is_active:
        record_login_failure(session, email=email, client=client)
        raise PermissionDenied("Wrong e-mail or password.", code="invalid_credentials")
    if new_hash is not None:
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    clear_login_failures(session, email=email)
    session.flush()
    principal = principal_of(user)
    record_change(
        session,
        actor=principal,
        action=LOGIN,
        entity=User.__tablename__,
        entity_id=user.id,
        before=None,
        after={"client": client},
    )
    return principal


def throttle_login(
    session: Session, *, email: str, client: str, what: str = "failed logins"
) -> None:
    """Refuse (TooManyAttempts) a guess at a user's password or code that comes too soon
    after failures of the e-mail or the client (FIELDCRM_LOGIN_MAX_FAILURES free ones)."""
    settings = get_settings()
    check_login_allowed(
        session,
        email=email,
        client=client,
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_window_minutes),
        what=what,
    )


def principal_of(user: User) -> Principal:
    """The principal a user acts as (jobs and the demo seed act for real users too)."""
    return Principal(
        user_id=user.id,
        org_id=user.org_id,
        role=Role(user.role),
        name=user.full_name,
        email=user.email,
    )


def _require_role_fits_org(session: Session, *, org_id: int, role: Role) -> None:
    kind = OrgKind(get_organization(session, org_id).kind)
    if role not in ROLES_OF_ORG_KIND[kind]:
        raise InvalidInput(
            f"A {kind.value} organization cannot have {role.value} users.", field="role"
        )
