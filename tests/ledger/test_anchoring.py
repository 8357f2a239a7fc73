"""Anchoring against a real (throw-away) anvil: batches, proofs, outages, no double anchors."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.anchoring import anchor_pending
from ledger.chain import connect, read_root
from ledger.models import AnchorBatch, AnchorProof, AnchorRequest, ChainDeployment
from ledger.proof import offline_problem, parse_receipt
from ledger.service import current_receipt, request_anchor
from tests.ledger.conftest import ThrowawayChain, free_port


def _queue(db: Session, count: int, tag: str) -> list[AnchorRequest]:
    """Requests as other packages make them: in their own, committed, transactions."""
    requests = [
        request_anchor(
            db,
            sha256=hashlib.sha256(f"{tag}-{i}".encode()).hexdigest(),
            kind="certificate",
            reference=f"{tag}:{i}",
        )
        for i in range(count)
    ]
    db.commit()
    return requests


def test_waiting_requests_are_anchored_in_one_batch_with_proofs(
    db: Session, test_chain: ThrowawayChain
) -> None:
    requests = _queue(db, 5, "batch")
    assert anchor_pending(db, test_chain.settings()) >= 5
    for i, request in enumerate(requests):
        db.refresh(request)
        assert request.status == "anchored"
        receipt = parse_receipt(current_receipt(db, request_id=request.id) or {})
        assert offline_problem(receipt, f"batch-{i}".encode()) is None
        assert receipt.anchor is not None
    batch = db.get(AnchorBatch, requests[0].batch_id)
    assert batch is not None
    assert batch.size >= 5
    assert batch.tx_hash
    assert {r.batch_id for r in requests} == {batch.id}
    info = read_root(connect(test_chain.url), batch.contract or "", bytes.fromhex(batch.root))
    assert info.issuer is not None


def test_the_deployment_is_recorded_once(db: Session, test_chain: ThrowawayChain) -> None:
    _queue(db, 1, "deploy")
    anchor_pending(db, test_chain.settings())
    anchor_pending(db, test_chain.settings())
    deployments = db.scalars(select(ChainDeployment).where(ChainDeployment.retired_at.is_(None)))
    (deployment,) = deployments.all()
    assert deployment.chain_id == 31337
    assert deployment.genesis_hash.startswith("0x")


def test_requests_wait_while_the_rpc_is_down_and_are_anchored_once_when_it_returns(
    db: Session, test_chain: ThrowawayChain
) -> None:
    down = test_chain.settings().model_copy(update={"chain_port": free_port()})
    requests = _queue(db, 3, "outage")
    assert anchor_pending(db, down) == 0
    more = _queue(db, 2, "outage-late")
    assert anchor_pending(db, down) == 0
    for request in requests + more:
        db.refresh(request)
        assert request.status == "pending"
    assert anchor_pending(db, test_chain.settings()) >= 5
    assert anchor_pending(db, test_chain.settings()) == 0
    ids = [r.id for r in requests + more]
    proofs = db.scalar(select(func.count()).where(AnchorProof.request_id.in_(ids)))
    assert proofs == 5
    for request in requests + more:
        db.refresh(request)
        assert request.status == "anchored"


def test_a_batch_committed_before_a_crash_is_finished_not_anchored_twice(
    db: Session, test_chain: ThrowawayChain
) -> None:
    from ledger import anchoring
    from ledger.chain import ChainWriter

    requests = _queue(db, 4, "crash")
    settings = test_chain.settings()
    # first run: the transaction goes out, then the job dies before recording it
    original = anchoring._finish

    def crash_after_send(session, w3, writer: ChainWriter, deployment, batch):  # type: ignore[no-untyped-def]
        members = anchoring._members(session, batch.id)
        writer.anchor(deployment.contract, anchoring._levels(members)[-1][0])
        raise SystemExit("worker killed")

    anchoring._finish = crash_after_send  # type: ignore[assignment]
    try:
        try:
            anchor_pending(db, settings)
        except SystemExit:
            db.rollback()
    finally:
        anchoring._finish = original  # type: ignore[assignment]
    assert anchor_pending(db, settings) >= 4
    for request in requests:
        db.refresh(request)
        assert request.status == "anchored"
    batch = db.get(AnchorBatch, requests[0].batch_id)
    assert batch is not None
    assert batch.status == "anchored"
