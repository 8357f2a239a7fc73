"""The registry's deployment per chain, and detecting a chain that was reset or reorganised."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from web3 import Web3

from core.db import utcnow
from ledger.chain import ChainWriter, hex0x, unavailable_on_io
from ledger.compile import is_current_code
from ledger.models import AnchorBatch, AnchorRequest, BatchStatus, ChainDeployment, RequestStatus

logger = logging.getLogger(__name__)
RECHECKED_BATCHES = 64  # reorgs touch recent blocks; a reset is caught by genesis and code


def ensure_deployment(session: Session, w3: Web3, writer: ChainWriter) -> ChainDeployment:
    """The live deployment on this chain; deploys (and records) it when there is none."""
    with unavailable_on_io():
        chain_id = w3.eth.chain_id
        genesis = hex0x(w3.eth.get_block(0)["hash"])
    current = session.scalars(
        select(ChainDeployment).where(
            ChainDeployment.chain_id == chain_id, ChainDeployment.retired_at.is_(None)
        )
    ).one_or_none()
    gone = _why_gone(w3, current, genesis) if current is not None else None
    if current is not None and gone is not None:
        retire(session, current, why=gone)
        current = None
    if current is None:
        sent = writer.deploy()
        assert sent.contract is not None
        current = ChainDeployment(
            chain_id=chain_id,
            genesis_hash=genesis,
            contract=sent.contract,
            deploy_tx=sent.tx_hash,
            deploy_block=sent.block_number,
        )
        session.add(current)
        session.flush()
        logger.info("Deployed the anchor registry at %s on chain %s", sent.contract, chain_id)
    return current


def _why_gone(w3: Web3, deployment: ChainDeployment, genesis: str) -> str | None:
    """Why the deployment can no longer be used (None while it can)."""
    if deployment.genesis_hash != genesis:
        return "chain reset: the genesis block changed"
    with unavailable_on_io():
        code = bytes(w3.eth.get_code(Web3.to_checksum_address(deployment.contract)))
        if not code:
            return "chain reset: no contract code at the registry's address"
        deploy_block = w3.eth.get_block(deployment.deploy_block)
    # code at the address can be re-created by a same-nonce redeploy; the block must match too
    if deploy_block is None or deploy_block["number"] != deployment.deploy_block:
        return "chain reset: the deployment block is gone"
    if not is_current_code(code):
        # an older AnchorRegistry (its rules and reads differ): its documents move to the new one
        return "the registry runs an earlier version of the contract"
    return None


def retire(session: Session, deployment: ChainDeployment, *, why: str) -> int:
    """Retire a deployment and orphan every batch on it; returns how many requests re-queue."""
    logger.warning("Retiring anchor registry %s: %s", deployment.contract, why)
    deployment.retired_at = utcnow()
    batch_ids = select(AnchorBatch.id).where(
        AnchorBatch.chain_id == deployment.chain_id, AnchorBatch.contract == deployment.contract
    )
    return _orphan(session, batch_ids)


def check_anchored_roots(session: Session, w3: Web3, deployment: ChainDeployment) -> int:
    """Orphan recent batches whose block is no longer on the chain (reorg); returns requests."""
    batches = session.scalars(
        select(AnchorBatch)
        .where(
            AnchorBatch.status == BatchStatus.ANCHORED,
            AnchorBatch.contract == deployment.contract,
            AnchorBatch.chain_id == deployment.chain_id,
        )
        .order_by(AnchorBatch.id.desc())
        .limit(RECHECKED_BATCHES)
    ).all()
    gone = []
    with unavailable_on_io():
        for batch in batches:
            assert batch.block_number is not None
            block = (
                w3.eth.get_block(batch.block_number)
                if batch.block_number <= (w3.eth.block_number)
                else None
            )
            if block is None or hex0x(block["hash"]) != batch.block_hash:
                gone.append(batch.id)
    if not gone:
        return 0
    logger.warning("Anchored batches %s are no longer on the chain: re-anchoring", gone)
    return _orphan(session, select(AnchorBatch.id).where(AnchorBatch.id.in_(gone)))


def _orphan(session: Session, batch_ids: object) -> int:
    session.execute(
        update(AnchorBatch)
        .where(AnchorBatch.id.in_(batch_ids))  # type: ignore[arg-type]  # a select of ids
        .values(status=BatchStatus.ORPHANED)
    )
    result = session.execute(
        update(AnchorRequest)
        .where(AnchorRequest.batch_id.in_(batch_ids))  # type: ignore[arg-type]  # same
        .values(status=RequestStatus.ORPHANED, batch_id=None)
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE
