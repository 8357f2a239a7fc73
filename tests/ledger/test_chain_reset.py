"""A chain restarted without its state: detected, proofs orphaned, everything re-anchored."""

from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.anchoring import anchor_pending
from ledger.models import AnchorProof, AnchorRequest, ChainDeployment
from ledger.service import current_receipt, request_anchor, verify_request
from ledger.trust import installation_trust
from ledger.verify import verify
from tests.ledger.conftest import ThrowawayChain

DOCS = [f"warranty certificate {i}".encode() for i in range(4)]


@pytest.mark.slow
def test_a_reset_chain_orphans_proofs_and_reanchors_every_document(
    db: Session, resettable_chain: ThrowawayChain
) -> None:
    requests = [
        request_anchor(db, sha256=hashlib.sha256(d).hexdigest(), kind="warranty", reference="x")
        for d in DOCS
    ]
    db.commit()
    settings = resettable_chain.settings()
    assert anchor_pending(db, settings) == len(DOCS)
    old = [current_receipt(db, request_id=r.id) for r in requests]
    assert (
        verify(
            old[0] or {}, DOCS[0], resettable_chain.url, trust=installation_trust(db, settings)
        ).status
        == "valid"
    )

    resettable_chain.stop()
    time.sleep(1.1)  # anvil's genesis carries the start time: a second later it differs
    resettable_chain.start()  # same port, no state: a new genesis, an empty chain

    assert (
        verify(
            old[0] or {}, DOCS[0], resettable_chain.url, trust=installation_trust(db, settings)
        ).status
        == "orphaned"
    )
    assert anchor_pending(db, settings) == len(DOCS)
    deployments = db.scalars(select(ChainDeployment).order_by(ChainDeployment.id)).all()
    assert [d.retired_at is None for d in deployments[-2:]] == [False, True]
    for request, document, previous in zip(requests, DOCS, old, strict=True):
        db.refresh(request)
        assert request.status == "anchored"
        receipt = current_receipt(db, request_id=request.id)
        assert receipt is not None
        assert receipt["root"] == (previous or {})["root"]  # same salts, same batch: same root
        assert receipt["anchor"]["block_hash"] != (previous or {})["anchor"]["block_hash"]
        history = select(func.count()).where(AnchorProof.request_id == request.id)
        assert db.scalar(history) == 2  # the orphaned proof is kept as history
        verdict = verify_request(db, request=request, rpc_url=resettable_chain.url)
        assert verdict.status == "valid", verdict.reason
        assert (
            verify(
                receipt, document, resettable_chain.url, trust=installation_trust(db, settings)
            ).status
            == "valid"
        )
    ids = [r.id for r in requests]
    waiting = select(AnchorRequest.id).where(
        AnchorRequest.id.in_(ids), AnchorRequest.status != "anchored"
    )
    assert db.scalar(waiting) is None
