// Device page: live latest values over SSE and one uPlot chart per metric with a window selector.
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

  var charts = new Map();

  // Room for the longest tick label, so large values are never cut at the left edge.
  function axisSize(u, values) {
    var longest = (values || []).reduce(function (n, v) {
      return Math.max(n, String(v).length);
    }, 3);
    return longest * 8 + 16;
  }

  function chartOptions(width) {
    return {
      width: width,
      height: 200,
      cursor: { drag: { x: true, y: false } },
      legend: { show: width >= 480 },
      scales: { x: { time: true } },
      axes: [{}, { size: axisSize }],
      series: [
        {},
        { label: "avg", stroke: "#0b6bcb", width: 2 },
        { label: "min", stroke: "rgba(11,107,203,0.35)", width: 1 },
        { label: "max", stroke: "rgba(11,107,203,0.35)", width: 1 },
      ],
      bands: [{ series: [3, 2], fill: "rgba(11,107,203,0.12)" }],
    };
  }

  function loadChart(figure, seconds) {
    var plot = figure.querySelector(".chart-plot");
    var note = figure.querySelector(".chart-note");
    var end = new Date();
    var start = new Date(end.getTime() - seconds * 1000);
    var url = figure.getAttribute("data-series-url") +
      "?metric=" + encodeURIComponent(figure.getAttribute("data-metric")) +
      "&start=" + encodeURIComponent(start.toISOString()) +
      "&end=" + encodeURIComponent(end.toISOString());
    note.textContent = "loading…";
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (series) {
        var data = [series.t, series.avg, series.low, series.high];
        var minutes = series.bucket_seconds / 60;
        note.textContent = series.t.length
          ? "· " + (minutes >= 60 ? minutes / 60 + " h" : minutes + " min") + " buckets"
          : "· no readings in this window";
        var chart = charts.get(figure);
        if (chart) {
          chart.setData(data);
        } else {
          charts.set(figure, new uPlot(chartOptions(plot.clientWidth), data, plot));
        }
      })
      .catch(function (error) {
        note.textContent = "· could not load (" + error.message + ")";
      });
  }

  function loadAll(seconds) {
    document.querySelectorAll(".chart[data-series-url]").forEach(function (figure) {
      loadChart(figure, seconds);
    });
  }

  function startCharts() {
    var buttons = document.querySelectorAll(".window-button");
    if (!buttons.length || !window.uPlot) {
      return;
    }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        buttons.forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
        loadAll(Number(button.getAttribute("data-window")));
      });
    });
    var pressed = document.querySelector('.window-button[aria-pressed="true"]') || buttons[0];
    loadAll(Number(pressed.getAttribute("data-window")));
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        charts.forEach(function (chart, figure) {
          chart.setSize({ width: figure.querySelector(".chart-plot").clientWidth, height: 200 });
        });
      }).observe(document.querySelector(".content"));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    startLive();
    startCharts();
  });
})();
