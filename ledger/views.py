"""The public verify pages (no login): open a QR link, or upload a document and/or receipt."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from core.config import get_settings
from core.db import SessionDep
from core.web.templating import render
from ledger.chain import ChainUnavailable
from ledger.models import AnchorRequest
from ledger.qr import anchor_badge
from ledger.service import get_request, latest_request_for, verify_request
from ledger.verify import Verdict, verify

router = APIRouter(include_in_schema=False)
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_RECEIPT_BYTES = 64 * 1024


@router.get("/verify", name="ledger_verify_form")
def verify_form(request: Request) -> Response:
    return render(request, "ledger/verify.html", {"verdict": None})


@router.get("/verify/{request_id}", name="ledger_verify_page")
def verify_page(request: Request, request_id: str, session: SessionDep) -> Response:
    anchor_request = _lookup(session, request_id)
    if anchor_request is None:
        verdict = Verdict("not_found", "no document with this verification id")
        return _result(request, verdict, None, status_code=404)
    return _checked(request, lambda: _verdict_of(session, anchor_request), anchor_request)


@router.post("/verify", name="ledger_verify_upload")
async def verify_upload(
    request: Request,
    session: SessionDep,
    document: Annotated[UploadFile | None, File()] = None,
    receipt: Annotated[UploadFile | None, File()] = None,
    receipt_text: Annotated[str, Form(max_length=MAX_RECEIPT_BYTES)] = "",
) -> Response:
    body = await _read(document, MAX_UPLOAD_BYTES)
    receipt_json = (await _read(receipt, MAX_RECEIPT_BYTES)) or receipt_text.encode() or None
    rpc_url = get_settings().resolved_rpc_url()
    if receipt_json is not None:
        return _checked(request, lambda: verify(receipt_json, body, rpc_url), None)
    if body is None:
        verdict = Verdict("not_found", "choose a document or a receipt to check")
        return _result(request, verdict, None, status_code=422)
    found = latest_request_for(session, sha256=hashlib.sha256(body).hexdigest())
    if found is None:
        verdict = Verdict("not_found", "this exact file was never registered with us")
        return _result(request, verdict, None)
    return _checked(
        request,
        lambda: verify_request(session, request=found, rpc_url=rpc_url, document=body),
        found,
    )


def _lookup(session: SessionDep, request_id: str) -> AnchorRequest | None:
    try:
        return get_request(session, request_id=uuid.UUID(request_id))
    except ValueError:
        return None


def _verdict_of(session: SessionDep, anchor_request: AnchorRequest) -> Verdict:
    rpc_url = get_settings().resolved_rpc_url()
    return verify_request(session, request=anchor_request, rpc_url=rpc_url)


async def _read(upload: UploadFile | None, limit: int) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    data = await upload.read(limit + 1)
    return data[:limit] if len(data) > limit else data


def _checked(request: Request, check: Any, anchor_request: AnchorRequest | None) -> Response:
    try:
        verdict = check()
    except ChainUnavailable:
        return render(
            request,
            "ledger/verify.html",
            {"verdict": None, "unavailable": True},
            status_code=503,
        )
    return _result(request, verdict, anchor_request)


def _result(
    request: Request,
    verdict: Verdict,
    anchor_request: AnchorRequest | None,
    *,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {"verdict": verdict, "anchor_request": anchor_request}
    if anchor_request is not None:
        badge = anchor_badge(
            anchor_request.id, anchor_request.status, base_url=str(request.base_url)
        )
        context |= {"verify_url": badge.verify_url, "qr": badge.qr}
    return render(request, "ledger/verify.html", context, status_code=status_code)
