"""The offline base map is cut from the npm geodata: pure geometry and the built file."""

from __future__ import annotations

import json

import pytest

from core.basemap import OUTPUT, REGION, clip, place_rank, places, simplify, topojson_features


def test_topojson_arcs_are_decoded_with_their_transform_and_direction() -> None:
    topology = {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.5], "translate": [10, 40]},
        "arcs": [[[0, 0], [2, 0], [0, 2]], [[2, 2], [-2, -2]]],
        "objects": {
            "shapes": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "arcs": [[0, 1]], "properties": {"name": "A"}},
                    {"type": "LineString", "arcs": [~0]},
                ],
            }
        },
    }

    polygon, line = topojson_features(topology, "shapes")

    assert polygon["coordinates"] == [[(10, 40), (11, 40), (11, 41), (10, 40)]]
    assert polygon["properties"] == {"name": "A"}
    assert line["coordinates"] == [(11, 41), (11, 40), (10, 40)]


def test_simplify_drops_points_within_the_tolerance_and_keeps_corners() -> None:
    wiggle = [(0.0, 0.0), (1.0, 0.001), (2.0, -0.001), (3.0, 0.0), (3.0, 3.0)]

    assert simplify(wiggle, 0.01) == [(0.0, 0.0), (3.0, 0.0), (3.0, 3.0)]


def test_a_closed_ring_never_collapses_to_a_line() -> None:
    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]

    assert len(simplify(square, 0.1, closed=True)) >= 4


def test_clip_cuts_a_ring_to_the_box() -> None:
    square = [(-1.0, -1.0), (3.0, -1.0), (3.0, 3.0), (-1.0, 3.0), (-1.0, -1.0)]

    clipped = clip(square, (0.0, 0.0, 2.0, 2.0))

    assert sorted(set(clipped)) == [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0), (2.0, 2.0)]
    assert clipped[0] == clipped[-1]


def _geonames(name: str, lat: float, lon: float, code: str, population: int) -> str:
    fields = ["1", name, name, "", str(lat), str(lon), "P", code, "DE", "", "02", "", "", ""]
    return "\t".join([*fields, str(population), "", "500", "Europe/Berlin", "2024-01-01"])


def test_places_are_towns_in_the_region_the_largest_first_ranked_by_size() -> None:
    rows = [
        _geonames("Rosenheim", 47.856, 12.129, "PPLA3", 63_551),
        _geonames("München", 48.137, 11.575, "PPLA", 1_260_391),
        _geonames("Schwabing", 48.16, 11.58, "PPLX", 100_000),  # a district, not a town
        _geonames("Hamburg", 53.55, 9.99, "PPLA", 1_800_000),  # outside the region
        _geonames("Kleinstadt", 48.0, 11.0, "PPL", 2_000),  # too small to be named
    ]

    found = places(rows)

    assert [p["properties"]["name"] for p in found] == ["München", "Rosenheim"]
    assert [p["properties"]["rank"] for p in found] == [1, 2]
    assert found[0]["geometry"]["coordinates"] == [11.575, 48.137]


@pytest.mark.parametrize(
    ("population", "rank"), [(1_500_000, 1), (200_000, 1), (63_000, 2), (25_000, 3), (10_000, 4)]
)
def test_rank_by_population(population: int, rank: int) -> None:
    assert place_rank(population) == rank


def test_the_built_base_map_covers_bavaria_with_borders_and_towns() -> None:
    data = json.loads(OUTPUT.read_text(encoding="utf-8"))

    kinds = {f["properties"]["kind"] for f in data["features"]}
    names = {f["properties"].get("name") for f in data["features"]}
    assert {"country", "state", "river", "place"} <= kinds
    assert {"Germany", "Austria", "Bayern", "München", "Augsburg", "Ingolstadt"} <= names
    assert data["bbox"] == list(REGION)
    assert OUTPUT.stat().st_size < 600 * 1024
