"""The company profile: the manufacturer's letterhead on every document (quotes, rebate
statements, service reports, e-mails), and the unchanged snapshots the issued documents keep.

A document refers to the snapshot it printed (docs/decisions.md, "Letterhead as issued"): a
profile edited later changes the next documents, never an issued one.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from PIL import Image, UnidentifiedImageError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.formatting import Reader, default_reader, resolve_reader
from crm.audit import CREATE, UPDATE, record_change
from crm.models import CompanyProfile, CompanyProfileSnapshot, Organization, OrgKind
from crm.preferences import reader_of_org
from crm.schemas import normalise_email

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PIXELS = 4096 * 4096  # refused before decoding: no decompression bomb
DEFAULT_QUOTE_VALID_DAYS = 30
LOGO_MAX_SIDE = 800  # a bigger logo is scaled down: sharp on paper, small in every PDF
_LOGO_FORMATS = {"PNG", "JPEG"}
_VAT_ID = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,12}$")
_GERMAN_VAT_ID = re.compile(r"^DE[0-9]{9}$")
_WEBSITE = re.compile(r"^(https?://)?[\w-]+(\.[\w-]+)+(/\S*)?$")


def normalise_vat_id(value: str) -> str:
    """An EU VAT id without blanks, upper-case: a country code then the number (DE: 9 digits)."""
    vat_id = re.sub(r"[\s.-]", "", value).upper()
    if not vat_id:
        return ""
    if not _VAT_ID.match(vat_id) or (vat_id.startswith("DE") and not _GERMAN_VAT_ID.match(vat_id)):
        raise ValueError(
            "Enter a VAT id like DE123456789: the country code, then the number "
            "(9 digits in Germany)"
        )
    return vat_id


def _optional_email(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return normalise_email(value)
    except ValueError:
        raise ValueError("Enter an e-mail address like billing@example.com") from None


def _website(value: str) -> str:
    if value and not _WEBSITE.match(value):
        raise ValueError("Enter a web address like www.example.com")
    return value


class CompanyProfileUpdate(BaseModel):
    """What an administrator sets on the profile; blanks are allowed except the legal name."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    legal_name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(max_length=500)] = ""
    vat_id: Annotated[str, Field(max_length=32), AfterValidator(normalise_vat_id)] = ""
    registration_id: Annotated[str, Field(max_length=64)] = ""
    email: Annotated[str, Field(max_length=320), AfterValidator(_optional_email)] = ""
    phone: Annotated[str, Field(max_length=64)] = ""
    website: Annotated[str, Field(max_length=200), AfterValidator(_website)] = ""
    terms: Annotated[str, Field(max_length=2000)] = ""
    quote_valid_days: Annotated[int, Field(ge=1, le=365)] = DEFAULT_QUOTE_VALID_DAYS


@dataclass(frozen=True, slots=True)
class Letterhead:
    """Who issues (or receives) a document: what its letterhead and address block print."""

    legal_name: str
    address: str = ""
    vat_id: str = ""
    registration_id: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    terms: str = ""
    logo_png: bytes | None = None
    # how this organization reads dates, times and amounts (as a document's recipient)
    reader: Reader = field(default_factory=default_reader)

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]

    @property
    def contact(self) -> str:
        """Phone, e-mail and website on one line, the missing ones left out."""
        return "  |  ".join(part for part in (self.phone, self.email, self.website) if part)

    @property
    def one_line(self) -> str:
        """Name and address on one line, as an e-mail's signature says it."""
        return ", ".join([self.legal_name, *self.address_lines])


_TEXT_FIELDS = tuple(
    name for name in CompanyProfileUpdate.model_fields if name != "quote_valid_days"
)


def manufacturer_org_id(session: Session) -> int:
    """The manufacturer whose documents these are (the first, if there were several)."""
    org_id = _manufacturer_or_none(session)
    if org_id is None:
        raise NotFound("No manufacturer organization is set up.", entity="organization")
    return org_id


def email_signature(session: Session) -> str:
    """The closing lines of the e-mails the product sends: the manufacturer's name, address
    and contact; empty before a manufacturer exists."""
    org_id = _manufacturer_or_none(session)
    if org_id is None:
        return ""
    letterhead = letterhead_of(session, org_id)
    lines = [letterhead.legal_name, *letterhead.address_lines, letterhead.contact]
    return "-- \n" + "\n".join(line for line in lines if line)


def letterhead_of(session: Session, org_id: int) -> Letterhead:
    """The organization's profile as it is now; without one, its name alone."""
    profile = session.get(CompanyProfile, org_id)
    reader = reader_of_org(session, org_id=org_id)
    if profile is not None:
        return Letterhead(**_texts(profile), logo_png=profile.logo_png, reader=reader)
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"No organization {org_id}.", entity="organization")
    return Letterhead(legal_name=org.name, reader=reader)


