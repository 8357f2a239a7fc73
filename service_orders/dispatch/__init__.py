"""Dispatch: rank qualified engineers, offer the job, follow the answers, publish offers."""

from service_orders.dispatch.offers import (
    accept_offer,
    assign_by_hand,
    decline_offer,
    dispatch,
    expire_offers,
)
from service_orders.dispatch.publish import offer_payload, publish_pending_offers
from service_orders.dispatch.ranking import Candidate, Exclusion, rank_candidates

__all__ = [
    "Candidate",
    "Exclusion",
    "accept_offer",
    "assign_by_hand",
    "decline_offer",
    "dispatch",
    "expire_offers",
    "offer_payload",
    "publish_pending_offers",
    "rank_candidates",
]
