"""Offers out to the engineers' phones over MQTT, after the commit that made them."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import utcnow
from core.mqtt import MqttClient
from crm.geo import point_lat_lon
from crm.models import Asset, Site
from service_orders.broker_accounts import broker_client, dispatch_topic
from service_orders.models import DispatchOffer, OfferStatus, WorkOrder
from service_orders.states import UNASSIGNED


def offer_payload(offer: DispatchOffer, work_order: WorkOrder, asset: Asset, site: Site) -> bytes:
    """The JSON an engineer's phone receives; it deduplicates by offer_id."""
    lat, lon = point_lat_lon(site.location)
    body: dict[str, Any] = {
        "type": "offer",
        "offer_id": offer.id,
        "expires_at": offer.expires_at.isoformat(),
        "work_order": {
            "id": work_order.id,
            "number": work_order.number,
            "title": work_order.title,
            "priority": work_order.priority,
            "respond_by": work_order.respond_by.isoformat(),
        },
        "asset": {"id": asset.id, "serial": asset.serial},
        "site": {"name": site.name, "address": site.address, "lat": lat, "lon": lon},
    }
    return orjson.dumps(body)


def publish_pending_offers(
    session: Session,
    settings: Settings,
    *,
    client: MqttClient | None = None,
    account: Literal["worker", "web"] = "worker",
) -> int:
    """Publish (QoS 1, as the worker or the web process) every pending offer not yet sent.

    Run after the dispatch committed. At least once: a crash between the broker's ack and
    the commit of published_at sends the offer again; the phone drops the duplicate.
    """
    rows = session.execute(
        select(DispatchOffer, WorkOrder, Asset, Site)
        .join(WorkOrder, WorkOrder.id == DispatchOffer.work_order_id)
        .join(Asset, Asset.id == WorkOrder.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .where(
            DispatchOffer.status == OfferStatus.PENDING,
            DispatchOffer.published_at.is_(None),
            # a cancelled (or otherwise settled) order's leftover offer is not worth a push
            WorkOrder.status.in_(sorted(UNASSIGNED)),
        )
        .order_by(DispatchOffer.id)
        # two workers never send the same batch; each skips the other's rows
        .with_for_update(of=DispatchOffer, skip_locked=True)
    ).all()
    if not rows:
        return 0
    own = client is None
    if client is None:
        client = broker_client(settings, purpose="offers", account=account)
        client.connect()
    try:
        for offer, work_order, asset, site in rows:
            payload = offer_payload(offer, work_order, asset, site)
            client.publish(dispatch_topic(offer.engineer_id), payload, qos=1)
            offer.published_at = utcnow()
    finally:
        if own:
            client.close()
    session.flush()
    return len(rows)
