"""The alert lifecycle, tenant filtering, and one active alert per device and rule."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import IllegalTransition, NotFound, PermissionDenied
from core.jobs import libpq_conninfo
from crm.models import AuditLog, OrgKind
from telemetry.alerts.models import Alert
from telemetry.alerts.service import acknowledge_alert, alert_history, clear_alert, list_alerts
from telemetry.rules.engine import evaluate_batch, invalidate_rule_cache
from tests.crm.factories import make_org, make_user, principal_of
from tests.telemetry.rule_factories import T0, Reporting, make_reporting_asset, make_rule, readings


@pytest.fixture(autouse=True)
def fresh_rule_cache() -> Iterator[None]:
    invalidate_rule_cache()
    yield
    invalidate_rule_cache()


def staff(db: Session, role: Role = Role.ADMIN) -> Principal:
    return principal_of(make_user(db, role=role, org=make_org(db, kind=OrgKind.MANUFACTURER)))


def raise_alert(db: Session, r: Reporting, values: list[float], seconds: int = 0) -> Alert | None:
    evaluate_batch(db, readings(r, values, start=T0 + timedelta(seconds=seconds)), r.profiles())
    return db.scalar(select(Alert).where(Alert.device_id == r.device.id).order_by(Alert.id.desc()))


def test_acknowledge_then_clear_by_hand_is_audited(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="threshold")
    dispatcher = staff(db, Role.DISPATCHER)
    alert = raise_alert(db, r, [170])
    assert alert is not None

    acknowledge_alert(db, actor=dispatcher, alert_id=alert.id)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", dispatcher.user_id)
    with pytest.raises(IllegalTransition):
        acknowledge_alert(db, actor=dispatcher, alert_id=alert.id)
    clear_alert(db, actor=dispatcher, alert_id=alert.id, reason="sensor replaced")
    assert (alert.status, alert.clear_reason) == ("cleared", "manual")
    with pytest.raises(IllegalTransition):
        clear_alert(db, actor=dispatcher, alert_id=alert.id, reason="again")

    audits = db.scalars(
        select(AuditLog).where(AuditLog.entity == "alerts").order_by(AuditLog.id)
    ).all()
    assert [a.after["status"] for a in audits if a.entity_id == str(alert.id)] == [
        "acknowledged",
        "cleared",
    ]
    actions = [e.action for e in alert_history(db, principal=dispatcher, asset_id=r.asset.id)]
    assert actions == ["cleared", "acknowledged", "opened"]


def test_manual_clear_silences_until_the_condition_clears(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="threshold")
    first = raise_alert(db, r, [170])
    assert first is not None
    clear_alert(
        db,
        actor=staff(db),
        alert_id=first.id,
        reason="known",
    )  # type: ignore[arg-type]
    assert raise_alert(db, r, [170], seconds=1) == first  # still breaching: no new alert
    raise_alert(db, r, [100], seconds=2)
    second = raise_alert(db, r, [170], seconds=3)
    assert second is not None
    assert second.id != first.id
    assert second.status == "open"


def test_customers_see_only_their_alerts_and_may_not_acknowledge(db: Session) -> None:
    r = make_reporting_asset(db)
    make_rule(db, r, kind="threshold")
    alert = raise_alert(db, r, [170])
    assert alert is not None
    owner = principal_of(make_user(db, org=r.owner))
    stranger = principal_of(make_user(db))
    assert [a.id for a in list_alerts(db, principal=owner, status="open")] == [alert.id]  # type: ignore[arg-type]
    assert list_alerts(db, principal=stranger) == []
    with pytest.raises(NotFound):
        alert_history(db, principal=stranger, asset_id=r.asset.id)
    with pytest.raises(PermissionDenied):
        acknowledge_alert(db, actor=owner, alert_id=alert.id)


def test_two_ingest_processes_never_open_two_alerts(db_engine: Engine) -> None:
    with Session(db_engine, expire_on_commit=False) as setup:
        r = make_reporting_asset(setup)
        make_rule(setup, r, kind="threshold")
        setup.commit()
    barrier = threading.Barrier(2)
    outcomes: list[int] = []
    errors: list[BaseException] = []

    def ingest(delay: float, first_second: int) -> None:
        try:
            with Session(db_engine) as session:
                barrier.wait()
                batch = readings(r, [170, 171], start=T0 + timedelta(seconds=first_second))
                outcome = evaluate_batch(session, batch, r.profiles())
                time.sleep(delay)  # hold the transaction open so the two overlap
                session.commit()
                outcomes.append(outcome.alerts_opened)
        except BaseException as exc:  # noqa: BLE001  # re-raised in the test thread
            errors.append(exc)

    listener = psycopg.connect(
        libpq_conninfo(db_engine.url.render_as_string(False)), autocommit=True
    )
    listener.execute("LISTEN alerts")
    threads = [
        threading.Thread(target=ingest, args=(0.3, 0)),
        threading.Thread(target=ingest, args=(0.0, 1)),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == []
        with db_engine.connect() as conn:
            active = conn.execute(
                text("SELECT count(*) FROM alerts WHERE device_id = :d AND status = 'open'"),
                {"d": r.device.id},
            ).scalar_one()
            alert_id = conn.execute(
                text("SELECT id FROM alerts WHERE device_id = :d"), {"d": r.device.id}
            ).scalar_one()
        assert active == 1
        assert sorted(outcomes) == [0, 1]
        # the hand-off to service_orders: the new alert's id, once
        notified = [n.payload for n in listener.notifies(timeout=1.0, stop_after=2)]
        assert notified == [str(alert_id)]
    finally:
        listener.close()
        _delete_committed(db_engine, r)


def _delete_committed(engine: Engine, r: Reporting) -> None:
    """These rows were committed outside the rolled-back test transaction: remove them."""
    with engine.begin() as conn:
        ids = {"d": r.device.id, "a": r.asset.id, "m": r.model.id, "o": r.owner.id}
        for statement in (
            "DELETE FROM alerts WHERE device_id = :d",
            "DELETE FROM rule_states WHERE device_id = :d",
            "DELETE FROM rules WHERE product_model_id = :m",
            "DELETE FROM devices WHERE id = :d",
            "DELETE FROM assets WHERE id = :a",
            "DELETE FROM sites WHERE org_id = :o",
            "DELETE FROM metric_definitions WHERE product_model_id = :m",
            "DELETE FROM product_models WHERE id = :m",
            "DELETE FROM audit_log WHERE (entity = 'rules' AND after->>'product_model_id' = :ms)"
            " OR (entity = 'assets' AND entity_id = :as_) OR (entity = 'product_models'"
            " AND entity_id = :ms) OR (entity = 'organizations' AND entity_id IN (:os, :mos))"
            " OR (entity = 'sites' AND after->>'org_id' = :os)",
            "DELETE FROM organizations WHERE id IN (:o, :mo)",
        ):
            conn.execute(
                text(statement),
                ids
                | {
                    "ms": str(r.model.id),
                    "as_": str(r.asset.id),
                    "os": str(r.owner.id),
                    "mo": r.model.manufacturer_org_id,
                    "mos": str(r.model.manufacturer_org_id),
                },
            )
