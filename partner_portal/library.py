"""The partner document library: documents with versions, who sees them, search,
acknowledgement of policies and the download log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import ColumnElement, and_, any_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import utcnow
from core.errors import InvalidInput, NotFound, PermissionDenied
from crm.audit import CREATE, UPDATE, record_change, snapshot
from crm.capabilities import has_capability
from crm.models import Capability, Organization, User
from partner_portal.models import (
    Audience,
    DistributorProfile,
    DocumentAcknowledgement,
    DocumentDownload,
    PortalDocument,
    PortalDocumentVersion,
    Tier,
)
from partner_portal.uploads import StoredUpload

NEW_VERSION_DAYS = 30
"""A document whose current version (2 or later) is this recent carries a "new version" badge."""

_DOCUMENT_FIELDS = (
    "title",
    "description",
    "category",
    "product_family",
    "requires_acknowledgement",
    "publish_at",
    "expires_at",
)


class AudienceIn(BaseModel):
    """Who sees an item: empty lists mean everyone (of that kind)."""

    audience_tiers: list[Tier] = []
    audience_regions: list[str] = []
    audience_distributor_ids: list[int] = []

    @field_validator("audience_regions")
    @classmethod
    def _clean_regions(cls, value: list[str]) -> list[str]:
        return sorted({region.strip() for region in value if region.strip()})


class DocumentIn(AudienceIn):
    """A document's metadata as staff edit it."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    category: str = Field(min_length=1, max_length=64)
    product_family: str | None = Field(default=None, max_length=64)
    requires_acknowledgement: bool = False
    publish_at: datetime | None = None
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _expiry_after_publication(self) -> DocumentIn:
        publish_at = self.publish_at or utcnow()
        if self.expires_at is not None and self.expires_at <= publish_at:
            raise ValueError("The expiry date must be after the publication date.")
        return self


@dataclass(frozen=True, slots=True)
class Viewer:
    """A distributor user as the audience rule sees them."""

    user_id: int
    org_id: int
    tier: str | None
    region: str | None


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """A document as a partner sees it in the list."""

    document: PortalDocument
    current: PortalDocumentVersion
    acknowledged: bool

    @property
    def needs_acknowledgement(self) -> bool:
        return self.document.requires_acknowledgement and not self.acknowledged

    @property
    def is_new_version(self) -> bool:
        recent = utcnow() - timedelta(days=NEW_VERSION_DAYS)
        return self.current.version > 1 and self.current.uploaded_at >= recent


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Who accepted which version of a policy, when."""

    user_name: str
    org_name: str
    version: int
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class Download:
    user_name: str
    org_name: str
    version: int
    at: datetime


# --- who may do what ---------------------------------------------------------------------------


def require_library_manager(session: Session, actor: Principal) -> None:
    """Administrators and channel managers publish documents and videos."""
    if actor.role == Role.ADMIN:
        return
    if actor.is_staff and has_capability(
        session, user_id=actor.user_id, capability=Capability.CHANNEL_MANAGER
    ):
        return
    raise PermissionDenied("Only administrators and channel managers manage the library.")


def viewer_of(session: Session, actor: Principal) -> Viewer:
    """The distributor user behind `actor`; only partners browse the portal library."""
    if actor.role != Role.DISTRIBUTOR:
        raise PermissionDenied("The partner library is for distributor users.")
    profile = session.get(DistributorProfile, actor.org_id)
    return Viewer(
        user_id=actor.user_id,
        org_id=actor.org_id,
        tier=profile.tier if profile else None,
        region=profile.region if profile else None,
    )


def audience_admits(item: type[Audience], viewer: Viewer) -> ColumnElement[bool]:
    """The audience rule for documents and videos: per kind (tiers, regions, distributors)
    NULL or empty admits everyone, else the viewer's value must be listed; kinds AND."""
    return and_(
        _kind_admits(item.audience_tiers, viewer.tier),
        _kind_admits(item.audience_regions, viewer.region),
        _kind_admits(item.audience_distributor_ids, viewer.org_id),
    )


def _kind_admits(
    column: InstrumentedAttribute[Any], value: str | int | None
) -> ColumnElement[bool]:
    unrestricted = or_(column.is_(None), func.cardinality(column) == 0)
    return unrestricted if value is None else or_(unrestricted, any_(column) == value)


def _published(now: datetime) -> ColumnElement[bool]:
    return and_(
        PortalDocument.publish_at <= now,
        or_(PortalDocument.expires_at.is_(None), PortalDocument.expires_at > now),
    )


# --- staff: documents and versions -------------------------------------------------------------


