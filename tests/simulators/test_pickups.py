"""Distributors' pickups: the same document for the same slot, sent once, and on time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.models import OrgKind
from partner_portal.models import PickupLine
from simulators.config import PickupSettings
from simulators.pickups import HOUR, PickupSimulator, document_for
from simulators.web_session import WebSession
from tests.crm.factories import PASSWORD, make_org, make_product_model, make_user
from tests.fieldcrm.conftest import Browser

TODAY = date(2026, 11, 20)


def test_a_document_depends_only_on_seed_distributor_and_slot() -> None:
    settings = PickupSettings()
    one = document_for(settings, seed=7, distributor_org_id=3, slot=20000, today=TODAY)
    assert one == document_for(settings, seed=7, distributor_org_id=3, slot=20000, today=TODAY)
    assert one != document_for(settings, seed=7, distributor_org_id=3, slot=20001, today=TODAY)
    assert {line.document_number for line in one} == {"SIM-7-3-20000"}
    assert [line.line_no for line in one] == list(range(1, len(one) + 1))
    for line in one:
        assert line.currency == "EUR"
        assert line.quantity != 0
        assert line.net_value.as_tuple().exponent == -2  # cents, as Decimal
        assert (line.net_value > 0) == (line.quantity > 0)  # a return is negative in both


def test_pickups_arrive_per_slot_and_a_restart_does_not_duplicate_them(
    browser: Browser, db: Session
) -> None:
    maker = make_org(db, kind=OrgKind.MANUFACTURER)
    staff = make_user(db, org=maker, role=Role.ADMIN)
    distributor = make_org(db, kind=OrgKind.DISTRIBUTOR)
    product = make_product_model(db, manufacturer=maker)
    settings = PickupSettings(
        login=staff.email, password=PASSWORD, distributor_org_ids=(distributor.id,),
        every_h=24, prices={product.code: "1000.00"},
    )  # fmt: skip
    now = [1_800_000_000.0]

    def simulator() -> PickupSimulator:
        web = WebSession(browser, staff.email, PASSWORD)
        return PickupSimulator(web, settings, clock=lambda: now[0], seed=7)

    first = simulator()
    first.start()
    first.tick()  # the current slot's document
    now[0] += 48 * HOUR
    first.tick()  # two more days: two more documents
    assert len(first.sent) == 3

    now[0] -= 48 * HOUR  # a restart begins again at the same time
    browser.cookies.clear()
    again = simulator()
    again.start()
    again.tick()
    assert again.sent == []
    assert again.already_recorded == first.sent[:1]

    lines = db.scalars(
        select(PickupLine).where(PickupLine.distributor_org_id == distributor.id)
    ).all()
    assert {line.document_number for line in lines} == set(first.sent)
    assert all(line.currency == "EUR" and line.net_value != Decimal(0) for line in lines)
