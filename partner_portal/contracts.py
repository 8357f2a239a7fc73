"""Distributor contracts: versioned templates, offers rendered for one distributor, and the
online acceptance by a partner admin that issues the PDF and anchors its hash.

Templates are Jinja2 text run in a sandbox (staff write them, but a template must never reach
Python internals); only the placeholders in PLACEHOLDERS exist, and a missing one is an error.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import segno
from fpdf import FPDF
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import utcnow
from core.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from core.pdf import latin1
from crm.audit import CREATE, UPDATE, record_change, snapshot
from crm.capabilities import has_capability, users_with_capability
from crm.models import Capability, Organization, OrgKind, Site, User
from ledger.qr import verify_path
from ledger.service import new_request_id, request_anchor
from partner_portal.access import get_distributor
from partner_portal.models import (
    ContractStatus,
    ContractTemplate,
    DistributorContract,
    DistributorProfile,
    Tier,
)

ANCHOR_KIND = "distributor_contract"
MAX_TEMPLATE_CHARS = 100_000
PLACEHOLDERS: dict[str, str] = {
    "distributor_name": "the distributor's legal name",
    "distributor_address": "the address of its first site (empty when it has none)",
    "region": "its sales region",
    "tier": "its partner tier (silver, gold, platinum)",
    "contact_email": "the e-mail of its partner admin (empty when it has none)",
    "today": "the date of the offer (YYYY-MM-DD)",
    "valid_from": "the first day of the agreement (YYYY-MM-DD)",
    "valid_to": "its last day (YYYY-MM-DD), or 'open-ended'",
}
_AUDITED = ("status", "version", "template_id", "title", "valid_from", "valid_to")
_AUDITED_ACCEPTANCE = (*_AUDITED, "accepted_by", "accepted_at", "sha256")


# --- templates ------------------------------------------------------------------------------


MAX_CONTRACT_CHARS = 200_000  # what a filled-in contract may grow to


class _ContractSandbox(SandboxedEnvironment):
    """No arithmetic that can blow up ("x" * 10**9, 9**9**9): a contract fills in text."""

    intercepted_binops = frozenset({"*", "**", "//", "%", "/"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"the operator {operator} is not allowed in a contract template")


def _sandbox() -> SandboxedEnvironment:
    env = _ContractSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.clear()  # no range, cycler, joiner...: a contract needs only its placeholders
    return env


def render_text(body: str, data: dict[str, str]) -> str:
    """The template filled with `data` in the sandbox; any failure is the input's fault."""
    try:
        text = _sandbox().from_string(body).render(data)
    except TemplateError as exc:
        raise InvalidInput(
            f"The contract template cannot be filled in: {exc}", field="body"
        ) from exc
    if len(text) > MAX_CONTRACT_CHARS:
        raise InvalidInput(
            f"The filled-in contract is longer than {MAX_CONTRACT_CHARS:,} characters.",
            field="body",
        )
    return text


def check_template(body: str) -> None:
    """Refuse a template that does not parse, names unknown placeholders or breaks the sandbox."""
    if not body.strip():
        raise InvalidInput("The contract text is empty.", field="body")
    if len(body) > MAX_TEMPLATE_CHARS:
        raise InvalidInput(
            f"The text is longer than {MAX_TEMPLATE_CHARS} characters.", field="body"
        )
    try:
        names = meta.find_undeclared_variables(_sandbox().parse(body))
    except TemplateError as exc:
        raise InvalidInput(f"The template does not parse: {exc}", field="body") from exc
    unknown = sorted(names - PLACEHOLDERS.keys())
    if unknown:
        raise InvalidInput(
            f"Unknown placeholders: {', '.join(unknown)}. Use only {', '.join(PLACEHOLDERS)}.",
            field="body",
        )
    render_text(body, {name: name for name in PLACEHOLDERS})


def require_contract_staff(session: Session, actor: Principal) -> None:
    """Administrators and channel managers write templates, offers and tiers."""
    if actor.role == Role.ADMIN:
        return
    if actor.is_staff and has_capability(
        session, user_id=actor.user_id, capability=Capability.CHANNEL_MANAGER
    ):
        return
    raise PermissionDenied("Only administrators and channel managers may do this.")


