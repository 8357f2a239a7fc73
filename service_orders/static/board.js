// Dispatch board: Leaflet map of assets (by health) and engineers (by status), live SLA clocks.
// The base layer (tiles, or the offline base map) comes from core/static/basemap.js.
(function () {
  "use strict";

  var HEALTH = { good: "#1a7f37", fair: "#b7791f", poor: "#b42318", unknown: "#8a94a3" };
  var ENGINEER = { available: "#0b6bcb", on_job: "#6f42c1", off_shift: "#5d6776" };

  // Leaflet puts a string tooltip in as HTML: names, sites and titles people typed go in as
  // text nodes instead
  function tip(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function drawMap(element, board) {
    var map = window.L.map(element, { zoomSnap: 0.25, attributionControl: false });
    if (window.fieldcrmBaseLayer) {
      window.fieldcrmBaseLayer(map, element);
    }
    var points = [];
    board.assets.forEach(function (a) {
      var marker = window.L.circleMarker([a.lat, a.lon], {
        radius: 6, color: "#ffffff", weight: 1, fillColor: HEALTH[a.health_band] || HEALTH.unknown,
        fillOpacity: 0.9,
      });
      marker.bindTooltip(tip(a.serial + " · " + a.site_name + " · health " + (a.health === null ? "—" : a.health)));
      marker.addTo(map);
      points.push([a.lat, a.lon]);
    });
    board.engineers.forEach(function (e) {
      var marker = window.L.circleMarker([e.lat, e.lon], {
        radius: 8, color: "#1d2430", weight: 2, fillColor: ENGINEER[e.status] || ENGINEER.off_shift,
        fillOpacity: 1,
      });
      marker.bindTooltip(tip(e.name + " · " + e.activity + (e.working_on ? " · " + e.working_on : "") +
        " · " + e.load + " of " + e.capacity + " jobs"));
      marker.addTo(map);
      points.push([e.lat, e.lon]);
    });
    board.queue.forEach(function (q) {
      window.L.circleMarker([q.lat, q.lon], {
        radius: 12, color: q.late ? "#b42318" : "#b7791f", weight: 2, fill: false,
      }).bindTooltip(tip(q.number + " waiting · " + q.title)).addTo(map);
    });
    board.queue.forEach(function (q) {
      points.push([q.lat, q.lon]);
    });
    if (points.length) {
      map.fitBounds(window.L.latLngBounds(points), { padding: [28, 28], maxZoom: 12 });
    } else {
      map.setView([48.14, 11.58], 8);
    }
    return map;
  }

  function startMap() {
    var element = document.getElementById("board-map");
    var state = document.getElementById("map-state");
    if (!element || !window.L) {
      return;
    }
    fetch(element.getAttribute("data-board-url"), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (board) {
        drawMap(element, board);
        state.textContent = board.assets.length + " assets, " + board.engineers.length +
          " engineers, " + board.queue.length + " waiting (ringed). The lists below hold the same.";
      })
      .catch(function (error) {
        state.textContent = "The map could not load (" + error.message + "); use the lists below.";
      });
  }

  function format(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var text = minutes >= 60
      ? Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min"
      : minutes + " min";
    return seconds >= 0 ? text + " left" : text + " overdue";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (clock) {
      var seconds = Math.round((Date.parse(clock.getAttribute("data-deadline")) - now) / 1000);
      clock.textContent = format(seconds);
      clock.classList.toggle("late", seconds < 0);
      var order = clock.closest(".order");
      if (order) {
        order.classList.toggle("late", seconds < 0);
      }
    });
  }

  // New work orders and answers show up without a reload, but never under an open selection.
  function refreshQueues() {
    var queues = document.getElementById("queues");
    if (!queues || !window.htmx || document.hidden || queues.contains(document.activeElement)) {
      return;
    }
    if (queues.querySelector("details[open]")) {
      return;
    }
    window.htmx.ajax("GET", "/staff/dispatch/queues", { target: "#queues", swap: "outerHTML" });
  }

  // A success on the board clears the error an earlier attempt left in the flash area; the
  // header's inbox badge, loading with the page, leaves a message the page came with alone.
  document.addEventListener("htmx:afterRequest", function (event) {
    var flash = document.getElementById("flash");
    var onBoard = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest(".board");
    if (event.detail.successful && flash && onBoard && event.detail.target !== flash) {
      flash.textContent = "";
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    startMap();
    setInterval(tick, 30000);
    setInterval(refreshQueues, 60000);
  });
})();
