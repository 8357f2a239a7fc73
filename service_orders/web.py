"""Dependencies shared by the service-order API and pages: offers out, photo store, engineer."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, UploadFile
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import get_settings
from core.db import SessionDep
from core.errors import InvalidInput, PermissionDenied
from core.mqtt import MqttError
from core.web.deps import require_role
from service_orders.dispatch import publish_pending_offers
from service_orders.engineers import engineer_for_user
from service_orders.models import Engineer
from service_orders.photos import MAX_PHOTO_BYTES, photo_directory

logger = logging.getLogger(__name__)

PublishOffers = Callable[[Session], object]
_DATA_URL_PNG = "data:image/png;base64,"


def offer_publisher() -> PublishOffers:
    """Sends the offers a request made, after its commit (the dispatch sweep is the net)."""

    def publish(session: Session) -> None:
        try:
            publish_pending_offers(session, get_settings(), account="web")
            session.commit()  # published_at, so the sweep does not send them again
        except MqttError as exc:
            # the offers stay unsent in the database; the worker's minute sweep sends them
            session.rollback()
            logger.warning("Offers not sent from the web process: %s", exc)

    return publish


def photo_store() -> Path:
    """The directory photos are written to and served from."""
    return photo_directory(get_settings())


def current_engineer(
    session: SessionDep, principal: Annotated[Principal, Depends(require_role(Role.ENGINEER))]
) -> Engineer:
    """The engineer record of the logged-in engineer (403 for a user not set up as one)."""
    engineer = engineer_for_user(session, user_id=principal.user_id)
    if engineer is None:
        raise PermissionDenied("Your account is not set up as a service engineer yet.")
    return engineer


OfferPublisher = Annotated[PublishOffers, Depends(offer_publisher)]
PhotoStore = Annotated[Path, Depends(photo_store)]
CurrentEngineer = Annotated[Engineer, Depends(current_engineer)]
EngineerPrincipal = Annotated[Principal, Depends(require_role(Role.ENGINEER))]


async def read_photo(upload: UploadFile) -> bytes:
    """The uploaded bytes, refusing early once the file is larger than a photo may be."""
    data = await upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInput(
            f"The photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MiB.",
            code="photo_too_large",
            field="photo",
        )
    return data


def signature_bytes(value: str) -> bytes:
    """The PNG bytes of a signature sent as a data URL (canvas.toDataURL) or plain base64."""
    value = value.strip()
    if not value:
        raise InvalidInput("The customer's signature is required.", field="signature")
    payload = value.removeprefix(_DATA_URL_PNG)
    if payload.startswith("data:"):
        raise InvalidInput("The signature must be a PNG image.", field="signature")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("The signature is not valid base64.", field="signature") from exc
