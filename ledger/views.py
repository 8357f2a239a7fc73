"""The public verify pages (no login): open a QR link, or upload a document and/or receipt."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from core.config import get_settings
from core.db import SessionDep
from core.web.body_limit import FormLimits, MiB, in_words
from core.web.deps import OptionalPrincipal
from core.web.templating import render
from core.web.throttle import PublicLimit
from ledger.chain import ChainUnavailable
from ledger.models import AnchorRequest
from ledger.qr import anchor_badge, verify_path
from ledger.service import (
    deployments,
    document_label,
    get_request,
    latest_request_for,
    verify_request,
)
from ledger.trust import installation_trust
from ledger.verdict_cache import VerdictCache, VerdictKey
from ledger.verify import Verdict, verify

router = APIRouter(include_in_schema=False)
MAX_UPLOAD_BYTES = 8 * MiB  # our service reports, statements and contracts are far smaller
MAX_RECEIPT_BYTES = 64 * 1024
# a public form: the document, a receipt as a file or pasted, and the multipart overhead
MAX_VERIFY_BODY = MAX_UPLOAD_BYTES + 2 * MAX_RECEIPT_BYTES + 64 * 1024
_VERIFY_FORM = FormLimits(max_files=2, max_fields=10)  # the document and a receipt file
HOW_IT_WORKS_PATH = "/verify/how-it-works"
TEMPLATE = "ledger/verify.html"
NO_FILE = "Choose the file you want to check."
UNKNOWN_LINK = (
    "No document has this verification link. Check that the whole address was copied, "
    "or choose the file below to look it up."
)

TOO_LARGE = (
    f"This file is larger than {in_words(MAX_UPLOAD_BYTES)}, far larger than any document we "
    "issue: it is not one of ours."
)

Check = Callable[[], Verdict]
_VERIFY_LIMIT = PublicLimit("ledger-verify", rate=lambda: get_settings().ledger_verify_rate)
_VERDICTS = VerdictCache(seconds=lambda: get_settings().ledger_verdict_cache_seconds)


def forget_verdicts() -> None:
    """Drop every cached verdict (tests; an operator's revocation is a new key anyway)."""
    _VERDICTS.clear()


class _TooLarge(Exception):
    pass


@router.get("/verify", name="ledger_verify_form")
def verify_form(request: Request, principal: OptionalPrincipal) -> Response:
    return _page(request, None)


# registered before "/verify/{request_id}", which would match it too
@router.get(HOW_IT_WORKS_PATH, name="ledger_how_it_works")
def how_it_works(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """For a stranger: what the verdicts mean, how to check a receipt without us, and the
    registries and issuer a receipt must name."""
    trust = installation_trust(session, get_settings())
    context = {"registries": deployments(session), "issuers": sorted(trust.issuers)}
    return render(request, "ledger/how_it_works.html", context)


@router.get("/verify/{request_id}", name="ledger_verify_page")
def verify_page(
    request: Request, request_id: str, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """What the QR code opens: the registered document's record, and a form to check a copy."""
    _VERIFY_LIMIT.check(request)
    anchor_request = _lookup(session, request_id)
    if anchor_request is None:
        return _page(request, None, notice=UNKNOWN_LINK, status_code=404)
    return _page(request, anchor_request, record=_record(session, anchor_request))


@router.post(
    "/verify/{request_id}",
    name="ledger_verify_against",
    max_body_size=MAX_VERIFY_BODY,
    form_limits=_VERIFY_FORM,
)
async def verify_against(
    request: Request,
    request_id: str,
    session: SessionDep,
    principal: OptionalPrincipal,
    document: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Check an uploaded file against the one document this link is for."""
    _VERIFY_LIMIT.check(request)
    anchor_request = _lookup(session, request_id)
    if anchor_request is None:
        return _page(request, None, notice=UNKNOWN_LINK, status_code=404)
    try:
        body = await _read(document, MAX_UPLOAD_BYTES)
    except _TooLarge:
        return _page(request, anchor_request, errors={"document": TOO_LARGE}, status_code=413)
    if body is None:
        return _page(request, anchor_request, errors={"document": NO_FILE}, status_code=422)
    digest = hashlib.sha256(body).hexdigest()
    if digest != anchor_request.sha256:
        label = document_label(anchor_request.kind)
        verdict = Verdict(
            "tampered",
            f"Its content differs from the {label} registered under this link, even if only "
            "by one character. Ask the sender for the original file.",
            doc_hash=digest,
        )
        return _page(request, anchor_request, result=verdict, mismatch=True)
    rpc_url = get_settings().resolved_rpc_url()
    return _checked(
        request,
        lambda: verify_request(session, request=anchor_request, rpc_url=rpc_url, document=body),
        anchor_request,
        key=("request", str(anchor_request.id), digest),
    )


@router.post(
    "/verify", name="ledger_verify_upload", max_body_size=MAX_VERIFY_BODY, form_limits=_VERIFY_FORM
)
async def verify_upload(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    document: Annotated[UploadFile | None, File()] = None,
    receipt: Annotated[UploadFile | None, File()] = None,
    receipt_text: Annotated[str, Form(max_length=MAX_RECEIPT_BYTES)] = "",
) -> Response:
    """Check a file by its hash among the documents we registered, or against its receipt."""
    _VERIFY_LIMIT.check(request)
    try:
        body = await _read(document, MAX_UPLOAD_BYTES)
        receipt_json = (await _read(receipt, MAX_RECEIPT_BYTES)) or receipt_text.encode() or None
    except _TooLarge:
        return _page(request, None, errors={"document": TOO_LARGE}, status_code=413)
    rpc_url = get_settings().resolved_rpc_url()
    if receipt_json is not None:
        trust = installation_trust(session, get_settings())
        key = ("receipt", _sha256(receipt_json), _sha256(body) if body is not None else "")
        return _checked(
            request, lambda: verify(receipt_json, body, rpc_url, trust=trust), None, key=key
        )
    if body is None:
        return _page(request, None, errors={"document": NO_FILE}, status_code=422)
    digest = hashlib.sha256(body).hexdigest()
    found = latest_request_for(session, sha256=digest)
    if found is None:
        verdict = Verdict(
            "not_found",
            "We never registered this exact file. If it should be one of our documents, it was "
            "changed, even if only by one character: open the link of its QR code to check it "
            "against the document it claims to be.",
            doc_hash=digest,
        )
        return _page(request, None, result=verdict)
    return _checked(
        request,
        lambda: verify_request(session, request=found, rpc_url=rpc_url, document=body),
        found,
        key=("request", str(found.id), digest),
    )


def _lookup(session: SessionDep, request_id: str) -> AnchorRequest | None:
    try:
        return get_request(session, request_id=uuid.UUID(request_id))
    except ValueError:
        return None


def _record(session: SessionDep, anchor_request: AnchorRequest) -> Verdict | None:
    """What the ledger says about the registered document itself (None: chain unreachable)."""
    rpc_url = get_settings().resolved_rpc_url()
    try:
        return _VERDICTS.get(
            ("record", str(anchor_request.id), anchor_request.status),
            lambda: verify_request(session, request=anchor_request, rpc_url=rpc_url),
        )
    except ChainUnavailable:
        return None


async def _read(upload: UploadFile | None, limit: int) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise _TooLarge
    return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(
    request: Request, check: Check, anchor_request: AnchorRequest | None, *, key: VerdictKey
) -> Response:
    try:
        verdict = _VERDICTS.get(key, check)
    except ChainUnavailable:
        return _page(request, anchor_request, unavailable=True, status_code=503)
    return _page(request, anchor_request, result=verdict)


def _page(
    request: Request,
    anchor_request: AnchorRequest | None,
    *,
    status_code: int = 200,
    errors: Mapping[str, str] | None = None,
    **context: Any,
) -> Response:
    """The verify page (or, for htmx, its check block) for one document or for any file."""
    full: dict[str, Any] = {
        "anchor_request": anchor_request,
        "errors": dict(errors or {}),
        "how_it_works": HOW_IT_WORKS_PATH,
        "check_url": verify_path(anchor_request.id) if anchor_request else "/verify",
        **context,
    }
    if anchor_request is not None:
        full["label"] = document_label(anchor_request.kind)
        full["badge"] = anchor_badge(
            # the configured address, never the request's Host header (a forged host would
            # put its own verify link and QR code on our page)
            anchor_request.id,
            anchor_request.status,
            base_url=get_settings().resolved_public_url(),
        )
    return render(request, TEMPLATE, full, status_code=status_code)
