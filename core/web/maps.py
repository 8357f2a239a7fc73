"""What a page's map needs to draw its base layer: the tile server, or the offline base map."""

from __future__ import annotations

from markupsafe import Markup

from core.basemap import ATTRIBUTION
from core.config import get_settings
from core.web.static import vendor_url


def map_base_attrs() -> Markup:
    """Data attributes for a map element, read by core/static/basemap.js."""
    settings = get_settings()
    attrs = {
        "data-basemap-url": vendor_url("basemap.json"),
        "data-basemap-attribution": ATTRIBUTION,
    }
    if settings.map_tile_url:
        attrs["data-tile-url"] = settings.map_tile_url
        attrs["data-tile-attribution"] = settings.map_attribution
    return Markup(" ").join(Markup('{}="{}"').format(name, value) for name, value in attrs.items())