def create_template_version(
    session: Session, *, actor: Principal, name: str, body: str
) -> ContractTemplate:
    """A new version of the named template (the first is version 1)."""
    require_contract_staff(session, actor)
    name = name.strip()
    if not name:
        raise InvalidInput("Give the template a name.", field="name")
    check_template(body)
    # serialise versioning of one name: two staff saving at once get versions n and n+1
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"contract_template:{name}"))))
    latest = session.scalar(
        select(func.max(ContractTemplate.version)).where(ContractTemplate.name == name)
    )
    template = ContractTemplate(
        name=name, version=(latest or 0) + 1, body=body, created_by=actor.user_id or None
    )
    session.add(template)
    session.flush()
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity=ContractTemplate.__tablename__,
        entity_id=template.id,
        before=None,
        after=snapshot(template, ("name", "version")),
    )
    return template


def list_templates(session: Session) -> list[ContractTemplate]:
    """Every template version, newest version of each name first."""
    return list(
        session.scalars(
            select(ContractTemplate).order_by(
                ContractTemplate.name, ContractTemplate.version.desc()
            )
        )
    )


# --- offers ---------------------------------------------------------------------------------


def distributor_data(
    session: Session,
    org: Organization,
    *,
    valid_from: date,
    valid_to: date | None,
    today: date,
) -> dict[str, str]:
    """The placeholder values of one distributor."""
    profile = session.get(DistributorProfile, org.id)
    address = session.scalar(
        select(Site.address).where(Site.org_id == org.id).order_by(Site.id).limit(1)
    )
    admins = users_with_capability(session, capability=Capability.PARTNER_ADMIN, org_id=org.id)
    return {
        "distributor_name": org.name,
        "distributor_address": address or "",
        "region": profile.region if profile else "",
        "tier": profile.tier if profile else Tier.SILVER.value,
        "contact_email": admins[0].email if admins else "",
        "today": today.isoformat(),
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat() if valid_to else "open-ended",
    }


def offer_contract(
    session: Session,
    *,
    actor: Principal,
    distributor_org_id: int,
    template_id: int,
    valid_from: date,
    valid_to: date | None = None,
) -> DistributorContract:
    """Offer the template, filled in, as the distributor's next contract version; an older
    offer still waiting for acceptance is superseded by it."""
    require_contract_staff(session, actor)
    org = get_distributor(session, distributor_org_id)
    template = session.get(ContractTemplate, template_id)
    if template is None:
        raise NotFound(f"No contract template {template_id}.", entity="contract_template")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput("The end date lies before the start date.", field="valid_to")
    _lock_distributor(session, org.id)
    today = utcnow().date()
    body = render_text(
        template.body,
        distributor_data(session, org, valid_from=valid_from, valid_to=valid_to, today=today),
    )
    for waiting in _contracts(session, org.id, ContractStatus.OFFERED):
        _set_status(session, actor, waiting, ContractStatus.SUPERSEDED)
    latest = session.scalar(
        select(func.max(DistributorContract.version)).where(
            DistributorContract.distributor_org_id == org.id
        )
    )
    contract = DistributorContract(
        distributor_org_id=org.id,
        template_id=template.id,
        version=(latest or 0) + 1,
        title=f"{template.name} (template v{template.version})"[:200],
        body=body,
        valid_from=valid_from,
        valid_to=valid_to,
        status=ContractStatus.OFFERED,
        created_by=actor.user_id or None,
    )
    session.add(contract)
    session.flush()
    _audit(session, actor, contract, CREATE, None, _AUDITED)
    return contract


def withdraw_offer(session: Session, *, actor: Principal, contract_id: int) -> DistributorContract:
    """Staff take back an offer that was not accepted yet."""
    require_contract_staff(session, actor)
    contract = _locked(session, contract_id)
    if contract.status != ContractStatus.OFFERED:
        raise IllegalTransition("Only an open offer can be withdrawn.")
    _set_status(session, actor, contract, ContractStatus.WITHDRAWN)
    return contract


