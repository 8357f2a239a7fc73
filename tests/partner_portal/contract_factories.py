"""Builders for contract and partner-user tests: distributors with a partner admin, templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from crm.capabilities import grant
from crm.models import Capability, Organization, OrgKind, User
from partner_portal.contracts import create_template_version, offer_contract
from partner_portal.models import ContractTemplate, DistributorContract, DistributorProfile
from tests.crm.factories import make_org, make_user, principal_of

PUBLIC_URL = "https://crm.example.test"
AGREEMENT = (
    "Distribution agreement between ACME and {{ distributor_name }} ({{ tier }} partner, "
    "region {{ region }}), from {{ valid_from }} to {{ valid_to }}.\n\n"
    "Notices to {{ contact_email }}. Dated {{ today }}."
)


@dataclass(frozen=True)
class Partner:
    """A distributor organisation with one partner admin and one ordinary user."""

    org: Organization
    admin: User
    member: User

    @property
    def admin_principal(self) -> Principal:
        return principal_of(self.admin)

    @property
    def member_principal(self) -> Principal:
        return principal_of(self.member)


def make_partner(db: Session, *, name: str | None = None, region: str = "North") -> Partner:
    org = make_org(db, kind=OrgKind.DISTRIBUTOR, name=name)
    db.add(DistributorProfile(org_id=org.id, tier="gold", region=region))
    admin = make_user(db, org=org, role=Role.DISTRIBUTOR)
    grant(db, user_id=admin.id, capability=Capability.PARTNER_ADMIN)
    member = make_user(db, org=org, role=Role.DISTRIBUTOR)
    db.flush()
    return Partner(org, admin, member)


def make_staff(db: Session) -> Principal:
    return principal_of(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER)))


def make_template(
    db: Session, *, staff: Principal, name: str = "Distribution agreement", body: str = AGREEMENT
) -> ContractTemplate:
    return create_template_version(db, actor=staff, name=name, body=body)


def make_offer(
    db: Session, partner: Partner, *, staff: Principal | None = None, valid_to: date | None = None
) -> DistributorContract:
    staff = staff or make_staff(db)
    template = make_template(db, staff=staff)
    return offer_contract(
        db,
        actor=staff,
        distributor_org_id=partner.org.id,
        template_id=template.id,
        valid_from=date(2026, 1, 1),
        valid_to=valid_to,
    )
