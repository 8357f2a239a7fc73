"""Failed logins are counted atomically and slowed progressively (issue 13, finding 8)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session, sessionmaker

from core.auth.models import LoginFailure
from core.auth.sessions import FIRST_LOGIN_DELAY
from core.config import get_settings
from core.errors import PermissionDenied, TooManyAttempts
from crm import service

PARALLEL = 12


def test_parallel_wrong_passwords_get_at_most_the_free_guesses(db_engine: Engine) -> None:
    email = f"target-{uuid.uuid4().hex[:8]}@example.com"
    client = f"203.0.113.{uuid.uuid4().int % 250}"
    sessions = sessionmaker(bind=db_engine)
    start = threading.Barrier(PARALLEL)
    outcomes: list[str] = []

    def guess(n: int) -> None:
        with sessions() as session:
            start.wait()
            try:
                service.authenticate(session, email=email, password=f"guess-{n}", client=client)
            except PermissionDenied:
                outcomes.append("checked")
            except TooManyAttempts:
                outcomes.append("refused")
            session.commit()  # as the login page does: the failure must count

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(PARALLEL)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(outcomes) == PARALLEL
        assert outcomes.count("checked") == get_settings().login_max_failures, outcomes
    finally:
        with sessions.begin() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.email == email))


def test_the_wait_grows_with_each_failure_instead_of_a_hard_lock(db: Session) -> None:
    email, client = "owner@example.com", "198.51.100.7"
    for _ in range(get_settings().login_max_failures):
        with pytest.raises(PermissionDenied):
            service.authenticate(db, email=email, password="wrong", client=client)
    with pytest.raises(TooManyAttempts) as first:
        service.authenticate(db, email=email, password="wrong", client=client)
    assert 0 < first.value.details["retry_after"] <= FIRST_LOGIN_DELAY.total_seconds()
    assert "seconds" in first.value.message

    def later(by: timedelta) -> None:  # the clock moves on
        db.execute(
            update(LoginFailure)
            .where(LoginFailure.email == email)
            .values(failed_at=LoginFailure.failed_at - by)
        )

    later(FIRST_LOGIN_DELAY + timedelta(seconds=1))
    with pytest.raises(PermissionDenied):  # one more guess is checked after the wait...
        service.authenticate(db, email=email, password="wrong", client=client)
    with pytest.raises(TooManyAttempts) as second:  # ...and the next wait is twice as long
        service.authenticate(db, email=email, password="wrong", client=client)
    assert second.value.details["retry_after"] > FIRST_LOGIN_DELAY.total_seconds()
