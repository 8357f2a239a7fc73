"""JSON API of service orders under /api/service-orders (the pages use the same services)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from core.db import SessionDep, utcnow
from core.web.body_limit import ONE_FILE, MiB
from core.web.deps import CurrentPrincipal, StaffPrincipal
from service_orders.api_schemas import (
    AssignRequest,
    BoardAssetRead,
    BoardEngineerRead,
    BoardRead,
    CompleteRequest,
    DecisionRead,
    DeclineRequest,
    KpiRead,
    LocationIn,
    OfferRead,
    PhotoRead,
    QueueItemRead,
)
from service_orders.dispatch import accept_offer, assign_by_hand, decline_offer, dispatch
from service_orders.engineers import update_location
from service_orders.kpis import Period, service_kpis
from service_orders.models import DispatchDecision, DispatchOffer, OfferStatus, WorkOrderPhoto
from service_orders.photos import MAX_PHOTO_BYTES, add_photo, photo_file, photo_thumbnail
from service_orders.queries import (
    board_assets,
    board_engineers,
    dispatch_queue,
    jobs_in_progress,
    photos_of,
)
from service_orders.schemas import (
    TransitionRequest,
    VisitUpdate,
    WorkOrderCreate,
    WorkOrderEventRead,
    WorkOrderRead,
)
from service_orders.web import (
    CurrentEngineer,
    OfferPublisher,
    PhotoStore,
    read_photo,
    signature_bytes,
)
from service_orders.workorders import (
    complete_work_order,
    create_work_order,
    get_work_order,
    list_work_order_events,
    list_work_orders,
    transition,
    update_visit,
)

router = APIRouter(prefix="/api/service-orders", tags=["service orders"])
PHOTO_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=3600",
    "Content-Disposition": "inline",
}


@router.get("/work-orders", response_model=list[WorkOrderRead])
def work_orders(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: str | None = None,
    engineer_id: int | None = None,
    asset_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[WorkOrderRead]:
    """Work orders the caller may see: staff all, engineers their own, customers their assets'."""
    rows = list_work_orders(
        session, principal=principal, status=status, engineer_id=engineer_id,
        asset_id=asset_id, limit=limit,
    )  # fmt: skip
    return [WorkOrderRead.model_validate(w) for w in rows]


@router.post("/work-orders", response_model=WorkOrderRead, status_code=201)
def open_work_order(
    data: WorkOrderCreate, session: SessionDep, principal: CurrentPrincipal
) -> WorkOrderRead:
    """Open a work order (staff), or request service on one's own asset (customer)."""
    return WorkOrderRead.model_validate(create_work_order(session, actor=principal, data=data))


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderRead)
def work_order(
    work_order_id: int, session: SessionDep, principal: CurrentPrincipal
) -> WorkOrderRead:
    found = get_work_order(session, principal=principal, work_order_id=work_order_id)
    return WorkOrderRead.model_validate(found)


@router.get("/work-orders/{work_order_id}/events", response_model=list[WorkOrderEventRead])
def work_order_events(
    work_order_id: int, session: SessionDep, principal: CurrentPrincipal
) -> list[WorkOrderEventRead]:
    """The work order's history, oldest first."""
    rows = list_work_order_events(session, principal=principal, work_order_id=work_order_id)
    return [WorkOrderEventRead.model_validate(e) for e in rows]


@router.post("/work-orders/{work_order_id}/transition", response_model=WorkOrderRead)
def change_status(
    work_order_id: int, body: TransitionRequest, session: SessionDep, principal: CurrentPrincipal
) -> WorkOrderRead:
    """Move along the state machine; illegal moves get 409 with the allowed next statuses."""
    moved = transition(
        session, actor=principal, work_order_id=work_order_id, target=body.target, note=body.note
    )
    return WorkOrderRead.model_validate(moved)


