"""Staff pages of the partner portal: finance's waiting list, overview, rebate programs and
settlement runs, statements (approve, issue, paid) and partner tiers."""

from __future__ import annotations

from fastapi import APIRouter

from partner_portal.staff_views import finance, overview, programs, statements, tiers

router = APIRouter(include_in_schema=False)
router.include_router(finance.router)
router.include_router(overview.router)
router.include_router(programs.router)
router.include_router(statements.router)
router.include_router(tiers.router)
