"""/metrics needs the scrape token or an administrator, whatever address asks; the API's
description is for people with an account (issue 13, finding 12)."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

import fieldcrm.app
import telemetry.metrics
from core.auth.roles import Role
from core.config import get_settings
from tests.fieldcrm.conftest import Browser
from tests.telemetry.view_factories import log_in_as

TOKEN = "scrape-" + "x" * 32


@pytest.fixture
def scrape_token(monkeypatch: pytest.MonkeyPatch, db: Session) -> str:
    monkeypatch.setattr(get_settings(), "metrics_token", SecretStr(TOKEN))
    for module in (telemetry.metrics, fieldcrm.app):  # their own sessions: the test's one
        monkeypatch.setattr(module, "get_sessionmaker", lambda: lambda: nullcontext(db))
    return TOKEN


def test_a_scraper_with_the_token_reads_metrics_and_others_do_not(
    browser: Browser, scrape_token: str
) -> None:
    assert (
        browser.get("/metrics", headers={"Authorization": f"Bearer {scrape_token}"}).status_code
        == 200
    )
    wrong = browser.get("/metrics", headers={"Authorization": "Bearer guessed"})
    assert wrong.status_code in (303, 401)
    assert browser.get("/metrics").status_code in (303, 401)


def test_only_administrators_read_metrics_with_a_session(
    browser: Browser, db: Session, scrape_token: str
) -> None:
    log_in_as(browser, db, Role.DISPATCHER)
    assert browser.get("/metrics").status_code == 403
    browser.cookies.clear()
    log_in_as(browser, db, Role.ADMIN)
    assert browser.get("/metrics").status_code == 200


def test_the_api_description_is_for_people_with_an_account(browser: Browser, db: Session) -> None:
    assert browser.get("/openapi.json").status_code in (303, 401)
    assert browser.get("/docs").status_code in (303, 401)
    log_in_as(browser, db, Role.CUSTOMER)
    assert browser.get("/openapi.json").json()["info"]["title"] == "fieldcrm"
    assert browser.get("/docs").status_code == 200
