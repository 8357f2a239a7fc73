"""Distributor A's records of every kind the partner portal names by id, for the tenant sweep,
and a fingerprint of everything a refused request must leave untouched."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm.models import Capability, Notification, ProductModel
from crm.notifications import notify
from partner_portal import library
from partner_portal.approvals import Decision
from partner_portal.contracts import accept_contract
from partner_portal.inquiries import decide_inquiry
from partner_portal.models import (
    ContractStatus,
    DistributorContract,
    Inquiry,
    InquiryStatus,
    PartnerInvitation,
    PickupLine,
    PortalDocument,
    PortalDocumentVersion,
    RebateProgram,
    RebateStatement,
    StatementStatus,
    TrainingVideo,
)
from partner_portal.partner_users import invite_user
from partner_portal.settlement import approve_statement, issue_statement, settle
from tests.crm.factories import principal_of
from tests.partner_portal import inquiry_factories as inquiries
from tests.partner_portal import library_factories as library_builders
from tests.partner_portal.contract_factories import Partner, make_offer, make_partner
from tests.partner_portal.factories import add_pickup, make_program
from tests.partner_portal.statement_factories import PUBLIC_URL, Q1, make_finance


@dataclass(frozen=True)
class TenantA:
    """Everything distributor A owns that a portal URL can name."""

    partner: Partner
    product: ProductModel
    program: RebateProgram
    statement: RebateStatement
    pickups: Sequence[PickupLine]
    document: PortalDocument
    version: PortalDocumentVersion
    video: TrainingVideo
    approved_quote: Inquiry
    open_inquiry: Inquiry
    accepted_contract: DistributorContract
    offered_contract: DistributorContract
    notifications: Sequence[Notification]
    invitation: PartnerInvitation


# How a path parameter names one of A's records. The first record of each tuple is complete
# enough that A's own partner admin can open every page about it (a PDF exists, ...); the
# others are in a state a missing tenant check would let B change (an open offer, ...).
PARAMETERS: dict[str, Callable[[TenantA], tuple[int, ...]]] = {
    "statement_id": lambda a: (a.statement.id,),
    "document_id": lambda a: (a.document.id,),
    "version_id": lambda a: (a.version.id,),
    "video_id": lambda a: (a.video.id,),
    "inquiry_id": lambda a: (a.approved_quote.id, a.open_inquiry.id),
    "contract_id": lambda a: (a.accepted_contract.id, a.offered_contract.id),
    "user_id": lambda a: (a.partner.admin.id, a.partner.member.id),
    "notification_id": lambda a: tuple(n.id for n in a.notifications),
    "org_id": lambda a: (a.partner.org.id,),
    "program_id": lambda a: (a.program.id,),
    "invitation_id": lambda a: (a.invitation.id,),
}


def build_tenant_a(db: Session) -> TenantA:
    """Distributor A with a partner admin, a member and one record of every kind.

    Needs the upload directory of `library_factories.upload_dir`.
    """
    partner = make_partner(db)
    product = inquiries.make_priced_product(db, price="1000")
    program = make_program(db)
    pickups = [
        add_pickup(
            db,
            distributor=partner.org,
            product=product,
            picked_on=date(2026, 2, day),
            net_value="6000",
        )
        for day in (1, 2)
    ]
    runner, finance = make_finance(db), make_finance(db)  # four eyes
    (statement,) = settle(db, actor=runner, program_id=program.id, period_start=Q1)
    approve_statement(db, actor=finance, statement_id=statement.id)
    issue_statement(db, actor=finance, statement_id=statement.id, public_url=PUBLIC_URL)

    staff = library_builders.make_staff(db)
    document = library_builders.make_document(db, staff, policy=True, distributors=[partner.org])
    (version,) = library.versions_of(db, document.id)
    video = library_builders.make_video(db, staff, distributors=[partner.org])

    approved_quote = inquiries.submit_inquiry(db, partner.member, [inquiries.line(product)])
    sales = inquiries.make_staff(db, Capability.SALES_MANAGER)
    decide_inquiry(
        db,
        actor=principal_of(sales),
        inquiry_id=approved_quote.id,
        approval_id=inquiries.pending_approval(db, approved_quote).id,
        decision=Decision.APPROVE,
    )
    open_inquiry = inquiries.submit_inquiry(db, partner.member, [inquiries.line(product, "2")])

    accepted = make_offer(db, partner)
    accept_contract(
        db, actor=partner.admin_principal, contract_id=accepted.id, public_url=PUBLIC_URL
    )
    offered = make_offer(db, partner)
    notes = notify(
        db, user_ids=[partner.member.id, partner.admin.id], title="Your statement is ready"
    )
    invitation = invite_user(
        db, actor=partner.admin_principal, email="invited@example.test", full_name="Invited"
    ).invitation
    db.flush()

    a = TenantA(
        partner, product, program, statement, pickups, document, version, video,
        approved_quote, open_inquiry, accepted, offered, notes, invitation,
    )  # fmt: skip
    _check_states(a)
    return a


def _check_states(a: TenantA) -> None:
    """The records are in the states the sweep relies on."""
    assert a.statement.status == StatementStatus.ISSUED
    assert a.statement.pdf is not None
    assert a.approved_quote.status == InquiryStatus.APPROVED
    assert a.approved_quote.quote_pdf is not None
    assert a.open_inquiry.status in (InquiryStatus.SUBMITTED, InquiryStatus.IN_APPROVAL)
    assert a.accepted_contract.status == ContractStatus.ACCEPTED
    assert a.accepted_contract.pdf is not None
    assert a.offered_contract.status == ContractStatus.OFFERED
    assert a.document.audience_distributor_ids == [a.partner.org.id]
    assert a.video.audience_distributor_ids == [a.partner.org.id]


def url_variants(path: str, names: Sequence[str], a: TenantA) -> list[str]:
    """The path once for each combination of A's records its parameters can name."""
    unmapped = [name for name in names if name not in PARAMETERS]
    assert not unmapped, (
        f"{path}: the portal tenant sweep does not know which of A's records {unmapped} "
        "names; add it to PARAMETERS in tests/security/portal_sweep_data.py"
    )
    urls = []
    for ids in itertools.product(*(PARAMETERS[name](a) for name in names)):
        url = path
        for name, value in zip(names, ids, strict=True):
            url = url.replace("{" + name + "}", str(value))
        urls.append(url)
    return urls


