"""The demo's company profiles: the manufacturer's letterhead (a Munich GmbH with its logo,
VAT id and terms) and each distributor's address and VAT id, set before any document is issued."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.company import manufacturer_org_id, prepare_logo
from crm.models import CompanyProfile, Organization, OrgKind

_BLUE = (11, 107, 203)
_INK = (29, 36, 48)
MANUFACTURER_PROFILE = {
    "legal_name": "Nordwind Machinery GmbH",
    "address": "Landsberger Straße 302\n80687 München\nGermany",
    "vat_id": "DE284913570",
    "registration_id": "HRB 241873, Amtsgericht München",
    "email": "service@nordwind-machinery.example",
    "phone": "+49 89 4521 8800",
    "website": "www.nordwind-machinery.example",
    "terms": (
        "Prices in EUR excluding VAT. Payment within 30 days of the invoice date without "
        "deduction; rebates are credited within 30 days of the statement. Delivery ex works "
        "München (Incoterms 2020 EXW). Our general terms of sale and delivery apply; "
        "place of jurisdiction is München."
    ),
}
# each distributor's address and VAT id (its legal name is the organization's name)
_DISTRIBUTOR_ADDRESSES = {
    "Alpen Distribution GmbH": ("Rosenheimer Straße 145\n81671 München", "DE311482906"),
    "Donau Partner KG": ("Donaustaufer Straße 78\n93059 Regensburg", "DE276530418"),
    "Inn Maschinen GmbH": ("Innstraße 21\n94032 Passau", "DE298114637"),
    "Lech Technik AG": ("Haunstetter Straße 112\n86161 Augsburg", "DE305927841"),
    "Zugspitz Service GmbH": ("Bahnhofstraße 9\n82467 Garmisch-Partenkirchen", "DE319046255"),
}


def demo_logo() -> bytes:
    """Nordwind's logo: a blue tile with three white gusts, and the name beside it."""
    scale = 4  # drawn large, scaled down: smooth edges
    width, height = 560 * scale, 128 * scale
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    tile = 128 * scale
    draw.rounded_rectangle((0, 0, tile - 1, tile - 1), radius=26 * scale, fill=_BLUE)
    for row, (start, end) in enumerate(((22, 96), (34, 106), (22, 84))):
        y = (36 + row * 28) * scale
        draw.line((start * scale, y, end * scale, y), fill="white", width=10 * scale, joint="curve")
        draw.ellipse(
            ((end - 5) * scale, y - 5 * scale, (end + 5) * scale, y + 5 * scale), fill="white"
        )
    name = ImageFont.load_default(size=64 * scale)
    small = ImageFont.load_default(size=30 * scale)
    draw.text((150 * scale, 10 * scale), "Nordwind", font=name, fill=_INK)
    draw.text((154 * scale, 84 * scale), "MACHINERY", font=small, fill=_BLUE)
    out = io.BytesIO()
    image.resize((width // scale, height // scale), Image.Resampling.LANCZOS).save(out, "PNG")
    return prepare_logo(out.getvalue())


def seed_company_profiles(session: Session) -> None:
    """The manufacturer's profile and the distributors' addresses and VAT ids."""
    maker = manufacturer_org_id(session)
    session.merge(CompanyProfile(org_id=maker, logo_png=demo_logo(), **MANUFACTURER_PROFILE))
    distributors = session.scalars(
        select(Organization).where(Organization.kind == OrgKind.DISTRIBUTOR)
    )
    for org in distributors:
        address, vat_id = _DISTRIBUTOR_ADDRESSES.get(org.name, ("", ""))
        if vat_id:
            session.merge(
                CompanyProfile(
                    org_id=org.id, legal_name=org.name, address=f"{address}\nGermany", vat_id=vat_id
                )
            )
    session.flush()
