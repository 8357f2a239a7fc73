"""Read models for the landing pages: the installed base a principal may see, and counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.auth.principal import Principal
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


def installed_base(
    session: Session, *, principal: Principal, limit: int = 100
) -> Sequence[InstalledAsset]:
    """The assets the principal may see, with model, site and owner names."""
    owner = aliased(Organization)
    rows = session.execute(
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
        .order_by(owner.name, Site.name, Asset.serial)
        .limit(limit)
    ).all()
    return [InstalledAsset(*row) for row in rows]


def count_visible_assets(session: Session, *, principal: Principal) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Asset).where(asset_visibility(principal)))
        or 0
    )


def organizations_by_kind(session: Session) -> dict[str, int]:
    """How many organizations of each kind exist (staff dashboard)."""
    rows = session.execute(select(Organization.kind, func.count()).group_by(Organization.kind))
    return {kind: int(count) for kind, count in rows}
