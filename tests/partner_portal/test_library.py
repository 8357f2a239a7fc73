"""The document library's rules: who sees what, search, versions, acknowledgements, downloads,
and what may be uploaded."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import get_settings
from core.db import utcnow
from core.errors import InvalidInput, NotFound, PermissionDenied
from crm.capabilities import grant
from crm.models import Capability
from partner_portal import library
from partner_portal.models import DocumentDownload
from partner_portal.uploads import (
    UploadKind,
    UploadRefused,
    content_disposition,
    store_upload,
    stored_path,
)
from tests.partner_portal.library_factories import (
    PDF,
    colleague,
    make_document,
    make_partner,
    make_staff,
    stored_pdf,
    upload_dir,  # noqa: F401  # fixture
)

pytestmark = pytest.mark.usefixtures("upload_dir")


def _titles(db: Session, principal: Principal, **filters: str) -> list[str]:
    rows = library.visible_documents(db, actor=principal, **filters)
    return [row.document.title for row in rows]


def _pending(db: Session, principal: Principal) -> list[int]:
    return [row.document.id for row in library.pending_acknowledgements(db, actor=principal)]


def test_audience_kinds_combine_with_and_values_within_a_kind_with_or(db: Session) -> None:
    staff = make_staff(db)
    gold_north = make_partner(db, tier="gold", region="north")
    gold_south = make_partner(db, tier="gold", region="south")
    silver_north = make_partner(db, tier="silver", region="north")
    platinum_north = make_partner(db, tier="platinum", region="north")
    make_document(db, staff, title="Everyone")
    make_document(db, staff, title="Gold or platinum", tiers=["gold", "platinum"])
    make_document(db, staff, title="Gold in the north", tiers=["gold"], regions=["north"])

    assert sorted(_titles(db, gold_north.principal)) == [
        "Everyone",
        "Gold in the north",
        "Gold or platinum",
    ]
    assert sorted(_titles(db, gold_south.principal)) == ["Everyone", "Gold or platinum"]
    assert _titles(db, silver_north.principal) == ["Everyone"]
    assert sorted(_titles(db, platinum_north.principal)) == ["Everyone", "Gold or platinum"]


def test_document_for_named_distributors_is_hidden_from_others(db: Session) -> None:
    staff = make_staff(db)
    a, b = make_partner(db), make_partner(db)
    make_document(db, staff, title="For A", distributors=[a.org])

    assert _titles(db, a.principal) == ["For A"]
    assert _titles(db, colleague(db, a)) == ["For A"]
    assert _titles(db, b.principal) == []


def test_distributor_without_profile_sees_only_documents_not_limited_by_tier_or_region(
    db: Session,
) -> None:
    staff = make_staff(db)
    unprofiled = make_partner(db, tier=None)
    make_document(db, staff, title="Everyone")
    make_document(db, staff, title="Silver", tiers=["silver"])
    make_document(db, staff, title="North", regions=["north"])
    make_document(db, staff, title="Named", distributors=[unprofiled.org])

    assert sorted(_titles(db, unprofiled.principal)) == ["Everyone", "Named"]


def test_unpublished_and_expired_documents_are_hidden(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    now = utcnow()
    make_document(db, staff, title="Current", expires_at=now + timedelta(days=1))
    make_document(db, staff, title="Tomorrow", publish_at=now + timedelta(days=1))
    expired = make_document(db, staff, title="Expired", publish_at=now - timedelta(days=3))
    expired.expires_at = now - timedelta(days=1)
    db.flush()

    assert _titles(db, partner.principal) == ["Current"]
    with pytest.raises(NotFound):
        library.get_visible_document(db, actor=partner.principal, document_id=expired.id)


def test_search_finds_words_of_title_and_description_best_match_first(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    make_document(db, staff, title="Warranty policy", description="Claims for compressors.")
    make_document(db, staff, title="Price list", description="Prices of spare parts.")
    make_document(
        db, staff, title="Compressor warranty terms", description="Warranty of compressors."
    )

    assert _titles(db, partner.principal, query="spare parts") == ["Price list"]
    assert _titles(db, partner.principal, query="warranty compressor") == [
        "Compressor warranty terms",
        "Warranty policy",
    ]
    assert _titles(db, partner.principal, query="warranty -terms") == ["Warranty policy"]
    assert _titles(db, partner.principal, query="nothing like this") == []


def test_filters_by_category_and_product_family(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    make_document(db, staff, title="A", category="datasheet", product_family="compressor")
    make_document(db, staff, title="B", category="datasheet", product_family="pump")
    make_document(db, staff, title="C", category="policy")

    assert sorted(_titles(db, partner.principal, category="datasheet")) == ["A", "B"]
    assert _titles(db, partner.principal, product_family="pump") == ["B"]
    assert library.library_filters(db, actor=partner.principal) == (
        ["datasheet", "policy"],
        ["compressor", "pump"],
    )


def test_new_version_keeps_history_and_becomes_current(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    document = make_document(db, staff)
    second = library.add_version(
        db, actor=staff, document_id=document.id, upload=stored_pdf(PDF + b"v2"), change_note="v2"
    )

    assert [v.version for v in library.versions_of(db, document.id)] == [2, 1]
    row = library.get_visible_document(db, actor=partner.principal, document_id=document.id)
    assert row.current.id == second.id
    assert row.is_new_version
    assert second.sha256 == hashlib.sha256(PDF + b"v2").hexdigest()


def test_acknowledgement_is_per_version_and_a_new_version_needs_a_new_one(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    policy = make_document(db, staff, title="Code of conduct", policy=True)
    assert [
        r.document.id for r in library.pending_acknowledgements(db, actor=partner.principal)
    ] == [policy.id]

    first = library.acknowledge(db, actor=partner.principal, document_id=policy.id)
    library.acknowledge(db, actor=partner.principal, document_id=policy.id)  # idempotent
    assert library.pending_acknowledgements(db, actor=partner.principal) == []
    assert library.pending_acknowledgements(db, actor=colleague(db, partner)) != []

    library.add_version(db, actor=staff, document_id=policy.id, upload=stored_pdf(PDF + b"2"))
    assert [
        r.document.id for r in library.pending_acknowledgements(db, actor=partner.principal)
    ] == [policy.id]
    second = library.acknowledge(db, actor=partner.principal, document_id=policy.id)

    accepted = library.acceptances(db, actor=staff, document_id=policy.id)
    assert [(a.version, a.org_name) for a in accepted] == [
        (2, partner.org.name),
        (1, partner.org.name),
    ]
    assert (first.version, second.version) == (1, 2)


def test_only_policies_can_be_acknowledged(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    document = make_document(db, staff)
    with pytest.raises(InvalidInput):
        library.acknowledge(db, actor=partner.principal, document_id=document.id)


def test_download_is_logged_and_another_documents_version_is_not_found(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    document = make_document(db, staff)
    other = make_document(db, staff, title="Other")
    version = library.versions_of(db, document.id)[0]
    other_version = library.versions_of(db, other.id)[0]

    library.download_version(
        db, actor=partner.principal, document_id=document.id, version_id=version.id
    )
    with pytest.raises(NotFound):
        library.download_version(
            db, actor=partner.principal, document_id=document.id, version_id=other_version.id
        )

    logged = db.scalars(select(DocumentDownload)).all()
    assert [(d.version_id, d.user_id, d.org_id) for d in logged] == [
        (version.id, partner.principal.user_id, partner.org.id)
    ]
    assert [d.org_name for d in library.downloads(db, actor=staff, document_id=document.id)] == [
        partner.org.name
    ]


def test_channel_managers_and_admins_publish_other_staff_and_partners_do_not(db: Session) -> None:
    dispatcher = make_staff(db, role=Role.DISPATCHER)
    partner = make_partner(db)
    with pytest.raises(PermissionDenied):
        make_document(db, dispatcher)
    with pytest.raises(PermissionDenied):
        make_document(db, partner.principal)

    grant(db, user_id=dispatcher.user_id, capability=Capability.CHANNEL_MANAGER)
    assert make_document(db, dispatcher).created_by == dispatcher.user_id


def test_staff_do_not_browse_the_partner_library(db: Session) -> None:
    with pytest.raises(PermissionDenied):
        library.visible_documents(db, actor=make_staff(db))


def test_expiry_must_follow_publication() -> None:
    now = utcnow()
    with pytest.raises(ValueError, match="expiry"):
        library.DocumentIn(title="T", category="c", publish_at=now, expires_at=now)


# --- the file store ------------------------------------------------------------------------------


def test_upload_is_stored_under_a_server_name_with_its_hash() -> None:
    stored = store_upload(
        io.BytesIO(PDF), kind=UploadKind.DOCUMENTS, original_filename="../../etc/Prix été.pdf"
    )
    path = stored_path(UploadKind.DOCUMENTS, stored.storage_name)

    assert path.parent == get_settings().resolved_upload_dir() / "documents"
    assert path.read_bytes() == PDF
    assert stored.original_filename == "Prix été.pdf"
    assert stored.content_type == "application/pdf"
    assert (stored.size_bytes, stored.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert [p.name for p in path.parent.iterdir()] == [stored.storage_name]  # no temp left


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tool.exe", b"MZ\x90\x00"),
        ("report.pdf", b"<html><script>alert(1)</script>"),  # the name lies about the bytes
        ("sheet.xlsx", PDF),
        ("notes.txt", b"\x00\x01binary"),
        ("no extension", PDF),
    ],
)
def test_upload_of_a_wrong_type_is_refused_with_415(name: str, content: bytes) -> None:
    with pytest.raises(UploadRefused, match="Allowed: ") as refused:
        store_upload(io.BytesIO(content), kind=UploadKind.DOCUMENTS, original_filename=name)
    assert refused.value.status == 415
    assert list((get_settings().resolved_upload_dir() / "documents").glob("*")) == []


def test_video_types_are_not_documents_and_documents_not_videos() -> None:
    with pytest.raises(UploadRefused):
        store_upload(io.BytesIO(PDF), kind=UploadKind.VIDEOS, original_filename="a.pdf")
    with pytest.raises(UploadRefused):
        store_upload(
            io.BytesIO(b"\x1a\x45\xdf\xa3"), kind=UploadKind.DOCUMENTS, original_filename="a.webm"
        )


def test_too_large_upload_is_refused_with_413_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIELDCRM_UPLOAD_MAX_BYTES", "100")
    get_settings.cache_clear()
    with pytest.raises(UploadRefused, match="larger than 100 bytes") as refused:
        store_upload(
            io.BytesIO(PDF + b"x" * 100), kind=UploadKind.DOCUMENTS, original_filename="a.pdf"
        )
    assert refused.value.status == 413
    assert list((get_settings().resolved_upload_dir() / "documents").iterdir()) == []


def test_stored_path_refuses_names_that_are_not_ours() -> None:
    with pytest.raises(NotFound):
        stored_path(UploadKind.DOCUMENTS, "../../secrets.env")


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name() -> None:
    assert content_disposition('Prix "été".pdf') == (
        "attachment; filename=\"Prix __t__.pdf\"; filename*=UTF-8''Prix%20%22%C3%A9t%C3%A9%22.pdf"
    )
