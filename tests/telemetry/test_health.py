"""Health scores explain themselves: ISO 10816 zones, limits, alerts, prediction, service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import NotFound
from crm.models import Asset
from telemetry.health.models import AssetHealth
from telemetry.health.service import current_health, health_series, record_service, refresh_health
from telemetry.health.zones import vibration_zone
from telemetry.rules.engine import evaluate_batch, invalidate_rule_cache
from tests.crm.factories import make_user, principal_of
from tests.telemetry.rule_factories import (
    PRESSURE,
    VIBRATION,
    Reporting,
    make_reporting_asset,
    make_rule,
    readings,
)


@pytest.fixture(autouse=True)
def fresh_rule_cache() -> Iterator[None]:
    invalidate_rule_cache()
    yield
    invalidate_rule_cache()


def latest(db: Session, r: Reporting, metric_key: str, value: float) -> None:
    """A 1-minute rollup as the ingest writes it: the health reads the latest `last`."""
    db.execute(
        text(
            "INSERT INTO readings_1m (device_id, position, bucket, n, total, low, high, last_ts,"
            " last) VALUES (:d, :p, date_trunc('minute', now()), 1, :v, :v, :v, now(), :v)"
        ),
        {"d": r.device.id, "p": r.profile.metrics[metric_key].position, "v": value},
    )


def health_of(db: Session, r: Reporting) -> AssetHealth:
    refresh_health(db, asset_ids=[r.asset.id])
    health = db.get(AssetHealth, r.asset.id, populate_existing=True)
    assert health is not None
    return health


def by_name(health: AssetHealth) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in health.contributors}


@pytest.mark.parametrize(
    ("family", "mm_s", "zone"),
    [
        ("compressor", 1.0, "class II zone A"),
        ("compressor", 7.5, "class II zone D"),
        ("excavator", 7.5, "class III zone C"),
        ("generator", 2.0, "class III zone B"),
        ("chiller", 3.0, "class II zone C"),
    ],
)
def test_vibration_is_judged_by_iso_10816_for_the_family(
    family: str, mm_s: float, zone: str
) -> None:
    assert zone in vibration_zone(mm_s, family)[1]


def test_a_healthy_asset_scores_100(db: Session) -> None:
    r = make_reporting_asset(db, metrics=(PRESSURE, VIBRATION))
    latest(db, r, "pressure", 80)
    latest(db, r, "vibration_rms", 0.8)
    health = health_of(db, r)
    assert health.score == 100
    assert by_name(health)["metric:vibration_rms"]["detail"] == (
        "0.8 mm/s: ISO 10816 class II zone A (newly commissioned)"
    )


def test_score_explains_every_point_lost(db: Session) -> None:
    r = make_reporting_asset(db, metrics=(PRESSURE, VIBRATION))
    make_rule(db, r, kind="threshold")
    evaluate_batch(db, readings(r, [170]), r.profiles())  # one critical alert
    latest(db, r, "pressure", 130)  # between warn 120 and crit 160
    latest(db, r, "vibration_rms", 8.0)  # compressor: class II zone D
    db.execute(
        text("UPDATE assets SET runtime_hours = 2400 WHERE id = :a"), {"a": r.asset.id}
    )  # interval 2000 h for compressors: 120 %, overdue

    health = health_of(db, r)
    parts = by_name(health)
    assert parts["metric:vibration_rms"]["penalty"] == 40.0  # the worst metric carries it
    assert parts["metric:pressure"]["penalty"] == 0.0
    assert parts["active_alerts"]["detail"] == "1 critical"
    assert parts["active_alerts"]["penalty"] == 30.0
    assert parts["service_due"]["penalty"] == 10.0
    assert health.score == 20
    assert 100 - health.score == pytest.approx(sum(c["penalty"] for c in health.contributors))

    record_service(db, asset_id=r.asset.id, runtime_hours=Decimal(2400))
    assert by_name(health_of(db, r))["service_due"]["penalty"] == 0.0


def test_predicted_failure_lowers_the_score(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="trend", severity="warning", params={"sample_seconds": 60})
    start = utcnow() - timedelta(hours=2)
    # 60 -> 160 bar in about three days: a limit crossing predicted ~70 h from now
    values = [60 + i * 100 / (72 * 3600) * 60 for i in range(120)]
    evaluate_batch(db, readings(r, values, start=start, step=60), r.profiles())
    parts = by_name(health_of(db, r))
    assert "predicted limit crossing in" in str(parts["time_to_failure"]["detail"])
    assert 0 < float(parts["time_to_failure"]["penalty"]) < 20  # type: ignore[arg-type]


def test_pages_see_only_visible_assets_and_the_history(db: Session) -> None:
    r = make_reporting_asset(db)
    latest(db, r, "pressure", 80)
    refresh_health(db, asset_ids=[r.asset.id])
    owner = principal_of(make_user(db, org=r.owner))
    stranger = principal_of(make_user(db))
    assert [h.asset_id for h in current_health(db, principal=owner, asset_ids=[r.asset.id])] == [
        r.asset.id
    ]
    assert current_health(db, principal=stranger, asset_ids=[r.asset.id]) == []
    since = utcnow() - timedelta(hours=1)
    assert [
        s.score for s in health_series(db, principal=owner, asset_id=r.asset.id, since=since)
    ] == [100]
    with pytest.raises(NotFound):
        health_series(db, principal=stranger, asset_id=r.asset.id, since=since)
    assert db.get(Asset, r.asset.id) is not None
