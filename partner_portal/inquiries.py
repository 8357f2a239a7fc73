"""Inquiries and quote requests of distributors: submit, revise, withdraw, decide, the quote.

Prices start from each product's list price (`ProductModel.list_price`); a line asks for a
price or a discount (or neither: list price). A product without a list price cannot be
quoted. All lines of an inquiry share the list currency, in which the workflow's value
thresholds are read. The approval rules live in partner_portal.approvals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import utcnow
from core.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.company import (
    DEFAULT_QUOTE_VALID_DAYS,
    letterhead_for,
    manufacturer_org_id,
    quote_valid_days,
    snapshot_letterhead,
)
from crm.models import Capability, ProductModel, User
from crm.notifications import notify_capability, notify_org
from partner_portal.approval_handoffs import override_step
from partner_portal.approvals import (
    Decision,
    Outcome,
    cancel_open,
    decide,
    inquiry_number,
    lock_inquiry,
    record_event,
    start_round,
    tell_approvers,
)
from partner_portal.models import (
    ApprovalStatus,
    Inquiry,
    InquiryApproval,
    InquiryEvent,
    InquiryKind,
    InquiryLine,
    InquiryStatus,
)
from partner_portal.quote_pdf import QuoteFacts, QuoteLine, render_quote

MAX_LINES = 50
_CENT = Decimal("0.01")
_PCT = Decimal("0.0001")
_HUNDRED = Decimal(100)
WITHDRAWABLE = (InquiryStatus.SUBMITTED, InquiryStatus.IN_APPROVAL, InquiryStatus.CHANGES_REQUESTED)


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One line as the distributor asks it: a price, a discount, or neither (list price)."""

    product_model_id: int
    quantity: Decimal
    requested_price: Decimal | None = None
    requested_discount_pct: Decimal | None = None


def line_net_price(line: InquiryLine) -> Decimal:
    """The unit price the line asks for."""
    if line.requested_price is not None:
        return line.requested_price
    if line.requested_discount_pct is not None:
        factor = (_HUNDRED - line.requested_discount_pct) / _HUNDRED
        return (line.list_price * factor).quantize(_CENT, ROUND_HALF_UP)
    return line.list_price


def line_discount_pct(line: InquiryLine) -> Decimal:
    """The discount off list the line asks for (never negative: a higher price is 0 %)."""
    if line.list_price <= 0:
        return Decimal(0)
    discount = (_HUNDRED - line_net_price(line) * _HUNDRED / line.list_price).quantize(_PCT)
    return max(discount, Decimal(0))


def submit(
    session: Session,
    *,
    actor: Principal,
    kind: InquiryKind,
    subject: str,
    message: str,
    lines: Sequence[LineRequest],
) -> Inquiry:
    """A distributor user submits; the first round of approvals starts at once."""
    if actor.role != Role.DISTRIBUTOR:
        raise PermissionDenied("Inquiries are submitted by distributor partners.")
    inquiry = Inquiry(
        distributor_org_id=actor.org_id,
        kind=kind.value,
        subject=_subject(subject),
        message=message.strip(),
        status=InquiryStatus.SUBMITTED,
        currency="EUR",
        round=1,
        created_by=actor.user_id,
    )
    session.add(inquiry)
    _set_lines(session, inquiry, lines)
    record_event(session, inquiry, actor_user_id=actor.user_id, action="submitted")
    _after_submission(session, inquiry)
    return inquiry


def resubmit(
    session: Session,
    *,
    actor: Principal,
    inquiry_id: int,
    subject: str,
    message: str,
    lines: Sequence[LineRequest],
) -> Inquiry:
    """Revise an inquiry whose changes were requested; a new round starts from step one."""
    inquiry = _own_locked(session, actor, inquiry_id)
    if inquiry.status != InquiryStatus.CHANGES_REQUESTED:
        raise IllegalTransition(
            "Only an inquiry with changes requested can be edited and resubmitted.",
            code="inquiry_not_editable",
        )
    inquiry.subject = _subject(subject)
    inquiry.message = message.strip()
    inquiry.round += 1
    inquiry.decided_at = None
    session.execute(delete(InquiryLine).where(InquiryLine.inquiry_id == inquiry.id))
    _set_lines(session, inquiry, lines)
    record_event(session, inquiry, actor_user_id=actor.user_id, action="resubmitted")
    _after_submission(session, inquiry)
    return inquiry


