"""What the library and training pages share: who they admit, form parsing, storing an
upload with its rows, and the responses for files and redirects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import InvalidInput
from core.web.deps import require_role
from core.web.templating import is_htmx
from crm.models import Organization, OrgKind
from partner_portal.models import Tier
from partner_portal.uploads import (
    StoredUpload,
    UploadKind,
    UploadRefused,
    allowed_extensions,
    content_disposition,
    discard,
    max_bytes,
    store_upload,
)

DistributorPrincipal = Annotated[Principal, Depends(require_role(Role.DISTRIBUTOR))]
TextForm = Annotated[str, Form(max_length=10_000)]
ListForm = Annotated[list[str] | None, Form()]
Model = TypeVar("Model", bound=BaseModel)
T = TypeVar("T")


def audience_choices(session: Session) -> dict[str, Any]:
    """What the audience fields of the staff forms offer, and the upload limits."""
    distributors = session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.kind == OrgKind.DISTRIBUTOR)
        .order_by(Organization.name)
    ).all()
    return {
        "tiers": [tier.value for tier in Tier],
        "distributors": distributors,
        "document_types": ", ".join(f".{e}" for e in allowed_extensions(UploadKind.DOCUMENTS)),
        "video_types": ", ".join(f".{e}" for e in allowed_extensions(UploadKind.VIDEOS)),
        "document_max_mib": max_bytes(UploadKind.DOCUMENTS) // (1024 * 1024),
        "video_max_mib": max_bytes(UploadKind.VIDEOS) // (1024 * 1024),
    }


def audience_fields(
    tiers: list[str] | None, regions: str, distributor_ids: list[str] | None
) -> dict[str, Any]:
    """The audience form fields as the schemas take them (regions comma-separated)."""
    return {
        "audience_tiers": [t for t in tiers or [] if t],
        "audience_regions": regions.split(","),
        "audience_distributor_ids": [d for d in distributor_ids or [] if d],
    }


def parse_form(model: type[Model], **values: Any) -> Model:
    """Validate form values; the error names each wrong field and why."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise InvalidInput(f"Check the form: {problems}.") from exc


def _problem(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "form"
    return f"{field}: {str(error['msg']).removeprefix('Value error, ')}"


def form_datetime(value: str, field: str, zone: ZoneInfo) -> datetime | None:
    """A datetime-local field, read in the reader's zone (the one the form says); empty is
    None."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{field}: use a date and time like 2026-03-01T09:00.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def with_upload(
    session: Session, file: UploadFile, kind: UploadKind, save: Callable[[StoredUpload], T]
) -> T:
    """Store the uploaded file, then its database rows, and commit; the file goes again if
    the rows or the commit fail (no orphan files)."""
    try:
        upload = store_upload(file.file, kind=kind, original_filename=file.filename or "")
    except UploadRefused as exc:
        raise HTTPException(exc.status, exc.message) from exc
    try:
        saved = save(upload)
        session.commit()
        return saved
    except BaseException:
        discard(kind, upload.storage_name)
        raise


def attachment(path: Path, content_type: str, original_filename: str) -> FileResponse:
    """A stored file as a download: the stored type, never sniffed, never shown inline."""
    return FileResponse(
        path,
        media_type=content_type,
        headers={
            "Content-Disposition": content_disposition(original_filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def see_other(request: Request, url: str) -> Response:
    # htmx follows a 303 inside its request; HX-Location loads the page like a link would
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Location": url})
    return RedirectResponse(url, status_code=303)
