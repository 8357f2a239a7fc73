// Time-series charts (uPlot) over a window the reader picks; every device page uses this one.
//
// Markup: buttons `.window-button[data-window][data-seconds]` (the pressed one has
// aria-pressed="true") and figures `figure.chart[data-url]` holding a `.chart-plot`. data-url may
// hold {start} and {end} (ISO instants) and {window} (the button's data-window). The JSON answer
// has `t` (bucket starts, epoch seconds), `start`, `end`, `bucket_seconds` and the columns of its
// kind: data-kind="health" draws avg and low on a 0-100 score, the default draws avg, low and
// high in the figure's data-unit. Each drawn chart sits on its `.chart-plot` as `.uplot`, and the
// figure's data-chart-window names the window it shows (tests and scripts read both).
(function () {
  "use strict";

  // the reader's zone and locale, written on <html> by the page (core/formatting.py)
  var ROOT = document.documentElement;
  var TIME_ZONE = ROOT.getAttribute("data-time-zone") || "UTC";
  var LANG = ROOT.lang || "en";
  var HEIGHT = 220;
  var BLUE = "#0b6bcb";
  var KINDS = {
    metric: {
      columns: ["avg", "low", "high"],
      series: [
        { label: "average", stroke: BLUE, width: 2 },
        { label: "lowest", stroke: "rgba(11,107,203,0.35)", width: 1 },
        { label: "highest", stroke: "rgba(11,107,203,0.35)", width: 1 },
      ],
      bands: [{ series: [3, 2], fill: "rgba(11,107,203,0.12)" }],
    },
    health: {
      columns: ["avg", "low"],
      series: [
        { label: "health", stroke: "#1a7f37", width: 2 },
        { label: "lowest", stroke: "rgba(180,35,24,0.5)", width: 1 },
      ],
      unit: "score 0–100",
      range: [0, 100],
    },
  };

  // Tick labels by tick spacing, in the reader's zone and locale (12- or 24-hour clock, month
  // names and day order as the locale writes them); a tick that starts a new day (or year)
  // names it on a second line. uPlot places the ticks by `tzDate` (local midnights and hours).
  function formatter(options) {
    return new Intl.DateTimeFormat(LANG, Object.assign({ timeZone: TIME_ZONE }, options));
  }
  var FORMATS = {
    year: formatter({ year: "numeric" }),
    month: formatter({ month: "short" }),
    day: formatter({ day: "numeric", month: "short" }),
    minutes: formatter({ hour: "numeric", minute: "2-digit" }),
    seconds: formatter({ hour: "numeric", minute: "2-digit", second: "2-digit" }),
    dayKey: formatter({ year: "numeric", month: "2-digit", day: "2-digit" }),
  };

  function timeTicks(u, splits, axisIdx, foundSpace, foundIncr) {
    var previous = null;
    return splits.map(function (ts) {
      var when = new Date(ts * 1000);
      var year = FORMATS.year.format(when);
      var day = FORMATS.dayKey.format(when);
      var label;
      if (foundIncr >= 3600 * 24 * 365) {
        label = year;
      } else if (foundIncr >= 3600 * 24 * 28) {
        label = FORMATS.month.format(when) + (previous === null || previous.year !== year ? "\n" + year : "");
      } else if (foundIncr >= 3600 * 24) {
        label = FORMATS.day.format(when) + (previous === null || previous.year !== year ? "\n" + year : "");
      } else {
        label =
          (foundIncr >= 60 ? FORMATS.minutes : FORMATS.seconds).format(when) +
          (previous === null || previous.day !== day ? "\n" + FORMATS.day.format(when) : "");
      }
      previous = { year: year, day: day };
      return label;
    });
  }

  var timeFormat = formatter({
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  });

  // "Time (Berlin)": where the reader's clock is, in words; "Time (UTC)" only for UTC readers
  var ZONE_WORDS = TIME_ZONE === "UTC" ? "UTC" : TIME_ZONE.split("/").pop().replace(/_/g, " ");

  // Width of an axis from its longest tick label as drawn, so no value is cut at the edge.
  function axisSize(u, values, axisIdx, cycleNum) {
    var axis = u.axes[axisIdx];
    if (cycleNum > 1 && axis._size) {
      return axis._size;
    }
    var longest = (values || []).reduce(function (a, v) {
      return String(v).length > a.length ? String(v) : a;
    }, "");
    u.ctx.font = axis.font[0];
    var text = u.ctx.measureText(longest).width / (window.devicePixelRatio || 1);
    return Math.ceil(axis.ticks.size + axis.gap + text + 4);
  }

  function numberTicks(u, splits) {
    return splits.map(function (v) {
      return v == null ? "" : v.toLocaleString(LANG, { maximumFractionDigits: 3 });
    });
  }

  function valueText(unit) {
    return function (u, v) {
      return v == null ? "—" : v.toLocaleString(LANG, { maximumFractionDigits: 2 }) + " " + unit;
    };
  }

  function options(figure, kind, width) {
    var unit = kind.unit || figure.getAttribute("data-unit") || "";
    return {
      width: width,
      height: HEIGHT,
      cursor: { drag: { x: true, y: false } },
      legend: { show: width >= 480 },
      tzDate: function (ts) {
        return uPlot.tzDate(new Date(ts * 1000), TIME_ZONE);
      },
      scales: {
        // the window asked for, not the data's extent: one bucket is still a day, not 1000
        x: { time: true, range: function () { return figure.chartWindowRange; } },
        y: kind.range ? { range: kind.range } : {},
      },
      axes: [
        // room for the widest label ("12:00 AM") between ticks
        { label: "Time (" + ZONE_WORDS + ")", labelSize: 20, values: timeTicks, space: 72 },
        { label: unit, labelSize: 20, size: axisSize, values: numberTicks },
      ],
      series: [
        {
          label: "time",
          value: function (u, ts) {
            return ts == null ? "—" : timeFormat.format(new Date(ts * 1000));
          },
        },
      ].concat(
        kind.series.map(function (s) {
          return Object.assign({ value: valueText(unit) }, s);
        })
      ),
      bands: kind.bands || [],
    };
  }

  function bucketNote(seconds, count) {
    if (!count) {
      return "· no readings in this window";
    }
    var minutes = seconds / 60;
    var width = minutes >= 1440 ? minutes / 1440 + " d" : minutes >= 60 ? minutes / 60 + " h" : minutes + " min";
    return "· " + width + " buckets";
  }

  function seriesUrl(figure, button) {
    var end = new Date();
    var start = new Date(end.getTime() - Number(button.getAttribute("data-seconds")) * 1000);
    return figure
      .getAttribute("data-url")
      .replace("{start}", encodeURIComponent(start.toISOString()))
      .replace("{end}", encodeURIComponent(end.toISOString()))
      .replace("{window}", encodeURIComponent(button.getAttribute("data-window")));
  }

  function load(figure, button) {
    var plot = figure.querySelector(".chart-plot");
    var note = figure.querySelector(".chart-note");
    var kind = KINDS[figure.getAttribute("data-kind") || "metric"];
    var name = button.getAttribute("data-window");
    figure.setAttribute("aria-busy", "true");
    note.textContent = "loading…";
    fetch(seriesUrl(figure, button), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (s) {
        var data = [s.t].concat(
          kind.columns.map(function (c) {
            return s[c];
          })
        );
        figure.chartWindowRange = [Date.parse(s.start) / 1000, Date.parse(s.end) / 1000];
        note.textContent = bucketNote(s.bucket_seconds, s.t.length);
        if (plot.uplot) {
          plot.uplot.setData(data);
        } else {
          plot.uplot = new uPlot(options(figure, kind, plot.clientWidth), data, plot);
        }
        figure.setAttribute("data-chart-window", name);
      })
      .catch(function (error) {
        note.textContent = "· could not load (" + error.message + "); try again";
      })
      .finally(function () {
        figure.removeAttribute("aria-busy");
      });
  }

  function start() {
    var buttons = document.querySelectorAll(".window-button");
    var figures = document.querySelectorAll("figure.chart[data-url]");
    if (!buttons.length || !figures.length || !window.uPlot) {
      return;
    }
    function show(button) {
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
      figures.forEach(function (figure) {
        load(figure, button);
      });
    }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        show(button);
      });
    });
    show(document.querySelector('.window-button[aria-pressed="true"]') || buttons[0]);
    if (window.ResizeObserver) {
      var resized = new ResizeObserver(function (entries) {
        entries.forEach(function (entry) {
          var plot = entry.target;
          if (plot.uplot && plot.uplot.width !== plot.clientWidth) {
            plot.uplot.setSize({ width: plot.clientWidth, height: HEIGHT });
          }
        });
      });
      figures.forEach(function (figure) {
        resized.observe(figure.querySelector(".chart-plot"));
      });
    }
  }

  window.fieldcrmCharts = { axisSize: axisSize };
  document.addEventListener("DOMContentLoaded", start);
})();
