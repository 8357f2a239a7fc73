"""Builders for service-order page and API tests: engineers who log in, jobs in each state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Role
from crm.models import Asset, Organization, OrgKind, User
from service_orders.dispatch import assign_by_hand, dispatch
from service_orders.models import DispatchOffer, Engineer, OfferStatus, WorkOrder
from service_orders.web import offer_publisher, photo_store
from service_orders.workorders import transition
from tests.crm.factories import PASSWORD, make_org, make_user, principal_of
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import (
    make_asset_at_site,
    make_engineer,
    make_work_order,
)
from tests.telemetry.view_factories import app_of

HTMX = {"HX-Request": "true", "HX-Target": "content"}


@dataclass
class Crew:
    """A manufacturer with two engineers (Ann nearer the site than Bob) and one customer asset."""

    org: Organization
    ann: Engineer
    bob: Engineer
    asset: Asset
    published: list[int] = field(default_factory=list)

    def user(self, db: Session, engineer: Engineer) -> User:
        return db.get_one(User, engineer.user_id)

    def principal(self, db: Session, engineer: Engineer) -> Principal:
        return principal_of(self.user(db, engineer))


def make_crew(db: Session) -> Crew:
    org = make_org(db, kind=OrgKind.MANUFACTURER)
    ann = make_engineer(db, org=org, km_north=1.0)
    bob = make_engineer(db, org=org, km_north=5.0)
    return Crew(org, ann, bob, make_asset_at_site(db))


def log_in_engineer(browser: Browser, db: Session, crew: Crew, engineer: Engineer) -> None:
    browser.cookies.clear()  # a fresh browser: tests switch between engineers
    browser.log_in(crew.user(db, engineer).email, PASSWORD)


def offered(db: Session, crew: Crew, *, title: str = "Oil temperature rising") -> WorkOrder:
    """A work order offered (by dispatch) to Ann, the nearest engineer."""
    work_order = make_work_order(db, asset=crew.asset)
    work_order.title = title
    decision = dispatch(db, work_order_id=work_order.id)
    assert decision.engineer_id == crew.ann.id
    return work_order


def pending_offer(db: Session, work_order: WorkOrder) -> DispatchOffer:
    return (
        db.query(DispatchOffer)
        .filter_by(work_order_id=work_order.id, status=OfferStatus.PENDING)
        .one()
    )


def held(
    db: Session, crew: Crew, engineer: Engineer, *, status: str = "accepted", title: str = "Pump"
) -> WorkOrder:
    """A work order the engineer holds, moved on to `status` (accepted, en_route, on_site)."""
    work_order = make_work_order(db, asset=crew.asset)
    work_order.title = title
    work_order.checklist = [{"label": "Check oil", "done": False, "note": ""}]
    assign_by_hand(db, actor=SYSTEM, work_order_id=work_order.id, engineer_id=engineer.id)
    actor = crew.principal(db, engineer)
    for step in ("en_route", "on_site"):
        if status == "accepted":
            break
        transition(db, actor=actor, work_order_id=work_order.id, target=step)
        if step == status:
            break
    db.flush()
    return work_order


def log_in_staff(browser: Browser, db: Session, role: Role = Role.DISPATCHER) -> None:
    user = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=role)
    browser.log_in(user.email, PASSWORD)


def htmx_token(browser: Browser, path: str) -> dict[str, str]:
    """HTMX headers with the page's CSRF token (as core/static/app.js sends them)."""
    return {**HTMX, "X-CSRF-Token": browser.csrf_token(path)}


@pytest.fixture
def published(browser: Browser) -> list[int]:
    """Records offer publications instead of talking to a broker."""
    calls: list[int] = []
    app_of(browser).dependency_overrides[offer_publisher] = lambda: lambda session: calls.append(1)
    return calls


@pytest.fixture
def photo_dir(browser: Browser, tmp_path: Path) -> Path:
    """Photos go to a temporary directory, not the developer's var/."""
    app_of(browser).dependency_overrides[photo_store] = lambda: tmp_path
    return tmp_path
