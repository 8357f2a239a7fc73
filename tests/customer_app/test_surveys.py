"""Satisfaction surveys: once, only after completion, only my organisation; staff results."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.models import OrgKind, User
from customer_app.models import SatisfactionSurvey
from customer_app.surveys import satisfaction_report, submit_survey
from service_orders.models import Engineer
from tests.crm.factories import make_org, make_user, principal_of
from tests.customer_app.factories import (
    Customer,
    engineer_for,
    log_in_customer,
    make_customer,
    order_in,
)
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import log_in_staff
from tests.telemetry.view_factories import log_in_as


def _rate(browser: Browser, work_order_id: int, *, csat: int = 4, nps: int = 9) -> int:
    path = f"/customer/service/{work_order_id}/survey"
    response: Response = browser.post(
        path,
        data={
            "csat": str(csat),
            "nps": str(nps),
            "comment": "Quick and tidy",
            "csrf_token": browser.csrf_token("/customer/service"),
        },
    )
    return response.status_code


def test_survey_is_taken_once_after_completion(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    engineer = engineer_for(db)
    done = order_in(db, customer, engineer, "completed")
    log_in_customer(browser, customer)
    form = browser.get(f"/customer/service/{done.id}/survey")
    assert form.status_code == 200
    assert 'name="nps" value="10"' in form.text
    assert _rate(browser, done.id) == 303
    survey = db.scalars(
        select(SatisfactionSurvey).where(SatisfactionSurvey.work_order_id == done.id)
    ).one()
    assert (survey.csat, survey.nps, survey.comment) == (4, 9, "Quick and tidy")
    assert survey.engineer_id == engineer.id
    assert survey.customer_org_id == customer.org.id
    assert _rate(browser, done.id, csat=1) == 422  # refused in the form, not a dead end
    assert "rated this visit already" in browser.get(f"/customer/service/{done.id}/survey").text


def test_survey_is_refused_before_completion(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    on_site = order_in(db, customer, engineer_for(db), "on_site")
    log_in_customer(browser, customer)
    assert _rate(browser, on_site.id) == 422
    query = select(SatisfactionSurvey).where(SatisfactionSurvey.work_order_id == on_site.id)
    assert db.scalar(query) is None


def test_survey_of_another_organisation_is_404(browser: Browser, db: Session) -> None:
    mine, other = make_customer(db), make_customer(db)
    theirs = order_in(db, other, engineer_for(db), "completed")
    log_in_customer(browser, mine)
    assert browser.get(f"/customer/service/{theirs.id}/survey").status_code == 404
    assert _rate(browser, theirs.id) == 404
    with pytest.raises(NotFound):
        submit_survey(db, actor=mine.principal, work_order_id=theirs.id, csat=5, nps=10)


def test_out_of_range_ratings_are_refused(db: Session) -> None:
    customer = make_customer(db)
    done = order_in(db, customer, engineer_for(db), "closed")
    with pytest.raises(InvalidInput, match="from 1 to 5"):
        submit_survey(db, actor=customer.principal, work_order_id=done.id, csat=6, nps=5)
    with pytest.raises(InvalidInput, match="from 0 to 10"):
        submit_survey(db, actor=customer.principal, work_order_id=done.id, csat=5, nps=11)


def _survey(
    db: Session, customer: Customer, engineer: Engineer, csat: int, nps: int, when: datetime
) -> None:
    order = order_in(db, customer, engineer, "completed")
    survey = submit_survey(db, actor=customer.principal, work_order_id=order.id, csat=csat, nps=nps)
    survey.submitted_at = when
    db.flush()


def test_staff_see_csat_and_nps_per_engineer_and_month(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    ann, bob = engineer_for(db), engineer_for(db)
    oct_, nov = datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 11, 10, tzinfo=UTC)
    # Ann: csat 5, 4, 3 -> 4.00; nps 10, 9, 6 -> 2 promoters, 1 detractor of 3 -> 33
    _survey(db, customer, ann, 5, 10, oct_)
    _survey(db, customer, ann, 4, 9, nov)
    _survey(db, customer, ann, 3, 6, nov)
    # Bob: csat 2, 1 -> 1.50; nps 7, 0 -> 0 promoters, 1 detractor of 2 -> -50
    _survey(db, customer, bob, 2, 7, nov)
    _survey(db, customer, bob, 1, 0, nov)
    # outside the period: not counted
    _survey(db, customer, bob, 5, 10, datetime(2026, 8, 1, tzinfo=UTC))
    staff = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.DISPATCHER)
    report = satisfaction_report(
        db, actor=principal_of(staff), start=date(2026, 10, 1), end=date(2026, 11, 30)
    )
    rows = {r.label: r for r in report.by_engineer}
    ann_row = rows[db.get_one(User, ann.user_id).full_name]
    assert (ann_row.count, str(ann_row.csat), ann_row.nps) == (3, "4.00", 33)
    bob_row = rows[db.get_one(User, bob.user_id).full_name]
    assert (bob_row.count, str(bob_row.csat), bob_row.nps) == (2, "1.50", -50)
    months = {r.label: (r.count, str(r.csat), r.nps) for r in report.by_month}
    # October: 5/10 -> 100; November: csat (4+3+2+1)/4 = 2.50, nps 1 promoter 2 detractors of 4
    assert months == {"2026-10": (1, "5.00", 100), "2026-11": (4, "2.50", -25)}
    # overall: 15/5 = 3.00; promoters 2, detractors 2 of 5 -> 0
    assert (report.overall.count, str(report.overall.csat), report.overall.nps) == (5, "3.00", 0)
    log_in_staff(browser, db)
    page = browser.get("/staff/satisfaction?start=2026-10-01&end=2026-11-30").text
    assert "4.00" in page
    assert "-50" in page
    assert "2026-11" in page


def test_satisfaction_is_for_staff_only(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    with pytest.raises(PermissionDenied):
        satisfaction_report(
            db, actor=customer.principal, start=date(2026, 1, 1), end=date(2026, 2, 1)
        )
    log_in_as(browser, db, Role.CUSTOMER)
    assert browser.get("/staff/satisfaction").status_code == 403


def test_conflict_type_for_second_survey(db: Session) -> None:
    customer = make_customer(db)
    done = order_in(db, customer, engineer_for(db), "completed")
    submit_survey(db, actor=customer.principal, work_order_id=done.id, csat=5, nps=10)
    with pytest.raises(Conflict):
        submit_survey(db, actor=customer.principal, work_order_id=done.id, csat=5, nps=10)
