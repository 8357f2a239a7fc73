// Where the engineer on the way is: a Leaflet map of the engineer and the site, over the base
// layer of core/static/basemap.js (the deployment's tiles, or the offline base map).
(function () {
  "use strict";

  function number(element, name) {
    return Number(element.getAttribute(name));
  }

  function draw(element) {
    var engineer = [number(element, "data-engineer-lat"), number(element, "data-engineer-lon")];
    var site = [number(element, "data-site-lat"), number(element, "data-site-lon")];
    var map = window.L.map(element, { zoomSnap: 0.25, attributionControl: false });
    if (window.fieldcrmBaseLayer) {
      window.fieldcrmBaseLayer(map, element);
    }
    window.L.polyline([engineer, site], { color: "#5d6776", weight: 2, dashArray: "4 6" }).addTo(map);
    window.L.circleMarker(site, { radius: 9, color: "#1a7f37", fillOpacity: 0.8 })
      .bindTooltip("Your site").addTo(map);
    window.L.circleMarker(engineer, { radius: 9, color: "#0b6bcb", fillOpacity: 0.8 })
      .bindTooltip("Engineer").addTo(map);
    map.fitBounds(window.L.latLngBounds([engineer, site]).pad(0.3), { maxZoom: 14 });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.L) {
      return;
    }
    var maps = document.querySelectorAll(".track-map");
    maps.forEach(draw);
    if (maps.length) {
      // the engineer moves: a fresh position and ETA every minute while the page is open
      window.setTimeout(function () {
        window.location.reload();
      }, 60000);
    }
  });
})();
