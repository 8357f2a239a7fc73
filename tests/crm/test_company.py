"""The company profile: the manufacturer's letterhead, who may change it, its logo, and the
unchanged snapshots issued documents keep."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import InvalidInput, PermissionDenied
from crm.company import (
    LOGO_MAX_SIDE,
    CompanyProfileUpdate,
    company_letterhead,
    issued_letterhead,
    letterhead_of,
    manufacturer_org_id,
    prepare_logo,
    snapshot_letterhead,
    update_company_profile,
)
from crm.models import AuditLog, CompanyProfileSnapshot, Organization, OrgKind
from tests.crm.company_factories import give_profile, logo_png
from tests.crm.factories import make_org, make_user, principal_of

_MUNICH = CompanyProfileUpdate(
    legal_name="Kältetechnik Nord GmbH",
    address="Leopoldstraße 12\n80802 München",
    vat_id="de 811 234 567",
    email="Billing@Kaeltetechnik.example",
    terms="Payment within 30 days.",
    quote_valid_days=45,
)


def _manufacturer(db: Session) -> Organization:
    make_org(db, kind=OrgKind.MANUFACTURER)
    return db.get_one(Organization, manufacturer_org_id(db))


def _staff(db: Session, role: Role = Role.ADMIN) -> Principal:
    return principal_of(make_user(db, org=_manufacturer(db), role=role))


def test_without_a_profile_the_letterhead_is_the_organization_name(db: Session) -> None:
    org = make_org(db, kind=OrgKind.DISTRIBUTOR, name="Frost & Partner KG")
    letterhead = letterhead_of(db, org.id)
    assert (letterhead.legal_name, letterhead.vat_id, letterhead.logo_png) == (
        "Frost & Partner KG",
        "",
        None,
    )


def test_an_administrator_sets_the_profile_and_the_change_is_audited(db: Session) -> None:
    admin = _staff(db)
    letterhead = update_company_profile(db, actor=admin, data=_MUNICH, logo=logo_png())
    assert letterhead.vat_id == "DE811234567"  # blanks dropped, upper case
    assert letterhead.email == "billing@kaeltetechnik.example"
    assert letterhead.address_lines == ["Leopoldstraße 12", "80802 München"]
    assert company_letterhead(db, actor=admin) == letterhead
    entry = db.scalars(
        select(AuditLog).where(AuditLog.entity == "company_profile").order_by(AuditLog.id.desc())
    ).first()
    assert entry is not None
    assert entry.after is not None
    assert entry.after["quote_valid_days"] == 45
    assert len(entry.after["logo_sha256"]) == 64  # the logo's hash, never its bytes


def test_a_dispatcher_reads_the_profile_but_may_not_change_it(db: Session) -> None:
    dispatcher = _staff(db, Role.DISPATCHER)
    assert company_letterhead(db, actor=dispatcher).legal_name
    with pytest.raises(PermissionDenied):
        update_company_profile(db, actor=dispatcher, data=_MUNICH)


def test_partners_may_not_read_the_profile(db: Session) -> None:
    _manufacturer(db)
    partner = principal_of(make_user(db, org=make_org(db, kind=OrgKind.DISTRIBUTOR)))
    with pytest.raises(PermissionDenied):
        company_letterhead(db, actor=partner)


@pytest.mark.parametrize("vat_id", ["DE12345678", "123456789", "D-E 811"])
def test_a_vat_id_needs_a_country_code_and_a_german_one_nine_digits(vat_id: str) -> None:
    with pytest.raises(ValidationError, match="DE123456789"):
        CompanyProfileUpdate(legal_name="X GmbH", vat_id=vat_id)


def test_a_jpeg_logo_is_stored_as_a_png_no_wider_than_the_limit() -> None:
    stored = prepare_logo(logo_png(2400, 600, fmt="JPEG"))
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG"
        assert image.size == (LOGO_MAX_SIDE, LOGO_MAX_SIDE // 4)


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (logo_png(fmt="GIF"), "PNG or JPEG"),
        (b"%PDF-1.4 not an image", "not a PNG or JPEG"),
        (logo_png(5000, 4000), "5000 x 4000 pixels"),
        (b"\x89PNG" + b"0" * (3 * 1024 * 1024), "at most 2 MB"),
    ],
    ids=["gif", "not an image", "too many pixels", "too big"],
)
def test_a_logo_we_cannot_use_is_refused_next_to_the_logo_field(upload: bytes, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as refused:
        prepare_logo(upload)
    assert refused.value.details["field"] == "logo"


def test_a_snapshot_keeps_the_letterhead_unchanged_and_is_stored_once(db: Session) -> None:
    org = _manufacturer(db)
    give_profile(db, org)
    first = snapshot_letterhead(db, org.id)
    assert snapshot_letterhead(db, org.id) == first
    give_profile(db, org, legal_name="Kältetechnik Süd GmbH")
    second = snapshot_letterhead(db, org.id)
    assert second != first
    assert issued_letterhead(db, first).legal_name == "Kältetechnik Nord GmbH"
    assert issued_letterhead(db, first).logo_png == letterhead_of(db, org.id).logo_png
    count = db.scalar(select(func.count()).where(CompanyProfileSnapshot.org_id == org.id))
    assert count == 2