@router.patch("/work-orders/{work_order_id}/visit", response_model=WorkOrderRead)
def record_visit(
    work_order_id: int, body: VisitUpdate, session: SessionDep, principal: CurrentPrincipal
) -> WorkOrderRead:
    """Checklist, parts and notes of the visit; omitted fields stay as they are."""
    updated = update_visit(
        session, actor=principal, work_order_id=work_order_id, checklist=body.checklist,
        parts=body.parts, notes=body.notes,
    )  # fmt: skip
    return WorkOrderRead.model_validate(updated)


@router.post("/work-orders/{work_order_id}/complete", response_model=WorkOrderRead)
def complete(
    work_order_id: int, body: CompleteRequest, session: SessionDep, principal: CurrentPrincipal
) -> WorkOrderRead:
    """Complete with outcome and the customer's signature (a PNG, checked server-side)."""
    done = complete_work_order(
        session, actor=principal, work_order_id=work_order_id, outcome=body.outcome,
        signature_png=signature_bytes(body.signature_png), signed_by=body.signed_by,
        notes=body.notes,
    )  # fmt: skip
    return WorkOrderRead.model_validate(done)


@router.get("/work-orders/{work_order_id}/photos", response_model=list[PhotoRead])
def photos(work_order_id: int, session: SessionDep, principal: CurrentPrincipal) -> list[PhotoRead]:
    get_work_order(session, principal=principal, work_order_id=work_order_id)
    return [_photo_read(p) for p in photos_of(session, work_order_id=work_order_id)]


@router.post(
    "/work-orders/{work_order_id}/photos",
    response_model=PhotoRead,
    status_code=201,
    max_body_size=MAX_PHOTO_BYTES + MiB,
    form_limits=ONE_FILE,
)
async def upload_photo(
    work_order_id: int,
    photo: Annotated[UploadFile, File()],
    session: SessionDep,
    principal: CurrentPrincipal,
    store: PhotoStore,
) -> PhotoRead:
    """A JPEG, PNG or WebP photo of at most 8 MiB (checked by its bytes, not its name)."""
    data = await read_photo(photo)
    stored = add_photo(
        session, actor=principal, work_order_id=work_order_id, data=data, directory=store
    )
    return _photo_read(stored)


@router.get("/photos/{photo_id}", response_class=FileResponse)
def photo(
    photo_id: int, session: SessionDep, principal: CurrentPrincipal, store: PhotoStore
) -> Response:
    """The photo itself, for whoever may see its work order."""
    found, path = photo_file(session, principal=principal, photo_id=photo_id, directory=store)
    return FileResponse(path, media_type=found.content_type, headers=PHOTO_HEADERS)


@router.get("/photos/{photo_id}/thumbnail", response_class=FileResponse)
def photo_small(
    photo_id: int, session: SessionDep, principal: CurrentPrincipal, store: PhotoStore
) -> Response:
    """A small square JPEG of the photo (the job page's thumbnails), for whoever may see it."""
    path = photo_thumbnail(session, principal=principal, photo_id=photo_id, directory=store)
    return FileResponse(path, media_type="image/jpeg", headers=PHOTO_HEADERS)


@router.post("/work-orders/{work_order_id}/dispatch", response_model=DecisionRead)
def dispatch_again(
    work_order_id: int, session: SessionDep, principal: StaffPrincipal, publish: OfferPublisher
) -> DecisionRead:
    """Run dispatch now for a waiting work order (staff)."""
    decision = DecisionRead.model_validate(dispatch(session, work_order_id=work_order_id))
    session.commit()
    publish(session)
    return decision


@router.post("/work-orders/{work_order_id}/assign", response_model=WorkOrderRead)
def assign(
    work_order_id: int, body: AssignRequest, session: SessionDep, principal: StaffPrincipal
) -> WorkOrderRead:
    """Give the job to an engineer by hand (a pending offer is withdrawn)."""
    assigned = assign_by_hand(
        session, actor=principal, work_order_id=work_order_id, engineer_id=body.engineer_id
    )
    return WorkOrderRead.model_validate(assigned)