# every row a refused request could have touched, as md5 of the row text, table by table
_OF_INQUIRIES = "inquiry_id IN (SELECT id FROM inquiries WHERE distributor_org_id = ANY(:orgs))"
_WATCHED = {
    "distributor_profiles": "org_id = ANY(:orgs)",
    "pickup_lines": "distributor_org_id = ANY(:orgs)",
    "rebate_programs": "TRUE",
    "rebate_tiers": "TRUE",
    "rebate_statements": "distributor_org_id = ANY(:orgs)",
    "tier_rules": "TRUE",
    "tier_changes": "org_id = ANY(:orgs)",
    "portal_documents": "TRUE",
    "portal_document_versions": "TRUE",
    "document_acknowledgements": "org_id = ANY(:orgs)",
    "document_downloads": "org_id = ANY(:orgs)",
    "training_videos": "TRUE",
    "training_progress": "org_id = ANY(:orgs)",
    "inquiries": "distributor_org_id = ANY(:orgs)",
    "inquiry_lines": _OF_INQUIRIES,
    "inquiry_approvals": _OF_INQUIRIES,
    "inquiry_events": _OF_INQUIRIES,
    "approval_steps": "TRUE",
    "contract_templates": "TRUE",
    "distributor_contracts": "distributor_org_id = ANY(:orgs)",
    "notifications": "user_id IN (SELECT id FROM users WHERE org_id = ANY(:orgs))",
    "user_capabilities": "user_id IN (SELECT id FROM users WHERE org_id = ANY(:orgs))",
    "partner_invitations": "org_id = ANY(:orgs)",
}
# logging in stamps last_login_at; everything else about a user must stay
_USERS = (
    "SELECT md5(concat_ws('|', id, org_id, email, full_name, role, password_hash, is_active)) "
    "FROM users WHERE org_id = ANY(:orgs) ORDER BY 1"
)


def fingerprint(db: Session, *org_ids: int) -> dict[str, list[str]]:
    """What the tables say about these organisations (and the shared rebate and library
    settings) now; compare two fingerprints to prove nothing changed."""
    orgs = {"orgs": list(org_ids)}
    found = {
        table: list(
            db.scalars(
                text(f"SELECT md5(t::text) FROM {table} t WHERE {where} ORDER BY 1"),  # noqa: S608
                orgs,
            )
        )
        for table, where in _WATCHED.items()
    }
    found["users"] = list(db.scalars(text(_USERS), orgs))
    return found
