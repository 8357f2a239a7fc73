"""Pages of the document library: partners browse, search, acknowledge and download; staff
publish documents and versions and see who accepted and downloaded them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from core.auth.principal import Principal
from core.config import get_settings
from core.db import SessionDep
from core.formatting import reader_of
from core.web.body_limit import ONE_FILE, MiB
from core.web.deps import StaffPrincipal
from core.web.templating import render
from partner_portal import library, training_views
from partner_portal.library_web import (
    DistributorPrincipal,
    ListForm,
    TextForm,
    attachment,
    audience_choices,
    audience_fields,
    form_datetime,
    parse_form,
    see_other,
    with_upload,
)
from partner_portal.uploads import UploadKind, stored_path

router = APIRouter(include_in_schema=False)
_DOCUMENT_BODY = get_settings().upload_max_bytes + MiB
router.include_router(training_views.router)

_PORTAL = "partner_portal/library/documents.html"
_STAFF = "partner_portal/library/staff_documents.html"
_STAFF_DOCUMENT = "partner_portal/library/staff_document.html"


@dataclass
class DocumentForm:
    """A document's metadata as the staff forms send it (create and edit); parsed only after
    the route has checked who is asking."""

    title: TextForm = ""
    description: TextForm = ""
    category: TextForm = ""
    product_family: TextForm = ""
    requires_acknowledgement: TextForm = ""
    publish_at: TextForm = ""
    expires_at: TextForm = ""
    audience_tiers: ListForm = None
    audience_regions: TextForm = ""
    audience_distributor_ids: ListForm = None

    def parse(self, zone: ZoneInfo) -> library.DocumentIn:
        return parse_form(
            library.DocumentIn,
            title=self.title, description=self.description, category=self.category,
            product_family=self.product_family or None,
            requires_acknowledgement=bool(self.requires_acknowledgement),
            publish_at=form_datetime(self.publish_at, "publish_at", zone),
            expires_at=form_datetime(self.expires_at, "expires_at", zone),
            **audience_fields(
                self.audience_tiers, self.audience_regions, self.audience_distributor_ids
            ),
        )  # fmt: skip


DocumentFormDep = Annotated[DocumentForm, Depends()]


# --- partners ----------------------------------------------------------------------------------


@router.get("/portal/documents", name="portal_documents")
def documents_page(
    request: Request,
    session: SessionDep,
    principal: DistributorPrincipal,
    q: Annotated[str, Query(max_length=200)] = "",
    category: Annotated[str, Query(max_length=64)] = "",
    product_family: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The library; the search box and filters refresh only the list (htmx)."""
    rows = library.visible_documents(
        session, actor=principal, query=q, category=category, product_family=product_family
    )
    categories, families = library.library_filters(session, actor=principal)
    context = {
        "rows": rows,
        "pending": library.pending_acknowledgements(session, actor=principal),
        "q": q,
        "category": category,
        "product_family": product_family,
        "categories": categories,
        "families": families,
    }
    block = "document_list" if request.headers.get("hx-target") == "document_list" else None
    return render(request, _PORTAL, context, block=block)


@router.get("/portal/documents/{document_id}", name="portal_document")
def document_page(
    document_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    row = library.get_visible_document(session, actor=principal, document_id=document_id)
    versions = library.versions_of(session, document_id)
    return render(
        request, "partner_portal/library/document.html", {"row": row, "versions": versions}
    )


@router.post("/portal/documents/{document_id}/acknowledge", name="portal_acknowledge")
def acknowledge(
    document_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    """The partner user accepts the current version of a policy."""
    library.acknowledge(session, actor=principal, document_id=document_id)
    session.commit()
    return see_other(request, f"/portal/documents/{document_id}")


@router.get(
    "/portal/documents/{document_id}/versions/{version_id}/download", name="portal_download"
)
def download(
    document_id: int, version_id: int, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    """The file of one version, as an attachment; the download is logged."""
    version = library.download_version(
        session, actor=principal, document_id=document_id, version_id=version_id
    )
    path = stored_path(UploadKind.DOCUMENTS, version.storage_name)
    session.commit()
    return attachment(path, version.content_type, version.original_filename)


# --- staff -------------------------------------------------------------------------------------


@router.get("/staff/partners/documents", name="staff_documents")
def staff_documents_page(
    request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    documents = library.all_documents(session, actor=principal)
    return render(request, _STAFF, {"documents": documents, **audience_choices(session)})


@router.post(
    "/staff/partners/documents",
    name="staff_create_document",
    max_body_size=_DOCUMENT_BODY,
    form_limits=ONE_FILE,
)
def create_document(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    file: Annotated[UploadFile, File()],
    form: DocumentFormDep,
    change_note: TextForm = "",
) -> Response:
    """A new document with its first file (multipart, sent by htmx with the CSRF header)."""
    library.require_library_manager(session, principal)
    data = form.parse(reader_of(request).zone)
    document = with_upload(
        session,
        file,
        UploadKind.DOCUMENTS,
        lambda upload: library.create_document(
            session, actor=principal, data=data, upload=upload, change_note=change_note
        ),
    )
    return see_other(request, f"/staff/partners/documents/{document.id}")


@router.get("/staff/partners/documents/{document_id}", name="staff_document")
def staff_document_page(
    document_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    return render(request, _STAFF_DOCUMENT, staff_document_context(session, principal, document_id))


@router.post("/staff/partners/documents/{document_id}", name="staff_update_document")
def update_document(
    document_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    form: DocumentFormDep,
) -> Response:
    """Change a document's metadata and audience."""
    library.require_library_manager(session, principal)
    data = form.parse(reader_of(request).zone)
    library.update_document(session, actor=principal, document_id=document_id, data=data)
    session.commit()
    return see_other(request, f"/staff/partners/documents/{document_id}")


@router.post(
    "/staff/partners/documents/{document_id}/versions",
    name="staff_add_version",
    max_body_size=_DOCUMENT_BODY,
    form_limits=ONE_FILE,
)
def add_version(
    document_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    file: Annotated[UploadFile, File()],
    change_note: TextForm = "",
) -> Response:
    """A new file of the document; partners see it as the current version."""
    library.require_library_manager(session, principal)
    library.get_document(session, document_id)
    with_upload(
        session,
        file,
        UploadKind.DOCUMENTS,
        lambda upload: library.add_version(
            session, actor=principal, document_id=document_id, upload=upload,
            change_note=change_note,
        ),
    )  # fmt: skip
    return see_other(request, f"/staff/partners/documents/{document_id}")


@router.get(
    "/staff/partners/documents/{document_id}/versions/{version_id}/download",
    name="staff_download",
)
def staff_download(
    document_id: int, version_id: int, session: SessionDep, principal: StaffPrincipal
) -> Response:
    """Staff check a version's file (not logged as a partner download)."""
    library.require_library_manager(session, principal)
    for version in library.versions_of(session, document_id):
        if version.id == version_id:
            path = stored_path(UploadKind.DOCUMENTS, version.storage_name)
            return attachment(path, version.content_type, version.original_filename)
    raise HTTPException(404, "No such version of this document.")


def staff_document_context(
    session: Session, principal: Principal, document_id: int
) -> dict[str, Any]:
    library.require_library_manager(session, principal)
    document = library.get_document(session, document_id)
    return {
        "document": document,
        "versions": library.versions_of(session, document_id),
        "acceptances": library.acceptances(session, actor=principal, document_id=document_id),
        "downloads": library.downloads(session, actor=principal, document_id=document_id),
        **audience_choices(session),
    }
