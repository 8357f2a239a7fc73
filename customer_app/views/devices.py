"""The customer's landing page (sites and devices with health) and one device's page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.db import SessionDep
from core.web.templating import render
from customer_app.devices import DEFAULT_WINDOW, device_detail, my_sites
from customer_app.web import CustomerPrincipal
from customer_app.work_orders import my_work_orders
from telemetry.queries.series import CHART_WINDOWS

router = APIRouter()


@router.get("/customer", name="customer_home")
def home(request: Request, session: SessionDep, principal: CustomerPrincipal) -> Response:
    """My sites with their devices: health badge, why, last seen, open alerts."""
    return render(
        request, "customer_app/home.html", {"sites": my_sites(session, principal=principal)}
    )


@router.get("/customer/devices/{asset_id}", name="customer_device")
def device_page(
    asset_id: int, request: Request, session: SessionDep, principal: CustomerPrincipal
) -> Response:
    """Health and why, predicted failure, charts for a window, health history, service history."""
    detail = device_detail(session, principal=principal, asset_id=asset_id)
    return render(
        request,
        "customer_app/device.html",
        {
            "d": detail,
            "windows": CHART_WINDOWS,
            "default_window": DEFAULT_WINDOW,
            "orders": my_work_orders(session, principal=principal, asset_id=asset_id),
        },
    )