def withdraw(session: Session, *, actor: Principal, inquiry_id: int) -> Inquiry:
    """The distributor takes back an open inquiry; its open steps are cancelled."""
    inquiry = _own_locked(session, actor, inquiry_id)
    if inquiry.status not in WITHDRAWABLE:
        raise IllegalTransition(
            f"The inquiry is {inquiry.status.replace('_', ' ')} and can no longer be withdrawn.",
            code="inquiry_not_withdrawable",
        )
    pending = _pending_step(session, inquiry)
    cancel_open(session, inquiry)
    inquiry.status = InquiryStatus.WITHDRAWN
    inquiry.updated_at = inquiry.decided_at = utcnow()
    record_event(session, inquiry, actor_user_id=actor.user_id, action="withdrawn")
    if pending is not None:
        notify_capability(
            session,
            Capability(pending.approver_capability),
            title=f"{inquiry_number(inquiry)} was withdrawn",
            body=f"{inquiry.subject}: the distributor withdrew it; nothing to decide.",
            link=f"/staff/approvals/{inquiry.id}",
        )
    session.flush()
    return inquiry


def decide_inquiry(
    session: Session,
    *,
    actor: Principal,
    inquiry_id: int,
    approval_id: int,
    decision: Decision,
    comment: str = "",
    override_reason: str | None = None,
) -> Outcome:
    """Decide the pending step (an administrator's override when a reason is given); tells
    the next approvers and the distributor, and issues the quote PDF when a quote request is
    approved by its last step."""
    if override_reason is None:
        outcome = decide(
            session,
            actor=actor,
            inquiry_id=inquiry_id,
            approval_id=approval_id,
            decision=decision,
            comment=comment,
        )
    else:
        outcome = override_step(
            session,
            actor=actor,
            inquiry_id=inquiry_id,
            approval_id=approval_id,
            decision=decision,
            reason=override_reason,
            comment=comment,
        )
    inquiry = outcome.inquiry
    number = inquiry_number(inquiry)
    portal_link = f"/portal/inquiries/{inquiry.id}"
    if outcome.next_pending is not None:
        tell_approvers(session, inquiry, outcome.next_pending)
        notify_org(
            session,
            inquiry.distributor_org_id,
            title=f"{number}: {outcome.decided.step_name} approved",
            body=f"{inquiry.subject}: next is {outcome.next_pending.step_name}.",
            link=portal_link,
        )
        return outcome
    if inquiry.status == InquiryStatus.APPROVED and inquiry.kind == InquiryKind.QUOTE_REQUEST:
        _issue_quote(session, inquiry)
    notify_org(
        session,
        inquiry.distributor_org_id,
        title=f"{number} {inquiry.status.replace('_', ' ')}",
        body=f"{inquiry.subject}: {outcome.decided.step_name} — {comment.strip() or 'approved'}.",
        link=portal_link,
    )
    session.flush()
    return outcome


def get_inquiry(session: Session, *, actor: Principal, inquiry_id: int) -> Inquiry:
    """An inquiry its distributor or staff may see; NotFound for anyone else."""
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is None or not (
        actor.is_staff
        or (actor.role == Role.DISTRIBUTOR and actor.org_id == inquiry.distributor_org_id)
    ):
        raise NotFound(f"No inquiry {inquiry_id}.", entity="inquiry")
    return inquiry


