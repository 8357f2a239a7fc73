"""The anchoring job's body: batch pending requests into a Merkle root, anchor it, keep proofs.

It owns its transactions like any job edge: the batch (root and members) is committed before
the transaction goes out, so a crash or an unreachable RPC leaves a batch that the next run
finishes — finding the root already on chain instead of anchoring it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from core.config import Settings
from core.db import utcnow
from ledger.chain import ChainUnavailable, ChainWriter, Sent, connect, find_anchor, signing_key
from ledger.config import ledger_options
from ledger.deployments import check_anchored_roots, ensure_deployment
from ledger.merkle import build_levels, leaf_hash, proof_path
from ledger.models import (
    AnchorBatch,
    AnchorProof,
    AnchorRequest,
    BatchStatus,
    ChainDeployment,
    RequestStatus,
)
from ledger.proof import Anchor, make_receipt

logger = logging.getLogger(__name__)
_WAITING = (RequestStatus.PENDING, RequestStatus.ORPHANED)


def anchor_pending(session: Session, settings: Settings) -> int:
    """Anchor every waiting request, in batches; returns how many documents got a proof."""
    options = ledger_options(settings)
    w3 = connect(settings.resolved_rpc_url(), timeout=options.rpc_timeout_seconds)
    writer = ChainWriter(
        w3,
        signing_key(settings),
        confirmations=options.confirmations,
        receipt_timeout=options.receipt_timeout_seconds,
    )
    anchored = 0
    try:
        deployment = ensure_deployment(session, w3, writer)
        check_anchored_roots(session, w3, deployment)
        session.commit()
        unfinished = session.scalars(
            select(AnchorBatch).where(AnchorBatch.status == BatchStatus.SENDING)
        ).all()
        for batch in unfinished:
            anchored += _finish(session, w3, writer, deployment, batch)
            session.commit()
        while (claimed := _claim(session, deployment, options.batch_size)) is not None:
            session.commit()
            anchored += _finish(session, w3, writer, deployment, claimed)
            session.commit()
    except ChainUnavailable as exc:
        session.rollback()
        logger.warning("Ledger RPC unavailable, requests keep waiting: %s", exc)
    return anchored


def _members(session: Session, batch_id: int) -> Sequence[AnchorRequest]:
    # the order that built the tree; a resumed batch rebuilds the same root from it
    return session.scalars(
        select(AnchorRequest)
        .where(AnchorRequest.batch_id == batch_id)
        .order_by(AnchorRequest.requested_at, AnchorRequest.id)
    ).all()


def _levels(requests: Sequence[AnchorRequest]) -> list[list[bytes]]:
    return build_levels(
        [leaf_hash(bytes.fromhex(r.salt), bytes.fromhex(r.sha256)) for r in requests]
    )


def _claim(session: Session, deployment: ChainDeployment, limit: int) -> AnchorBatch | None:
    requests = session.scalars(
        select(AnchorRequest)
        .where(AnchorRequest.status.in_(_WAITING), AnchorRequest.batch_id.is_(None))
        .order_by(AnchorRequest.requested_at, AnchorRequest.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not requests:
        return None
    batch = AnchorBatch(
        root=_levels(requests)[-1][0].hex(),
        size=len(requests),
        status=BatchStatus.SENDING,
        chain_id=deployment.chain_id,
        contract=deployment.contract,
    )
    session.add(batch)
    session.flush()
    session.execute(
        update(AnchorRequest)
        .where(AnchorRequest.id.in_([r.id for r in requests]))
        .values(batch_id=batch.id),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()
    return batch


def _finish(
    session: Session,
    w3: Web3,
    writer: ChainWriter,
    deployment: ChainDeployment,
    batch: AnchorBatch,
) -> int:
    members = _members(session, batch.id)
    levels = _levels(members)
    root = levels[-1][0]
    if root.hex() != batch.root:
        raise RuntimeError(f"batch {batch.id}: members no longer hash to the recorded root")
    batch.chain_id, batch.contract = deployment.chain_id, deployment.contract
    batch.sent_at = utcnow()
    sent = _anchor_once(w3, writer, deployment, root)
    anchor = Anchor(
        chain_id=deployment.chain_id,
        contract=deployment.contract,
        tx_hash=sent.tx_hash,
        block_number=sent.block_number,
        block_hash=sent.block_hash,
        log_index=sent.log_index or 0,
    )
    session.execute(
        insert(AnchorProof),
        [
            {
                "request_id": request.id,
                "batch_id": batch.id,
                "receipt": make_receipt(
                    doc_hash=bytes.fromhex(request.sha256),
                    salt=bytes.fromhex(request.salt),
                    path=proof_path(levels, index),
                    root=root,
                    anchor=anchor,
                ).as_dict(),
            }
            for index, request in enumerate(members)
        ],
    )
    session.execute(
        update(AnchorRequest)
        .where(AnchorRequest.batch_id == batch.id)
        .values(status=RequestStatus.ANCHORED),
        execution_options={"synchronize_session": False},
    )
    batch.status = BatchStatus.ANCHORED
    batch.tx_hash, batch.block_number = sent.tx_hash, sent.block_number
    batch.block_hash, batch.log_index = sent.block_hash, anchor.log_index
    batch.gas_used, batch.confirmed_at = sent.gas_used, utcnow()
    session.flush()
    return len(members)


def _anchor_once(w3: Web3, writer: ChainWriter, deployment: ChainDeployment, root: bytes) -> Sent:
    # a batch whose transaction went out before a crash is on chain already: adopt it
    found = find_anchor(w3, deployment.contract, root, from_block=deployment.deploy_block)
    if found is not None:
        return found
    try:
        return writer.anchor(deployment.contract, root)
    except (ContractCustomError, ContractLogicError):
        found = find_anchor(w3, deployment.contract, root, from_block=deployment.deploy_block)
        if found is None:
            raise
        return found
