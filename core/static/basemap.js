// The base layer under every Leaflet map: the deployment's tile server when one is configured
// (data-tile-url), else the offline base map made at setup (data-basemap-url): countries, German
// states, rivers, lakes and place names, so a map shows where north and south are without tiles.
(function () {
  "use strict";

  // from which zoom a place of each rank (1: over 200,000 people ... 4: over 10,000) is named
  var NAMED_FROM = { 1: 0, 2: 7.5, 3: 9, 4: 10.25 };
  var STYLE = {
    country: { color: "#7b8290", weight: 1.4, fillColor: "#f7f5f0", fillOpacity: 1 },
    state: { color: "#a3abb6", weight: 1, dashArray: "5 4", fill: false },
    lake: { stroke: false, fillColor: "#c6dbee", fillOpacity: 1 },
    river: { color: "#8fb8de", weight: 1.6 },
  };

  function panes(map) {
    // below the overlay pane (400), where the markers of the page are drawn
    map.createPane("basemap").style.zIndex = 250;
    map.createPane("placenames").style.zIndex = 350;
    map.getPane("basemap").style.pointerEvents = "none";
    map.getPane("placenames").style.pointerEvents = "none";
  }

  function areaStyle(feature) {
    return STYLE[feature.properties.kind] || STYLE.country;
  }

  function drawOffline(map, element, data) {
    var renderer = window.L.svg({ pane: "basemap", padding: 0.5 });
    var areas = data.features.filter(function (f) { return f.properties.kind !== "place"; });
    var order = { country: 0, lake: 1, river: 2, state: 3 };
    areas.sort(function (a, b) { return order[a.properties.kind] - order[b.properties.kind]; });
    window.L.geoJSON({ type: "FeatureCollection", features: areas }, {
      style: areaStyle, renderer: renderer, interactive: false, attribution: data.attribution,
    }).addTo(map);
    var places = data.features.filter(function (f) { return f.properties.kind === "place"; })
      .map(function (f) {
        var c = f.geometry.coordinates;
        return {
          name: f.properties.name, rank: f.properties.rank, latlng: window.L.latLng(c[1], c[0]),
          marker: null,
        };
      });
    var shown = window.L.layerGroup().addTo(map);
    function label(place, side) {
      if (!place.marker) {
        var icon = window.L.divIcon({ className: "place-label", html: "", iconSize: null });
        place.marker = window.L.marker(place.latlng, {
          icon: icon, pane: "placenames", interactive: false, keyboard: false,
        });
        place.marker.on("add", function () {
          var el = place.marker.getElement();
          var text = document.createElement("span");
          text.textContent = place.name;
          el.replaceChildren(text);
          el.className = el.className.replace(/ ?place-(rank|at)-\w+| ?place-far/g, "") +
            " place-rank-" + place.rank + " place-at-" + place.side;
        });
      }
      place.side = side;
      return place.marker;
    }
    // where a name may go around its town's dot, first choice first: beside the dot, or a
    // marker's width further out when a marker sits on the town
    function candidates(p, width) {
      var half = width / 2;
      var found = [];
      [0, 8].forEach(function (gap) {
        var far = gap ? " place-far" : "";
        found.push(
          ["right" + far, { x0: p.x + 4 + gap, y0: p.y - 8, x1: p.x + width + 8 + gap, y1: p.y + 8 }],
          ["left" + far, { x0: p.x - width - 8 - gap, y0: p.y - 8, x1: p.x - 4 - gap, y1: p.y + 8 }],
          ["top" + far, { x0: p.x - half, y0: p.y - 21 - gap, x1: p.x + half, y1: p.y - 4 - gap }],
          ["bottom" + far, { x0: p.x - half, y0: p.y + 4 + gap, x1: p.x + half, y1: p.y + 21 + gap }]
        );
      });
      return found;
    }
    function overlaps(a, b) {
      return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
    }
    // the page's own markers (engineers, jobs) and the zoom buttons are never covered by a name
    function obstacles() {
      var found = [{ x0: 0, y0: 0, x1: 52, y1: 86 }];
      map.eachLayer(function (layer) {
        if (layer instanceof window.L.CircleMarker) {
          var p = map.latLngToContainerPoint(layer.getLatLng());
          var r = layer.getRadius() + 2;
          found.push({ x0: p.x - r, y0: p.y - r, x1: p.x + r, y1: p.y + r });
        }
      });
      return found;
    }
    // largest first; a name goes where it covers no marker nor another name, else stays hidden
    // (a city's name rather covers as few markers as it can than go missing)
    function placeNames() {
      var zoom = map.getZoom();
      var size = map.getSize();
      var frame = { x0: 2, y0: 2, x1: size.x - 2, y1: size.y - 18 };
      var view = map.getBounds();
      var markers = obstacles();
      var names = [];
      shown.clearLayers();
      places.forEach(function (place) {
        if (zoom < NAMED_FROM[place.rank] || !view.contains(place.latlng)) {
          return;
        }
        var p = map.latLngToContainerPoint(place.latlng);
        var width = place.name.length * (place.rank === 1 ? 8.2 : 6.8) + 4;
        var fits = candidates(p, width).filter(function (c) {
          var box = c[1];
          return box.x0 >= frame.x0 && box.x1 <= frame.x1 && box.y0 >= frame.y0 &&
            box.y1 <= frame.y1 && !names.some(function (n) { return overlaps(box, n); });
        });
        var covered = fits.map(function (c) {
          return markers.filter(function (m) { return overlaps(c[1], m); }).length;
        });
        var least = Math.min.apply(null, covered);
        var chosen = least === 0 || (place.rank === 1 && fits.length)
          ? fits[covered.indexOf(least)] : null;
        if (chosen) {
          names.push(chosen[1], { x0: p.x - 4, y0: p.y - 4, x1: p.x + 4, y1: p.y + 4 });
          shown.addLayer(label(place, chosen[0]));
        }
      });
    }
    map.on("zoomend moveend resize", placeNames);
    placeNames();
    element.classList.add("has-basemap");
  }

  function loadOffline(map, element) {
    var url = element.getAttribute("data-basemap-url");
    if (!url) {
      return Promise.resolve(false);
    }
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        drawOffline(map, element, data);
        return true;
      })
      .catch(function () {
        return false;
      });
  }

  // A tile server that answers no tile at all (unreachable, refused) gives way to the offline map.
  function drawTiles(map, element, url) {
    var tiles = window.L.tileLayer(url, {
      attribution: element.getAttribute("data-tile-attribution") || "", maxZoom: 19,
    });
    var loaded = false;
    var fallen = false;
    tiles.on("tileload", function () { loaded = true; });
    tiles.on("tileerror", function () {
      if (!loaded && !fallen) {
        fallen = true;
        map.removeLayer(tiles);
        loadOffline(map, element);
      }
    });
    tiles.addTo(map);
    element.classList.add("has-tiles");
  }

  /** Draw the base layer of `map` (a Leaflet map on `element`); the markers go on top. */
  window.fieldcrmBaseLayer = function (map, element) {
    panes(map);
    window.L.control.attribution({ prefix: false }).addTo(map);
    var url = element.getAttribute("data-tile-url");
    if (url) {
      drawTiles(map, element, url);
      return Promise.resolve(true);
    }
    return loadOffline(map, element);
  };
})();
