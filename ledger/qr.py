"""QR codes for verify links: inline SVG data URIs (the CSP allows data: images)."""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass

import segno


def verify_path(request_id: uuid.UUID) -> str:
    """The public verify page of one anchored document."""
    return f"/verify/{request_id}"


def qr_data_uri(url: str) -> str:
    """An <img src> for a QR code of `url`."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass(frozen=True, slots=True)
class AnchorBadge:
    """What a document page shows: anchoring status, verify link and its QR code."""

    status: str
    verify_url: str
    qr: str


def anchor_badge(request_id: uuid.UUID, status: str, *, base_url: str) -> AnchorBadge:
    """The badge for templates/ledger/_anchor_badge.html; base_url is the configured public
    address (Settings.resolved_public_url), never the request's Host header."""
    url = base_url.rstrip("/") + verify_path(request_id)
    return AnchorBadge(status=status, verify_url=url, qr=qr_data_uri(url))
