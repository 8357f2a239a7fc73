"""Contract templates, offers and acceptance, on the rolled-back test session."""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.models import AuditLog
from ledger.models import AnchorRequest
from partner_portal.contracts import (
    ANCHOR_KIND,
    Acceptance,
    accept_contract,
    create_template_version,
    get_contract,
    offer_contract,
    render_contract_pdf,
    withdraw_offer,
)
from partner_portal.models import ContractStatus, DistributorContract
from tests.partner_portal.contract_factories import (
    PUBLIC_URL,
    make_offer,
    make_partner,
    make_staff,
    make_template,
)


def test_a_new_version_of_a_template_name_is_the_next_number(db: Session) -> None:
    staff = make_staff(db)
    first = make_template(db, staff=staff, name="Service partner terms")
    second = make_template(db, staff=staff, name="Service partner terms")
    other = make_template(db, staff=staff, name="Reseller terms")
    assert (first.version, second.version, other.version) == (1, 2, 1)


def test_an_offer_is_the_template_filled_with_the_distributors_data(db: Session) -> None:
    partner = make_partner(db, name="Nordic Pumps AB", region="Scandinavia")
    contract = make_offer(db, partner, valid_to=date(2027, 12, 31))

    assert contract.status == ContractStatus.OFFERED
    assert contract.version == 1
    assert contract.body == (
        "Distribution agreement between ACME and Nordic Pumps AB (gold partner, region "
        "Scandinavia), from 2026-01-01 to 2027-12-31.\n\n"
        f"Notices to {partner.admin.email}. Dated {utcnow().date().isoformat()}."
    )


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ distributor_name.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_a_template_that_reaches_for_python_internals(
    db: Session, body: str
) -> None:
    with pytest.raises(InvalidInput):
        make_template(db, staff=make_staff(db), body=body)


@pytest.mark.parametrize(
    "body",
    [
        "{{ distributor_name * 100000000 }}",  # a gigabyte of text
        "{{ 9 ** 9 ** 9 }}",  # a number that takes minutes to compute
        "{{ '%s' % distributor_name }}",
        "{% for _ in distributor_name %}{% for _ in distributor_name %}"
        "{% for _ in distributor_name %}{{ distributor_name }}{% endfor %}{% endfor %}"
        "{% endfor %}" * 4,  # nested loops that grow past the output cap
    ],
)
def test_the_sandbox_refuses_templates_that_would_exhaust_memory_or_time(
    db: Session, body: str
) -> None:
    with pytest.raises(InvalidInput, match=r"not allowed|longer than"):
        make_template(db, staff=make_staff(db), body=body)


def test_an_unknown_placeholder_or_broken_syntax_is_refused_when_saving(db: Session) -> None:
    staff = make_staff(db)
    with pytest.raises(InvalidInput, match="Unknown placeholders: iban"):
        make_template(db, staff=staff, body="Pay to {{ iban }}")
    with pytest.raises(InvalidInput, match="does not parse"):
        make_template(db, staff=staff, body="{% if tier %}no end")


def test_partners_and_dispatchers_cannot_write_templates_or_offers(db: Session) -> None:
    partner = make_partner(db)
    with pytest.raises(PermissionDenied):
        make_template(db, staff=partner.admin_principal)
    template = make_template(db, staff=make_staff(db))
    with pytest.raises(PermissionDenied):
        offer_contract(
            db,
            actor=partner.admin_principal,
            distributor_org_id=partner.org.id,
            template_id=template.id,
            valid_from=date(2026, 1, 1),
        )


def test_a_newer_offer_supersedes_the_one_still_waiting(db: Session) -> None:
    partner = make_partner(db)
    staff = make_staff(db)
    first = make_offer(db, partner, staff=staff)
    second = make_offer(db, partner, staff=staff)
    assert (first.status, second.status) == (ContractStatus.SUPERSEDED, ContractStatus.OFFERED)
    assert second.version == 2


def test_only_a_partner_admin_of_the_organisation_accepts(db: Session) -> None:
    partner = make_partner(db)
    stranger = make_partner(db)
    contract = make_offer(db, partner)

    with pytest.raises(PermissionDenied):
        accept_contract(
            db, actor=partner.member_principal, contract_id=contract.id, public_url=PUBLIC_URL
        )
    with pytest.raises(PermissionDenied):
        accept_contract(db, actor=make_staff(db), contract_id=contract.id, public_url=PUBLIC_URL)
    # another distributor's admin learns nothing: the contract does not exist for them
    with pytest.raises(NotFound):
        accept_contract(
            db, actor=stranger.admin_principal, contract_id=contract.id, public_url=PUBLIC_URL
        )
    assert contract.status == ContractStatus.OFFERED