def inquiries_of(session: Session, *, actor: Principal) -> Sequence[Inquiry]:
    """The actor's organisation's inquiries, newest first."""
    return session.scalars(
        select(Inquiry)
        .where(Inquiry.distributor_org_id == actor.org_id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    ).all()


def lines_of(session: Session, inquiry_id: int) -> Sequence[tuple[InquiryLine, ProductModel]]:
    return session.execute(
        select(InquiryLine, ProductModel)
        .join(ProductModel, ProductModel.id == InquiryLine.product_model_id)
        .where(InquiryLine.inquiry_id == inquiry_id)
        .order_by(InquiryLine.id)
    ).all()


def approvals_of(session: Session, inquiry_id: int) -> Sequence[tuple[InquiryApproval, str | None]]:
    """Every step of every round, the latest round first, with the decider's name."""
    return session.execute(
        select(InquiryApproval, User.full_name)
        .outerjoin(User, User.id == InquiryApproval.decided_by)
        .where(InquiryApproval.inquiry_id == inquiry_id)
        .order_by(InquiryApproval.round.desc(), InquiryApproval.position)
    ).all()


def history(session: Session, inquiry_id: int) -> Sequence[tuple[InquiryEvent, str | None]]:
    """The inquiry's events, oldest first, with the actor's name."""
    return session.execute(
        select(InquiryEvent, User.full_name)
        .outerjoin(User, User.id == InquiryEvent.actor_user_id)
        .where(InquiryEvent.inquiry_id == inquiry_id)
        .order_by(InquiryEvent.at, InquiryEvent.id)
    ).all()


def quote_pdf(session: Session, *, actor: Principal, inquiry_id: int) -> tuple[str, bytes]:
    """The approved quote's file name and bytes; NotFound until it exists."""
    inquiry = get_inquiry(session, actor=actor, inquiry_id=inquiry_id)
    if inquiry.quote_pdf is None:
        raise NotFound("This inquiry has no approved quote.", entity="quote")
    return f"quote-{inquiry_number(inquiry)}.pdf", inquiry.quote_pdf


def quotable_products(session: Session) -> Sequence[ProductModel]:
    """Product models in the order the form lists them (those without a price included)."""
    return session.scalars(
        select(ProductModel).order_by(ProductModel.family, ProductModel.name)
    ).all()


def _subject(subject: str) -> str:
    subject = subject.strip()
    if not subject:
        raise InvalidInput("Give the inquiry a subject.", field="subject")
    return subject[:200]


def _set_lines(session: Session, inquiry: Inquiry, requests: Sequence[LineRequest]) -> None:
    """Validate and store the lines, and the figures the workflow's conditions read."""
    if not requests:
        raise InvalidInput("Add at least one product line.", field="lines")
    if len(requests) > MAX_LINES:
        raise InvalidInput(f"An inquiry holds at most {MAX_LINES} lines.", field="lines")
    products = {
        p.id: p
        for p in session.scalars(
            select(ProductModel).where(ProductModel.id.in_({r.product_model_id for r in requests}))
        )
    }
    lines = [_line(products.get(r.product_model_id), r) for r in requests]
    currencies = {products[r.product_model_id].list_currency for r in requests}
    if len(currencies) > 1:
        raise InvalidInput(
            "These products are priced in different currencies "
            f"({', '.join(sorted(c or '' for c in currencies))}); send one inquiry per currency.",
            field="lines",
        )
    inquiry.currency = currencies.pop() or "EUR"
    inquiry.list_value = sum((ln.list_price * ln.quantity for ln in lines), Decimal(0)).quantize(
        _CENT, ROUND_HALF_UP
    )
    inquiry.total_value = sum(
        (line_net_price(ln) * ln.quantity for ln in lines), Decimal(0)
    ).quantize(_CENT, ROUND_HALF_UP)
    inquiry.max_discount_pct = max(line_discount_pct(ln) for ln in lines)
    inquiry.updated_at = utcnow()
    session.flush()
    for line in lines:
        line.inquiry_id = inquiry.id
    session.add_all(lines)
    session.flush()


def _line(product: ProductModel | None, request: LineRequest) -> InquiryLine:
    if product is None:
        raise InvalidInput(f"No product model {request.product_model_id}.", field="lines")
    if product.list_price is None or product.list_currency is None:
        raise InvalidInput(
            f"{product.name} ({product.code}) has no list price yet, so it cannot be quoted "
            "here. Ask about it in the message and sales will answer.",
            field="lines",
        )
    if request.quantity <= 0:
        raise InvalidInput(f"The quantity of {product.name} must be more than 0.", field="lines")
    if request.requested_price is not None and request.requested_discount_pct is not None:
        raise InvalidInput(
            f"For {product.name}, ask for a price or a discount, not both.", field="lines"
        )
    if request.requested_price is not None and request.requested_price < 0:
        raise InvalidInput(f"The price of {product.name} cannot be negative.", field="lines")
    discount = request.requested_discount_pct
    if discount is not None and not Decimal(0) <= discount <= _HUNDRED:
        raise InvalidInput(
            f"The discount on {product.name} must be between 0 and 100 %.", field="lines"
        )
    return InquiryLine(
        product_model_id=product.id,
        quantity=request.quantity,
        list_price=product.list_price,
        requested_price=request.requested_price,
        requested_discount_pct=discount,
    )


def _after_submission(session: Session, inquiry: Inquiry) -> None:
    pending = start_round(session, inquiry)
    if pending is not None:
        tell_approvers(session, inquiry, pending)
    elif inquiry.kind == InquiryKind.QUOTE_REQUEST:
        _issue_quote(session, inquiry)
    session.flush()


def _pending_step(session: Session, inquiry: Inquiry) -> InquiryApproval | None:
    return session.scalar(
        select(InquiryApproval).where(
            InquiryApproval.inquiry_id == inquiry.id,
            InquiryApproval.round == inquiry.round,
            InquiryApproval.status == ApprovalStatus.PENDING,
        )
    )


def _own_locked(session: Session, actor: Principal, inquiry_id: int) -> Inquiry:
    """The actor's own organisation's inquiry, locked; NotFound for anyone else's."""
    inquiry = lock_inquiry(session, inquiry_id)
    if actor.role != Role.DISTRIBUTOR or inquiry.distributor_org_id != actor.org_id:
        raise NotFound(f"No inquiry {inquiry_id}.", entity="inquiry")
    return inquiry


def _issue_quote(session: Session, inquiry: Inquiry) -> None:
    """Render the approved quote with the letterheads as they are now, kept with it."""
    if inquiry.decided_at is None:
        inquiry.decided_at = utcnow()
    issuer = manufacturer_org_id(session)
    inquiry.quote_issuer_profile_id = snapshot_letterhead(session, issuer)
    inquiry.quote_recipient_profile_id = snapshot_letterhead(session, inquiry.distributor_org_id)
    days = timedelta(days=quote_valid_days(session, issuer))
    inquiry.quote_valid_until = inquiry.decided_at.astimezone(UTC).date() + days
    inquiry.quote_pdf = render_quote(quote_facts(session, inquiry))


def quote_facts(session: Session, inquiry: Inquiry) -> QuoteFacts:
    """What the inquiry's quote states: the stored letterheads once it was issued."""
    approved_at = inquiry.decided_at or utcnow()
    approvers = [
        name
        for approval, name in approvals_of(session, inquiry.id)
        if approval.round == inquiry.round and approval.status == ApprovalStatus.APPROVED and name
    ]
    return QuoteFacts(
        number=inquiry_number(inquiry),
        subject=inquiry.subject,
        issuer=letterhead_for(
            session,
            snapshot_id=inquiry.quote_issuer_profile_id,
            org_id=manufacturer_org_id(session),
        ),
        recipient=letterhead_for(
            session,
            snapshot_id=inquiry.quote_recipient_profile_id,
            org_id=inquiry.distributor_org_id,
        ),
        currency=inquiry.currency,
        approved_at=approved_at,
        valid_until=inquiry.quote_valid_until
        or approved_at.astimezone(UTC).date() + timedelta(days=DEFAULT_QUOTE_VALID_DAYS),
        approved_by=approvers,
        lines=[
            QuoteLine(
                product=f"{product.name} ({product.code})",
                quantity=line.quantity,
                list_price=line.list_price,
                discount_pct=line_discount_pct(line),
                net_value=(line_net_price(line) * line.quantity).quantize(_CENT),
            )
            for line, product in lines_of(session, inquiry.id)
        ],
        list_value=inquiry.list_value,
        total_value=inquiry.total_value,
    )
