"""Verification with only a receipt and an RPC endpoint: valid, tampered, revoked, orphaned."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ledger.anchoring import anchor_pending
from ledger.chain import ChainWriter, connect, signing_key
from ledger.models import AnchorRequest
from ledger.proof import parse_receipt
from ledger.service import current_receipt, request_anchor, verify_request
from ledger.trust import Trust, installation_trust
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


def _trust(db: Session, chain: ThrowawayChain) -> Trust:
    return installation_trust(db, chain.settings())


def _receipt(db: Session, request: AnchorRequest) -> dict[str, Any]:
    receipt = current_receipt(db, request_id=request.id)
    assert receipt is not None
    return receipt


def test_an_anchored_document_verifies_with_issuer_block_and_time(
    db: Session, test_chain: ThrowawayChain
) -> None:
    receipt = _receipt(db, _anchored(db, test_chain))
    verdict = verify(receipt, DOC, test_chain.url, trust=_trust(db, test_chain))
    assert verdict.status == "valid", verdict.reason
    assert verdict.issuer
    assert verdict.anchored_at
    assert verdict.block_number
    assert verdict.tx_hash


def test_a_changed_document_is_tampered(db: Session, test_chain: ThrowawayChain) -> None:
    receipt = _receipt(db, _anchored(db, test_chain))
    assert (
        verify(
            receipt, DOC.replace(b"42", b"43"), test_chain.url, trust=_trust(db, test_chain)
        ).status
        == "tampered"
    )


def test_a_root_that_was_never_anchored_is_not_found(
    db: Session, test_chain: ThrowawayChain
) -> None:
    receipt = _receipt(db, _anchored(db, test_chain))
    # a self-consistent forgery: a fresh salt gives a fresh root the registry never saw
    from ledger.merkle import leaf_hash

    forged = receipt | {"salt": "ab" * 32, "path": []}
    forged["root"] = leaf_hash(bytes.fromhex(forged["salt"]), hashlib.sha256(DOC).digest()).hex()
    assert verify(forged, DOC, test_chain.url, trust=_trust(db, test_chain)).status == "not_found"


def test_anchor_details_pointing_at_another_transaction_are_tampered(
    db: Session, test_chain: ThrowawayChain
) -> None:
    first = _receipt(db, _anchored(db, test_chain))
    other = _receipt(db, _anchored(db, test_chain, b"another certificate"))
    mixed = first | {"anchor": other["anchor"]}
    assert verify(mixed, DOC, test_chain.url, trust=_trust(db, test_chain)).status in (
        "tampered",
        "not_found",
    )


@pytest.mark.parametrize("scope", ["root", "document"])
def test_revocation_shows_in_the_verdict(
    db: Session, test_chain: ThrowawayChain, scope: str
) -> None:
    receipt = _receipt(db, _anchored(db, test_chain))
    writer = ChainWriter(connect(test_chain.url), signing_key(test_chain.settings()))
    if scope == "root":
        root = bytes.fromhex(receipt["root"])
        writer.revoke_root(receipt["anchor"]["contract"], root, reason="issued in error")
    else:
        writer.revoke_document(parse_receipt(receipt), reason="superseded")
    verdict = verify(receipt, DOC, test_chain.url, trust=_trust(db, test_chain))
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


STRANGER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def _forged_on_a_registry_of_their_own(
    chain: ThrowawayChain, forged: bytes
) -> tuple[dict[str, Any], str]:
    """What a forger does on a public chain: deploy an AnchorRegistry of their own, anchor the
    forged document's root there, and write a receipt that points at it."""
    from ledger.merkle import leaf_hash
    from ledger.proof import Anchor, make_receipt

    w3 = connect(chain.url)
    forger = ChainWriter(w3, STRANGER_KEY)
    contract = forger.deploy().contract
    assert contract is not None
    salt = b"\x11" * 32
    root = leaf_hash(salt, hashlib.sha256(forged).digest())
    sent = forger.anchor(contract, root)
    assert sent.log_index is not None
    anchor = Anchor(
        w3.eth.chain_id, contract, sent.tx_hash, sent.block_number, sent.block_hash, sent.log_index
    )
    receipt = make_receipt(
        doc_hash=hashlib.sha256(forged).digest(), salt=salt, path=[], root=root, anchor=anchor
    )
    return receipt.as_dict(), contract


def test_a_forgery_anchored_on_someone_elses_registry_is_refused(
    db: Session, test_chain: ThrowawayChain
) -> None:
    _anchored(db, test_chain)  # our registry exists on this chain
    forged = b"%PDF-1.7 a service certificate we never issued"
    receipt, contract = _forged_on_a_registry_of_their_own(test_chain, forged)

    verdict = verify(receipt, forged, test_chain.url, trust=_trust(db, test_chain))

    assert verdict.status == "unknown_registry", verdict.reason
    assert verdict.issuer is None  # nothing about the forger's account reads as an issuer of ours
    # believed only when someone configures that registry, and then its issuer is still unknown
    believing = installation_trust(
        db,
        test_chain.settings().model_copy(
            update={"ledger_trusted_registries": [f"{receipt['anchor']['chain_id']}:{contract}"]}
        ),
    )
    assert verify(receipt, forged, test_chain.url, trust=believing).status == "unknown_issuer"


def test_a_waiting_request_is_pending(db: Session) -> None:
    request = request_anchor(db, sha256="ab" * 32, kind="certificate", reference="wo:1")
    dead = f"http://127.0.0.1:{free_port()}"
    assert verify_request(db, request=request, rpc_url=dead).status == "pending"
