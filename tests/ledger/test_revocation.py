"""Only the issuer who anchored a document can revoke it (issue 13, finding 12); a registry of
an older contract version is replaced and its documents anchored again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.exceptions import ContractCustomError

from ledger import compile as compile_module
from ledger.anchoring import anchor_pending
from ledger.chain import ChainWriter, Sent, connect, registry, signing_key
from ledger.compile import load_artifact
from ledger.merkle import leaf_hash
from ledger.models import AnchorRequest, ChainDeployment
from ledger.proof import Anchor, Receipt, make_receipt, parse_receipt
from ledger.service import current_receipt, request_anchor, verify_request
from ledger.trust import installation_trust
from ledger.verify import verify
from tests.ledger.conftest import ThrowawayChain

# anvil's second development account: another issuer the registry's owner allowed
OTHER_ISSUER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
DOCS = [f"%PDF-1.7 service report {n}".encode() for n in range(3)]


def _anchor_ours(db: Session, chain: ThrowawayChain) -> list[AnchorRequest]:
    """Three documents in one batch of ours: the middle one's path has a sibling on each side."""
    requests = [
        request_anchor(db, sha256=hashlib.sha256(d).hexdigest(), kind="certificate", reference="r")
        for d in DOCS
    ]
    db.commit()
    assert anchor_pending(db, chain.settings()) == len(DOCS)
    return requests


def _receipt(db: Session, request: AnchorRequest) -> Receipt:
    receipt = current_receipt(db, request_id=request.id)
    assert receipt is not None
    return parse_receipt(receipt)


def _verdict(db: Session, chain: ThrowawayChain, receipt: Receipt, doc: bytes) -> Any:
    return verify(receipt.as_dict(), doc, chain.url, trust=installation_trust(db, chain.settings()))


@pytest.fixture
def ours(db: Session, test_chain: ThrowawayChain) -> tuple[ChainWriter, ChainWriter]:
    """Our writer (the registry's owner) and another issuer it allowed on the same registry."""
    _anchor_ours(db, test_chain)  # deploys the registry of this test
    w3 = connect(test_chain.url)
    we = ChainWriter(w3, signing_key(test_chain.settings()))
    other = ChainWriter(w3, OTHER_ISSUER_KEY)
    contract = db.scalars(select(ChainDeployment).where(ChainDeployment.retired_at.is_(None))).one()
    we.call(registry(w3, contract.contract).functions.addIssuer(other.account.address))
    return we, other


def _reverts_with(error: str, send: Any) -> None:
    selector = Web3.keccak(text=error)[:4].hex()
    with pytest.raises(ContractCustomError) as refused:
        send()
    assert selector in str(refused.value.data), f"expected {error}, got {refused.value.data}"


def _own_copy(other: ChainWriter, contract: str, doc_hash: bytes) -> Receipt:
    """What another issuer can do with a document's public hash: anchor it under a salt of
    its own, in a root of its own."""
    salt = b"\x5a" * 32
    root = leaf_hash(salt, doc_hash)
    sent = other.anchor(contract, root)
    return make_receipt(doc_hash=doc_hash, salt=salt, path=[], root=root, anchor=_at(sent, other))


def _at(sent: Sent, writer: ChainWriter) -> Anchor:
    contract = writer.w3.eth.get_transaction_receipt(sent.tx_hash)["to"]
    assert sent.log_index is not None
    return Anchor(
        writer.w3.eth.chain_id,
        str(contract),
        sent.tx_hash,
        sent.block_number,
        sent.block_hash,
        sent.log_index,
    )


