"""Dependencies of the customer pages and API: only customers, and their uploaded photos."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends
from starlette.datastructures import UploadFile

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import InvalidInput
from core.web.deps import require_role
from service_orders.photos import MAX_PHOTO_BYTES, sniff_image

CustomerPrincipal = Annotated[Principal, Depends(require_role(Role.CUSTOMER))]


async def read_photos(uploads: Sequence[UploadFile]) -> list[bytes]:
    """The bytes of each chosen photo; one too large or not an image is refused by name."""
    photos = []
    for upload in uploads:
        data = await upload.read(MAX_PHOTO_BYTES + 1)
        if not data and not upload.filename:
            continue  # the file input was left empty
        if len(data) > MAX_PHOTO_BYTES:
            raise InvalidInput(
                f"{upload.filename or 'A photo'} is larger than "
                f"{MAX_PHOTO_BYTES // (1024 * 1024)} MiB; send a smaller one.",
                code="photo_too_large",
                field="photos",
            )
        if sniff_image(data[:16]) is None:
            raise InvalidInput(
                f"{upload.filename or 'A file'} is not a JPEG, PNG or WebP photo.",
                code="photo_type",
                field="photos",
            )
        photos.append(data)
    return photos
