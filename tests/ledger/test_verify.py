"""Verification with only a receipt and an RPC endpoint: valid, tampered, revoked, orphaned."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ledger.anchoring import anchor_pending
from ledger.chain import ChainWriter, connect, registry, signing_key
from ledger.models import AnchorRequest
from ledger.service import current_receipt, request_anchor, verify_request
from ledger.verify import verify
from tests.ledger.conftest import ThrowawayChain, free_port

DOC = b"%PDF-1.7 service completion certificate for work order 42"


def _anchored(db: Session, chain: ThrowawayChain, doc: bytes = DOC) -> AnchorRequest:
    request = request_anchor(
        db, sha256=hashlib.sha256(doc).hexdigest(), kind="certificate", reference="wo:42"
    )
    db.commit()
    anchor_pending(db, chain.settings())
    db.refresh(request)
    return request


def _receipt(db: Session, request: AnchorRequest) -> dict[str, Any]:
    receipt = current_receipt(db, request_id=request.id)
    assert receipt is not None
    return receipt


def test_an_anchored_document_verifies_with_issuer_block_and_time(
    db: Session, test_chain: ThrowawayChain
) -> None:
    receipt = _receipt(db, _anchored(db, test_chain))
    verdict = verify(receipt, DOC, test_chain.url)
    assert verdict.status == "valid", verdict.reason
    assert verdict.issuer
    assert verdict.anchored_at
    assert verdict.block_number
    assert verdict.tx_hash


def test_a_changed_document_is_tampered(db: Session, test_chain: ThrowawayChain) -> None:
    receipt = _receipt(db, _anchored(db, test_chain))
    assert verify(receipt, DOC.replace(b"42", b"43"), test_chain.url).status == "tampered"


def test_a_root_that_was_never_anchored_is_not_found(
    db: Session, test_chain: ThrowawayChain
) -> None:
    receipt = _receipt(db, _anchored(db, test_chain))
    # a self-consistent forgery: a fresh salt gives a fresh root the registry never saw
    from ledger.merkle import leaf_hash

    forged = receipt | {"salt": "ab" * 32, "path": []}
    forged["root"] = leaf_hash(bytes.fromhex(forged["salt"]), hashlib.sha256(DOC).digest()).hex()
    assert verify(forged, DOC, test_chain.url).status == "not_found"


def test_anchor_details_pointing_at_another_transaction_are_tampered(
    db: Session, test_chain: ThrowawayChain
) -> None:
    first = _receipt(db, _anchored(db, test_chain))
    other = _receipt(db, _anchored(db, test_chain, b"another certificate"))
    mixed = first | {"anchor": other["anchor"]}
    assert verify(mixed, DOC, test_chain.url).status in ("tampered", "not_found")


@pytest.mark.parametrize("scope", ["root", "document"])
def test_revocation_shows_in_the_verdict(
    db: Session, test_chain: ThrowawayChain, scope: str
) -> None:
    receipt = _receipt(db, _anchored(db, test_chain))
    w3 = connect(test_chain.url)
    contract = registry(w3, receipt["anchor"]["contract"])
    writer = ChainWriter(w3, signing_key(test_chain.settings()))
    root = bytes.fromhex(receipt["root"])
    if scope == "root":
        writer.call(contract.functions.revokeRoot(root, "issued in error"))
    else:
        doc_hash = bytes.fromhex(receipt["doc_hash"])
        writer.call(contract.functions.revokeDocument(doc_hash, root, "superseded"))
    verdict = verify(receipt, DOC, test_chain.url)
    assert verdict.status == "revoked"
    assert verdict.revoked_at is not None


def test_only_an_allowed_issuer_can_anchor(test_chain: ThrowawayChain, db: Session) -> None:
    from web3.exceptions import ContractCustomError

    receipt = _receipt(db, _anchored(db, test_chain))
    w3 = connect(test_chain.url)
    stranger_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
    stranger = ChainWriter(w3, stranger_key)
    with pytest.raises(ContractCustomError):
        stranger.anchor(receipt["anchor"]["contract"], b"\x07" * 32)


def test_a_waiting_request_is_pending(db: Session) -> None:
    request = request_anchor(db, sha256="ab" * 32, kind="certificate", reference="wo:1")
    dead = f"http://127.0.0.1:{free_port()}"
    assert verify_request(db, request=request, rpc_url=dead).status == "pending"
