"""A signature is drawn again as our own PNG before it is stored; a report that cannot be made
never holds up the others (issue 13, finding 2)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from service_orders.models import ServiceCertificate
from service_orders.report_issuing import issue_missing_certificates
from service_orders.signature import normalised_signature
from tests.service_orders.test_certificates import PUBLIC_URL, _completed
from tests.service_orders.workorder_factories import png


def _declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares a huge image (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_signature_is_stored_as_a_png_we_drew() -> None:
    stored = normalised_signature(png(40, 20))
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("PNG", (40, 20))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (_declaring(50_000, 50_000), "too large"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a readable PNG"),
        (png(400, 200)[:60], "not a readable PNG"),
        (b"GIF89a", "must be a PNG"),
    ],
)
def test_a_broken_or_huge_signature_is_refused_before_it_is_stored(data: bytes, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as refused:
        normalised_signature(data)
    assert refused.value.details["field"] == "signature_png"


def test_one_report_that_cannot_be_made_does_not_stop_the_others(db: Session) -> None:
    broken, good = _completed(db), _completed(db)
    broken.signature_png = b"\x89PNG\r\n\x1a\n not an image"  # as stored before this check
    db.flush()

    assert issue_missing_certificates(db, public_url=PUBLIC_URL) == 1

    issued = {c.work_order_id for c in db.query(ServiceCertificate).all()}
    assert good.id in issued
    assert broken.id not in issued  # missing still: the next run tries it again
