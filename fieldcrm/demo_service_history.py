"""Half a year of service history for the demo: completed and closed work orders with their
signed reports (certificates queued for anchoring) and the customers' ratings of the visits.

Work orders go through the real state machine (`move` with past timestamps), so the events,
audit rows and certificates are what a real visit leaves behind.
"""

from __future__ import annotations

import io
import math
import random
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.config import get_settings
from core.db import utcnow
from crm.models import Asset, User
from customer_app.models import SatisfactionSurvey
from service_orders.certificates import issue_certificate
from service_orders.models import Engineer, WorkOrderType
from service_orders.schemas import ChecklistItem, WorkOrderCreate
from service_orders.states import Status
from service_orders.workorders import create_work_order, move

_JOBS = [
    (WorkOrderType.PREVENTIVE, "Annual inspection and filter change"),
    (WorkOrderType.CORRECTIVE, "Oil leak at the hydraulic coupling"),
    (WorkOrderType.PREDICTIVE, "Bearing vibration rising: replace bearing"),
    (WorkOrderType.INSPECTION, "Safety inspection after relocation"),
    (WorkOrderType.CORRECTIVE, "Overheating under load: clean condenser"),
]
_COMMENTS = ["", "Quick and friendly.", "Arrived late but fixed it.", "Very thorough work."]


def seed_service_history(session: Session, rng: random.Random, *, orders: int = 60) -> None:
    """`orders` completed visits over the last 180 days, most closed, most rated."""
    engineers = session.scalars(select(Engineer).order_by(Engineer.id)).all()
    assets = session.scalars(select(Asset).order_by(Asset.id)).all()
    if not engineers or not assets:
        return
    public_url = get_settings().resolved_public_url()
    signature = _signature_png(rng)
    now = utcnow()
    for index in range(orders):
        asset = rng.choice(assets)
        engineer = rng.choice(engineers)
        kind, title = rng.choice(_JOBS)
        created = now - timedelta(days=rng.uniform(3, 180))
        order = create_work_order(
            session,
            actor=SYSTEM,
            data=WorkOrderCreate(
                type=kind,
                asset_id=asset.id,
                priority=rng.randint(2, 4),
                title=title,
                checklist=[
                    ChecklistItem(label="Visual inspection", done=True),
                    ChecklistItem(label="Test run", done=True),
                ],
            ),
        )
        order.created_at = created
        order.engineer_id = engineer.id
        steps = [
            (Status.ACCEPTED, created + timedelta(minutes=rng.uniform(5, 60))),
            (Status.EN_ROUTE, created + timedelta(hours=rng.uniform(1, 20))),
        ]
        steps.append((Status.ON_SITE, steps[-1][1] + timedelta(minutes=rng.uniform(20, 90))))
        done = steps[-1][1] + timedelta(minutes=rng.uniform(30, 180))
        for status, at in steps:
            move(session, order, status, actor=SYSTEM, now=at)
        signer = session.scalar(
            select(User.full_name).where(User.org_id == asset.owner_org_id).limit(1)
        )
        move(
            session,
            order,
            Status.COMPLETED,
            actor=SYSTEM,
            now=done,
            note="outcome: fixed",
            changes={
                "outcome": "fixed",
                "signature_png": signature,
                "signed_by": signer or "Site manager",
                "notes": "Done as planned; asset back in operation.",
            },
        )
        session.flush()
        issue_certificate(session, work_order_id=order.id, public_url=public_url)
        if done < now - timedelta(days=7):
            move(session, order, Status.CLOSED, actor=SYSTEM, now=done + timedelta(days=2))
        if index % 4 != 3:
            _rate(session, rng, order.id, engineer.id, asset.owner_org_id, done)


def _rate(
    session: Session,
    rng: random.Random,
    work_order_id: int,
    engineer_id: int,
    customer_org_id: int,
    done: datetime,
) -> None:
    happy = rng.random() < 0.8
    session.add(
        SatisfactionSurvey(
            work_order_id=work_order_id,
            engineer_id=engineer_id,
            customer_org_id=customer_org_id,
            csat=rng.randint(4, 5) if happy else rng.randint(2, 3),
            nps=rng.randint(8, 10) if happy else rng.randint(3, 7),
            comment=rng.choice(_COMMENTS),
            submitted_by=None,
            submitted_at=done + timedelta(hours=rng.uniform(1, 48)),
        )
    )


def _signature_png(rng: random.Random) -> bytes:
    """A scribbled signature, as the engineer's phone would send it."""
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    phase = rng.uniform(0, math.pi)
    points = [
        (20 + x * 2.6, 50 + 22 * math.sin(x / 7 + phase) * math.cos(x / 17)) for x in range(100)
    ]
    draw.line(points, fill=(20, 30, 90, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
