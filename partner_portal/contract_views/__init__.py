"""Pages of distributor contracts and partner users: the portal's contracts and users pages,
and staff pages of distributors and contract templates."""

from __future__ import annotations

from fastapi import APIRouter

from partner_portal.contract_views import portal, staff, users

router = APIRouter(include_in_schema=False)
router.include_router(portal.router)
router.include_router(users.router)
router.include_router(staff.router)
