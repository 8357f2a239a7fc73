"""What finance reads when a settlement is refused, and which periods can still be settled."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.errors import Conflict, PermissionDenied
from crm.models import OrgKind
from partner_portal.programs import program_periods
from partner_portal.settlement import approve_statement, issue_statement, mark_paid, settle
from tests.crm.factories import make_org, make_product_model, make_user, principal_of
from tests.partner_portal.factories import add_pickup, make_distributor, make_program
from tests.partner_portal.statement_factories import PUBLIC_URL, make_finance

Q1 = date(2026, 1, 1)
Q2 = date(2026, 4, 1)


def test_rerunning_a_paid_period_names_that_period_not_the_later_one(db: Session) -> None:
    program = make_program(db)
    distributor, product = make_distributor(db), make_product_model(db)
    add_pickup(db, distributor=distributor, product=product, picked_on=Q1, net_value="500")
    add_pickup(db, distributor=distributor, product=product, picked_on=Q2, net_value="500")
    runner, finance = make_finance(db), make_finance(db)
    (q1,) = settle(db, actor=runner, program_id=program.id, period_start=Q1)
    approve_statement(db, actor=finance, statement_id=q1.id)
    issue_statement(db, actor=finance, statement_id=q1.id, public_url=PUBLIC_URL)
    mark_paid(db, actor=finance, statement_id=q1.id)
    settle(db, actor=runner, program_id=program.id, period_start=Q2)

    with pytest.raises(Conflict) as refused:
        settle(db, actor=runner, program_id=program.id, period_start=Q1)

    assert refused.value.message == (
        "The period 2026-01-01 – 2026-03-31 is settled already (1 statement, 1 paid)."
    )
    assert refused.value.code == "rebate_period_settled"


def test_an_unsettled_period_before_a_settled_one_names_the_later_period(db: Session) -> None:
    program = make_program(db)
    add_pickup(
        db,
        distributor=make_distributor(db),
        product=make_product_model(db),
        picked_on=Q2,
        net_value="500",
    )
    finance = make_finance(db)
    settle(db, actor=finance, program_id=program.id, period_start=Q2)

    with pytest.raises(Conflict) as refused:
        settle(db, actor=finance, program_id=program.id, period_start=Q1)

    assert refused.value.message == (
        "The later period 2026-04-01 – 2026-06-30 is settled already, and its year-to-date "
        "true-up includes this period: nothing is left to settle here."
    )


def test_a_dispatcher_is_told_that_an_administrator_settles(db: Session) -> None:
    program = make_program(db)
    dispatcher = principal_of(
        make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.DISPATCHER)
    )
    with pytest.raises(PermissionDenied) as refused:
        settle(db, actor=dispatcher, program_id=program.id, period_start=Q1)
    assert refused.value.message == "Only an administrator may run a settlement."


def test_only_periods_that_can_be_settled_offer_a_run(db: Session) -> None:
    last_year = date.today().year - 1
    q1, q2, q3 = (date(last_year, month, 1) for month in (1, 4, 7))
    program = make_program(db)
    distributor, product = make_distributor(db), make_product_model(db)
    for day in (q1, q2):
        add_pickup(db, distributor=distributor, product=product, picked_on=day, net_value="500")
    finance = make_finance(db)
    settle(db, actor=finance, program_id=program.id, period_start=q1)
    settle(db, actor=finance, program_id=program.id, period_start=q2)

    periods = {p.start: p for p in program_periods(db, program, today=date.today())}

    assert periods[q1].run is None  # Q2's true-up already includes it
    assert periods[q1].blocked_by == q2
    assert periods[q2].run == "again"  # only distributors without a statement would be added
    assert periods[q3].run == "first"
    assert periods[date(last_year, 10, 1)].run == "first"
    this_quarter = date(date.today().year, (date.today().month - 1) // 3 * 3 + 1, 1)
    assert periods[this_quarter].run is None  # not ended
