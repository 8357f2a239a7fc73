"""Towns of southern Bavaria where the demo's customers and engineers are: (town, lat, lon)."""

from __future__ import annotations

TOWNS = [
    ("Augsburg", 48.371, 10.898),
    ("Ingolstadt", 48.766, 11.425),
    ("Landshut", 48.537, 12.152),
    ("Rosenheim", 47.856, 12.128),
    ("Freising", 48.403, 11.749),
    ("Dachau", 48.260, 11.434),
    ("Fürstenfeldbruck", 48.178, 11.255),
    ("Weilheim", 47.840, 11.142),
    ("Garmisch-Partenkirchen", 47.492, 11.095),
    ("Bad Tölz", 47.760, 11.557),
    ("Wasserburg", 48.060, 12.233),
    ("Mühldorf", 48.247, 12.522),
    ("Pfaffenhofen", 48.530, 11.505),
    ("Kaufbeuren", 47.880, 10.622),
    ("Landsberg", 48.048, 10.883),
    ("Neuburg", 48.733, 11.183),
    ("Moosburg", 48.470, 11.937),
    ("Ebersberg", 48.077, 11.970),
    ("Holzkirchen", 47.884, 11.697),
    ("Miesbach", 47.789, 11.834),
    ("Traunstein", 47.868, 12.643),
    ("Schrobenhausen", 48.561, 11.262),
    ("Aichach", 48.457, 11.134),
    ("Friedberg", 48.357, 10.984),
    ("Germering", 48.133, 11.368),
    ("Regensburg", 49.013, 12.101),
]