@router.get("/work-orders/{work_order_id}/decisions", response_model=list[DecisionRead])
def decisions(
    work_order_id: int, session: SessionDep, principal: StaffPrincipal
) -> list[DecisionRead]:
    """Every dispatch decision of the work order, newest first: who, and why."""
    rows = session.scalars(
        select(DispatchDecision)
        .where(DispatchDecision.work_order_id == work_order_id)
        .order_by(DispatchDecision.decided_at.desc(), DispatchDecision.id.desc())
    )
    return [DecisionRead.model_validate(d) for d in rows]


@router.get("/offers", response_model=list[OfferRead])
def my_offers(session: SessionDep, engineer: CurrentEngineer) -> list[OfferRead]:
    """The caller's offers waiting for an answer (engineers)."""
    rows = session.scalars(
        select(DispatchOffer)
        .where(
            DispatchOffer.engineer_id == engineer.id,
            DispatchOffer.status == OfferStatus.PENDING,
            DispatchOffer.expires_at > utcnow(),
        )
        .order_by(DispatchOffer.offered_at)
    )
    return [OfferRead.model_validate(o) for o in rows]


@router.post("/offers/{offer_id}/accept", response_model=OfferRead)
def accept(offer_id: int, session: SessionDep, principal: CurrentPrincipal) -> OfferRead:
    return OfferRead.model_validate(accept_offer(session, actor=principal, offer_id=offer_id))


@router.post("/offers/{offer_id}/decline", response_model=DecisionRead)
def decline(
    offer_id: int,
    body: DeclineRequest,
    session: SessionDep,
    principal: CurrentPrincipal,
    publish: OfferPublisher,
) -> DecisionRead:
    """Decline; the answer is the new dispatch decision (the next engineer, or escalated)."""
    decision = decline_offer(session, actor=principal, offer_id=offer_id, reason=body.reason)
    read = DecisionRead.model_validate(decision)
    session.commit()
    publish(session)
    return read


@router.post("/engineers/me/location", status_code=204)
def my_location(body: LocationIn, session: SessionDep, engineer: CurrentEngineer) -> Response:
    """The engineer's phone reports where it is (the page's alternative to MQTT)."""
    now = utcnow()
    at = min(body.at, now) if body.at else now  # a phone clock ahead must not freeze the point
    update_location(session, engineer_id=engineer.id, lat=body.lat, lon=body.lon, at=at)
    return Response(status_code=204)


@router.get("/board", response_model=BoardRead)
def board(session: SessionDep, principal: StaffPrincipal) -> BoardRead:
    """What the dispatch board draws: assets by health, engineers by status, the queues."""
    return BoardRead(
        assets=[BoardAssetRead.of(a) for a in board_assets(session, principal=principal)],
        engineers=[BoardEngineerRead.model_validate(e) for e in board_engineers(session)],
        queue=[QueueItemRead.of(i) for i in dispatch_queue(session)],
        in_progress=[QueueItemRead.of(i) for i in jobs_in_progress(session)],
    )


@router.get("/kpis", response_model=list[KpiRead])
def kpis(
    session: SessionDep,
    principal: StaffPrincipal,
    period: Period = "week",
    count: Annotated[int, Query(ge=1, le=24)] = 6,
) -> list[KpiRead]:
    """Mean time to respond and to repair, SLA compliance and first-time fix per period."""
    return [KpiRead.of(k) for k in service_kpis(session, period=period, count=count)]


def _photo_read(photo: WorkOrderPhoto) -> PhotoRead:
    return PhotoRead(
        id=photo.id, work_order_id=photo.work_order_id, content_type=photo.content_type,
        size=photo.size, uploaded_at=photo.uploaded_at, url=f"{router.prefix}/photos/{photo.id}",
    )  # fmt: skip
