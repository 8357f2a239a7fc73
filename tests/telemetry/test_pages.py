"""Staff telemetry pages: roles, device list and provisioning, device page, SSE, dead letters."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from sqlalchemy.orm import Session

import telemetry.views.asset
from core.auth.roles import Role
from core.db import utcnow
from telemetry.models import Device
from telemetry.web import session_opener
from tests.fieldcrm.conftest import Browser
from tests.telemetry.rule_factories import Reporting, make_reporting_asset
from tests.telemetry.view_factories import (
    add_alert,
    add_dead_letter,
    add_health,
    add_reading,
    add_rollup,
    app_of,
    log_in_as,
    make_asset_without_device,
)

HTMX = {"HX-Request": "true"}
PAGES = ("/staff/devices", "/staff/dead-letters")


def _stream_sessions_in_test(browser: Browser, db: Session) -> None:
    # The live stream opens sessions of its own: give it the test's rolled-back session.
    app_of(browser).dependency_overrides[session_opener] = lambda: lambda: nullcontext(db)


def _reporting_with_data(db: Session) -> Reporting:
    r = make_reporting_asset(db)
    now = utcnow().replace(second=0, microsecond=0)
    add_rollup(db, device_id=r.device.id, position=0, bucket=now, values=[118.25])
    add_reading(db, device_id=r.device.id, ts=now, values=[118.25])
    return r


def _htmx_token(browser: Browser, path: str) -> dict[str, str]:
    return {**HTMX, "X-CSRF-Token": browser.csrf_token(path)}


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.DISTRIBUTOR, Role.ENGINEER])
def test_staff_pages_refuse_other_roles(browser: Browser, db: Session, role: Role) -> None:
    r = make_reporting_asset(db)
    log_in_as(browser, db, role, org=r.owner if role == Role.CUSTOMER else None)
    _stream_sessions_in_test(browser, db)
    for path in (*PAGES, f"/staff/assets/{r.asset.id}", f"/staff/assets/{r.asset.id}/live"):
        assert browser.get(path).status_code == 403, path
        assert browser.get(path, headers=HTMX).status_code == 403, path


def test_staff_pages_send_anonymous_visitors_to_login(browser: Browser) -> None:
    for path in PAGES:
        response = browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_device_list_shows_health_last_seen_and_alerts(
    browser: Browser,
    db: Session,
    headers: dict[str, str],
) -> None:
    r = _reporting_with_data(db)
    add_health(db, r, score=91)
    add_alert(db, r)
    log_in_as(browser, db, Role.DISPATCHER)

    page = browser.get("/staff/devices", headers=headers)

    assert page.status_code == 200
    assert r.asset.serial in page.text
    assert 'class="health health-good"' in page.text
    assert "1 open alert" in page.text
    assert r.device.key in page.text
    assert 'href="/staff/devices"' in page.text  # the nav entry


def test_provisioning_shows_the_secret_once(
    browser: Browser,
    db: Session,
    broker_syncs: list[int],
) -> None:
    r = make_asset_without_device(db)
    log_in_as(browser, db, Role.ADMIN)

    response = browser.post(
        "/staff/devices",
        data={"asset_id": str(r.asset.id)},
        headers=_htmx_token(browser, "/staff/devices"),
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "<html" not in response.text  # only the device list block
    device = db.query(Device).filter_by(asset_id=r.asset.id).one()
    secret = response.text.split('id="device-secret"')[1].split('value="')[1].split('"')[0]
    assert len(secret) >= 24
    assert secret not in device.secret_hash
    assert f"fleet/{device.key}/telemetry" in response.text
    assert broker_syncs == [1]
    assert secret not in browser.get("/staff/devices").text


def test_provisioning_without_htmx_renders_the_whole_page(
    browser: Browser,
    db: Session,
    broker_syncs: list[int],
) -> None:
    r = make_asset_without_device(db)
    log_in_as(browser, db, Role.ADMIN)
    token = browser.csrf_token("/staff/devices")
    response = browser.post(
        "/staff/devices", data={"asset_id": str(r.asset.id), "csrf_token": token}
    )
    assert response.status_code == 200
    assert "<html" in response.text
    assert "shown only this once" in response.text


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_device_page_shows_values_charts_health_and_alerts(
    browser: Browser,
    db: Session,
    headers: dict[str, str],
) -> None:
    r = _reporting_with_data(db)
    add_health(db, r, score=62)
    add_alert(db, r)
    log_in_as(browser, db, Role.ADMIN)

    page = browser.get(f"/staff/assets/{r.asset.id}", headers=headers)

    assert page.status_code == 200
    assert "118.25" in page.text
    assert 'data-metric="pressure"' in page.text
    assert f'data-live-url="/staff/assets/{r.asset.id}/live"' in page.text
    assert f'data-url="/api/telemetry/assets/{r.asset.id}/series?metric=pressure&amp;' in page.text
    assert "Pressure zone" in page.text  # why the score is 62
    assert "Acknowledge" in page.text
    assert "hx-confirm=" in page.text  # revoke asks first
    assert "<script>" not in page.text  # behaviour lives in static files (CSP)


def test_device_page_of_a_missing_asset_is_404(browser: Browser, db: Session) -> None:
    log_in_as(browser, db, Role.ADMIN)
    assert browser.get("/staff/assets/999999999").status_code == 404


def test_acknowledge_and_clear_swap_the_alerts_in_place(
    browser: Browser,
    db: Session,
) -> None:
    r = _reporting_with_data(db)
    alert = add_alert(db, r)
    log_in_as(browser, db, Role.DISPATCHER)
    page = f"/staff/assets/{r.asset.id}"

    acked = browser.post(
        f"/staff/alerts/{alert.id}/acknowledge", headers=_htmx_token(browser, page)
    )
    assert acked.status_code == 200
    assert acked.text.lstrip().startswith('<section id="alerts"')
    assert "acknowledged" in acked.text

    cleared = browser.post(
        f"/staff/alerts/{alert.id}/clear",
        data={"reason": "valve replaced"},
        headers=_htmx_token(browser, page),
    )
    assert "No active alerts." in cleared.text
    assert "Recently cleared" in cleared.text


def test_acknowledge_without_htmx_goes_back_to_the_page(
    browser: Browser,
    db: Session,
) -> None:
    r = _reporting_with_data(db)
    alert = add_alert(db, r)
    log_in_as(browser, db, Role.ADMIN)
    page = f"/staff/assets/{r.asset.id}"
    response = browser.post(
        f"/staff/alerts/{alert.id}/acknowledge", data={"csrf_token": browser.csrf_token(page)}
    )
    assert response.status_code == 303
    assert response.headers["location"] == page


def test_revoke_from_the_device_page(
    browser: Browser,
    db: Session,
    broker_syncs: list[int],
) -> None:
    r = _reporting_with_data(db)
    log_in_as(browser, db, Role.ADMIN)

    response = browser.post(
        f"/staff/devices/{r.device.id}/revoke",
        headers=_htmx_token(browser, f"/staff/assets/{r.asset.id}"),
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="device_summary"')
    assert "revoked" in response.text
    assert "Provision a device" in response.text
    db.refresh(r.device)
    assert r.device.status == "revoked"
    assert broker_syncs == [1]


def test_live_values_stream_emits_the_latest_values(
    browser: Browser,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = _reporting_with_data(db)
    log_in_as(browser, db, Role.DISPATCHER)
    _stream_sessions_in_test(browser, db)
    # The test client reads a response to its end: let the stream end after two events.
    monkeypatch.setattr(telemetry.views.asset, "LIVE_TICKS", 2)
    monkeypatch.setattr(telemetry.views.asset, "LIVE_INTERVAL_SECONDS", 0.01)

    with browser.stream("GET", f"/staff/assets/{r.asset.id}/live") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        first = next(response.iter_text())

    assert "event: latest" in first
    assert '"key": "pressure", "value": 118.25' in first


def test_live_values_of_a_missing_asset_are_404(browser: Browser, db: Session) -> None:
    log_in_as(browser, db, Role.ADMIN)
    _stream_sessions_in_test(browser, db)
    assert browser.get("/staff/assets/999999999/live").status_code == 404


@pytest.mark.parametrize(
    "headers", [{}, {**HTMX, "HX-Target": "dead_letter_list"}], ids=["page", "htmx"]
)
def test_dead_letters_page_filters_and_escapes_payloads(
    browser: Browser,
    db: Session,
    headers: dict[str, str],
) -> None:
    add_dead_letter(
        db, reason="malformed_json", device_key="dev-page-1", payload=b"<script>alert(1)</script>"
    )
    add_dead_letter(db, reason="unknown_metric", device_key="dev-page-1")
    add_dead_letter(db, reason="malformed_json", device_key="dev-page-2")
    log_in_as(browser, db, Role.ADMIN)

    page = browser.get(
        "/staff/dead-letters",
        params={"device": "dev-page-1", "reason": "malformed_json"},
        headers=headers,
    )

    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert "refused: malformed_json" in page.text
    assert "refused: unknown_metric" not in page.text  # filtered by reason
    assert ("<html" in page.text) == (not headers)
