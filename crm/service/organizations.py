"""Organizations: the manufacturer, its distributors and their customers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import InvalidInput
from crm.models import Asset, Organization, OrgKind
from crm.schemas import OrganizationCreate
from crm.service._access import add_audited, get_organization, require_staff
from crm.service.assets import asset_visibility

ORGANIZATION_FIELDS = ("id", "kind", "name", "distributor_id")


def create_organization(
    session: Session, *, actor: Principal, data: OrganizationCreate
) -> Organization:
    """Register a manufacturer, distributor or customer (staff only)."""
    require_staff(actor, to="create organizations")
    if data.distributor_id is not None:
        distributor = get_organization(session, data.distributor_id)
        if distributor.kind != OrgKind.DISTRIBUTOR:
            raise InvalidInput("distributor_id must name a distributor.", field="distributor_id")
    org = Organization(kind=data.kind.value, name=data.name, distributor_id=data.distributor_id)
    return add_audited(session, actor=actor, record=org, fields=ORGANIZATION_FIELDS)


def list_organizations(session: Session, *, principal: Principal) -> Sequence[Organization]:
    """The organizations the principal may see, by name."""
    query = select(Organization).order_by(Organization.name, Organization.id)
    if principal.role == Role.DISTRIBUTOR:
        query = query.where(
            or_(
                Organization.id == principal.org_id, Organization.distributor_id == principal.org_id
            )
        )
    elif principal.role == Role.ENGINEER:
        # their employer and the owners of the machines of their offers and jobs
        owners = select(Asset.owner_org_id).where(asset_visibility(principal))
        query = query.where(or_(Organization.id == principal.org_id, Organization.id.in_(owners)))
    elif not principal.is_staff:
        query = query.where(Organization.id == principal.org_id)
    return session.scalars(query).all()
