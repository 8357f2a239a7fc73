// Staff device page: live latest values over SSE (the charts are core's charts.js).
(function () {
  "use strict";

  function formatTime(iso) {
    return iso ? iso.slice(11, 19) + " UTC" : "no data";
  }

  function showLatest(data) {
    data.values.forEach(function (v) {
      var item = document.querySelector('#live-values [data-metric="' + CSS.escape(v.key) + '"]');
      if (!item) {
        return;
      }
      item.className = "metric zone-" + v.zone;
      item.querySelector(".value").textContent = v.value === null ? "—" : v.value.toFixed(2);
      var time = item.querySelector(".metric-ts");
      time.textContent = formatTime(v.ts);
      if (v.ts) {
        time.setAttribute("datetime", v.ts);
      }
    });
    var seen = document.getElementById("last-seen");
    if (seen && data.last_seen) {
      seen.textContent = data.last_seen.slice(0, 19).replace("T", " ") + " UTC";
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