def create_document(
    session: Session,
    *,
    actor: Principal,
    data: DocumentIn,
    upload: StoredUpload,
    change_note: str = "",
) -> PortalDocument:
    """A new document with its first version."""
    require_library_manager(session, actor)
    document = PortalDocument(created_by=actor.user_id, **_columns(data))
    session.add(document)
    session.flush()
    _add_version(session, actor=actor, document=document, upload=upload, change_note=change_note)
    after = _audited(document)
    record_change(
        session, actor=actor, action=CREATE, entity="portal_documents",
        entity_id=document.id, before=None, after=after,
    )  # fmt: skip
    return document


def add_version(
    session: Session,
    *,
    actor: Principal,
    document_id: int,
    upload: StoredUpload,
    change_note: str = "",
) -> PortalDocumentVersion:
    """Upload a new file of a document; earlier versions stay in its history."""
    require_library_manager(session, actor)
    # the row lock serialises two uploads of the same document: each gets its own number
    document = session.get(PortalDocument, document_id, with_for_update=True)
    if document is None:
        raise NotFound(f"No document {document_id}.", entity="portal_documents")
    return _add_version(
        session, actor=actor, document=document, upload=upload, change_note=change_note
    )


def update_document(
    session: Session, *, actor: Principal, document_id: int, data: DocumentIn
) -> PortalDocument:
    """Change a document's metadata and audience."""
    require_library_manager(session, actor)
    document = get_document(session, document_id)
    before = _audited(document)
    for name, value in _columns(data).items():
        setattr(document, name, value)
    session.flush()
    record_change(
        session, actor=actor, action=UPDATE, entity="portal_documents", entity_id=document.id,
        before=before, after=_audited(document),
    )  # fmt: skip
    return document


def get_document(session: Session, document_id: int) -> PortalDocument:
    document = session.get(PortalDocument, document_id)
    if document is None:
        raise NotFound(f"No document {document_id}.", entity="portal_documents")
    return document


def all_documents(session: Session, *, actor: Principal) -> Sequence[PortalDocument]:
    """Every document, newest first, for the staff page."""
    require_library_manager(session, actor)
    return session.scalars(select(PortalDocument).order_by(PortalDocument.id.desc())).all()


def versions_of(session: Session, document_id: int) -> Sequence[PortalDocumentVersion]:
    """A document's versions, the current (highest) first."""
    return session.scalars(
        select(PortalDocumentVersion)
        .where(PortalDocumentVersion.document_id == document_id)
        .order_by(PortalDocumentVersion.version.desc())
    ).all()


def acceptances(session: Session, *, actor: Principal, document_id: int) -> list[Acceptance]:
    """Who accepted which version of a policy, newest first."""
    require_library_manager(session, actor)
    rows = session.execute(
        select(User.full_name, Organization.name, PortalDocumentVersion.version,
               DocumentAcknowledgement.accepted_at)
        .join(PortalDocumentVersion, PortalDocumentVersion.id == DocumentAcknowledgement.version_id)
        .join(User, User.id == DocumentAcknowledgement.user_id)
        .join(Organization, Organization.id == DocumentAcknowledgement.org_id)
        .where(PortalDocumentVersion.document_id == document_id)
        .order_by(DocumentAcknowledgement.accepted_at.desc(), DocumentAcknowledgement.id.desc())
    ).all()  # fmt: skip
    return [Acceptance(*row) for row in rows]


def downloads(
    session: Session, *, actor: Principal, document_id: int, limit: int = 200
) -> list[Download]:
    """The latest downloads of a document's versions."""
    require_library_manager(session, actor)
    rows = session.execute(
        select(User.full_name, Organization.name, PortalDocumentVersion.version,
               DocumentDownload.at)
        .join(PortalDocumentVersion, PortalDocumentVersion.id == DocumentDownload.version_id)
        .join(User, User.id == DocumentDownload.user_id)
        .join(Organization, Organization.id == DocumentDownload.org_id)
        .where(PortalDocumentVersion.document_id == document_id)
        .order_by(DocumentDownload.at.desc(), DocumentDownload.id.desc())
        .limit(limit)
    ).all()  # fmt: skip
    return [Download(*row) for row in rows]


# --- partners: browsing, acknowledging, downloading --------------------------------------------


def visible_documents(
    session: Session,
    *,
    actor: Principal,
    query: str = "",
    category: str = "",
    product_family: str = "",
) -> list[DocumentRow]:
    """The published documents the partner may see; a search ranks by relevance."""
    statement = _visible(viewer_of(session, actor))
    if category:
        statement = statement.where(PortalDocument.category == category)
    if product_family:
        statement = statement.where(PortalDocument.product_family == product_family)
    if query.strip():
        terms = func.websearch_to_tsquery("english", query.strip())
        rank = func.ts_rank(PortalDocument.search, terms)
        statement = statement.where(PortalDocument.search.bool_op("@@")(terms)).order_by(
            rank.desc(), PortalDocument.id.desc()
        )
    else:
        statement = statement.order_by(PortalDocument.publish_at.desc(), PortalDocument.id.desc())
    return [DocumentRow(doc, version, ack) for doc, version, ack in session.execute(statement)]


