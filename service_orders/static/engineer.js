// Engineer's phone page: live list over SSE, signature pad (loaded on demand), location sharing.
(function () {
  "use strict";

  // --- live list: the server sends a fingerprint of the day; a new one reloads the list ---
  function startLive() {
    var jobs = document.getElementById("jobs");
    var state = document.getElementById("live-state");
    if (!jobs || !window.EventSource) {
      return;
    }
    var source = new EventSource(jobs.getAttribute("data-live-url"));
    source.addEventListener("jobs", function (event) {
      var current = document.getElementById("jobs");
      if (!current || current.getAttribute("data-version") === event.data) {
        return;
      }
      // do not pull the list away while someone is typing a decline reason
      if (current.contains(document.activeElement) && document.activeElement.tagName === "INPUT") {
        return;
      }
      window.htmx.ajax("GET", "/engineer", { target: "#jobs", swap: "outerHTML" });
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

  // --- offer clocks: count down each second from the seconds the server gave (the phone's own
  // clock may be off); at zero the offer takes no answer any more ---
  function offerText(seconds) {
    if (seconds < 60) {
      return seconds + " s";
    }
    return Math.floor(seconds / 60) + " min " + String(seconds % 60).padStart(2, "0") + " s";
  }

  function tickOffers() {
    var now = Date.now();
    document.querySelectorAll(".offer-clock[data-seconds-left]").forEach(function (clock) {
      if (!clock.dataset.deadline) {
        clock.dataset.deadline = String(now + Number(clock.dataset.secondsLeft) * 1000);
      }
      var left = Math.ceil((Number(clock.dataset.deadline) - now) / 1000);
      if (left > 0) {
        clock.querySelector("strong").textContent = offerText(left);
        return;
      }
      clock.removeAttribute("data-seconds-left");
      clock.classList.add("expired");
      clock.setAttribute("role", "status");
      clock.textContent = "This offer expired.";
      var card = clock.closest(".job, .job-page");
      var answers = card ? card.querySelector(".offer-answers") : null;
      if (answers) {
        answers.hidden = true;
      }
    });
  }

  // --- signature: signature_pad is fetched only when a completion form is on the page ---
  var padScript = null;

  function loadPadScript(src) {
    if (window.SignaturePad) {
      return Promise.resolve();
    }
    if (!padScript) {
      padScript = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return padScript;
  }

  function fitCanvas(canvas, pad) {
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
  }

  // a resized canvas (a phone turned) loses its pixels: redraw the strokes, keep the signature
  function refitKeepingStrokes(canvas, pad, input) {
    var strokes = pad.toData();
    fitCanvas(canvas, pad);
    if (strokes.length) {
      pad.fromData(strokes);
    }
    input.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  }

  function startSignature(canvas) {
    if (canvas.getAttribute("data-ready")) {
      return;
    }
    canvas.setAttribute("data-ready", "1");
    loadPadScript(canvas.getAttribute("data-script")).then(function () {
      var input = document.getElementById(canvas.getAttribute("data-signature-input"));
      var pad = new window.SignaturePad(canvas, { backgroundColor: "rgb(255,255,255)" });
      fitCanvas(canvas, pad);
      pad.addEventListener("endStroke", function () {
        input.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
      });
      var clear = canvas.closest("form").querySelector("[data-signature-clear]");
      if (clear) {
        clear.addEventListener("click", function () {
          pad.clear();
          input.value = "";
        });
      }
      var width = canvas.offsetWidth;
      window.addEventListener("resize", function () {
        if (canvas.isConnected && canvas.offsetWidth !== width) {
          width = canvas.offsetWidth;
          refitKeepingStrokes(canvas, pad, input);
        }
      });
    });
  }

  // --- location: sent only after the engineer asks for it, at most once a minute ---
  function startLocation() {
    var button = document.getElementById("share-location");
    var state = document.getElementById("location-state");
    if (!button || !navigator.geolocation) {
      return;
    }
    var lastSent = 0;
    button.addEventListener("click", function () {
      state.textContent = "locating…";
      navigator.geolocation.watchPosition(
        function (position) {
          var now = Date.now();
          if (now - lastSent < 60000) {
            return;
          }
          lastSent = now;
          var meta = document.querySelector('meta[name="csrf-token"]');
          fetch("/api/service-orders/engineers/me/location", {
            method: "POST",
            credentials: "same-origin",
            headers: {
              "Content-Type": "application/json",
              "X-CSRF-Token": meta ? meta.getAttribute("content") : "",
            },
            body: JSON.stringify({
              lat: position.coords.latitude,
              lon: position.coords.longitude,
              at: new Date(position.timestamp).toISOString(),
            }),
          }).then(function (response) {
            state.textContent = response.ok ? "shared " + new Date().toLocaleTimeString(document.documentElement.lang || "en", {
                    timeZone: document.documentElement.getAttribute("data-time-zone") || "UTC",
                    hour: "numeric",
                    minute: "2-digit",
                  }) : "not shared";
          });
        },
        function () {
          state.textContent = "location unavailable";
        },
        { enableHighAccuracy: false, maximumAge: 60000 }
      );
    });
  }

  // A success clears the error an earlier attempt left in the flash area.
  document.addEventListener("htmx:afterRequest", function (event) {
    var flash = document.getElementById("flash");
    if (event.detail.successful && flash && event.detail.target !== flash) {
      flash.textContent = "";
    }
  });

  // "Notes saved" is true only until the notes change again
  document.addEventListener("input", function (event) {
    var status = document.getElementById("notes-status");
    if (status && event.target.id === "notes") {
      status.textContent = "";
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    startLive();
    startLocation();
    tickOffers();
    setInterval(tickOffers, 1000);
    // not htmx.onLoad: in htmx 2.0.8 it also calls back at once with no event, and throws
    document.body.addEventListener("htmx:load", function (event) {
      event.detail.elt.querySelectorAll("canvas[data-signature-input]").forEach(startSignature);
    });
    document.querySelectorAll("canvas[data-signature-input]").forEach(startSignature);
  });
})();
