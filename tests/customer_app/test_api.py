"""The device page's chart data: rollups only, bucketed for the window, my devices only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import utcnow
from tests.customer_app.factories import log_in_customer, make_customer
from tests.fieldcrm.conftest import Browser
from tests.telemetry.view_factories import add_rollup


def test_ninety_day_series_reads_the_hourly_rollup_in_six_hour_buckets(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    device_id = customer.device.device.id
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    # one hourly bucket every 6 h for 89 days: 356 buckets of the 90-day window
    hours = [now - timedelta(hours=6 * i + 6) for i in range(356)]
    for i, bucket in enumerate(hours):
        add_rollup(
            db, device_id=device_id, position=0, bucket=bucket, values=[i, i + 2.0], hourly=True
        )
    # a raw reading far outside the rollup values: it must not be read
    db.execute(
        text("INSERT INTO readings (device_id, ts, seq, values) VALUES (:d, :ts, 1, :v)"),
        {"d": device_id, "ts": now - timedelta(days=3), "v": [9999.0]},
    )
    log_in_customer(browser, customer)
    response = browser.get(
        f"/api/customer/devices/{customer.asset_id}/series",
        params={"metric": "pressure", "window": "90d"},
    )
    assert response.status_code == 200, response.text
    series = response.json()
    assert series["source"] == "readings_1h"
    assert series["bucket_seconds"] == 6 * 3600
    assert len(series["t"]) == 356
    assert max(series["high"]) == 355 + 2.0
    assert series["t"] == sorted(series["t"])
    # the 6-hour bucket of the oldest hourly rollup holds its average (355 + 357) / 2
    assert series["avg"][0] == 356.0


def test_short_window_reads_the_minute_rollup(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    now = utcnow().replace(second=0, microsecond=0)
    for minutes in (5, 4, 3):
        add_rollup(
            db,
            device_id=customer.device.device.id,
            position=0,
            bucket=now - timedelta(minutes=minutes),
            values=[50.0, 52.0],
        )
    log_in_customer(browser, customer)
    series = browser.get(
        f"/api/customer/devices/{customer.asset_id}/series",
        params={"metric": "pressure", "window": "1h"},
    ).json()
    assert series["source"] == "readings_1m"
    assert series["bucket_seconds"] == 60
    assert series["avg"] == [51.0, 51.0, 51.0]


def test_unknown_window_is_refused_with_the_choices(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    response = browser.get(
        f"/api/customer/devices/{customer.asset_id}/series",
        params={"metric": "pressure", "window": "2y"},
    )
    assert response.status_code == 422
    assert "1h, 6h, 24h, 7d, 30d, 90d" in response.json()["error"]["message"]


def test_health_history_is_bucketed(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    now = utcnow()
    for minutes, score in ((50, 90), (40, 80), (30, 70)):
        db.execute(
            text(
                "INSERT INTO health_scores (asset_id, ts, score, contributors)"
                " VALUES (:a, :ts, :s, '[]')"
            ),
            {"a": customer.asset_id, "ts": now - timedelta(minutes=minutes), "s": score},
        )
    log_in_customer(browser, customer)
    history = browser.get(
        f"/api/customer/devices/{customer.asset_id}/health", params={"window": "1h"}
    ).json()
    assert history["bucket_seconds"] == 60
    assert history["avg"] == [90.0, 80.0, 70.0]
