"""The customer's signature drawn on the phone: decoded and drawn again as our own PNG before
it is stored, so a broken file or a small file declaring a huge image never reaches the
certificate job (issue 13, finding 2)."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from core.config import get_settings
from core.errors import InvalidInput

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_PIXELS = 4_000_000  # a 4K phone screen at full width, twice over
_FIELD = "signature_png"


def normalised_signature(png: bytes) -> bytes:
    """The signature as a PNG we encoded; InvalidInput for anything that is not a PNG image of
    a sensible size, checked before its pixels are decoded."""
    limit = get_settings().service_orders_signature_max_bytes
    if not png.startswith(PNG_MAGIC) or len(png) <= len(PNG_MAGIC):
        raise InvalidInput("The signature must be a PNG image.", field=_FIELD)
    if len(png) > limit:
        raise InvalidInput(f"The signature image is larger than {limit // 1024} KiB.", field=_FIELD)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(png)) as image:
                width, height = image.size  # from the header: nothing decoded yet
                if width * height > MAX_SIGNATURE_PIXELS:
                    raise InvalidInput(
                        f"The signature image is too large ({width} x {height} pixels).",
                        field=_FIELD,
                    )
                image.load()
                drawn = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInput("The signature image is too large.", field=_FIELD) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput("The signature is not a readable PNG image.", field=_FIELD) from exc
    out = io.BytesIO()
    drawn.save(out, format="PNG", optimize=True)
    return out.getvalue()
