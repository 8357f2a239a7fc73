"""Settlement runs and statement transitions, on the rolled-back test session."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.models import AuditLog, Organization, OrgKind
from ledger.models import AnchorRequest
from partner_portal.models import Growth, StatementStatus
from partner_portal.settlement import (
    approve_statement,
    get_statement,
    issue_statement,
    mark_paid,
    settle,
    statement_lines,
)
from tests.crm.factories import make_org, make_product_model, make_user, principal_of
from tests.partner_portal.factories import add_pickup, make_distributor, make_program

Q1 = date(2026, 1, 1)
Q2 = date(2026, 4, 1)


def _admin(db: Session) -> Principal:
    return principal_of(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER)))


def test_a_run_writes_one_draft_per_distributor_with_the_lines_that_made_it_up(
    db: Session,
) -> None:
    program = make_program(db)  # quarterly; [0, 10 000) 1 %, [10 000, ∞) 2 %, retroactive
    a, b = make_distributor(db), make_distributor(db)
    pump, valve = make_product_model(db), make_product_model(db)
    add_pickup(db, distributor=a, product=pump, picked_on=date(2026, 1, 10), net_value="6000")
    add_pickup(db, distributor=a, product=valve, picked_on=date(2026, 3, 31), net_value="6000")
    add_pickup(db, distributor=b, product=pump, picked_on=date(2026, 2, 1), net_value="5000")
    # not counted: another currency, and a pickup after the quarter
    add_pickup(db, distributor=b, product=pump, picked_on=Q1, net_value="9000", currency="USD")
    add_pickup(db, distributor=b, product=pump, picked_on=Q2, net_value="9000")

    statements = settle(db, actor=_admin(db), program_id=program.id, period_start=Q1)

    by_org = {s.distributor_org_id: s for s in statements}
    # A: 12 000 reaches 2 %: 12 000 × 2 % = 240.00; B: 5 000 × 1 % = 50.00
    assert by_org[a.id].payout == Decimal("240.00")
    assert by_org[a.id].measure == Decimal("12000")
    assert by_org[b.id].payout == Decimal("50.00")
    assert by_org[a.id].period_end == date(2026, 3, 31)
    assert {s.status for s in statements} == {StatementStatus.DRAFT}
    lines = statement_lines(db, statement_id=by_org[a.id].id)
    assert [(line.product_model_id, line.net_value) for line in lines] == sorted(
        [(pump.id, Decimal("6000.00")), (valve.id, Decimal("6000.00"))]
    )


def test_a_second_run_of_the_same_period_creates_nothing(db: Session) -> None:
    program = make_program(db)
    add_pickup(
        db,
        distributor=make_distributor(db),
        product=make_product_model(db),
        picked_on=Q1,
        net_value="100",
    )
    admin = _admin(db)
    assert len(settle(db, actor=admin, program_id=program.id, period_start=Q1)) == 1
    assert settle(db, actor=admin, program_id=program.id, period_start=Q1) == []


def test_a_return_in_the_next_quarter_claws_back_what_was_paid(db: Session) -> None:
    program = make_program(db)
    distributor, product = make_distributor(db), make_product_model(db)
    admin = _admin(db)
    add_pickup(db, distributor=distributor, product=product, picked_on=Q1, net_value="12000")
    (q1,) = settle(db, actor=admin, program_id=program.id, period_start=Q1)
    assert q1.payout == Decimal("240.00")  # 12 000 × 2 %
    add_pickup(db, distributor=distributor, product=product, picked_on=Q2, net_value="-3000")
    (q2,) = settle(db, actor=admin, program_id=program.id, period_start=Q2)
    # YTD 9 000 → 1 % → 90.00; minus 240.00 settled = −150.00
    assert q2.ytd_measure == Decimal("9000")
    assert q2.previously_settled == Decimal("240.00")
    assert q2.payout == Decimal("-150.00")


def test_growth_compares_with_the_same_period_of_the_prior_year(db: Session) -> None:
    program = make_program(db, growth=Growth.ON_INCREMENT)
    distributor, product = make_distributor(db), make_product_model(db)
    add_pickup(
        db, distributor=distributor, product=product, picked_on=date(2025, 2, 1), net_value="4000"
    )
    # after the prior year's Q1: not compared
    add_pickup(
        db, distributor=distributor, product=product, picked_on=date(2025, 5, 1), net_value="50000"
    )
    add_pickup(
        db, distributor=distributor, product=product, picked_on=date(2026, 2, 1), net_value="15000"
    )
    (statement,) = settle(db, actor=_admin(db), program_id=program.id, period_start=Q1)
    # increment 15 000 − 4 000 = 11 000 → 2 % → 220.00
    assert statement.prior_ytd_measure == Decimal("4000")
    assert statement.payout == Decimal("220.00")


def test_an_earlier_period_cannot_be_settled_after_a_later_one(db: Session) -> None:
    program = make_program(db)
    distributor, product = make_distributor(db), make_product_model(db)
    add_pickup(db, distributor=distributor, product=product, picked_on=Q1, net_value="12000")
    admin = _admin(db)
    # Q2's true-up pays Q1's pickups too: 12 000 × 2 % = 240.00
    (q2,) = settle(db, actor=admin, program_id=program.id, period_start=Q2)
    assert q2.payout == Decimal("240.00")
    with pytest.raises(Conflict):
        settle(db, actor=admin, program_id=program.id, period_start=Q1)


def test_a_period_must_start_on_a_period_boundary(db: Session) -> None:
    program = make_program(db)
    with pytest.raises(InvalidInput):
        settle(db, actor=_admin(db), program_id=program.id, period_start=date(2026, 2, 1))


def _drafted(db: Session, runner: Principal) -> int:
    program = make_program(db)
    add_pickup(
        db,
        distributor=make_distributor(db),
        product=make_product_model(db),
        picked_on=Q1,
        net_value="20000",
    )
    (statement,) = settle(db, actor=runner, program_id=program.id, period_start=Q1)
    return statement.id


def test_whoever_ran_the_settlement_cannot_approve_it(db: Session) -> None:
    runner = _admin(db)
    statement_id = _drafted(db, runner)
    with pytest.raises(PermissionDenied) as refused:
        approve_statement(db, actor=runner, statement_id=statement_id)
    assert refused.value.code == "four_eyes"


def test_draft_to_paid_with_the_statement_anchored_on_issue(db: Session) -> None:
    runner, finance = _admin(db), _admin(db)
    statement_id = _drafted(db, runner)
    approve_statement(db, actor=finance, statement_id=statement_id)
    statement = issue_statement(
        db, actor=finance, statement_id=statement_id, public_url="https://crm.example"
    )
    anchor = db.get(AnchorRequest, statement.anchor_request_id)
    assert anchor is not None
    assert anchor.kind == "rebate_statement"
    assert anchor.sha256 == statement.sha256
    assert statement.pdf is not None
    assert statement.sha256 == hashlib.sha256(statement.pdf).hexdigest()
    assert mark_paid(db, actor=finance, statement_id=statement_id).status == StatementStatus.PAID
    actions = db.scalars(
        select(AuditLog.action).where(
            AuditLog.entity == "rebate_statements", AuditLog.entity_id == str(statement_id)
        )
    ).all()
    assert sorted(actions) == ["create", "update", "update", "update"]


def test_no_step_is_skipped(db: Session) -> None:
    statement_id = _drafted(db, _admin(db))
    with pytest.raises(IllegalTransition):
        mark_paid(db, actor=_admin(db), statement_id=statement_id)


def test_partners_cannot_settle_or_change_a_statement_status(db: Session) -> None:
    runner = _admin(db)
    statement_id = _drafted(db, runner)
    statement = get_statement(db, actor=runner, statement_id=statement_id)
    partner = principal_of(
        make_user(db, org=db.get_one(Organization, statement.distributor_org_id))
    )
    assert partner.role == Role.DISTRIBUTOR
    for change in (approve_statement, mark_paid):
        with pytest.raises(PermissionDenied):
            change(db, actor=partner, statement_id=statement_id)
    with pytest.raises(PermissionDenied):
        issue_statement(db, actor=partner, statement_id=statement_id, public_url="https://x")
    with pytest.raises(PermissionDenied):
        settle(db, actor=partner, program_id=statement.program_id, period_start=Q2)
    assert get_statement(db, actor=partner, statement_id=statement_id).status == "draft"


def test_another_distributor_does_not_see_the_statement(db: Session) -> None:
    statement_id = _drafted(db, _admin(db))
    stranger = principal_of(make_user(db, org=make_distributor(db)))
    with pytest.raises(NotFound):
        get_statement(db, actor=stranger, statement_id=statement_id)
