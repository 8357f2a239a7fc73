"""Builders for customer app tests: a customer with a reporting device, work orders in a state."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Role
from crm.models import Organization, OrgKind, User
from service_orders.dispatch import assign_by_hand
from service_orders.models import Engineer, WorkOrder
from service_orders.states import Status
from service_orders.workorders import move, transition
from tests.crm.factories import PASSWORD, make_org, make_user, principal_of
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import make_engineer, make_work_order
from tests.telemetry.rule_factories import Reporting, make_reporting_asset

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@dataclass
class Customer:
    """A customer organisation with one user and one reporting device at a site."""

    org: Organization
    user: User
    device: Reporting

    @property
    def principal(self) -> Principal:
        return principal_of(self.user)

    @property
    def asset_id(self) -> int:
        return self.device.asset.id


def make_customer(db: Session, *, name: str | None = None) -> Customer:
    org = make_org(db, kind=OrgKind.CUSTOMER, name=name)
    user = make_user(db, org=org, role=Role.CUSTOMER)
    return Customer(org, user, make_reporting_asset(db, owner=org))


def log_in_customer(browser: Browser, customer: Customer) -> None:
    browser.cookies.clear()
    browser.log_in(customer.user.email, PASSWORD)


def engineer_for(db: Session) -> Engineer:
    return make_engineer(db, org=make_org(db, kind=OrgKind.MANUFACTURER), km_north=10.0)


def order_in(db: Session, customer: Customer, engineer: Engineer, status: str) -> WorkOrder:
    """A work order on the customer's device, held by `engineer`, moved on to `status`."""
    work_order = make_work_order(db, asset=customer.device.asset)
    assign_by_hand(db, actor=SYSTEM, work_order_id=work_order.id, engineer_id=engineer.id)
    actor = principal_of(db.get_one(User, engineer.user_id))
    for step in ("en_route", "on_site"):
        if work_order.status == status:
            break
        transition(db, actor=actor, work_order_id=work_order.id, target=step)
    if status in ("completed", "closed"):
        move(db, work_order, Status.COMPLETED, actor=SYSTEM)
    if status == "closed":
        move(db, work_order, Status.CLOSED, actor=SYSTEM)
    db.flush()
    assert work_order.status == status
    return work_order
