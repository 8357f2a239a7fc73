"""Service pages: my work orders (engineer ETA and map), requesting service, the survey."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import SessionDep
from core.web.body_limit import MiB
from core.web.flash import see_other
from core.web.forms import PageForm, blank_form, read_form, render_form
from core.web.templating import render
from crm.service import list_assets
from customer_app.forms import ServiceRequestForm, SurveyForm
from customer_app.service_requests import MAX_PHOTOS, PRIORITY_HINTS, request_service
from customer_app.surveys import submit_survey
from customer_app.web import CustomerPrincipal, read_photos
from customer_app.work_orders import my_work_order, my_work_orders
from service_orders.photos import MAX_PHOTO_BYTES, photo_file
from service_orders.queries import photos_of
from service_orders.web import PhotoStore
from service_orders.workorders import list_work_order_events

router = APIRouter()
_NEW = "customer_app/service_new.html"


@router.get("/customer/service", name="customer_service")
def service_list(request: Request, session: SessionDep, principal: CustomerPrincipal) -> Response:
    """Open work orders (status, engineer, ETA while en route) and completed ones."""
    orders = my_work_orders(session, principal=principal)
    return render(
        request,
        "customer_app/service.html",
        {
            "open_orders": [o for o in orders if o.is_open],
            "done_orders": [o for o in orders if not o.is_open],
        },
    )


@router.get("/customer/service/new", name="customer_service_new")
def request_form(
    request: Request,
    session: SessionDep,
    principal: CustomerPrincipal,
    asset_id: int | None = None,
) -> Response:
    form = blank_form(ServiceRequestForm, asset_id=asset_id, priority="degraded")
    return render_form(request, _NEW, _request_context(session, principal), form=form)


@router.post(
    "/customer/service/new",
    name="customer_service_request",
    max_body_size=MAX_PHOTOS * MAX_PHOTO_BYTES + MiB,
)
async def send_request(
    request: Request, session: SessionDep, principal: CustomerPrincipal, store: PhotoStore
) -> Response:
    """Multipart: the device, what is wrong, how urgent, up to MAX_PHOTOS photos; then to the
    new work order's page (a refresh there sends nothing again)."""
    form = await read_form(request, ServiceRequestForm, max_files=MAX_PHOTOS, files_field="photos")
    work_order = None
    with form.refusals(session):
        photos = await read_photos(form.files("photos"))
        if form.data is not None:
            work_order = request_service(
                session,
                actor=principal,
                asset_id=form.data.asset_id,
                description=form.data.description,
                priority_hint=form.data.priority,
                photos=photos,
                directory=store,
            )
    if work_order is None:
        return render_form(request, _NEW, _request_context(session, principal), form=form)
    return see_other(
        request,
        f"/customer/service/{work_order.id}",
        flash=f"Your request was sent as {work_order.number}. We will find an engineer.",
    )


def _request_context(session: Session, principal: Principal) -> dict[str, Any]:
    assets = list_assets(session, principal=principal)
    return {
        "assets": assets,
        "asset_options": [(asset.id, asset.serial) for asset in assets],
        "priority_options": [(key, label) for key, (_, label) in PRIORITY_HINTS.items()],
        "max_photos": MAX_PHOTOS,
        "max_photo_mib": MAX_PHOTO_BYTES // (1024 * 1024),
    }


@router.get("/customer/service/{work_order_id}", name="customer_work_order")
def work_order_page(
    work_order_id: int, request: Request, session: SessionDep, principal: CustomerPrincipal
) -> Response:
    order = my_work_order(session, principal=principal, work_order_id=work_order_id)
    return render(
        request,
        "customer_app/work_order.html",
        {
            "o": order,
            "photos": photos_of(session, work_order_id=order.work_order.id),
            "events": list_work_order_events(
                session, principal=principal, work_order_id=order.work_order.id
            ),
        },
    )


@router.get("/customer/service/{work_order_id}/survey", name="customer_survey")
def survey_form(
    work_order_id: int, request: Request, session: SessionDep, principal: CustomerPrincipal
) -> Response:
    return _survey_page(request, session, principal, work_order_id, blank_form(SurveyForm))


@router.post("/customer/service/{work_order_id}/survey", name="customer_survey_submit")
async def survey_submit(
    work_order_id: int, request: Request, session: SessionDep, principal: CustomerPrincipal
) -> Response:
    """Once per completed work order; a second answer is refused in the form."""
    form = await read_form(request, SurveyForm)
    with form.refusals(session):
        if form.data is not None:
            submit_survey(
                session,
                actor=principal,
                work_order_id=work_order_id,
                csat=form.data.csat,
                nps=form.data.nps,
                comment=form.data.comment,
            )
    if form.errors:
        return _survey_page(request, session, principal, work_order_id, form)
    return see_other(
        request, f"/customer/service/{work_order_id}", flash="Thank you for rating the visit."
    )


def _survey_page(
    request: Request,
    session: Session,
    principal: Principal,
    work_order_id: int,
    form: PageForm[SurveyForm],
) -> Response:
    order = my_work_order(session, principal=principal, work_order_id=work_order_id)
    return render_form(request, "customer_app/survey.html", {"o": order}, form=form)


@router.get("/customer/photos/{photo_id}", name="customer_photo")
def photo(
    photo_id: int, session: SessionDep, principal: CustomerPrincipal, store: PhotoStore
) -> FileResponse:
    """A photo of one of my work orders; another organisation's is 404."""
    found, path = photo_file(session, principal=principal, photo_id=photo_id, directory=store)
    return FileResponse(
        path,
        media_type=found.content_type,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )
