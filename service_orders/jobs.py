"""Service orders' background work: alert intake sweep, SLA watch, PM planning."""

from __future__ import annotations

from dataclasses import asdict

from procrastinate import Blueprint

from core.config import get_settings
from core.db import get_sessionmaker
from service_orders.broker_accounts import refresh_engineer_accounts
from service_orders.dispatch import expire_offers, publish_pending_offers
from service_orders.dispatch.sweep import dispatch_waiting
from service_orders.intake import consume_alerts
from service_orders.overdue import mark_overdue
from service_orders.pm import plan_preventive_maintenance
from service_orders.report_issuing import issue_missing_certificates

blueprint = Blueprint()


@blueprint.periodic(cron="* * * * *")
@blueprint.task(queue="service_orders", queueing_lock="consume_alerts")
def sweep_alerts(timestamp: int) -> dict[str, int]:
    """The safety net behind LISTEN: alerts missed while no listener ran become work orders."""
    with get_sessionmaker().begin() as session:
        return asdict(consume_alerts(session))


@blueprint.periodic(cron="* * * * *")
@blueprint.task(queue="service_orders", queueing_lock="mark_overdue")
def flag_overdue_work_orders(timestamp: int) -> int:
    """Flag work orders whose respond-by or resolve-by passed; returns how many."""
    with get_sessionmaker().begin() as session:
        return mark_overdue(session)


@blueprint.periodic(cron="7 * * * *")
@blueprint.task(queue="service_orders", queueing_lock="plan_pm")
def plan_pm_visits(timestamp: int) -> int:
    """Open the preventive-maintenance visits coming due; returns how many."""
    with get_sessionmaker().begin() as session:
        return plan_preventive_maintenance(session)


# --- dispatch (offers out after commit; the sweep is the safety net behind pg_notify) ---


@blueprint.periodic(cron="* * * * *")
@blueprint.task(queue="dispatch", queueing_lock="dispatch_waiting")
def dispatch_waiting_work_orders(timestamp: int) -> int:
    """Offer every waiting work order to its best engineer, then send the offers."""
    settings = get_settings()
    offered = dispatch_waiting(get_sessionmaker(), settings)
    _publish_offers()
    return offered


@blueprint.periodic(cron="* * * * * */15")
@blueprint.task(queue="dispatch", queueing_lock="expire_offers")
def expire_dispatch_offers(timestamp: int) -> int:
    """Expire unanswered offers, offer those orders to the next engineer, send the offers."""
    with get_sessionmaker().begin() as session:
        expired = expire_offers(session, settings=get_settings())
    _publish_offers()
    return expired


@blueprint.task(queue="dispatch", queueing_lock="publish_offers")
def publish_dispatch_offers() -> int:
    """Send committed, unsent offers (deferred by pages after a decline or hand assignment)."""
    return _publish_offers()


def _publish_offers() -> int:
    with get_sessionmaker().begin() as session:
        return publish_pending_offers(session, get_settings())


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(queue="dispatch", queueing_lock="sync_engineer_accounts")
def sync_engineer_broker_accounts(timestamp: int) -> bool:
    """Rewrite the broker's eng- accounts from the database (safety net behind the listener)."""
    with get_sessionmaker().begin() as session:
        return refresh_engineer_accounts(session, get_settings())


@blueprint.periodic(cron="* * * * * */20")
@blueprint.task(queue="service_orders", queueing_lock="issue_certificates")
def issue_certificates(timestamp: int) -> int:
    """Issue (and queue for anchoring) the reports of newly completed work orders, and try
    again those that could not be made once their pause is over."""
    with get_sessionmaker().begin() as session:
        return issue_missing_certificates(session, public_url=get_settings().resolved_public_url())
