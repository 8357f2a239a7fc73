"""The installed base, and which tenant may see which asset."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import Conflict, InvalidInput, NotFound
from crm.models import Asset, Organization, ProductModel, Site
from crm.schemas import AssetCreate
from crm.service._access import add_audited, get_organization, get_record, require_staff
from crm.service.engineer_reach import assets_seen_by_engineer

ASSET_FIELDS = (
    "id",
    "serial",
    "product_model_id",
    "site_id",
    "owner_org_id",
    "install_date",
    "warranty_end",
    "runtime_hours",
)


def asset_visibility(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause limiting assets to those the principal may see; reuse it in joins.

    Staff see the fleet; an engineer the machines of their offers and jobs; a customer their
    own; a distributor their customers'."""
    if principal.is_staff:
        return true()
    if principal.role == Role.ENGINEER:
        return Asset.id.in_(assets_seen_by_engineer(principal))
    if principal.role == Role.CUSTOMER:
        return Asset.owner_org_id == principal.org_id
    if principal.role == Role.DISTRIBUTOR:
        customers = select(Organization.id).where(Organization.distributor_id == principal.org_id)
        return Asset.owner_org_id.in_(customers)
    return false()


def create_asset(session: Session, *, actor: Principal, data: AssetCreate) -> Asset:
    """Register an installed machine at one of its owner's sites (staff only)."""
    require_staff(actor, to="register assets")
    get_record(session, ProductModel, data.product_model_id)
    get_organization(session, data.owner_org_id)
    if get_record(session, Site, data.site_id).org_id != data.owner_org_id:
        raise InvalidInput(
            "The site belongs to another organization than the owner.", field="site_id"
        )
    duplicate = select(Asset.id).where(
        Asset.product_model_id == data.product_model_id, Asset.serial == data.serial
    )
    if session.scalar(duplicate) is not None:
        raise Conflict(
            f"Serial {data.serial} is already registered for this model.", code="serial_taken"
        )
    asset = Asset(**data.model_dump())
    return add_audited(session, actor=actor, record=asset, fields=ASSET_FIELDS)


def list_assets(session: Session, *, principal: Principal) -> Sequence[Asset]:
    """The assets the principal may see, by id."""
    return session.scalars(
        select(Asset).where(asset_visibility(principal)).order_by(Asset.id)
    ).all()


def get_asset(session: Session, *, principal: Principal, asset_id: int) -> Asset:
    """One visible asset; another tenant's asset is NotFound so its existence stays hidden."""
    asset = session.scalar(select(Asset).where(Asset.id == asset_id, asset_visibility(principal)))
    if asset is None:
        raise NotFound(f"No asset {asset_id}.", entity="assets")
    return asset
