// Staff device page: live latest values over SSE (the charts are core's charts.js).
(function () {
  "use strict";

  // in the reader's zone and locale, as the server wrote them (core/formatting.py)
  var ROOT = document.documentElement;
  var LANG = ROOT.lang || "en";
  var clock = new Intl.DateTimeFormat(LANG, {
    timeZone: ROOT.getAttribute("data-time-zone") || "UTC",
    hour: "numeric",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
  });
  var relative = new Intl.RelativeTimeFormat(LANG, { numeric: "auto", style: "short" });

  function formatTime(iso) {
    return iso ? clock.format(new Date(iso)) : "no data";
  }

  function ago(iso) {
    var seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
    var units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1]) {
        return relative.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return relative.format(seconds, "second");
  }

  function showLatest(data) {
    data.values.forEach(function (v) {
      var item = document.querySelector('#live-values [data-metric="' + CSS.escape(v.key) + '"]');
      if (!item) {
        return;
      }
      item.className = "metric zone-" + v.zone;
      item.querySelector(".value").textContent = v.value === null
          ? "—"
          : v.value.toLocaleString(LANG, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      var time = item.querySelector(".metric-ts");
      time.textContent = formatTime(v.ts);
      if (v.ts) {
        time.setAttribute("datetime", v.ts);
      }
    });
    var seen = document.getElementById("last-seen");
    if (seen && data.last_seen) {
      seen.textContent = ago(data.last_seen);
    }
  }

  function startLive() {
    var list = document.getElementById("live-values");
    var state = document.getElementById("live-state");
    if (!list || !window.EventSource) {
      return;
    }
    var source = new EventSource(list.getAttribute("data-live-url"));
    source.addEventListener("latest", function (event) {
      showLatest(JSON.parse(event.data));
    });
    source.addEventListener("open", function () {
      state.setAttribute("data-state", "open");
    });
    source.addEventListener("error", function () {
      state.setAttribute("data-state", "error");
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startLive();
  });
})();
