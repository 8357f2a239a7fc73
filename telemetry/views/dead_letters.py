"""Dead letters for staff: filter by device and reason, counts, escaped payload previews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from core.db import SessionDep
from core.web.deps import StaffPrincipal
from core.web.templating import render
from telemetry.payload import Reason
from telemetry.queries import dead_letters as letters

router = APIRouter()

PAGE_SIZE = 100


@router.get("/staff/dead-letters", name="telemetry_dead_letters")
def dead_letters_page(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    device: Annotated[str, Query(max_length=64)] = "",
    reason: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    device, reason = device.strip(), reason.strip()
    return render(
        request,
        "telemetry/dead_letters.html",
        {
            "device": device,
            "reason": reason,
            "reasons": [r.value for r in Reason],
            "items": letters.dead_letters(
                session, device_key=device or None, reason=reason or None, limit=PAGE_SIZE
            ),
            "by_reason": letters.counts_by_reason(session, device_key=device or None),
            "by_device": letters.counts_by_device(session, reason=reason or None),
            "page_size": PAGE_SIZE,
        },
    )
