"""Staff pages of telemetry: device list and provisioning, alerts list, device page, dead
letters."""

from __future__ import annotations

from fastapi import APIRouter

from telemetry.views import alerts, asset, dead_letters, devices

router = APIRouter(include_in_schema=False)
router.include_router(devices.router)
router.include_router(alerts.router)
router.include_router(asset.router)
router.include_router(dead_letters.router)
