"""The distributor's pickups: a filtered, paged list with totals, and the CSV upload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import SessionDep
from core.errors import InvalidInput
from core.web.body_limit import ONE_FILE, MiB
from core.web.templating import is_htmx, render
from crm.models import ProductModel
from crm.views import DistributorPrincipal
from partner_portal.models import PickupLine
from partner_portal.pickup_rows import CSV_COLUMNS
from partner_portal.pickups import MAX_LINES, ImportResult, import_pickups_csv, pickups_template

router = APIRouter()

TEMPLATE = "partner_portal/pickups/index.html"
PAGE_SIZE = 50
MAX_CSV_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PickupFilter:
    """What the list is narrowed to."""

    date_from: date | None = None
    date_to: date | None = None
    product: str = ""
    document: str = ""


def _filtered(query: Any, org_id: int, f: PickupFilter) -> Any:
    query = query.join(ProductModel, ProductModel.id == PickupLine.product_model_id).where(
        PickupLine.distributor_org_id == org_id
    )
    if f.date_from:
        query = query.where(PickupLine.picked_on >= f.date_from)
    if f.date_to:
        query = query.where(PickupLine.picked_on <= f.date_to)
    if f.product:
        query = query.where(ProductModel.code.ilike(f"%{_like(f.product)}%"))
    if f.document:
        query = query.where(PickupLine.document_number.ilike(f"%{_like(f.document)}%"))
    return query


def pickup_page(session: Session, *, org_id: int, f: PickupFilter, page: int) -> dict[str, Any]:
    """One page of a distributor's pickup lines (newest first) and the totals of all matches."""
    rows = session.execute(
        _filtered(select(PickupLine, ProductModel.code, ProductModel.name), org_id, f)
        .order_by(PickupLine.picked_on.desc(), PickupLine.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    totals = session.execute(
        _filtered(
            select(
                PickupLine.currency,
                func.count(),
                func.sum(PickupLine.quantity),
                func.sum(PickupLine.net_value),
            ),
            org_id,
            f,
        )
        .group_by(PickupLine.currency)
        .order_by(PickupLine.currency)
    ).all()
    return {
        "rows": rows[:PAGE_SIZE],
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        "totals": totals,
        "filter": f,
    }


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get("/portal/pickups", name="portal_pickups")
def pickups_page(
    request: Request,
    session: SessionDep,
    principal: DistributorPrincipal,
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
    product: Annotated[str, Query(max_length=64)] = "",
    document: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    imported: Annotated[int | None, Query(ge=0, le=MAX_LINES)] = None,
) -> Response:
    f = PickupFilter(date_from, date_to, product.strip(), document.strip())
    context = pickup_page(session, org_id=principal.org_id, f=f, page=page)
    if imported is not None:
        context["result"] = ImportResult(imported)
    return render(request, TEMPLATE, {**context, "columns": CSV_COLUMNS})


@router.get("/portal/pickups/template.csv", name="portal_pickups_template")
def csv_template(session: SessionDep, principal: DistributorPrincipal) -> Response:
    """A CSV with the header and example lines of our products; it imports as downloaded."""
    return Response(
        pickups_template(session, distributor_org_id=principal.org_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pickups-template.csv"'},
    )


@router.post(
    "/portal/pickups/upload",
    name="portal_pickups_upload",
    max_body_size=MAX_CSV_BYTES + MiB,
    form_limits=ONE_FILE,
)
async def upload_csv(
    request: Request,
    session: SessionDep,
    principal: DistributorPrincipal,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import a CSV: all lines, or none with every wrong row listed next to the upload."""
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(
            f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; split it.",
            code="pickups_too_large",
        )
    result = import_pickups_csv(
        session, actor=principal, distributor_org_id=principal.org_id, data=data
    )
    if result.ok:
        session.commit()
        # redirect after the POST: a reload does not import again, and the list is fresh
        done = f"/portal/pickups?imported={result.imported}"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": done})
        return RedirectResponse(done, status_code=303)
    context = {
        "result": result,
        "filename": file.filename or "the file",
        **pickup_page(session, org_id=principal.org_id, f=PickupFilter(), page=1),
        "columns": CSV_COLUMNS,
    }
    # htmx swaps only the upload card: the list and its filters stay as they were
    block = "upload" if is_htmx(request) else None
    return render(request, TEMPLATE, context, block=block, status_code=422)
