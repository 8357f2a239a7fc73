"""Engineers who take offers on their phone, drive straight to the site and do the job.

Each engineer is a logged-in web session using the same JSON API as the mobile page:
poll `/offers`, accept, read the job page for where the site is (its Navigate link), go
`en_route`, report the position along a straight line at the configured speed, arrive
`on_site`, stay a believable while, and `complete` with a drawn signature.
"""

from __future__ import annotations

import base64
import math
import random
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from simulators.config import EngineerSettings
from simulators.web_session import WebError, WebSession

API = "/api/service-orders"
EARTH_RADIUS_KM = 6371.0
_GEO_LINK = re.compile(r'href="geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)')
_HELD = ("on_site", "en_route", "accepted")
_HELD_CHECK_EVERY = 5

LatLon = tuple[float, float]


def distance_km(a: LatLon, b: LatLon) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Trip:
    """A straight drive from `origin` to `destination`, leaving at `departs` (simulated s)."""

    origin: LatLon
    destination: LatLon
    departs: float
    speed_kmh: float

    @property
    def duration_s(self) -> float:
        return distance_km(self.origin, self.destination) / self.speed_kmh * 3600.0

    @property
    def arrives(self) -> float:
        return self.departs + self.duration_s

    def position(self, t: float) -> LatLon:
        """Where the engineer is at `t`: on the line between origin and destination."""
        if self.duration_s <= 0:
            return self.destination
        share = min(1.0, max(0.0, (t - self.departs) / self.duration_s))
        (lat1, lon1), (lat2, lon2) = self.origin, self.destination
        return (lat1 + (lat2 - lat1) * share, lon1 + (lon2 - lon1) * share)


class Phase(StrEnum):
    WAITING = "waiting"
    DRIVING = "driving"
    ON_SITE = "on_site"