def quote_valid_days(session: Session, org_id: int) -> int:
    """How many days a quote of the organization holds after it is approved."""
    profile = session.get(CompanyProfile, org_id)
    return profile.quote_valid_days if profile is not None else DEFAULT_QUOTE_VALID_DAYS


def company_letterhead(session: Session, *, actor: Principal) -> Letterhead:
    """The manufacturer's profile, for staff (the page and the API read it)."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff may see the company profile.")
    return letterhead_of(session, manufacturer_org_id(session))


def update_company_profile(
    session: Session,
    *,
    actor: Principal,
    data: CompanyProfileUpdate,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Letterhead:
    """Set the manufacturer's profile (administrators only); `logo` is the uploaded file,
    checked and stored as PNG; audited with the logo's SHA-256, never its bytes."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only administrators may change the company profile.")
    org_id = manufacturer_org_id(session)
    profile = session.get(CompanyProfile, org_id, with_for_update=True)
    before = None if profile is None else _audited(profile)
    if profile is None:
        profile = CompanyProfile(org_id=org_id, legal_name=data.legal_name)
        session.add(profile)
    for name in _TEXT_FIELDS:
        setattr(profile, name, getattr(data, name))
    profile.quote_valid_days = data.quote_valid_days
    if logo is not None:
        profile.logo_png = prepare_logo(logo)
    elif remove_logo:
        profile.logo_png = None
    session.flush()
    record_change(
        session,
        actor=actor,
        action=CREATE if before is None else UPDATE,
        entity="company_profile",
        entity_id=org_id,
        before=before,
        after=_audited(profile),
    )
    return letterhead_of(session, org_id)


def prepare_logo(raw: bytes) -> bytes:
    """A PNG or JPEG upload, decoded and re-encoded as PNG (at most LOGO_MAX_SIDE px wide or
    high); anything else is refused next to the logo field."""
    if len(raw) > MAX_LOGO_BYTES:
        raise InvalidInput(
            f"The logo is {len(raw) / 1024 / 1024:.1f} MB; choose one of at most 2 MB.",
            field="logo",
        )
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in _LOGO_FORMATS:
                raise InvalidInput("Choose a PNG or JPEG image for the logo.", field="logo")
            width, height = image.size
            if width * height > MAX_LOGO_PIXELS:
                raise InvalidInput(
                    f"The logo is {width} x {height} pixels; choose one of at most 4096 x 4096.",
                    field="logo",
                )
            image.load()
            image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            converted = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        raise InvalidInput(
            "This file is not a PNG or JPEG image we can read; choose another.", field="logo"
        ) from None
    out = io.BytesIO()
    converted.save(out, format="PNG", optimize=True)
    return out.getvalue()


def snapshot_letterhead(session: Session, org_id: int) -> str:
    """The id of an unchanged copy of the organization's letterhead as it is now; the same
    content is stored once (the id is its SHA-256)."""
    letterhead = letterhead_of(session, org_id)
    fields = {name: getattr(letterhead, name) for name in _TEXT_FIELDS}
    logo = letterhead.logo_png
    reading = {"time_zone": letterhead.reader.time_zone, "locale": letterhead.reader.locale}
    content = {
        **fields,
        **reading,
        "logo_sha256": hashlib.sha256(logo).hexdigest() if logo else None,
    }
    snapshot_id = hashlib.sha256(
        json.dumps({"org_id": org_id, **content}, sort_keys=True).encode()
    ).hexdigest()
    session.execute(
        insert(CompanyProfileSnapshot)
        .values(id=snapshot_id, org_id=org_id, logo_png=logo, **fields, **reading)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return snapshot_id


def issued_letterhead(session: Session, snapshot_id: str) -> Letterhead:
    """The letterhead a document printed."""
    snapshot = session.get_one(CompanyProfileSnapshot, snapshot_id)
    reader = resolve_reader((snapshot.time_zone, snapshot.locale))
    return Letterhead(**_texts(snapshot), logo_png=snapshot.logo_png, reader=reader)


def letterhead_for(session: Session, *, snapshot_id: str | None, org_id: int) -> Letterhead:
    """The stored letterhead of an issued document; before one is stored, the current one."""
    if snapshot_id is not None:
        return issued_letterhead(session, snapshot_id)
    return letterhead_of(session, org_id)


def _manufacturer_or_none(session: Session) -> int | None:
    return session.scalar(
        select(Organization.id)
        .where(Organization.kind == OrgKind.MANUFACTURER)
        .order_by(Organization.id)
        .limit(1)
    )


def _texts(record: CompanyProfile | CompanyProfileSnapshot) -> dict[str, str]:
    return {name: getattr(record, name) for name in _TEXT_FIELDS}


def _audited(profile: CompanyProfile) -> dict[str, Any]:
    logo = profile.logo_png
    return {
        **_texts(profile),
        "quote_valid_days": profile.quote_valid_days,
        "logo_sha256": hashlib.sha256(logo).hexdigest() if logo else None,
    }


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
