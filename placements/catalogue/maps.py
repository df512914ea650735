"""Maps: folium builds the Leaflet map and tile layer; markers come as data (never one
Python object per site), drawn and clustered by static/js/map.js."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import folium
from markupsafe import Markup

KAINUU_CENTRE = (64.45, 28.45)
# Map configurations kept rendered: the tile settings, a centre and a zoom each. The
# catalogue's map and a site page's need one each per site; the matches page one per home.
CACHED_MAPS = 2048


@dataclass(frozen=True)
class MapParts:
    name: str  # the JavaScript variable folium gives the map
    html: Markup  # the map's element
    script: Markup  # creates the map and its tile layer; goes in a nonce'd <script>


def build_map(tiles_url: str, attribution: str, *, center=KAINUU_CENTRE, zoom: int = 8, max_zoom: int = 18) -> MapParts:
    """Folium's map element and script, without its CDN header (assets are vendored).

    Rendered once per configuration and then reused: folium takes milliseconds to render the
    same few lines again. The parts hold no user data and no per-request value (the script
    goes into the page inside the request's nonce'd tag)."""
    latitude, longitude = center
    return _render(tiles_url, attribution, (float(latitude), float(longitude)), int(zoom), int(max_zoom))


@lru_cache(maxsize=CACHED_MAPS)
def _render(tiles_url: str, attribution: str, center: tuple[float, float], zoom: int, max_zoom: int) -> MapParts:
    fmap = folium.Map(location=list(center), zoom_start=zoom, tiles=None, control_scale=True, max_zoom=max_zoom)
    folium.TileLayer(tiles=tiles_url, attr=attribution, name="tiles", max_zoom=max_zoom, subdomains="abc").add_to(fmap)
    root = fmap.get_root()
    root.render()
    # folium renders only the map element and the tile layer from the operator's settings
    # (MAP_TILES_URL and its HTML attribution); no user data goes into it.
    html, script = root.html.render(), root.script.render()
    return MapParts(fmap.get_name(), Markup(html), Markup(script))  # noqa: S704
