"""The customer's HTML forms as models: what each field takes, its limit, and its words."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from core.web.forms import FormModel, Say
from customer_app.surveys import MAX_COMMENT

MAX_DESCRIPTION = 5000
_CSAT = "Choose how satisfied you are, from 1 to 5"
_NPS = "Choose how likely you are to recommend us, from 0 to 10"


class ServiceRequestForm(FormModel):
    """Request service: the device, what is wrong, how urgent (photos travel beside it)."""

    asset_id: Annotated[int, Say(missing="Choose the device", invalid="Choose one of your devices")]
    description: Annotated[
        str,
        Field(min_length=10, max_length=MAX_DESCRIPTION),
        Say(missing="Describe what is wrong"),
    ]
    # the choices are the service's PRIORITY_HINTS; it refuses another next to this field
    priority: Annotated[str, Field(max_length=16), Say(missing="Choose how urgent it is")]


class SurveyForm(FormModel):
    """The satisfaction survey after a visit."""

    csat: Annotated[int, Field(ge=1, le=5), Say(missing=_CSAT, invalid=_CSAT)]
    nps: Annotated[int, Field(ge=0, le=10), Say(missing=_NPS, invalid=_NPS)]
    comment: Annotated[str, Field(max_length=MAX_COMMENT)] = ""
