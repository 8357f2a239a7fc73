"""The ledger's public JSON API: a document's verdict and receipt by its verification id."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from core.config import get_settings
from core.db import SessionDep
from core.errors import NotFound
from ledger.qr import verify_path
from ledger.service import current_receipt, get_request, verify_request

router = APIRouter(prefix="/api/ledger", tags=["ledger"])


@router.get("/verify/{request_id}")
def verify_json(request: Request, request_id: uuid.UUID, session: SessionDep) -> dict[str, Any]:
    """The verdict, the receipt (for offline checks) and the verify page's URL."""
    anchor_request = get_request(session, request_id=request_id)
    if anchor_request is None:
        raise NotFound("no document with this verification id", code="ledger_not_found")
    verdict = verify_request(
        session, request=anchor_request, rpc_url=get_settings().resolved_rpc_url()
    )
    return {
        "request_id": str(anchor_request.id),
        "kind": anchor_request.kind,
        "verdict": verdict.as_dict(),
        "receipt": current_receipt(session, request_id=anchor_request.id),
        "verify_url": get_settings().resolved_public_url() + verify_path(anchor_request.id),
    }