# --- reading --------------------------------------------------------------------------------


def get_contract(session: Session, *, actor: Principal, contract_id: int) -> DistributorContract:
    """A contract its distributor's users or staff may see; NotFound for anyone else."""
    contract = session.get(DistributorContract, contract_id)
    if contract is None or not _may_see(actor, contract.distributor_org_id):
        raise NotFound(f"No contract {contract_id}.", entity="distributor_contract")
    return contract


def contracts_of(
    session: Session, *, actor: Principal, distributor_org_id: int
) -> list[DistributorContract]:
    """A distributor's contracts, newest version first."""
    if not _may_see(actor, distributor_org_id):
        raise NotFound(f"No distributor {distributor_org_id}.", entity="distributor")
    return list(
        session.scalars(
            select(DistributorContract)
            .where(DistributorContract.distributor_org_id == distributor_org_id)
            .order_by(DistributorContract.version.desc())
        )
    )


@dataclass(frozen=True, slots=True)
class DistributorRow:
    """One line of the staff's distributor list."""

    org: Organization
    tier: str | None
    region: str | None
    active_users: int
    in_force_version: int | None
    offered_version: int | None


def distributor_overview(session: Session, *, actor: Principal) -> list[DistributorRow]:
    """Every distributor with its tier, region, active users and contract status (staff)."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff see the list of distributors.")
    users = (
        select(func.count(User.id))
        .where(User.org_id == Organization.id, User.is_active)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Organization,
            DistributorProfile.tier,
            DistributorProfile.region,
            users,
            _version_with(ContractStatus.ACCEPTED),
            _version_with(ContractStatus.OFFERED),
        )
        .outerjoin(DistributorProfile, DistributorProfile.org_id == Organization.id)
        .where(Organization.kind == OrgKind.DISTRIBUTOR)
        .order_by(Organization.name, Organization.id)
    )
    return [DistributorRow(*row) for row in rows]


def _version_with(status: ContractStatus) -> ScalarSelect[int | None]:
    return (
        select(func.max(DistributorContract.version))
        .where(
            DistributorContract.distributor_org_id == Organization.id,
            DistributorContract.status == status,
        )
        .scalar_subquery()
    )


def is_partner_admin(session: Session, actor: Principal, org_id: int) -> bool:
    """Whether the actor administers this distributor organisation's partnership."""
    return (
        actor.role == Role.DISTRIBUTOR
        and actor.org_id == org_id
        and has_capability(session, user_id=actor.user_id, capability=Capability.PARTNER_ADMIN)
    )


# --- acceptance -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What the accepted contract's PDF states besides the text."""

    organisation: str
    accepted_by: str
    accepted_at: datetime
    verify_url: str


def accept_contract(
    session: Session, *, actor: Principal, contract_id: int, public_url: str
) -> DistributorContract:
    """A partner admin accepts an offer: the PDF is issued and anchored, and the contract in
    force until now is superseded, in one transaction."""
    contract = get_contract(session, actor=actor, contract_id=contract_id)
    if not is_partner_admin(session, actor, contract.distributor_org_id):
        raise PermissionDenied("Only a partner admin of your organisation may accept a contract.")
    _lock_distributor(session, contract.distributor_org_id)
    session.refresh(contract)
    if contract.status != ContractStatus.OFFERED:
        raise IllegalTransition(f"This contract is {contract.status}; only an offer is accepted.")
    now = utcnow()
    if contract.valid_to is not None and contract.valid_to < now.date():
        raise IllegalTransition("This offer ran out before it was accepted; ask for a new one.")
    for in_force in _contracts(session, contract.distributor_org_id, ContractStatus.ACCEPTED):
        _set_status(session, actor, in_force, ContractStatus.SUPERSEDED)
    org = get_distributor(session, contract.distributor_org_id)
    before = snapshot(contract, _AUDITED_ACCEPTANCE)
    # the QR code inside the PDF names its own anchor request, so the id comes first
    verify_id = new_request_id()
    verify_url = public_url.rstrip("/") + verify_path(verify_id)
    facts = Acceptance(org.name, f"{actor.name} <{actor.email}>", now, verify_url)
    pdf = render_contract_pdf(contract, facts)
    digest = hashlib.sha256(pdf).hexdigest()
    anchor = request_anchor(
        session,
        sha256=digest,
        kind=ANCHOR_KIND,
        reference=f"distributor_contract:{contract.id}",
        request_id=verify_id,
    )
    contract.status = ContractStatus.ACCEPTED
    contract.accepted_by = actor.user_id
    contract.accepted_at = now
    contract.pdf = pdf
    contract.sha256 = digest
    contract.anchor_request_id = anchor.id
    session.flush()
    _audit(session, actor, contract, UPDATE, before, _AUDITED_ACCEPTANCE)
    return contract


