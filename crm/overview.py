"""Read models for the landing pages: the installed base a principal may see, and counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from core.auth.principal import Principal
from core.listing import ListPage, ListParams, fetch_page
from crm.models import Asset, Organization, ProductModel, Site
from crm.service.assets import asset_visibility


@dataclass(frozen=True, slots=True)
class InstalledAsset:
    asset_id: int
    serial: str
    model: str
    family: str
    site: str
    owner: str
    warranty_end: date | None


INSTALLED_BASE_SORTS = ("serial", "model", "site", "owner", "warranty")


def installed_base(
    session: Session, *, principal: Principal, params: ListParams
) -> ListPage[InstalledAsset]:
    """One page of the assets the principal may see, with model, site and owner names,
    searched by serial, model, site or owner."""
    owner = aliased(Organization)
    query = (
        select(
            Asset.id,
            Asset.serial,
            ProductModel.name,
            ProductModel.family,
            Site.name,
            owner.name,
            Asset.warranty_end,
        )
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .join(Site, Site.id == Asset.site_id)
        .join(owner, owner.id == Asset.owner_org_id)
        .where(asset_visibility(principal))
    )
    if params.search:
        words = f"%{params.search}%"
        query = query.where(
            or_(
                Asset.serial.ilike(words),
                ProductModel.name.ilike(words),
                Site.name.ilike(words),
                owner.name.ilike(words),
            )
        )
    column = {
        "serial": Asset.serial,
        "model": ProductModel.name,
        "site": Site.name,
        "owner": owner.name,
        "warranty": Asset.warranty_end,
    }[params.sort]
    order = column.desc().nulls_last() if params.descending else column.asc().nulls_last()
    rows, total = fetch_page(session, query.order_by(order, Asset.serial, Asset.id), params)
    return ListPage([InstalledAsset(*row) for row in rows], total, params)


def count_visible_assets(session: Session, *, principal: Principal) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Asset).where(asset_visibility(principal)))
        or 0
    )


def organizations_by_kind(session: Session) -> dict[str, int]:
    """How many organizations of each kind exist (staff dashboard)."""
    rows = session.execute(select(Organization.kind, func.count()).group_by(Organization.kind))
    return {kind: int(count) for kind, count in rows}
