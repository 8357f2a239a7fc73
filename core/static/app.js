// Sends the page's CSRF token with every htmx request (see core/web/csrf.py).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});

// On a phone the sections scroll sideways in one row: keep the current one in view.
function showCurrentSection() {
  var nav = document.querySelector(".site-nav");
  var current = nav && nav.querySelector('[aria-current="page"]');
  if (current && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft = current.offsetLeft - nav.offsetLeft - 16;
  }
}
document.addEventListener("DOMContentLoaded", showCurrentSection);
window.addEventListener("resize", showCurrentSection);