def render_contract_pdf(contract: DistributorContract, facts: Acceptance) -> bytes:
    """The accepted contract as PDF bytes; the same contract and acceptance give the same bytes."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(facts.accepted_at)
    pdf.set_title(latin1(f"{contract.title}, version {contract.version}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, latin1(contract.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    valid_to = contract.valid_to.isoformat() if contract.valid_to else "open-ended"
    for label, value in (
        ("Distributor", facts.organisation),
        ("Contract version", str(contract.version)),
        ("Valid", f"{contract.valid_from.isoformat()} to {valid_to}"),
    ):
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(40, 6, label)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 6, latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, latin1(contract.body), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Accepted online", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    accepted = facts.accepted_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    pdf.multi_cell(
        0,
        5,
        latin1(f"Accepted on behalf of {facts.organisation} by {facts.accepted_by} on {accepted}."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    y = pdf.get_y() + 4
    if y > pdf.h - 60:
        pdf.add_page()
        y = pdf.get_y()
    qr = io.BytesIO()
    segno.make(facts.verify_url, error="m").save(qr, kind="png", scale=4, border=2)
    pdf.image(io.BytesIO(qr.getvalue()), x=10, y=y, w=35)
    pdf.set_xy(50, y + 4)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        0,
        4,
        latin1(f"Scan to verify this contract against the public ledger: {facts.verify_url}"),
    )
    return bytes(pdf.output())


# --- helpers --------------------------------------------------------------------------------


def _may_see(actor: Principal, distributor_org_id: int) -> bool:
    return actor.is_staff or (actor.role == Role.DISTRIBUTOR and actor.org_id == distributor_org_id)


def _lock_distributor(session: Session, org_id: int) -> None:
    # one writer per distributor's contracts: versions and the in-force switch stay consistent
    session.execute(select(Organization.id).where(Organization.id == org_id).with_for_update())


def _locked(session: Session, contract_id: int) -> DistributorContract:
    contract = session.scalar(
        select(DistributorContract).where(DistributorContract.id == contract_id).with_for_update()
    )
    if contract is None:
        raise NotFound(f"No contract {contract_id}.", entity="distributor_contract")
    return contract


def _contracts(session: Session, org_id: int, status: ContractStatus) -> list[DistributorContract]:
    return list(
        session.scalars(
            select(DistributorContract).where(
                DistributorContract.distributor_org_id == org_id,
                DistributorContract.status == status,
            )
        )
    )


def _set_status(
    session: Session, actor: Principal, contract: DistributorContract, status: ContractStatus
) -> None:
    before = snapshot(contract, _AUDITED)
    contract.status = status
    # flushed at once: the partial unique index must see the old contract leave "accepted"
    session.flush()
    _audit(session, actor, contract, UPDATE, before, _AUDITED)


def _audit(
    session: Session,
    actor: Principal,
    contract: DistributorContract,
    action: str,
    before: dict[str, Any] | None,
    fields: tuple[str, ...],
) -> None:
    record_change(
        session,
        actor=actor,
        action=action,
        entity=DistributorContract.__tablename__,
        entity_id=contract.id,
        before=before,
        after=snapshot(contract, fields),
    )
