"""Read models of the telemetry pages: latest values, chart series, device list, dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import InvalidInput, NotFound
from crm.models import OrgKind
from crm.schemas import MetricDefinitionCreate
from telemetry.queries.dead_letters import counts_by_device, counts_by_reason, dead_letters
from telemetry.queries.devices import device_overview
from telemetry.queries.latest import latest_values
from telemetry.queries.series import MAX_POINTS, chart_series, choose_buckets
from tests.crm.factories import make_org, make_user, principal_of
from tests.telemetry.rule_factories import PRESSURE, Reporting, make_reporting_asset
from tests.telemetry.view_factories import (
    add_alert,
    add_dead_letter,
    add_health,
    add_reading,
    add_rollup,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TEMPERATURE = MetricDefinitionCreate(
    key="oil_temp", label="Oil temperature", unit="°C", min_value=-40, max_value=200, warn_high=95
)


def staff(db: Session) -> Principal:
    return principal_of(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER)))


def customer_of(db: Session, r: Reporting) -> Principal:
    return principal_of(make_user(db, org=r.owner, role=Role.CUSTOMER))


def test_latest_values_take_the_newest_minute_bucket_of_each_metric(db: Session) -> None:
    r = make_reporting_asset(db, metrics=(PRESSURE, TEMPERATURE))
    add_rollup(
        db, device_id=r.device.id, position=0, bucket=NOW - timedelta(minutes=5), values=[90]
    )
    add_rollup(db, device_id=r.device.id, position=0, bucket=NOW, values=[100, 130])
    add_rollup(
        db, device_id=r.device.id, position=1, bucket=NOW - timedelta(minutes=3), values=[97]
    )
    add_reading(db, device_id=r.device.id, ts=NOW + timedelta(seconds=59), values=[130, None])

    latest = latest_values(db, principal=customer_of(db, r), asset_id=r.asset.id)

    by_key = {v.key: v for v in latest.values}
    assert by_key["pressure"].value == 130
    assert by_key["pressure"].zone == "warning"  # above warn_high 120
    assert by_key["oil_temp"].value == 97
    assert by_key["oil_temp"].unit == "°C"
    assert by_key["oil_temp"].ts == NOW - timedelta(minutes=3) + timedelta(seconds=59)
    assert latest.last_seen == NOW + timedelta(seconds=59)


def test_a_metric_never_reported_has_no_value(db: Session) -> None:
    r = make_reporting_asset(db)
    latest = latest_values(db, principal=staff(db), asset_id=r.asset.id)
    assert [(v.key, v.value, v.zone) for v in latest.values] == [("pressure", None, "none")]
    assert latest.last_seen is None


def test_another_tenants_asset_is_not_found(db: Session) -> None:
    mine, theirs = make_reporting_asset(db), make_reporting_asset(db)
    me = customer_of(db, mine)
    with pytest.raises(NotFound):
        latest_values(db, principal=me, asset_id=theirs.asset.id)
    with pytest.raises(NotFound):
        chart_series(
            db,
            principal=me,
            asset_id=theirs.asset.id,
            metric_key="pressure",
            start=NOW - timedelta(hours=1),
            end=NOW,
        )


@pytest.mark.parametrize(
    ("window", "source", "width"),
    [
        (timedelta(hours=1), "readings_1m", timedelta(minutes=1)),
        (timedelta(hours=6), "readings_1m", timedelta(minutes=1)),
        (timedelta(hours=24), "readings_1m", timedelta(minutes=5)),
        (timedelta(days=2), "readings_1m", timedelta(minutes=10)),
        (timedelta(days=7), "readings_1h", timedelta(hours=1)),
        (timedelta(days=30), "readings_1h", timedelta(hours=2)),
        (timedelta(days=365), "readings_1h", timedelta(days=1)),
    ],
)
def test_bucket_width_keeps_a_chart_under_500_points(
    window: timedelta, source: str, width: timedelta
) -> None:
    choice = choose_buckets(NOW - window, NOW)
    assert (choice.source, choice.width) == (source, width)
    assert window / choice.width <= MAX_POINTS


def test_a_day_merges_minute_buckets_into_five_minute_points(db: Session) -> None:
    r = make_reporting_asset(db)
    start = NOW - timedelta(minutes=10)
    for minute in range(10):
        add_rollup(
            db,
            device_id=r.device.id,
            position=0,
            bucket=start + timedelta(minutes=minute),
            values=[minute, minute + 10],
        )

    series = chart_series(
        db,
        principal=customer_of(db, r),
        asset_id=r.asset.id,
        metric_key="pressure",
        start=NOW - timedelta(hours=24),
        end=NOW,
    )

    assert (series.source, series.bucket_seconds) == ("readings_1m", 300)
    assert series.t == [start.timestamp(), (start + timedelta(minutes=5)).timestamp()]
    assert series.avg == [7.0, 12.0]  # sum(total) / sum(n) over minutes 0-4 and 5-9
    assert series.low == [0.0, 5.0]
    assert series.high == [14.0, 19.0]


def test_a_week_reads_the_hour_rollup(db: Session) -> None:
    r = make_reporting_asset(db)
    add_rollup(db, device_id=r.device.id, position=0, bucket=NOW - timedelta(hours=3), values=[50])
    add_rollup(
        db,
        device_id=r.device.id,
        position=0,
        bucket=NOW - timedelta(hours=3),
        values=[80],
        hourly=True,
    )

    series = chart_series(
        db,
        principal=staff(db),
        asset_id=r.asset.id,
        metric_key="pressure",
        start=NOW - timedelta(days=7),
        end=NOW,
    )

    assert (series.source, series.bucket_seconds) == ("readings_1h", 3600)
    assert series.avg == [80.0]


def test_unknown_metric_and_backwards_window_are_refused(db: Session) -> None:
    r = make_reporting_asset(db)
    with pytest.raises(NotFound):
        chart_series(
            db,
            principal=staff(db),
            asset_id=r.asset.id,
            metric_key="x",
            start=NOW,
            end=NOW + timedelta(hours=1),
        )
    with pytest.raises(InvalidInput):
        chart_series(
            db, principal=staff(db), asset_id=r.asset.id, metric_key="pressure", start=NOW, end=NOW
        )


def test_device_list_shows_device_health_last_seen_and_open_alerts(db: Session) -> None:
    r = make_reporting_asset(db)
    add_reading(db, device_id=r.device.id, ts=NOW, values=[100])
    add_health(db, r, score=62)
    add_alert(db, r)
    add_alert(db, r, status="cleared")
    silent = make_reporting_asset(db, owner=r.owner)

    rows = {row.asset_id: row for row in device_overview(db, principal=customer_of(db, r))}

    assert set(rows) == {r.asset.id, silent.asset.id}
    row = rows[r.asset.id]
    assert (row.device_key, row.device_status, row.last_seen) == (r.device.key, "active", NOW)
    assert (row.health_score, row.health_band, row.open_alerts) == (62, "fair", 1)
    assert (rows[silent.asset.id].last_seen, rows[silent.asset.id].health_band) == (None, "unknown")


def test_device_list_leaves_out_other_tenants(db: Session) -> None:
    mine, theirs = make_reporting_asset(db), make_reporting_asset(db)
    ids = {row.asset_id for row in device_overview(db, principal=customer_of(db, mine))}
    assert mine.asset.id in ids
    assert theirs.asset.id not in ids


def test_dead_letters_filter_by_device_and_reason_with_counts(db: Session) -> None:
    add_dead_letter(db, reason="malformed_json", device_key="dev-q-aaa", payload=b"{not json")
    add_dead_letter(db, reason="malformed_json", device_key="dev-q-bbb")
    add_dead_letter(db, reason="unknown_metric", device_key="dev-q-aaa")
    add_dead_letter(db, reason="bad_topic", device_key=None)

    assert [d.reason for d in dead_letters(db, device_key="dev-q-aaa")] == [
        "unknown_metric",
        "malformed_json",
    ]
    only = dead_letters(db, device_key="dev-q-aaa", reason="malformed_json")
    assert [(d.device_key, d.payload_preview) for d in only] == [("dev-q-aaa", "{not json")]
    # other tests' ingest processes commit dead letters too: compare what this test added
    assert counts_by_reason(db).items() >= {"malformed_json": 2, "unknown_metric": 1}.items()
    assert counts_by_reason(db, device_key="dev-q-aaa") == {
        "malformed_json": 1,
        "unknown_metric": 1,
    }
    assert (
        counts_by_device(db, reason="malformed_json").items()
        >= {"dev-q-aaa": 1, "dev-q-bbb": 1}.items()
    )
    assert counts_by_device(db, reason="bad_topic")[None] >= 1


def test_dead_letter_payload_preview_is_text_cut_to_a_preview(db: Session) -> None:
    add_dead_letter(db, reason="oversize", device_key="dev-big", payload=b"\xff" + b"x" * 1000)
    (letter,) = dead_letters(db, device_key="dev-big")
    assert letter.payload_preview.startswith("\ufffdxxx")
    assert len(letter.payload_preview) == 400
    assert letter.truncated
