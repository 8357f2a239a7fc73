"""The ledger's service API for other packages: queue a document hash, read its status."""

from __future__ import annotations

import os
import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.errors import InvalidInput
from ledger.models import (
    AnchorBatch,
    AnchorProof,
    AnchorRequest,
    ChainDeployment,
    RequestStatus,
)
from ledger.trust import Trust, installation_trust
from ledger.verify import Verdict, verify

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def request_anchor(
    session: Session,
    *,
    sha256: str,
    kind: str,
    reference: str,
    request_id: uuid.UUID | None = None,
) -> AnchorRequest:
    """Queue a document's SHA-256 (hex) for anchoring, in the caller's transaction.

    A document that prints its own verify link (a QR code to /verify/<id>) picks `request_id`
    with `new_request_id()` before rendering, then anchors the rendered bytes under it."""
    digest = sha256.lower().removeprefix("0x")
    if not _SHA256_HEX.match(digest):
        raise InvalidInput("sha256 must be 64 hex characters", code="ledger_bad_sha256")
    request = AnchorRequest(
        id=request_id or new_request_id(),
        sha256=digest,
        kind=kind,
        reference=reference,
        salt=os.urandom(32).hex(),
        status=RequestStatus.PENDING,
    )
    session.add(request)
    session.flush()
    return request


def new_request_id() -> uuid.UUID:
    """A fresh anchor request id, for documents that must show it before they are anchored."""
    return uuid.uuid4()


def document_label(kind: str) -> str:
    """What a person calls a document of this kind: its words (rebate_statement: "rebate
    statement"), so pages never show the key."""
    return kind.replace("_", " ").strip() or "document"


def get_request(session: Session, *, request_id: uuid.UUID) -> AnchorRequest | None:
    """One anchor request by its public id."""
    return session.get(AnchorRequest, request_id)


def current_receipt(session: Session, *, request_id: uuid.UUID) -> dict[str, object] | None:
    """The receipt of the request's current batch, or None while it waits for one."""
    return session.execute(
        select(AnchorProof.receipt)
        .join(AnchorRequest, AnchorRequest.id == AnchorProof.request_id)
        .join(AnchorBatch, AnchorBatch.id == AnchorProof.batch_id)
        .where(AnchorProof.request_id == request_id, AnchorBatch.id == AnchorRequest.batch_id)
    ).scalar_one_or_none()


def latest_request_for(session: Session, *, sha256: str) -> AnchorRequest | None:
    """The newest request for a document hash (an uploaded file is looked up by it)."""
    return session.scalars(
        select(AnchorRequest)
        .where(AnchorRequest.sha256 == sha256.lower())
        .order_by(AnchorRequest.requested_at.desc())
        .limit(1)
    ).first()


def deployments(session: Session) -> list[ChainDeployment]:
    """Every registry this installation deployed, the live ones first."""
    return list(
        session.scalars(
            select(ChainDeployment).order_by(
                ChainDeployment.retired_at.is_not(None), ChainDeployment.deployed_at.desc()
            )
        )
    )


def verify_request(
    session: Session,
    *,
    request: AnchorRequest,
    rpc_url: str,
    document: bytes | None = None,
    trust: Trust | None = None,
) -> Verdict:
    """The verdict for a stored request: pending/orphaned from our records, else from the chain."""
    receipt = current_receipt(session, request_id=request.id)
    if receipt is None:
        if request.status == RequestStatus.ORPHANED or _was_orphaned(session, request):
            return Verdict(
                "orphaned",
                "its chain was reset; it is queued to be anchored again",
                doc_hash=request.sha256,
            )
        return Verdict("pending", "waiting for the next anchoring batch", doc_hash=request.sha256)
    known = trust if trust is not None else installation_trust(session, get_settings())
    return verify(receipt, document, rpc_url, trust=known)


def _was_orphaned(session: Session, request: AnchorRequest) -> bool:
    return (
        session.scalar(select(AnchorProof.id).where(AnchorProof.request_id == request.id).limit(1))
        is not None
    )
