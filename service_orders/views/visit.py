"""One job on the engineer's phone: status, checklist, parts, notes, photos, signature, done."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import SessionDep, utcnow
from core.labels import label
from core.web.body_limit import ONE_FILE, MiB
from core.web.flash import flash_message, see_other
from core.web.forms import PageForm, blank_form, read_form, render_form
from core.web.templating import is_htmx, render
from service_orders.models import DispatchOffer, OfferStatus, ServiceCertificate, WorkOrder
from service_orders.photos import MAX_PHOTO_BYTES, THUMBNAIL_PX, add_photo
from service_orders.queries import Job, countdown, offer_clock, photos_of, places_of
from service_orders.schemas import ChecklistItem, PartUsed
from service_orders.views.engineer import after_day_change, maps_url
from service_orders.views.visit_forms import CompletionForm, PartForm
from service_orders.web import (
    CurrentEngineer,
    EngineerPrincipal,
    PhotoStore,
    read_photo,
    signature_bytes,
)
from service_orders.workorders import (
    OUTCOMES,
    VISIT_STATUSES,
    complete_work_order,
    get_work_order,
    transition,
    update_visit,
)

router = APIRouter()

JOB_TEMPLATE = "service_orders/engineer_job.html"
NOTES_SAVED = "Notes saved"


def job_context(session: Session, principal: Principal, work_order_id: int) -> dict[str, Any]:
    """One job the engineer may see (their own or offered to them); 404 for anyone else's."""
    work_order = get_work_order(session, principal=principal, work_order_id=work_order_id)
    offer = session.scalar(
        select(DispatchOffer).where(
            DispatchOffer.work_order_id == work_order.id,
            DispatchOffer.status == OfferStatus.PENDING,
        )
    )
    place = places_of(session, [work_order.asset_id])[work_order.asset_id]
    mine = work_order.engineer_id is not None and offer is None
    job, now = Job(work_order, place, offer), utcnow()
    actions = job.actions(now)
    return {
        "job": job,
        "wo": work_order,
        "actions": actions,
        "working": mine and work_order.status in VISIT_STATUSES,
        "completing": any(action.kind == "complete" for action in actions),
        "photos": photos_of(session, work_order_id=work_order.id),
        "thumb_px": THUMBNAIL_PX // 2,  # drawn at half size: sharp on a phone's denser screen
        "certificate_id": session.scalar(
            select(ServiceCertificate.id).where(ServiceCertificate.work_order_id == work_order.id)
        ),
        "outcome_options": [(o, label(o, "work_order_outcome")) for o in OUTCOMES],
        "part_form": blank_form(PartForm, quantity="1"),
        "completion_form": blank_form(CompletionForm),
        "max_photo_mib": MAX_PHOTO_BYTES // (1024 * 1024),
        "now": now,
        "countdown": countdown,
        "offer_clock": offer_clock,
        "maps_url": maps_url,
    }


def _refused(
    request: Request,
    session: Session,
    principal: Principal,
    work_order_id: int,
    **forms: PageForm[Any],
) -> Response:
    """The job again (the #job block for htmx) with a form's input and its problems; 422."""
    context = {**job_context(session, principal, work_order_id), **forms}
    form = next(iter(forms.values()))
    block = "job" if is_htmx(request) else None
    return render_form(request, JOB_TEMPLATE, context, form=form, block=block)


def after_visit_change(
    request: Request, session: Session, principal: Principal, work_order_id: int
) -> Response:
    """The refreshed job for htmx, or back to the job page after a plain form post."""
    if not is_htmx(request):
        return RedirectResponse(f"/engineer/jobs/{work_order_id}", status_code=303)
    context = job_context(session, principal, work_order_id)
    return render(request, JOB_TEMPLATE, context, block="job")


@router.get("/engineer/jobs/{work_order_id}", name="engineer_job")
def job_page(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
) -> Response:
    context = job_context(session, principal, work_order_id)
    # after a plain (no-JS) save the one-time message shows next to the button, not on top
    context["notes_saved"] = flash_message(request) == NOTES_SAVED
    return render(request, JOB_TEMPLATE, context)


