"""The request's database session commits before the response is sent: a browser following a
303 must find what the POST wrote (a fresh login once bounced back to /login, seen in CI)."""

from __future__ import annotations

from typing import get_args

from fastapi.params import Depends

from core.db import SessionDep, get_session


def test_the_request_session_ends_before_the_response_is_sent() -> None:
    dependency = next(a for a in get_args(SessionDep) if isinstance(a, Depends))
    assert dependency.dependency is get_session
    # FastAPI's default for a yield dependency ("request") ends it after the response
    assert dependency.scope == "function"
