"""How each person reads dates, times and numbers: their own time zone and locale, else their
organization's, else the installation's (core/formatting.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import NotFound
from core.formatting import Reader, resolve_reader
from crm.models import Organization, User


def reader_of_principal(session: Session, principal: Principal) -> Reader:
    """The reader of a logged-in user, in one query (the web edge calls it per request)."""
    return reader_of_user(session, user_id=principal.user_id, org_id=principal.org_id)


def reader_of_user(session: Session, *, user_id: int, org_id: int) -> Reader:
    """A user's zone and locale, falling back to their organization's, then the default."""
    row = session.execute(
        select(User.time_zone, User.locale, Organization.time_zone, Organization.locale)
        .select_from(Organization)
        .outerjoin(User, (User.id == user_id) & (User.org_id == Organization.id))
        .where(Organization.id == org_id)
    ).first()
    if row is None:
        return resolve_reader()
    user_zone, user_locale, org_zone, org_locale = row
    return resolve_reader((user_zone, user_locale), (org_zone, org_locale))


def reader_of_org(session: Session, *, org_id: int) -> Reader:
    """How an organization reads (the recipient of a document: a statement, a quote, a report)."""
    row = session.execute(
        select(Organization.time_zone, Organization.locale).where(Organization.id == org_id)
    ).first()
    return resolve_reader() if row is None else resolve_reader((row[0], row[1]))


def own_preferences(session: Session, *, principal: Principal) -> tuple[str | None, str | None]:
    """The (time zone, locale) a user chose for themselves; None where they follow the
    organization."""
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.", entity="user")
    return user.time_zone, user.locale


def set_own_preferences(
    session: Session, *, principal: Principal, time_zone: str | None, locale: str | None
) -> None:
    """Set the user's own zone and locale (None: follow the organization); the caller
    validated both against core.formatting's lists."""
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.", entity="user")
    user.time_zone = time_zone
    user.locale = locale
    session.flush()
