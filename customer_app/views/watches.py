"""Health watches: the thresholds below which a customer is notified."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.db import SessionDep
from core.errors import InvalidInput
from core.web.templating import render
from crm.service import list_assets
from customer_app.watches import my_watches, remove_watch, set_watch
from customer_app.web import CustomerPrincipal

router = APIRouter()
ALL_DEVICES = "all"


@router.get("/customer/watches", name="customer_watches")
def watches_page(request: Request, session: SessionDep, principal: CustomerPrincipal) -> Response:
    return render(
        request,
        "customer_app/watches.html",
        {
            "watches": my_watches(session, principal=principal),
            "assets": list_assets(session, principal=principal),
        },
    )


@router.post("/customer/watches", name="customer_watch_set")
def save_watch(
    session: SessionDep,
    principal: CustomerPrincipal,
    threshold: Annotated[int, Form(ge=1, le=100)],
    device: Annotated[str, Form(max_length=16)] = ALL_DEVICES,
) -> Response:
    """Set the threshold for one device (its id) or for all my devices ("all")."""
    if device != ALL_DEVICES and not device.isdigit():
        raise InvalidInput("Choose one of your devices, or all of them.", field="device")
    asset_id = None if device == ALL_DEVICES else int(device)
    set_watch(session, actor=principal, asset_id=asset_id, threshold=threshold)
    return RedirectResponse("/customer/watches", status_code=303)


@router.post("/customer/watches/{watch_id}/delete", name="customer_watch_delete")
def delete_watch(watch_id: int, session: SessionDep, principal: CustomerPrincipal) -> Response:
    remove_watch(session, actor=principal, watch_id=watch_id)
    return RedirectResponse("/customer/watches", status_code=303)