def test_acceptance_stores_the_pdf_and_anchors_its_hash(db: Session) -> None:
    partner = make_partner(db)
    contract = make_offer(db, partner)

    accepted = accept_contract(
        db, actor=partner.admin_principal, contract_id=contract.id, public_url=PUBLIC_URL
    )

    assert accepted.status == ContractStatus.ACCEPTED
    assert accepted.accepted_by == partner.admin.id
    assert accepted.accepted_at is not None
    assert accepted.pdf is not None
    assert accepted.pdf.startswith(b"%PDF")
    assert accepted.sha256 == hashlib.sha256(accepted.pdf).hexdigest()
    anchor = db.get(AnchorRequest, accepted.anchor_request_id)
    assert anchor is not None
    assert (anchor.sha256, anchor.kind) == (accepted.sha256, ANCHOR_KIND)
    # the QR code's link in the PDF opens this very anchor's verify page
    assert f"{PUBLIC_URL}/verify/{anchor.id}".encode() in _pdf_text(accepted.pdf)
    audit = db.scalars(
        select(AuditLog.after)
        .where(AuditLog.entity == "distributor_contracts", AuditLog.entity_id == str(contract.id))
        .order_by(AuditLog.id)
    ).all()
    assert [a["status"] for a in audit if a] == ["offered", "accepted"]


def test_the_pdf_is_the_same_for_the_same_acceptance(db: Session) -> None:
    partner = make_partner(db)
    contract = make_offer(db, partner)
    facts = Acceptance("Org", "Ann <ann@example.test>", utcnow(), f"{PUBLIC_URL}/verify")
    first = render_contract_pdf(contract, facts)
    assert render_contract_pdf(contract, facts) == first
    text = _pdf_text(first)
    assert f"{PUBLIC_URL}/verify".encode() in text
    assert b"Ann <ann@example.test>" in text
    assert b"Distribution agreement between ACME" in text


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF's content streams, inflated (fpdf2 compresses them)."""
    streams = re.findall(rb"stream\n(.*?)\nendstream", pdf, re.DOTALL)
    return b"".join(zlib.decompress(s) for s in streams if s.startswith(b"x"))


def test_a_new_acceptance_supersedes_the_contract_in_force(db: Session) -> None:
    partner = make_partner(db)
    staff = make_staff(db)
    old = make_offer(db, partner, staff=staff)
    accept_contract(db, actor=partner.admin_principal, contract_id=old.id, public_url=PUBLIC_URL)
    new = make_offer(db, partner, staff=staff)
    assert old.status == ContractStatus.ACCEPTED  # an offer leaves the one in force alone

    accept_contract(db, actor=partner.admin_principal, contract_id=new.id, public_url=PUBLIC_URL)

    statuses = dict(
        db.execute(
            select(DistributorContract.id, DistributorContract.status).where(
                DistributorContract.distributor_org_id == partner.org.id
            )
        ).all()
    )
    assert statuses == {old.id: "superseded", new.id: "accepted"}


def test_the_database_keeps_one_contract_in_force(db: Session) -> None:
    partner = make_partner(db)
    staff = make_staff(db)
    old = make_offer(db, partner, staff=staff)
    accept_contract(db, actor=partner.admin_principal, contract_id=old.id, public_url=PUBLIC_URL)
    new = make_offer(db, partner, staff=staff)
    new.status = ContractStatus.ACCEPTED
    with pytest.raises(IntegrityError), db.begin_nested():
        db.flush()


def test_an_accepted_superseded_or_withdrawn_contract_cannot_be_accepted(db: Session) -> None:
    partner = make_partner(db)
    staff = make_staff(db)
    contract = make_offer(db, partner, staff=staff)
    withdraw_offer(db, actor=staff, contract_id=contract.id)
    with pytest.raises(IllegalTransition):
        accept_contract(
            db, actor=partner.admin_principal, contract_id=contract.id, public_url=PUBLIC_URL
        )


def test_an_expired_offer_cannot_be_accepted(db: Session) -> None:
    partner = make_partner(db)
    contract = make_offer(db, partner, valid_to=date(2026, 1, 31))
    with pytest.raises(IllegalTransition, match="ran out"):
        accept_contract(
            db, actor=partner.admin_principal, contract_id=contract.id, public_url=PUBLIC_URL
        )


def test_another_distributors_contract_is_not_found(db: Session) -> None:
    contract = make_offer(db, make_partner(db))
    with pytest.raises(NotFound):
        get_contract(db, actor=make_partner(db).member_principal, contract_id=contract.id)


def test_create_template_version_requires_a_name(db: Session) -> None:
    with pytest.raises(InvalidInput, match="name"):
        create_template_version(db, actor=make_staff(db), name="  ", body="Hello")
