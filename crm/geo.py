"""Points on the WGS 84 geography column: build them and read latitude/longitude back."""

from __future__ import annotations

import re
import struct

from geoalchemy2.elements import WKBElement, WKTElement

SRID_WGS84 = 4326
_WKT_POINT = re.compile(r"POINT\s*\(\s*(\S+)\s+(\S+)\s*\)", re.IGNORECASE)
_EWKB_SRID_FLAG = 0x20000000
_WKB_POINT = 1


def make_point(*, lat: float, lon: float) -> WKTElement:
    """A geography point; WKT puts longitude first."""
    return WKTElement(f"POINT({lon} {lat})", srid=SRID_WGS84)


def point_lat_lon(point: WKBElement | WKTElement) -> tuple[float, float]:
    """(lat, lon) of a point as written by make_point or read back from PostGIS."""
    if isinstance(point, WKTElement):
        match = _WKT_POINT.search(point.data)
        if match is None:
            raise ValueError(f"not a WKT point: {point.data!r}")
        return float(match.group(2)), float(match.group(1))
    data = point.data
    return _wkb_lat_lon(bytes.fromhex(data) if isinstance(data, str) else bytes(data))


def _wkb_lat_lon(data: bytes) -> tuple[float, float]:
    order = "<" if data[0] == 1 else ">"
    (geometry_type,) = struct.unpack_from(f"{order}I", data, 1)
    if geometry_type & 0xFFFF != _WKB_POINT:
        raise ValueError(f"not a WKB point (type {geometry_type:#x})")
    offset = 9 if geometry_type & _EWKB_SRID_FLAG else 5
    lon, lat = struct.unpack_from(f"{order}dd", data, offset)
    return float(lat), float(lon)
