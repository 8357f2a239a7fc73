"""Builders for library and training tests: an upload directory of the test's own, partners
with a tier and region, staff who publish, documents and videos with real files."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import get_settings
from crm.models import Organization, OrgKind
from partner_portal.library import DocumentIn, create_document
from partner_portal.models import DistributorProfile, PortalDocument, TrainingVideo
from partner_portal.training import VideoIn, upload_video
from partner_portal.uploads import StoredUpload, UploadKind, store_upload
from tests.crm.factories import make_org, make_user, principal_of

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40
_names = itertools.count(1)


@pytest.fixture
def upload_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Uploads of this test go to its own temporary directory."""
    directory = tmp_path / "uploads"
    monkeypatch.setenv("FIELDCRM_UPLOAD_DIR", str(directory))
    get_settings.cache_clear()
    yield directory
    get_settings.cache_clear()


@dataclass(frozen=True)
class Partner:
    org: Organization
    principal: Principal


def make_partner(db: Session, *, tier: str | None = "silver", region: str = "north") -> Partner:
    """A distributor with one user; tier None = no distributor profile at all."""
    org = make_org(db, kind=OrgKind.DISTRIBUTOR, name=f"Distributor {next(_names)}")
    if tier is not None:
        db.add(DistributorProfile(org_id=org.id, tier=tier, region=region))
        db.flush()
    return Partner(org, principal_of(make_user(db, org=org, role=Role.DISTRIBUTOR)))


def colleague(db: Session, partner: Partner) -> Principal:
    """Another user of the same distributor."""
    return principal_of(make_user(db, org=partner.org, role=Role.DISTRIBUTOR))


def make_staff(db: Session, role: Role = Role.ADMIN) -> Principal:
    return principal_of(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=role))


def stored_pdf(content: bytes = PDF, name: str = "price list.pdf") -> StoredUpload:
    return store_upload(io.BytesIO(content), kind=UploadKind.DOCUMENTS, original_filename=name)


def make_document(
    db: Session,
    staff: Principal,
    *,
    title: str = "Price list 2026",
    description: str = "",
    category: str = "price list",
    product_family: str | None = None,
    tiers: Sequence[str] = (),
    regions: Sequence[str] = (),
    distributors: Sequence[Organization] = (),
    policy: bool = False,
    publish_at: datetime | None = None,
    expires_at: datetime | None = None,
    content: bytes = PDF,
) -> PortalDocument:
    data = DocumentIn.model_validate(
        {
            "title": title,
            "description": description,
            "category": category,
            "product_family": product_family,
            "requires_acknowledgement": policy,
            "publish_at": publish_at,
            "expires_at": expires_at,
            "audience_tiers": list(tiers),
            "audience_regions": list(regions),
            "audience_distributor_ids": [org.id for org in distributors],
        }
    )
    return create_document(db, actor=staff, data=data, upload=stored_pdf(content))


def make_video(
    db: Session,
    staff: Principal,
    *,
    title: str = "Installing the compressor",
    duration_s: int | None = 600,
    distributors: Sequence[Organization] = (),
    tiers: Sequence[str] = (),
    content: bytes = MP4,
) -> TrainingVideo:
    data = VideoIn.model_validate(
        {
            "title": title,
            "duration_s": duration_s,
            "audience_tiers": list(tiers),
            "audience_distributor_ids": [org.id for org in distributors],
        }
    )
    upload = store_upload(
        io.BytesIO(content), kind=UploadKind.VIDEOS, original_filename="install.mp4"
    )
    return upload_video(db, actor=staff, data=data, upload=upload)
