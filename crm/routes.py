"""JSON API of crm: the records a caller may see, scoped to their tenant."""

from __future__ import annotations

from fastapi import APIRouter

from core.db import SessionDep
from core.web.deps import CurrentPrincipal
from crm import service
from crm.schemas import AssetRead, OrganizationRead

router = APIRouter(prefix="/api/crm", tags=["crm"])


@router.get("/organizations")
def list_organizations(session: SessionDep, principal: CurrentPrincipal) -> list[OrganizationRead]:
    """Organizations the caller may see: staff all, partners themselves and their customers."""
    rows = service.list_organizations(session, principal=principal)
    return [OrganizationRead.model_validate(row) for row in rows]


@router.get("/assets")
def list_assets(session: SessionDep, principal: CurrentPrincipal) -> list[AssetRead]:
    """The installed base the caller may see."""
    return [AssetRead.model_validate(a) for a in service.list_assets(session, principal=principal)]


@router.get("/assets/{asset_id}", responses={404: {"description": "No such asset visible"}})
def get_asset(asset_id: int, session: SessionDep, principal: CurrentPrincipal) -> AssetRead:
    """One asset; another tenant's asset answers 404, exactly like a missing one."""
    return AssetRead.model_validate(
        service.get_asset(session, principal=principal, asset_id=asset_id)
    )
