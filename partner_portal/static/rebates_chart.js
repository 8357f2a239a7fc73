// Dashboard chart: net value per month, this year against last year (uPlot), from data-chart.
// The drawn chart sits on its figure as `.uplot` (tests read it).
(function () {
  "use strict";

  var HEIGHT = 240;

  function width(figure) {
    return Math.max(figure.clientWidth, 240);
  }

  function draw(figure) {
    var data = JSON.parse(figure.getAttribute("data-chart"));
    var lang = document.documentElement.lang || "en";
    var whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    var money = new Intl.NumberFormat(lang, { style: "currency", currency: data.currency });
    function monthName(u, m) {
      return m == null ? "—" : data.month_names[m - 1];
    }
    function value(u, v) {
      return v == null ? "—" : money.format(v);
    }
    var opts = {
      width: width(figure),
      height: HEIGHT,
      // half a month either side, so January's and December's points and labels fit
      scales: { x: { time: false, range: [0.5, 12.5] } },
      axes: [
        {
          values: function (u, ticks) {
            return ticks.map(function (m) {
              return monthName(u, m);
            });
          },
          incrs: [1, 2, 3],
          space: 34,
        },
        {
          label: data.currency,
          labelSize: 20,
          size: window.fieldcrmCharts.axisSize,
          values: function (u, ticks) {
            return ticks.map(function (v) {
              return whole.format(v);
            });
          },
        },
      ],
      series: [
        { label: "Month", value: monthName },
        { label: String(data.year), stroke: "#1f6feb", fill: "rgba(31,111,235,0.15)", width: 2, value: value },
        { label: String(data.year - 1), stroke: "#8b949e", dash: [6, 4], width: 2, value: value },
      ],
    };
    figure.textContent = "";
    return new uPlot(opts, [data.months, data.this_year, data.last_year], figure);
  }

  function start() {
    if (typeof uPlot === "undefined" || !window.fieldcrmCharts) {
      return;
    }
    document.querySelectorAll("figure.rebate-chart[data-chart]").forEach(function (figure) {
      figure.uplot = draw(figure);
      if (window.ResizeObserver) {
        new ResizeObserver(function () {
          if (figure.uplot.width !== width(figure)) {
            figure.uplot.setSize({ width: width(figure), height: HEIGHT });
          }
        }).observe(figure);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
