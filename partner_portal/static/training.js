// Training player: resumes where the user stopped and reports progress (see training_views.py).
(function () {
  "use strict";
  var REPORT_EVERY_S = 10;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function setUp(video) {
    var url = video.dataset.progressUrl;
    var status = document.getElementById("training-status");
    var lastSent = -1;
    var start = parseInt(video.dataset.start || "0", 10);

    function report(completed) {
      var position = Math.floor(video.currentTime || 0);
      if (!completed && position === lastSent) {
        return;
      }
      lastSent = position;
      var body = new URLSearchParams({ position_s: String(position) });
      if (completed) {
        body.set("completed", "true");
      }
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "X-CSRF-Token": csrfToken() },
        body: body,
      }).then(function (response) {
        if (completed && response.ok && status) {
          status.textContent = "Completed: well done.";
        }
      }).catch(function () {
        // offline for a moment: the next report carries the position again
        lastSent = -1;
      });
    }

    video.addEventListener("loadedmetadata", function () {
      if (start > 0 && start < video.duration) {
        video.currentTime = start;
      }
    }, { once: true });
    video.addEventListener("timeupdate", function () {
      if (Math.abs(Math.floor(video.currentTime) - lastSent) >= REPORT_EVERY_S) {
        report(false);
      }
    });
    video.addEventListener("pause", function () { report(false); });
    video.addEventListener("ended", function () { report(true); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        report(false);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("video[data-progress-url]").forEach(setUp);
  });
})();
