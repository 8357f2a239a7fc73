// Dashboard chart: net value per month, this year against last year (uPlot), from data-chart.
(function () {
  "use strict";

  function draw(figure) {
    var data = JSON.parse(figure.getAttribute("data-chart"));
    var width = Math.max(figure.clientWidth, 280);
    var opts = {
      width: width,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ values: function (u, ticks) { return ticks.map(function (t) { return String(t); }); } }, {}],
      series: [
        { label: "Month" },
        { label: String(data.year), stroke: "#1f6feb", fill: "rgba(31,111,235,0.15)", width: 2 },
        { label: String(data.year - 1), stroke: "#8b949e", dash: [6, 4], width: 2 }
      ]
    };
    figure.textContent = "";
    return new uPlot(opts, [data.months, data.this_year, data.last_year], figure);
  }

  function start() {
    if (typeof uPlot === "undefined") {
      return;
    }
    document.querySelectorAll("figure.rebate-chart[data-chart]").forEach(function (figure) {
      var plot = draw(figure);
      window.addEventListener("resize", function () {
        plot.setSize({ width: Math.max(figure.clientWidth, 280), height: 220 });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