def library_filters(session: Session, *, actor: Principal) -> tuple[list[str], list[str]]:
    """The categories and product families of the documents the partner sees."""
    rows = visible_documents(session, actor=actor)
    categories = sorted({row.document.category for row in rows})
    families = sorted({row.document.product_family for row in rows if row.document.product_family})
    return categories, families


def get_visible_document(session: Session, *, actor: Principal, document_id: int) -> DocumentRow:
    """One document the partner may see; NotFound for any other (never revealing it exists)."""
    statement = _visible(viewer_of(session, actor)).where(PortalDocument.id == document_id)
    for doc, version, ack in session.execute(statement):
        return DocumentRow(doc, version, ack)
    raise NotFound(f"No document {document_id}.", entity="portal_documents")


def pending_acknowledgements(session: Session, *, actor: Principal) -> list[DocumentRow]:
    """Policies whose current version the partner user has not accepted yet."""
    return [row for row in visible_documents(session, actor=actor) if row.needs_acknowledgement]


def acknowledge(session: Session, *, actor: Principal, document_id: int) -> PortalDocumentVersion:
    """The partner user accepts the current version of a policy (idempotent)."""
    row = get_visible_document(session, actor=actor, document_id=document_id)
    if not row.document.requires_acknowledgement:
        raise InvalidInput("This document does not need to be acknowledged.")
    session.execute(
        insert(DocumentAcknowledgement)
        .values(version_id=row.current.id, user_id=actor.user_id, org_id=actor.org_id)
        .on_conflict_do_nothing(index_elements=["version_id", "user_id"])
    )
    session.flush()
    return row.current


def download_version(
    session: Session, *, actor: Principal, document_id: int, version_id: int
) -> PortalDocumentVersion:
    """A version of a document the partner may see, with the download logged."""
    get_visible_document(session, actor=actor, document_id=document_id)
    version = session.get(PortalDocumentVersion, version_id)
    if version is None or version.document_id != document_id:
        raise NotFound(f"No version {version_id} of this document.", entity="portal_documents")
    session.add(DocumentDownload(version_id=version.id, user_id=actor.user_id, org_id=actor.org_id))
    session.flush()
    return version


# --- helpers -----------------------------------------------------------------------------------


def _visible(viewer: Viewer) -> Any:
    """Documents published now and admitted to the viewer, with their current version."""
    current = _current_versions()
    return (
        select(PortalDocument, PortalDocumentVersion, _acknowledged_by(viewer))
        .join(current, current.c.document_id == PortalDocument.id)
        .join(
            PortalDocumentVersion,
            and_(
                PortalDocumentVersion.document_id == PortalDocument.id,
                PortalDocumentVersion.version == current.c.version,
            ),
        )
        .where(_published(utcnow()), audience_admits(PortalDocument, viewer))
    )


def _current_versions() -> Any:
    return (
        select(
            PortalDocumentVersion.document_id,
            func.max(PortalDocumentVersion.version).label("version"),
        )
        .group_by(PortalDocumentVersion.document_id)
        .subquery("current_version")
    )


def _acknowledged_by(viewer: Viewer) -> Any:
    return (
        select(DocumentAcknowledgement.id)
        .where(
            DocumentAcknowledgement.version_id == PortalDocumentVersion.id,
            DocumentAcknowledgement.user_id == viewer.user_id,
        )
        .exists()
        .label("acknowledged")
    )


def _add_version(
    session: Session,
    *,
    actor: Principal,
    document: PortalDocument,
    upload: StoredUpload,
    change_note: str,
) -> PortalDocumentVersion:
    latest = session.scalar(
        select(func.max(PortalDocumentVersion.version)).where(
            PortalDocumentVersion.document_id == document.id
        )
    )
    version = PortalDocumentVersion(
        document_id=document.id,
        version=(latest or 0) + 1,
        change_note=change_note.strip(),
        uploaded_by=actor.user_id,
        storage_name=upload.storage_name,
        original_filename=upload.original_filename,
        content_type=upload.content_type,
        size_bytes=upload.size_bytes,
        sha256=upload.sha256,
    )
    session.add(version)
    session.flush()
    return version


def _audited(document: PortalDocument) -> dict[str, Any]:
    return {
        **snapshot(document, _DOCUMENT_FIELDS),
        "audience_tiers": [str(t) for t in document.audience_tiers or []],
        "audience_regions": list(document.audience_regions or []),
        "audience_distributor_ids": list(document.audience_distributor_ids or []),
    }


def _columns(data: DocumentIn) -> dict[str, Any]:
    values = data.model_dump(exclude={"publish_at"})
    values["publish_at"] = data.publish_at or utcnow()
    values["product_family"] = (data.product_family or "").strip() or None
    return values