class EngineerSimulator:
    """One engineer; `tick()` does whatever is due at the simulated time `clock()` says."""

    def __init__(
        self,
        web: WebSession,
        settings: EngineerSettings,
        *,
        clock: Callable[[], float],
        speed: float,
        rng: random.Random,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.web = web
        self.settings = settings
        self.clock = clock
        self.speed = speed
        self.rng = rng
        self.log = log
        self.position: LatLon = _somewhere_near(settings.start, settings.start_spread_km, rng)
        self.phase = Phase.WAITING
        self.work_order_id: int | None = None
        self.trip: Trip | None = None
        self.leaves_at = 0.0
        self.next_poll = -math.inf
        self.next_report = -math.inf
        self.completed: list[int] = []
        self.polls = 0

    def start(self) -> None:
        """Log in and say where the phone is."""
        self.web.log_in()
        self._report(self.position)

    def tick(self) -> None:
        now = self.clock()
        if self.phase is Phase.WAITING and now >= self.next_poll:
            self.next_poll = now + self.settings.poll_s * self.speed
            self._look_for_work(now)
            return
        try:
            if self.phase is Phase.DRIVING and self.trip is not None:
                self._drive(now, self.trip)
            elif self.phase is Phase.ON_SITE and now >= self.leaves_at:
                self._finish()
        except WebError as exc:
            if exc.status not in (403, 404, 409):
                raise
            # cancelled, reassigned or put on hold by the dispatcher: drop it, wait for work
            self.log(f"{self.web.email} dropped work order {self.work_order_id}: {exc.body}")
            self._back_to_waiting()

    def _look_for_work(self, now: float) -> None:
        accepted = False
        for offer in self.web.get_json(f"{API}/offers"):
            try:
                self.web.post_json(f"{API}/offers/{offer['id']}/accept")
            except WebError as exc:
                if exc.status in (404, 409):  # withdrawn or expired meanwhile: next one
                    continue
                raise
            self.log(f"{self.web.email} accepted work order {offer['work_order_id']}")
            accepted = True
            break
        # now and then also look for jobs held already: accepted before a restart, or
        # assigned by the dispatcher by hand
        self.polls += 1
        if not accepted and self.polls % _HELD_CHECK_EVERY != 1:
            return
        held = self._held_job()
        if held is not None:
            self._take_up(held, now)

    def _held_job(self) -> dict[str, Any] | None:
        # a job accepted before a restart, or assigned by the dispatcher, is picked up too
        for status in _HELD:
            jobs = self.web.get_json(f"{API}/work-orders?status={status}&limit=1")
            if jobs:
                return dict(jobs[0])
        return None

    def _take_up(self, job: dict[str, Any], now: float) -> None:
        self.work_order_id = int(job["id"])
        if job["status"] == "on_site":
            self._arrived(now)
            return
        destination = self.site_of(self.work_order_id)
        if job["status"] == "accepted":
            self._move(self.work_order_id, "en_route")
        self.trip = Trip(self.position, destination, now, self.settings.speed_kmh)
        self.phase = Phase.DRIVING
        self.next_report = -math.inf
        minutes = self.trip.duration_s / 60
        self.log(f"{self.web.email} drives {minutes:.0f} min to work order {self.work_order_id}")

    def site_of(self, work_order_id: int) -> LatLon:
        """The site's coordinates from the job page's Navigate link, as the phone shows it."""
        page = self.web.get_page(f"/engineer/jobs/{work_order_id}")
        match = _GEO_LINK.search(page)
        if match is None:
            raise RuntimeError(f"the job page of work order {work_order_id} has no location")
        return (float(match.group(1)), float(match.group(2)))

    def _drive(self, now: float, trip: Trip) -> None:
        if now >= trip.arrives:
            self.position = trip.destination
            self._report(self.position)
            assert self.work_order_id is not None
            self._move(self.work_order_id, "on_site")
            self._arrived(now)
        elif now >= self.next_report:
            self.next_report = now + self.settings.report_every_s * self.speed
            self.position = trip.position(now)
            self._report(self.position)

    def _arrived(self, now: float) -> None:
        low, high = self.settings.on_site_min
        self.phase = Phase.ON_SITE
        self.trip = None
        self.leaves_at = now + self.rng.uniform(low, high) * 60

    def _finish(self) -> None:
        assert self.work_order_id is not None
        self.web.post_json(
            f"{API}/work-orders/{self.work_order_id}/complete",
            {
                "outcome": "fixed",
                "signed_by": "Site supervisor",
                "signature_png": SIGNATURE_PNG,
                "notes": "Serviced by the fleet simulator.",
            },
        )
        self.log(f"{self.web.email} completed work order {self.work_order_id}")
        self.completed.append(self.work_order_id)
        self._back_to_waiting()

    def _back_to_waiting(self) -> None:
        self.work_order_id = None
        self.trip = None
        self.phase = Phase.WAITING
        self.next_poll = -math.inf

    def _move(self, work_order_id: int, target: str) -> None:
        self.web.post_json(f"{API}/work-orders/{work_order_id}/transition", {"target": target})

    def _report(self, at: LatLon) -> None:
        self.web.post_json(f"{API}/engineers/me/location", {"lat": at[0], "lon": at[1]})


def _somewhere_near(centre: LatLon, spread_km: float, rng: random.Random) -> LatLon:
    if spread_km <= 0:
        return centre
    distance, bearing = spread_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = centre[0] + distance * math.cos(bearing) / 111.2
    lon = centre[1] + distance * math.sin(bearing) / (111.2 * math.cos(math.radians(centre[0])))
    return (lat, lon)


def _signature_png(width: int = 160, height: int = 48) -> str:
    """A scribbled signature as base64 PNG (greyscale), like signature_pad produces."""
    rows = []
    for y in range(height):
        row = bytearray(b"\xff" * width)
        for x in range(width):
            curve = height / 2 + height / 3 * math.sin(x / 9) * math.cos(x / 23)
            if abs(y - curve) < 1.5:
                row[x] = 0
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


SIGNATURE_PNG = _signature_png()
