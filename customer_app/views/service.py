"""Service pages: my work orders (engineer ETA and map), requesting service, the survey."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from core.db import SessionDep
from core.web.templating import is_htmx, render
from crm.service import list_assets
from customer_app.service_requests import MAX_PHOTOS, PRIORITY_HINTS, request_service
from customer_app.surveys import submit_survey
from customer_app.web import CustomerPrincipal, read_photos
from customer_app.work_orders import my_work_order, my_work_orders
from service_orders.photos import MAX_PHOTO_BYTES, photo_file
from service_orders.queries import photos_of
from service_orders.web import PhotoStore
from service_orders.workorders import list_work_order_events

router = APIRouter()


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
    return render(
        request,
        "customer_app/service_new.html",
        {
            "assets": list_assets(session, principal=principal),
            "selected": asset_id,
            "hints": PRIORITY_HINTS,
            "max_photos": MAX_PHOTOS,
            "max_photo_mib": MAX_PHOTO_BYTES // (1024 * 1024),
        },
    )


@router.post("/customer/service/new", name="customer_service_request")
async def send_request(
    request: Request,
    session: SessionDep,
    principal: CustomerPrincipal,
    store: PhotoStore,
    asset_id: Annotated[int, Form()],
    description: Annotated[str, Form(max_length=5000)],
    priority: Annotated[str, Form(max_length=16)],
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Multipart: the device, what is wrong, how urgent, up to MAX_PHOTOS photos."""
    work_order = request_service(
        session,
        actor=principal,
        asset_id=asset_id,
        description=description,
        priority_hint=priority,
        photos=await read_photos(photos or []),
        directory=store,
    )
    page = f"/customer/service/{work_order.id}"
    if is_htmx(request):  # the form is sent by htmx: multipart carries the CSRF header
        return Response(status_code=200, headers={"HX-Redirect": page})
    return RedirectResponse(page, status_code=303)


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
    order = my_work_order(session, principal=principal, work_order_id=work_order_id)
    return render(request, "customer_app/survey.html", {"o": order})


@router.post("/customer/service/{work_order_id}/survey", name="customer_survey_submit")
def survey_submit(
    work_order_id: int,
    session: SessionDep,
    principal: CustomerPrincipal,
    csat: Annotated[int, Form()],
    nps: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Once per completed work order; a second answer is 409."""
    submit_survey(
        session, actor=principal, work_order_id=work_order_id, csat=csat, nps=nps, comment=comment
    )
    return RedirectResponse(f"/customer/service/{work_order_id}?rated=1", status_code=303)


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
