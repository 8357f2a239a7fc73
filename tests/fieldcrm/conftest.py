"""A test client of the whole app, bound to the rolled-back test session."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from core.db import get_session
from fieldcrm.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser(TestClient):
    """A TestClient that knows how to fetch the CSRF token and log in like a person."""

    def csrf_token(self, path: str = "/login") -> str:
        match = _CSRF_FIELD.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def log_in(self, email: str, password: str) -> None:
        response = self.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": self.csrf_token()},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text


@pytest.fixture
def browser(db: Session) -> Iterator[Browser]:
    app = create_app()

    def _test_session() -> Iterator[Session]:
        # Like core.db.get_session, but commits only release the test's savepoint.
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = _test_session
    with Browser(app, follow_redirects=False) as client:
        yield client
