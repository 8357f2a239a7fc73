"""Pages of service orders: the engineer's phone page and the dispatch board."""

from __future__ import annotations

from fastapi import APIRouter

import service_orders.alert_follow_ups
import service_orders.labels  # noqa: F401  (registers the words the pages use)
from service_orders.views import board, engineer, history, visit

router = APIRouter(include_in_schema=False)
router.include_router(engineer.router)
router.include_router(visit.router)
router.include_router(history.router)
router.include_router(board.router)
