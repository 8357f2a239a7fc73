"""The public verify page and JSON endpoint (no login), and `fieldcrm ledger verify`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from core.config import get_settings
from fieldcrm.cli import app as cli
from ledger import routes, views
from ledger.anchoring import anchor_pending
from ledger.models import AnchorRequest
from ledger.service import current_receipt, request_anchor
from tests.fieldcrm.conftest import Browser
from tests.ledger.conftest import ThrowawayChain
from tests.ledger.test_verify import _forged_on_a_registry_of_their_own

ANVIL_DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first dev account

DOC = b"calibration certificate, pressure sensor SN-0042, passed"


@pytest.fixture
def on_test_chain(monkeypatch: pytest.MonkeyPatch, test_chain: ThrowawayChain) -> None:
    for module in (views, routes):
        monkeypatch.setattr(module, "get_settings", test_chain.settings)


def _anchored(db: Session, chain: ThrowawayChain) -> AnchorRequest:
    request = request_anchor(
        db, sha256=hashlib.sha256(DOC).hexdigest(), kind="calibration", reference="asset:42"
    )
    db.commit()
    anchor_pending(db, chain.settings())
    return request


@pytest.mark.usefixtures("on_test_chain")
def test_the_qr_link_says_what_the_page_is_before_a_file_is_checked(
    browser: Browser, db: Session, test_chain: ThrowawayChain
) -> None:
    request = _anchored(db, test_chain)
    page = browser.get(f"/verify/{request.id}")
    assert page.status_code == 200
    assert '<h1 id="verify-title">Check a calibration</h1>' in page.text
    assert "Choose the file you received and press Check." in page.text
    assert "was registered on the public ledger on" in page.text
    # nobody has checked a file yet: no verdict about the reader's copy
    assert "Valid" not in page.text
    assert 'class="verdict' not in page.text
    assert "data:image/svg+xml;base64," in page.text
    assert "asset:42" not in page.text  # internal references stay internal


@pytest.mark.usefixtures("on_test_chain")
def test_a_changed_file_on_the_documents_link_does_not_match_that_document(
    browser: Browser, db: Session, test_chain: ThrowawayChain
) -> None:
    request = _anchored(db, test_chain)
    headers = {"X-CSRF-Token": browser.csrf_token(f"/verify/{request.id}")}
    changed = {"document": ("cert.pdf", DOC.replace(b"passed", b"failed"))}

    page = browser.post(f"/verify/{request.id}", headers=headers, files=changed)

    assert page.status_code == 200
    assert "Does not match: this file is not the calibration of this link" in page.text
    assert "never registered" not in page.text
    assert hashlib.sha256(changed["document"][1]).hexdigest() in page.text
    same = browser.post(f"/verify/{request.id}", headers=headers, files={"document": ("c", DOC)})
    assert "Valid: this is the calibration we issued, unaltered" in same.text


@pytest.mark.parametrize("where", ["/verify", "/verify/{id}"])
@pytest.mark.usefixtures("on_test_chain")
def test_checking_without_a_file_asks_for_one_next_to_the_field(
    browser: Browser, db: Session, test_chain: ThrowawayChain, where: str
) -> None:
    path = where.format(id=_anchored(db, test_chain).id)
    headers = {"X-CSRF-Token": browser.csrf_token(path), "HX-Request": "true"}
    headers["HX-Target"] = "verify"

    page = browser.post(path, headers=headers, files={"document": ("", b"")})

    assert page.status_code == 422
    assert '<p id="document-error" class="verify-error">Choose the file you want to check.</p>' in (
        page.text
    )
    assert 'aria-invalid="true" aria-describedby="document-error"' in page.text
    assert "Not found" not in page.text
    assert "<html" not in page.text  # the check block only, the page around it stays


def test_the_documentation_it_mentions_is_a_page(browser: Browser) -> None:
    page = browser.get("/verify").text
    assert '<a href="/verify/how-it-works">how to check it yourself</a>' in page
    help_page = browser.get("/verify/how-it-works")
    assert help_page.status_code == 200
    assert '<h1 id="how-title">How checking a document works</h1>' in help_page.text
    assert "fieldcrm ledger verify FILE RECEIPT" in help_page.text


def test_the_help_page_publishes_our_registry_and_issuer(
    browser: Browser, db: Session, test_chain: ThrowawayChain
) -> None:
    request = _anchored(db, test_chain)
    anchor = (current_receipt(db, request_id=request.id) or {})["anchor"]
    page = browser.get("/verify/how-it-works").text
    assert f"<dt>Chain {anchor['chain_id']}</dt>" in page
    assert anchor["contract"] in page
    assert ANVIL_DEV_ADDRESS.lower() in page  # the issuer a receipt's root must be anchored by


@pytest.mark.usefixtures("on_test_chain")
def test_the_json_endpoint_returns_verdict_and_receipt(
    browser: Browser, db: Session, test_chain: ThrowawayChain
) -> None:
    request = _anchored(db, test_chain)
    body = browser.get(f"/api/ledger/verify/{request.id}").json()
    assert body["verdict"]["status"] == "valid"
    assert body["receipt"]["hash_scheme"] == "fieldcrm-merkle-sha256-v1"


@pytest.mark.usefixtures("on_test_chain")
def test_uploading_the_document_finds_and_verifies_it(
    browser: Browser, db: Session, test_chain: ThrowawayChain
) -> None:
    _anchored(db, test_chain)
    # as htmx sends it: the token in a header (multipart bodies are not parsed for it)
    headers = {"X-CSRF-Token": browser.csrf_token("/verify"), "HX-Request": "true"}
    headers["HX-Target"] = "verify"
    page = browser.post("/verify", headers=headers, files={"document": ("cert.pdf", DOC)})
    assert page.status_code == 200
    assert "Valid" in page.text
    assert "<html" not in page.text  # only the result fragment
    other = {"document": ("cert.pdf", DOC + b"!")}
    unknown = browser.post("/verify", headers=headers, files=other).text
    assert "Not found: we have no record of this exact file" in unknown
    assert "open the link of its QR code" in unknown


@pytest.mark.usefixtures("on_test_chain")
def test_a_changed_document_with_its_receipt_shows_tampered(
    browser: Browser, db: Session, test_chain: ThrowawayChain
) -> None:
    request = _anchored(db, test_chain)
    receipt = json.dumps(current_receipt(db, request_id=request.id))
    page = browser.post(
        "/verify",
        headers={"X-CSRF-Token": browser.csrf_token("/verify")},
        data={"receipt_text": receipt},
        files={"document": ("cert.pdf", DOC.replace(b"passed", b"failed"))},
    )
    assert "Tampered" in page.text


def test_a_receipt_of_someone_elses_registry_is_not_ours(
    browser: Browser, db: Session, test_chain: ThrowawayChain
) -> None:
    _anchored(db, test_chain)
    forged = b"%PDF-1.7 a forged report"
    receipt, _ = _forged_on_a_registry_of_their_own(test_chain, forged)
    page = browser.post(
        "/verify",
        headers={"X-CSRF-Token": browser.csrf_token("/verify")},
        data={"receipt_text": json.dumps(receipt)},
        files={"document": ("cert.pdf", forged)},
    )
    assert "Not ours: this receipt points to a register we do not keep" in page.text
    assert "Valid" not in page.text


def test_an_unknown_id_is_not_found(browser: Browser) -> None:
    page = browser.get("/verify/not-a-uuid")
    assert page.status_code == 404
    assert "No document has this verification link." in page.text
    assert browser.get("/api/ledger/verify/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_cli_verifies_a_file_against_its_receipt(
    db: Session, test_chain: ThrowawayChain, tmp_path: Path
) -> None:
    request = _anchored(db, test_chain)
    (tmp_path / "cert.pdf").write_bytes(DOC)
    (tmp_path / "receipt.json").write_text(json.dumps(current_receipt(db, request_id=request.id)))
    anchor = (current_receipt(db, request_id=request.id) or {})["anchor"]
    ours = f"{anchor['chain_id']}:{anchor['contract']}"
    args = ["ledger", "verify", str(tmp_path / "cert.pdf"), str(tmp_path / "receipt.json")]
    args += ["--rpc-url", test_chain.url]
    result = CliRunner().invoke(cli, [*args, "--registry", ours])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "valid"
    # a registry nobody told it to believe proves nothing
    other = CliRunner().invoke(cli, [*args, "--registry", f"{anchor['chain_id']}:0x{'1' * 40}"])
    assert (other.exit_code, json.loads(other.output)["status"]) == (1, "unknown_registry")
    typo = CliRunner().invoke(cli, [*args, "--registry", "not-a-registry"])
    assert typo.exit_code == 2
    assert "chain_id:0xaddress" in typo.output
    (tmp_path / "cert.pdf").write_bytes(DOC + b" ")
    result = CliRunner().invoke(cli, [*args, "--registry", ours])
    assert result.exit_code == 1
    assert json.loads(result.output)["status"] == "tampered"


def test_the_verify_link_is_our_address_whatever_host_the_request_names(
    browser: Browser, db: Session, test_chain: ThrowawayChain
) -> None:
    request = _anchored(db, test_chain)
    forged = {"Host": "evil.example"}
    page = browser.get(f"/verify/{request.id}", headers=forged)
    ours = get_settings().resolved_public_url()
    assert f"{ours}/verify/{request.id}" in page.text
    assert "evil.example" not in page.text
    answer = browser.get(f"/api/ledger/verify/{request.id}", headers=forged).json()
    assert answer["verify_url"] == f"{ours}/verify/{request.id}"


def test_the_qr_code_encodes_the_public_verify_url() -> None:
    import base64
    import uuid

    from ledger.qr import anchor_badge

    request_id = uuid.uuid4()
    badge = anchor_badge(request_id, "pending", base_url="https://crm.example/")
    assert badge.verify_url == f"https://crm.example/verify/{request_id}"
    svg = base64.b64decode(badge.qr.removeprefix("data:image/svg+xml;base64,"))
    assert svg.startswith(b"<svg")
