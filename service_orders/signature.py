"""The customer's signature drawn on the phone: a PNG, checked before it is stored."""

from __future__ import annotations

from core.config import get_settings
from core.errors import InvalidInput

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_signature(png: bytes) -> None:
    """Refuse anything that is not a PNG image of a sensible size."""
    limit = get_settings().service_orders_signature_max_bytes
    if not png.startswith(PNG_MAGIC) or len(png) <= len(PNG_MAGIC):
        raise InvalidInput("The signature must be a PNG image.", field="signature_png")
    if len(png) > limit:
        raise InvalidInput(
            f"The signature image is larger than {limit // 1024} KiB.", field="signature_png"
        )