def test_another_issuer_cannot_revoke_our_document(
    db: Session, test_chain: ThrowawayChain, ours: tuple[ChainWriter, ChainWriter]
) -> None:
    _, other = ours
    request = db.scalars(
        select(AnchorRequest).where(AnchorRequest.sha256 == hashlib.sha256(DOCS[1]).hexdigest())
    ).one()
    receipt = _receipt(db, request)
    assert receipt.anchor is not None
    contract = receipt.anchor.contract

    # our receipt, sent by them: the root is ours
    _reverts_with(
        "NotRootIssuer(bytes32,address)",
        lambda: other.revoke_document(receipt, reason="they say so"),
    )
    _reverts_with(
        "NotRootIssuer(bytes32,address)",
        lambda: other.revoke_root(contract, receipt.root, reason="they say so"),
    )
    # our document named under a root of theirs: it is not in that root
    theirs = _own_copy(other, contract, hashlib.sha256(b"their own report").digest())
    misplaced = Receipt(receipt.doc_hash, receipt.salt, receipt.path, theirs.root, theirs.anchor)
    _reverts_with(
        "NotInRoot(bytes32,bytes32)",
        lambda: other.revoke_document(misplaced, reason="they say so"),
    )
    # a copy of our document's hash anchored by them: they may revoke their copy, not ours
    copy = _own_copy(other, contract, receipt.doc_hash)
    other.revoke_document(copy, reason="their copy")

    verdict = _verdict(db, test_chain, receipt, DOCS[1])
    assert verdict.status == "valid", verdict.reason


def test_the_issuer_who_anchored_a_document_revokes_it(
    db: Session, test_chain: ThrowawayChain, ours: tuple[ChainWriter, ChainWriter]
) -> None:
    we, _ = ours
    requests = db.scalars(
        select(AnchorRequest).where(
            AnchorRequest.sha256.in_([hashlib.sha256(d).hexdigest() for d in DOCS])
        )
    ).all()
    by_doc = {r.sha256: r for r in requests}
    middle = _receipt(db, by_doc[hashlib.sha256(DOCS[1]).hexdigest()])
    assert [step.side for step in middle.path] == ["left", "right"]

    wrong_salt = Receipt(middle.doc_hash, b"\x00" * 32, middle.path, middle.root, middle.anchor)
    _reverts_with(
        "NotInRoot(bytes32,bytes32)", lambda: we.revoke_document(wrong_salt, reason="superseded")
    )
    we.revoke_document(middle, reason="superseded")

    verdict = _verdict(db, test_chain, middle, DOCS[1])
    assert verdict.status == "revoked", verdict.reason
    assert verdict.reason == "the issuer revoked this document"
    assert verdict.revoked_at is not None
    # the page's verdict says so too; the batch's other documents stay valid
    request = by_doc[hashlib.sha256(DOCS[1]).hexdigest()]
    assert verify_request(db, request=request, rpc_url=test_chain.url).status == "revoked"
    first = _receipt(db, by_doc[hashlib.sha256(DOCS[0]).hexdigest()])
    assert _verdict(db, test_chain, first, DOCS[0]).status == "valid"
    _reverts_with(
        "AlreadyRevoked(bytes32)", lambda: we.revoke_document(middle, reason="superseded")
    )


def test_a_new_contract_version_replaces_the_registry_and_anchors_its_documents_again(
    db: Session, test_chain: ThrowawayChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = _anchor_ours(db, test_chain)
    before = _receipt(db, requests[0])
    old = db.scalars(select(ChainDeployment).where(ChainDeployment.retired_at.is_(None))).one()

    # a release with another contract build: here the same code but for its metadata hash
    release = load_artifact()
    for key in ("bytecode", "deployedBytecode"):
        code = bytearray(bytes.fromhex(release[key].removeprefix("0x")))
        code[-20] ^= 0xFF
        release[key] = "0x" + code.hex()
    (tmp_path / "AnchorRegistry.json").write_text(json.dumps(release))
    monkeypatch.setattr(compile_module, "ARTIFACT", tmp_path / "AnchorRegistry.json")

    assert anchor_pending(db, test_chain.settings()) == len(DOCS)

    db.refresh(old)
    assert old.retired_at is not None
    live = db.scalars(select(ChainDeployment).where(ChainDeployment.retired_at.is_(None))).one()
    assert live.contract != old.contract
    after = _receipt(db, requests[0])
    assert after.anchor is not None
    assert after.anchor.contract == live.contract
    assert _verdict(db, test_chain, after, DOCS[0]).status == "valid"
    stale = _verdict(db, test_chain, before, DOCS[0])
    assert stale.status == "orphaned"
    assert "earlier version of our registry" in stale.reason
