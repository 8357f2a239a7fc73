"""Each rule kind opens, escalates and clears alerts; state survives a restart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.errors import InvalidInput
from telemetry.alerts.models import Alert
from telemetry.rules.engine import evaluate_batch, invalidate_rule_cache
from telemetry.rules.models import RuleState
from telemetry.rules.schemas import RuleUpdate
from telemetry.rules.service import list_rules, update_rule
from tests.telemetry.rule_factories import (
    T0,
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


def alerts_of(db: Session, reporting: Reporting) -> list[Alert]:
    query = select(Alert).where(Alert.device_id == reporting.device.id).order_by(Alert.id)
    return list(db.scalars(query))


def run(db: Session, reporting: Reporting, values: list[float], **kwargs: object):  # type: ignore[no-untyped-def]
    outcome = evaluate_batch(db, readings(reporting, values, **kwargs), reporting.profiles())  # type: ignore[arg-type]
    db.expire_all()
    return outcome


def test_threshold_opens_escalates_once_and_clears_past_the_hysteresis(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="threshold")  # limits from the metric: warn 120, major 140, crit 160

    assert run(db, r, [100, 125, 126]).alerts_opened == 1
    outcome = run(db, r, [150, 165], start=T0 + timedelta(seconds=10))
    assert (outcome.alerts_opened, outcome.alerts_escalated) == (0, 1)
    [alert] = alerts_of(db, r)
    assert (alert.severity, alert.status, alert.value) == ("critical", "open", 165)
    assert alert.escalated_at is not None

    # 118 is below warn (120) but inside the hysteresis band (2 % of 0-200 = 4 bar)
    assert run(db, r, [118], start=T0 + timedelta(seconds=20)).alerts_cleared == 0
    assert run(db, r, [110], start=T0 + timedelta(seconds=30)).alerts_cleared == 1
    [alert] = alerts_of(db, r)
    assert (alert.status, alert.clear_reason) == ("cleared", "condition")


def test_threshold_low_side_raises_too(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="threshold")
    run(db, r, [50, 8])
    assert [(a.severity, a.status) for a in alerts_of(db, r)] == [("critical", "open")]


def test_spike_inside_one_batch_opens_and_clears(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="threshold")
    outcome = run(db, r, [100, 170, 100])
    assert (outcome.alerts_opened, outcome.alerts_cleared) == (1, 1)


def test_model_without_rules_gets_the_defaults(db: Session) -> None:
    r = make_reporting_asset(db)
    assert run(db, r, [170]).alerts_opened == 1
    assert {rule.kind for rule in list_rules(db, product_model_id=r.model.id)} == {
        "threshold",
        "trend",
    }


def test_asset_override_replaces_the_model_rule(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="threshold")
    make_rule(db, r, kind="threshold", params={"warn_high": 100, "crit_high": 105}, for_asset=True)
    run(db, r, [106])
    assert [a.severity for a in alerts_of(db, r)] == ["critical"]


def test_disabled_rule_raises_nothing(db: Session) -> None:
    r = make_reporting_asset(db)
    rule = make_rule(db, r, kind="threshold")
    update_rule(db, actor=SYSTEM, rule_id=rule.id, data=RuleUpdate(enabled=False))
    assert run(db, r, [170]).alerts_opened == 0


def test_bad_parameters_are_refused_when_written(db: Session) -> None:
    r = make_reporting_asset(db)
    with pytest.raises(InvalidInput):
        make_rule(db, r, kind="duration", params={"seconds": 60})
    with pytest.raises(InvalidInput):
        make_rule(db, r, kind="anomaly", params={"alpha": "fast"})


def test_duration_state_survives_a_restart(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="duration", severity="major", params={"above": 130, "seconds": 60})
    assert run(db, r, [135] * 31).alerts_opened == 0  # 30 s above
    invalidate_rule_cache()  # a new ingest process: only the database remembers
    assert run(db, r, [135] * 20, start=T0 + timedelta(seconds=31)).alerts_opened == 0
    assert run(db, r, [135] * 10, start=T0 + timedelta(seconds=51)).alerts_opened == 1
    assert run(db, r, [125], start=T0 + timedelta(seconds=61)).alerts_cleared == 1


def test_duration_restarts_when_the_condition_breaks(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="duration", params={"above": 130, "seconds": 60})
    assert run(db, r, [135] * 40 + [120] + [135] * 40).alerts_opened == 0


def test_readings_older_than_the_state_are_skipped(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="duration", params={"above": 130, "seconds": 10})
    run(db, r, [100], start=T0 + timedelta(seconds=100))
    # another ingest process delivers older readings late: they must not raise anything
    assert run(db, r, [170] * 20, start=T0).alerts_opened == 0
    state = db.scalar(select(RuleState).where(RuleState.device_id == r.device.id))
    assert state is not None
    assert state.last_ts == T0 + timedelta(seconds=100)


def test_rate_of_change_opens_on_a_fast_rise_and_clears_when_flat(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(
        db,
        r,
        kind="rate_of_change",
        params={"per_minute": 10, "window_seconds": 120, "direction": "rising"},
    )
    assert run(db, r, [50 + 0.1 * i for i in range(120)]).alerts_opened == 0  # 6 bar/min
    start = T0 + timedelta(seconds=120)
    assert run(db, r, [62 + 0.5 * i for i in range(60)], start=start).alerts_opened == 1  # 30/min
    start += timedelta(seconds=60)
    assert run(db, r, [92.0] * 180, start=start).alerts_cleared == 1


def test_anomaly_learns_the_baseline_then_flags_a_spike(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="anomaly", params={"warmup": 50, "z": 4})
    baseline = [70 + (1.0 if i % 2 else -1.0) for i in range(100)]
    assert run(db, r, baseline).alerts_opened == 0
    invalidate_rule_cache()
    start = T0 + timedelta(seconds=100)
    assert run(db, r, [71, 85], start=start).alerts_opened == 1
    assert run(db, r, [70.5], start=start + timedelta(seconds=2)).alerts_cleared == 1


def test_trend_predicts_the_crossing_of_a_linear_drift(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="trend", severity="major", params={"sample_seconds": 60})
    # +0.01 bar/s from 60 bar with +-0.5 bar noise: crit_high 160 is crossed at T0 + 10,000 s
    values = [60 + 0.01 * i + (0.5 if i % 7 < 3 else -0.5) for i in range(1800)]
    outcome = run(db, r, values[:900])
    assert outcome.alerts_opened == 1
    invalidate_rule_cache()
    run(db, r, values[900:], start=T0 + timedelta(seconds=900))
    [alert] = alerts_of(db, r)
    assert alert.kind == "trend"
    assert alert.predicted_failure_at is not None
    error = abs((alert.predicted_failure_at - (T0 + timedelta(seconds=10_000))).total_seconds())
    assert error < 300


def test_trend_ignores_a_flat_noisy_signal(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="trend", params={"sample_seconds": 60})
    values = [80 + (3.0 if i % 120 < 60 else -3.0) for i in range(3600)]
    assert run(db, r, values).alerts_opened == 0
