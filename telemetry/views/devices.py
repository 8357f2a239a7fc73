"""The device list: health, last seen and open alerts per asset, and device provisioning."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from core.config import get_settings
from core.db import SessionDep
from core.listing import list_params
from core.web.deps import StaffPrincipal
from core.web.templating import render
from telemetry.devices import provision_device
from telemetry.queries.devices import (
    DEVICE_SORTS,
    DEVICE_STATES,
    HEALTH_BANDS,
    customer_choices,
    device_overview,
    device_page,
    fleet_summary,
)
from telemetry.web import BrokerSync, mqtt_topic

router = APIRouter()

_TEMPLATE = "telemetry/devices.html"


_FILTERS = {
    "health": HEALTH_BANDS,
    "device": DEVICE_STATES,
    "alerts": ("open",),
    "customer": None,
}


def _list_context(
    request: Request, session: SessionDep, principal: StaffPrincipal
) -> dict[str, Any]:
    params = list_params(
        request.query_params, sorts=DEVICE_SORTS, default_sort="customer", filters=_FILTERS
    )
    return {
        "listing": device_page(session, principal=principal, params=params),
        "customers": customer_choices(session, principal=principal),
        "summary": fleet_summary(session, principal=principal),
    }


@router.get("/staff/devices", name="telemetry_devices")
def devices_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    return render(request, _TEMPLATE, _list_context(request, session, principal))


@router.post("/staff/devices", name="telemetry_provision")
def provision(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    sync: BrokerSync,
    asset_id: Annotated[int, Form()],
) -> Response:
    """Provision a device and show its secret once (rendered, never redirected to or stored)."""
    created = provision_device(session, actor=principal, asset_id=asset_id)
    provisioned: dict[str, Any] = {
        "asset_id": asset_id,
        "username": created.device.key,
        "secret": created.secret,
        "broker_url": get_settings().resolved_mqtt_url(),
        "topic": mqtt_topic(created.device.key),
    }
    session.commit()
    sync(session)  # after the commit: the broker accepts the device from this moment
    context = _list_context(request, session, principal)
    provisioned["serial"] = device_overview(session, principal=principal, asset_id=asset_id)[
        0
    ].serial
    return render(
        request,
        _TEMPLATE,
        {**context, "provisioned": provisioned},
        block="device_list",
        headers={"Cache-Control": "no-store"},
    )
