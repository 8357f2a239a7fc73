"""Portal pages of a distributor: dashboard, pickups and rebate statements."""

from __future__ import annotations

from fastapi import APIRouter

from partner_portal.views import dashboard, pickups, statements

router = APIRouter(include_in_schema=False)
router.include_router(dashboard.router)
router.include_router(pickups.router)
router.include_router(statements.router)
