"""Distributors' pickups arriving over time, sent as their ERP would: `POST /api/partner/pickups`.

Each distributor sends one delivery document every `every_h` simulated hours. A document's
number and lines depend only on the seed, the distributor and its slot in time, so a
restarted simulator sends the very same documents again, and the app refuses them as
already recorded instead of counting the goods twice.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from simulators.config import PickupSettings
from simulators.web_session import WebError, WebSession

PICKUPS_PATH = "/api/partner/pickups"
HOUR = 3600.0
# unit net prices of the demo's product models, used when the configuration names none
DEFAULT_PRICES = {
    "EX-220": "185000.00",
    "AC-75": "24500.00",
    "CH-400": "96000.00",
    "GN-500": "72000.00",
}


@dataclass(frozen=True)
class PickupLine:
    picked_on: date
    product_code: str
    quantity: Decimal
    net_value: Decimal
    currency: str
    document_number: str
    line_no: int

    def as_json(self) -> dict[str, Any]:
        return {
            "picked_on": self.picked_on.isoformat(),
            "product_code": self.product_code,
            "quantity": str(self.quantity),
            "net_value": str(self.net_value),
            "currency": self.currency,
            "document_number": self.document_number,
            "line_no": self.line_no,
        }


def document_for(
    settings: PickupSettings, *, seed: int, distributor_org_id: int, slot: int, today: date
) -> list[PickupLine]:
    """The delivery document of one distributor in one time slot (always the same lines)."""
    rng = random.Random(f"{seed}:pickup:{distributor_org_id}:{slot}")  # noqa: S311  # not secret
    prices = {code: Decimal(price) for code, price in (settings.prices or DEFAULT_PRICES).items()}
    codes = sorted(prices)
    number = f"SIM-{seed}-{distributor_org_id}-{slot}"
    lines = []
    for line_no, code in enumerate(rng.sample(codes, rng.randint(1, min(3, len(codes)))), 1):
        quantity = Decimal(rng.choice((1, 1, 1, 2, 2, 3, 5)))
        if rng.random() < 0.05:
            quantity = -quantity  # now and then a return
        discount = Decimal(rng.choice(("0.00", "0.03", "0.05", "0.08")))
        value = (prices[code] * quantity * (1 - discount)).quantize(Decimal("0.01"))
        lines.append(PickupLine(today, code, quantity, value, settings.currency, number, line_no))
    return lines


class PickupSimulator:
    """Sends each distributor's documents as their slots come due (simulated time)."""

    def __init__(
        self,
        web: WebSession,
        settings: PickupSettings,
        *,
        clock: Callable[[], float],
        seed: int,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.web = web
        self.settings = settings
        self.clock = clock
        self.seed = seed
        self.log = log
        self.distributors: tuple[int, ...] = settings.distributor_org_ids
        self.next_slot: dict[int, int] = {}
        self.sent: list[str] = []
        self.already_recorded: list[str] = []

    def start(self) -> None:
        """Log in; find the distributors when the configuration names none."""
        self.web.log_in()
        if not self.distributors:
            organizations = self.web.get_json("/api/crm/organizations")
            self.distributors = tuple(
                int(org["id"]) for org in organizations if org["kind"] == "distributor"
            )
        slot = self._slot(self.clock())
        self.next_slot = dict.fromkeys(self.distributors, slot)

    def tick(self) -> None:
        due = self._slot(self.clock())
        for org in self.distributors:
            while self.next_slot[org] <= due:
                self.send(org, self.next_slot[org])
                self.next_slot[org] += 1

    def send(self, distributor_org_id: int, slot: int) -> None:
        """Post one document; one the app already has is fine (a restart sends it again)."""
        today = min(datetime.fromtimestamp(self.clock(), UTC).date(), datetime.now(UTC).date())
        lines = document_for(
            self.settings, seed=self.seed, distributor_org_id=distributor_org_id, slot=slot,
            today=today,
        )  # fmt: skip
        body = {"distributor_org_id": distributor_org_id, "lines": [x.as_json() for x in lines]}
        number = lines[0].document_number
        try:
            self.web.post_json(PICKUPS_PATH, body)
        except WebError as exc:
            if exc.status in (409, 422) and "already recorded" in exc.text:
                self.already_recorded.append(number)
                return
            raise
        self.sent.append(number)
        self.log(f"pickup {number}: {len(lines)} line(s) for distributor {distributor_org_id}")

    def _slot(self, t: float) -> int:
        return int(t // (self.settings.every_h * HOUR))
