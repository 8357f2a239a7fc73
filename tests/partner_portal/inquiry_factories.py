"""Builders of inquiry tests: priced products, approvers holding a capability, submissions."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from crm.capabilities import grant
from crm.models import Capability, Organization, OrgKind, ProductModel, User
from partner_portal.approval_workflow import ensure_default_workflow
from partner_portal.inquiries import LineRequest, submit
from partner_portal.models import ApprovalStatus, Inquiry, InquiryApproval, InquiryKind
from tests.crm.factories import PASSWORD, make_org, make_product_model, make_user, principal_of
from tests.fieldcrm.conftest import Browser


def make_priced_product(
    db: Session, *, price: str | None = "1000", currency: str = "EUR"
) -> ProductModel:
    product = make_product_model(db, metrics=())
    product.list_price = None if price is None else Decimal(price)
    product.list_currency = None if price is None else currency
    db.flush()
    return product


def make_staff(db: Session, *capabilities: Capability, role: Role = Role.ADMIN) -> User:
    """A manufacturer staff user holding the capabilities."""
    user = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=role)
    for capability in capabilities:
        grant(db, user_id=user.id, capability=capability)
    return user


def make_partner(db: Session, org: Organization | None = None) -> User:
    return make_user(db, org=org or make_org(db, kind=OrgKind.DISTRIBUTOR), role=Role.DISTRIBUTOR)


def line(
    product: ProductModel,
    quantity: str = "1",
    *,
    discount: str | None = None,
    price: str | None = None,
) -> LineRequest:
    return LineRequest(
        product_model_id=product.id,
        quantity=Decimal(quantity),
        requested_price=None if price is None else Decimal(price),
        requested_discount_pct=None if discount is None else Decimal(discount),
    )


def submit_inquiry(
    db: Session,
    partner: User | Principal,
    lines: Sequence[LineRequest],
    *,
    kind: InquiryKind = InquiryKind.QUOTE_REQUEST,
) -> Inquiry:
    ensure_default_workflow(db)
    actor = partner if isinstance(partner, Principal) else principal_of(partner)
    return submit(
        db, actor=actor, kind=kind, subject="Chillers for the hospital", message="", lines=lines
    )


def pending_approval(db: Session, inquiry: Inquiry) -> InquiryApproval:
    """The step of the inquiry's current round that waits for a decision."""
    return db.scalars(
        select(InquiryApproval).where(
            InquiryApproval.inquiry_id == inquiry.id,
            InquiryApproval.round == inquiry.round,
            InquiryApproval.status == ApprovalStatus.PENDING,
        )
    ).one()


def log_in(browser: Browser, user: User) -> str:
    """Log the browser in as the user; returns a CSRF token for its forms."""
    browser.log_in(user.email, PASSWORD)
    return browser.csrf_token("/notifications")