@router.post("/engineer/jobs/{work_order_id}/status", name="engineer_status")
def change_status(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
    target: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=2000)] = "",
    view: Annotated[str, Form(max_length=8)] = "day",
) -> Response:
    """A status button, from the day list (view=day) or the job page (view=job)."""
    transition(session, actor=principal, work_order_id=work_order_id, target=target, note=note)
    if view == "job":
        return after_visit_change(request, session, principal, work_order_id)
    return after_day_change(request, session, engineer)


@router.post("/engineer/jobs/{work_order_id}/checklist", name="engineer_checklist")
def tick_checklist(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
    done: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """The ticked items (by position) are done, the others not."""
    work_order = get_work_order(session, principal=principal, work_order_id=work_order_id)
    ticked = set(done or [])
    items = [
        ChecklistItem.model_validate({**item, "done": index in ticked})
        for index, item in enumerate(work_order.checklist)
    ]
    update_visit(session, actor=principal, work_order_id=work_order_id, checklist=items)
    return after_visit_change(request, session, principal, work_order_id)


@router.post("/engineer/jobs/{work_order_id}/parts", name="engineer_add_part")
async def add_part(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
) -> Response:
    work_order = get_work_order(session, principal=principal, work_order_id=work_order_id)
    form = await read_form(request, PartForm)
    with form.refusals(session):
        if form.data is not None:
            part = PartUsed(
                part_no=form.data.part_no,
                description=form.data.description,
                quantity=form.data.quantity,
            )
            parts = [*_parts(work_order), part]
            update_visit(session, actor=principal, work_order_id=work_order_id, parts=parts)
    if form.errors:
        return _refused(request, session, principal, work_order_id, part_form=form)
    return after_visit_change(request, session, principal, work_order_id)


@router.post("/engineer/jobs/{work_order_id}/parts/{index}/remove", name="engineer_remove_part")
def remove_part(
    work_order_id: int,
    index: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
) -> Response:
    work_order = get_work_order(session, principal=principal, work_order_id=work_order_id)
    parts = [p for i, p in enumerate(_parts(work_order)) if i != index]
    update_visit(session, actor=principal, work_order_id=work_order_id, parts=parts)
    return after_visit_change(request, session, principal, work_order_id)


@router.post("/engineer/jobs/{work_order_id}/notes", name="engineer_notes")
def save_notes(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
    notes: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """The notes, and "Notes saved" beside the button (htmx swaps only that status line)."""
    update_visit(session, actor=principal, work_order_id=work_order_id, notes=notes)
    if not is_htmx(request):
        url = f"/engineer/jobs/{work_order_id}#notes-card"
        return see_other(request, url, flash=NOTES_SAVED)
    return render(request, JOB_TEMPLATE, {"notes_saved": True}, block="notes_status")


@router.post(
    "/engineer/jobs/{work_order_id}/photos",
    name="engineer_photo",
    max_body_size=MAX_PHOTO_BYTES + MiB,
    form_limits=ONE_FILE,
)
async def upload_photo(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
    store: PhotoStore,
    photo: Annotated[UploadFile, File()],
) -> Response:
    """A photo from the phone's camera (multipart, sent by htmx with the CSRF header)."""
    data = await read_photo(photo)
    add_photo(session, actor=principal, work_order_id=work_order_id, data=data, directory=store)
    return after_visit_change(request, session, principal, work_order_id)


@router.post("/engineer/jobs/{work_order_id}/complete", name="engineer_complete")
async def complete(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
) -> Response:
    """Done: the outcome and the customer's signature (a PNG data URL from signature_pad)."""
    form = await read_form(request, CompletionForm)
    with form.refusals(session):
        if form.data is not None:
            complete_work_order(
                session, actor=principal, work_order_id=work_order_id,
                outcome=form.data.outcome, signature_png=signature_bytes(form.data.signature),
                signed_by=form.data.signed_by, notes=form.data.notes,
            )  # fmt: skip
    if "signature_png" in form.errors:  # the service's name of the field
        form.add_error("signature", form.errors.pop("signature_png"))
    if form.errors:
        form.values.pop("signature", None)  # the pad starts empty again: ask for it again
        return _refused(request, session, principal, work_order_id, completion_form=form)
    return after_visit_change(request, session, principal, work_order_id)


def _parts(work_order: WorkOrder) -> list[PartUsed]:
    return [PartUsed.model_validate(p) for p in work_order.parts]
