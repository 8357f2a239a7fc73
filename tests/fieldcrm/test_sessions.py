"""Server-side sessions: expiry, purge, revocation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.models import LoginFailure, WebSession
from core.auth.sessions import create_session, purge_expired, record_login_failure, resolve_session
from core.config import get_settings
from core.db import utcnow
from tests.crm.factories import make_user, principal_of


def test_expired_session_no_longer_resolves_and_is_purged(db: Session) -> None:
    principal = principal_of(make_user(db))
    live = create_session(db, principal=principal, max_age=timedelta(hours=1))
    dead = create_session(db, principal=principal, max_age=timedelta(seconds=-1))
    assert resolve_session(db, token=live) == principal
    assert resolve_session(db, token=dead) is None
    assert purge_expired(db) == 1
    assert db.scalar(select(func.count()).select_from(WebSession)) == 1


def test_a_session_left_idle_ends_though_it_has_not_expired(db: Session) -> None:
    principal = principal_of(make_user(db))
    token = create_session(db, principal=principal, max_age=timedelta(hours=12))
    row = db.scalars(select(WebSession)).one()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    row.last_seen_at = utcnow() - idle + timedelta(minutes=1)
    assert resolve_session(db, token=token) == principal  # used within the limit
    row.last_seen_at = utcnow() - idle - timedelta(minutes=1)
    db.flush()
    assert resolve_session(db, token=token) is None
    assert purge_expired(db) == 1


def test_purge_drops_only_day_old_login_failures(db: Session) -> None:
    record_login_failure(db, email="a@example.test", client="127.0.0.1")
    old = LoginFailure(
        email="b@example.test", client="127.0.0.1", failed_at=utcnow() - timedelta(days=2)
    )
    db.add(old)
    db.flush()
    purge_expired(db)
    assert db.scalars(select(LoginFailure.email)).all() == ["a@example.test"]


def test_session_token_is_not_stored_in_clear(db: Session) -> None:
    token = create_session(db, principal=principal_of(make_user(db)), max_age=timedelta(hours=1))
    stored = db.scalars(select(WebSession.token_hash)).all()
    assert token not in stored
    assert len(stored) == 1
