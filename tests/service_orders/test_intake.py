"""Alert -> work order: one per alert, repeats and escalations update it, clears cancel it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.auth.principal import SYSTEM
from core.config import get_settings
from core.jobs import libpq_conninfo
from service_orders.intake import IntakeResult, consume_alerts
from service_orders.listener import CATCH_UP, listen, start_alert_intake
from service_orders.models import WorkOrder
from service_orders.workorders import list_work_order_events, transition
from telemetry.rules.models import Rule
from tests.service_orders.workorder_factories import clear, make_alert, make_engineer
from tests.telemetry.rule_factories import Reporting, make_reporting_asset, make_rule
from tests.telemetry.test_alerts import _delete_committed


@pytest.fixture
def world(db: Session) -> tuple[Reporting, Rule]:
    r = make_reporting_asset(db)
    return r, make_rule(db, r, kind="threshold", severity="critical")


def _orders(db: Session, r: Reporting) -> list[WorkOrder]:
    query = select(WorkOrder).where(WorkOrder.asset_id == r.asset.id).order_by(WorkOrder.id)
    return list(db.scalars(query))


def test_critical_threshold_alert_opens_one_corrective_order(
    db: Session, world: tuple[Reporting, Rule]
) -> None:
    r, rule = world
    alert = make_alert(db, r, rule, severity="critical")
    assert consume_alerts(db).created == 1
    assert consume_alerts(db) == IntakeResult()
    [work_order] = _orders(db, r)
    assert (work_order.alert_id, work_order.type, work_order.priority) == (
        alert.id,
        "corrective",
        1,
    )
    assert (work_order.source, work_order.status) == ("alert", "new")


def test_priority_follows_severity_and_non_critical_is_preventive(
    db: Session, world: tuple[Reporting, Rule]
) -> None:
    r, _ = world
    rule = make_rule(db, r, kind="anomaly", severity="major")
    make_alert(db, r, rule, severity="major")
    consume_alerts(db)
    [work_order] = _orders(db, r)
    assert (work_order.type, work_order.priority) == ("preventive", 2)


def test_trend_alert_gives_predictive_order_due_before_the_failure(db: Session) -> None:
    r = make_reporting_asset(db)
    rule = make_rule(db, r, kind="trend", severity="major")
    failure = datetime.now(UTC) + timedelta(days=3)
    make_alert(db, r, rule, severity="major", predicted_failure_at=failure)
    consume_alerts(db)
    [work_order] = _orders(db, r)
    margin = timedelta(hours=get_settings().service_orders_predictive_margin_hours)
    assert work_order.type == "predictive"
    assert work_order.due_by == failure - margin
    assert work_order.resolve_by <= failure - margin


def test_second_alert_on_same_fault_reuses_work_order(
    db: Session, world: tuple[Reporting, Rule]
) -> None:
    r, _ = world
    rule = make_rule(db, r, kind="duration", severity="warning", params=_DURATION)
    first = make_alert(db, r, rule, severity="warning")
    consume_alerts(db)
    clear(db, first)  # the work order is taken: the clear does not cancel it
    [work_order] = _orders(db, r)
    engineer, principal = make_engineer(db)
    work_order.engineer_id = engineer.id
    transition(db, actor=principal, work_order_id=work_order.id, target="accepted")
    make_alert(db, r, rule, severity="major")
    result = consume_alerts(db)
    assert (result.created, result.merged) == (0, 1)
    assert consume_alerts(db) == IntakeResult()
    assert [w.id for w in _orders(db, r)] == [work_order.id]
    assert (work_order.priority, work_order.status) == (2, "accepted")
    events = list_work_order_events(db, principal=SYSTEM, work_order_id=work_order.id)
    assert events[-1].note.startswith("repeated alert")


def test_escalated_alert_raises_the_priority_once(
    db: Session, world: tuple[Reporting, Rule]
) -> None:
    r, _ = world
    rule = make_rule(db, r, kind="anomaly", severity="warning")
    alert = make_alert(db, r, rule, severity="warning")
    consume_alerts(db)
    [work_order] = _orders(db, r)
    assert work_order.priority == 3
    alert.severity, alert.escalated_at = "critical", datetime.now(UTC)
    db.flush()
    assert consume_alerts(db).escalated == 1
    assert consume_alerts(db).escalated == 0
    assert work_order.priority == 1


@pytest.mark.parametrize(
    ("action", "status", "priority", "counted"),
    [("cancel", "cancelled", 1, "cancelled"), ("downgrade", "new", 4, "downgraded")],
)
def test_alert_cleared_before_dispatch_cancels_or_downgrades_its_order(
    db: Session,
    world: tuple[Reporting, Rule],
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    status: str,
    priority: int,
    counted: str,
) -> None:
    settings = get_settings().model_copy(update={"service_orders_cleared_alert_action": action})
    monkeypatch.setattr("service_orders.intake.get_settings", lambda: settings)
    r, rule = world
    alert = make_alert(db, r, rule)
    consume_alerts(db)
    clear(db, alert)
    assert getattr(consume_alerts(db), counted) == 1
    [work_order] = _orders(db, r)
    assert (work_order.status, work_order.priority) == (status, priority)
    assert consume_alerts(db) == IntakeResult()


def test_cleared_alert_does_not_cancel_an_order_an_engineer_holds(
    db: Session, world: tuple[Reporting, Rule]
) -> None:
    r, rule = world
    alert = make_alert(db, r, rule)
    consume_alerts(db)
    [work_order] = _orders(db, r)
    engineer, principal = make_engineer(db)
    work_order.engineer_id = engineer.id
    transition(db, actor=principal, work_order_id=work_order.id, target="accepted")
    clear(db, alert)
    consume_alerts(db)
    assert work_order.status == "accepted"


def test_two_consumers_at_once_give_the_same_result_as_one(db_engine: Engine) -> None:
    with Session(db_engine, expire_on_commit=False) as setup:
        r = make_reporting_asset(setup)
        critical = make_rule(setup, r, kind="threshold", severity="critical")
        trend = make_rule(setup, r, kind="trend", severity="major")
        alerts = [make_alert(setup, r, critical), make_alert(setup, r, trend, severity="major")]
        setup.commit()
    barrier = threading.Barrier(2)
    results: list[IntakeResult] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            with Session(db_engine) as session:
                barrier.wait()
                results.append(consume_alerts(session))
                session.commit()
        except BaseException as exc:  # noqa: BLE001  # re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=consume) for _ in range(2)]
    listener = psycopg.connect(
        libpq_conninfo(db_engine.url.render_as_string(False)), autocommit=True
    )
    listener.execute("LISTEN work_orders")
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert sum(result.created for result in results) == 2
        with db_engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, alert_id FROM work_orders WHERE asset_id = :a ORDER BY alert_id"),
                {"a": r.asset.id},
            ).all()
        assert [alert_id for _, alert_id in rows] == [alert.id for alert in alerts]
        # dispatch is woken once per new work order
        notified = {n.payload for n in listener.notifies(timeout=1.0, stop_after=2)}
        assert notified == {str(work_order_id) for work_order_id, _ in rows}
    finally:
        listener.close()
        _delete_committed_orders(db_engine, r)


def test_listen_delivers_notifications_and_a_catch_up_after_connecting(
    db_engine: Engine,
) -> None:
    conninfo = libpq_conninfo(db_engine.url.render_as_string(False))
    received: list[tuple[str, str]] = []
    stop = threading.Event()
    connected = threading.Event()

    def on_notify(channel: str, payload: str) -> None:
        received.append((channel, payload))
        connected.set()

    thread = threading.Thread(target=listen, args=(conninfo, ["alerts"], on_notify, stop))
    thread.start()
    try:
        assert connected.wait(timeout=5)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_notify('alerts', '42')")
        deadline = time.monotonic() + 5
        while ("alerts", "42") not in received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert received[:2] == [("alerts", CATCH_UP), ("alerts", "42")]
    assert not thread.is_alive()


def test_a_notified_alert_becomes_a_work_order_within_a_second(db_engine: Engine) -> None:
    stop = threading.Event()
    sessions = sessionmaker(bind=db_engine, expire_on_commit=False)
    conninfo = libpq_conninfo(db_engine.url.render_as_string(False))
    with Session(db_engine, expire_on_commit=False) as setup:
        r = make_reporting_asset(setup)
        rule = make_rule(setup, r, kind="threshold", severity="critical")
        setup.commit()
    intake = start_alert_intake(conninfo, sessions, stop, debounce_ms=50)
    try:
        time.sleep(0.3)  # the listener is connected and has caught up
        with Session(db_engine, expire_on_commit=False) as ingest:
            alert = make_alert(ingest, r, rule)
            ingest.execute(text("SELECT pg_notify('alerts', :id)"), {"id": str(alert.id)})
            ingest.commit()
        started = time.monotonic()
        found = None
        while found is None and time.monotonic() - started < 1.0:
            with db_engine.connect() as conn:
                found = conn.execute(
                    text("SELECT id FROM work_orders WHERE alert_id = :a"), {"a": alert.id}
                ).scalar()
            time.sleep(0.02)
        assert found is not None
    finally:
        stop.set()
        intake.join(timeout=5)
        _delete_committed_orders(db_engine, r)


def _delete_committed_orders(engine: Engine, r: Reporting) -> None:
    """Work orders committed outside the rolled-back test transaction, then their world."""
    with engine.begin() as conn:
        ids = {"a": r.asset.id}
        conn.execute(
            text(
                "DELETE FROM audit_log WHERE entity = 'work_order' AND entity_id IN "
                "(SELECT id::text FROM work_orders WHERE asset_id = :a)"
            ),
            ids,
        )
        conn.execute(text("DELETE FROM work_orders WHERE asset_id = :a"), ids)
    _delete_committed(engine, r)


_DURATION = {"above": 100, "seconds": 60, "clear": 95}
