"""The customer's phone-first pages: devices, service, surveys and health watches."""

from __future__ import annotations

from fastapi import APIRouter

from customer_app.views import devices, service, watches

router = APIRouter(include_in_schema=False)
router.include_router(devices.router)
router.include_router(service.router)
router.include_router(watches.router)
