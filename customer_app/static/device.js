// Customer device page: one uPlot chart per metric plus the health history, for a chosen window.
(function () {
  "use strict";

  var charts = new Map();

  function axisSize(u, values) {
    var longest = (values || []).reduce(function (n, v) {
      return Math.max(n, String(v).length);
    }, 3);
    return longest * 8 + 16;
  }

  function options(width, series) {
    return {
      width: width,
      height: 200,
      cursor: { drag: { x: true, y: false } },
      legend: { show: width >= 480 },
      scales: { x: { time: true } },
      axes: [{}, { size: axisSize }],
      series: [{}].concat(series),
    };
  }

  var METRIC_SERIES = [
    { label: "avg", stroke: "#0b6bcb", width: 2 },
    { label: "min", stroke: "rgba(11,107,203,0.35)", width: 1 },
    { label: "max", stroke: "rgba(11,107,203,0.35)", width: 1 },
  ];
  var HEALTH_SERIES = [
    { label: "health", stroke: "#1a7f37", width: 2 },
    { label: "lowest", stroke: "rgba(180,35,24,0.5)", width: 1 },
  ];

  function bucketNote(seconds, count) {
    if (!count) {
      return "· no data in this window";
    }
    var minutes = seconds / 60;
    return "· " + (minutes >= 60 ? minutes / 60 + " h" : minutes + " min") + " buckets";
  }

  function load(figure, windowName) {
    var plot = figure.querySelector(".chart-plot");
    var note = figure.querySelector(".chart-note");
    var health = figure.getAttribute("data-health-url");
    var url = health
      ? health + "?window=" + encodeURIComponent(windowName)
      : figure.getAttribute("data-series-url") +
        "?metric=" + encodeURIComponent(figure.getAttribute("data-metric")) +
        "&window=" + encodeURIComponent(windowName);
    note.textContent = "loading…";
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (s) {
        var data = health ? [s.t, s.avg, s.low] : [s.t, s.avg, s.low, s.high];
        note.textContent = bucketNote(s.bucket_seconds, s.t.length);
        var chart = charts.get(figure);
        if (chart) {
          chart.setData(data);
        } else {
          var series = health ? HEALTH_SERIES : METRIC_SERIES;
          charts.set(figure, new uPlot(options(plot.clientWidth, series), data, plot));
        }
      })
      .catch(function (error) {
        note.textContent = "· could not load (" + error.message + "); try again";
      });
  }

  function loadAll(windowName) {
    document.querySelectorAll(".chart").forEach(function (figure) {
      load(figure, windowName);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll(".window-button");
    if (!buttons.length || !window.uPlot) {
      return;
    }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        buttons.forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
        loadAll(button.getAttribute("data-window"));
      });
    });
    var pressed = document.querySelector('.window-button[aria-pressed="true"]') || buttons[0];
    loadAll(pressed.getAttribute("data-window"));
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        charts.forEach(function (chart, figure) {
          chart.setSize({ width: figure.querySelector(".chart-plot").clientWidth, height: 200 });
        });
      }).observe(document.querySelector(".content"));
    }
  });
})();
