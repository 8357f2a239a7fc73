"""The per-id sweep: another distributor's statements are 404 everywhere, and partners cannot
use finance's routes (nothing changes)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_portal.models import (
    DistributorProfile,
    RebateProgram,
    RebateStatement,
    TierChange,
    TierRule,
)
from tests.crm.factories import PASSWORD, make_user
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.factories import make_distributor
from tests.partner_portal.statement_factories import Settled, make_profile, settled_statement


@pytest.fixture
def settled(db: Session) -> Settled:
    return settled_statement(db)


def _log_in_other_distributor(browser: Browser, db: Session) -> None:
    other = make_distributor(db)
    browser.log_in(make_user(db, org=other).email, PASSWORD)


@pytest.mark.parametrize(
    "path",
    [
        "/portal/statements/{id}",
        "/portal/statements/{id}/pdf",
        "/api/partner/statements/{id}",
    ],
)
def test_another_distributor_gets_404_for_each_statement_url(
    browser: Browser, db: Session, settled: Settled, path: str
) -> None:
    _log_in_other_distributor(browser, db)
    response = browser.get(path.format(id=settled.statement.id))
    assert response.status_code == 404
    assert settled.distributor.name not in response.text


def test_another_distributors_statements_are_not_listed(
    browser: Browser, db: Session, settled: Settled
) -> None:
    _log_in_other_distributor(browser, db)
    assert browser.get("/api/partner/statements").json() == []
    assert (
        f"/portal/statements/{settled.statement.id}" not in browser.get("/portal/statements").text
    )


def test_the_dashboard_api_shows_only_the_callers_own_figures(
    browser: Browser, db: Session, settled: Settled
) -> None:
    _log_in_other_distributor(browser, db)
    response = browser.get(
        "/api/partner/dashboard", params={"distributor_org_id": settled.distributor.id}
    )
    assert response.status_code == 200
    assert response.json()["distributor_org_id"] != settled.distributor.id


def _staff_posts(settled: Settled) -> list[tuple[str, dict[str, str]]]:
    statement_id = settled.statement.id
    return [
        (f"/staff/partners/statements/{statement_id}/approve", {}),
        (f"/staff/partners/statements/{statement_id}/issue", {}),
        (f"/staff/partners/statements/{statement_id}/paid", {}),
        (
            "/staff/partners/tiers/change",
            {"org_id": str(settled.distributor.id), "tier": "platinum", "reason": "me"},
        ),
        ("/staff/partners/tiers/review", {"period_end": "2026-03-31"}),
        ("/staff/partners/tiers/rules", {"silver": "0", "gold": "1", "platinum": "2"}),
        (
            "/staff/partners/programs",
            {
                "name": "Mine",
                "period_kind": "year",
                "measure": "net_value",
                "calculation": "retroactive",
                "currency": "EUR",
                "lower": "0",
                "rate": "50",
            },
        ),
        (
            f"/staff/partners/programs/{settled.statement.program_id}/settle",
            {"period_start": "2026-04-01"},
        ),
    ]


def test_partners_cannot_post_to_finance_routes_and_nothing_changes(
    browser: Browser, db: Session
) -> None:

    settled = settled_statement(db, issue=False)  # approved: issuing would be the next step
    make_profile(db, settled.distributor)
    browser.log_in(settled.partner.email, PASSWORD)
    token = browser.csrf_token("/portal")
    before = _state(db, settled)

    for path, form in _staff_posts(settled):
        response = browser.post(path, data={**form, "csrf_token": token})
        assert response.status_code in (403, 404), path

    assert _state(db, settled) == before


def _state(db: Session, settled: Settled) -> tuple[object, ...]:
    db.expire_all()
    return (
        db.get_one(RebateStatement, settled.statement.id).status,
        db.get_one(DistributorProfile, settled.distributor.id).tier,
        db.scalar(select(func.count()).select_from(TierChange)),
        db.scalar(select(func.count()).select_from(RebateProgram)),
        db.scalar(select(func.count()).select_from(RebateStatement)),
        db.scalars(select(TierRule.min_net_value).order_by(TierRule.tier)).all(),
    )
