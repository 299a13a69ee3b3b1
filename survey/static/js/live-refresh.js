// The facilitator's live view reloads itself every 15 seconds, with a button to pause it
// (WCAG 2.2.1/2.2.2: a meta refresh cannot be paused).  Without scripts the page still works:
// the "Refresh now" link reloads it.
(function () {
  "use strict";
  var button = document.querySelector("[data-live-refresh]");
  if (!button) { return; }
  var key = "sauti-live-paused";
  var paused = window.sessionStorage && sessionStorage.getItem(key) === "1";
  var timer = null;
  function show() {
    button.textContent = paused ? button.dataset.resume : button.dataset.pause;
    button.setAttribute("aria-pressed", paused ? "true" : "false");
  }
  function schedule() {
    if (timer) { clearTimeout(timer); }
    if (!paused) { timer = setTimeout(function () { window.location.reload(); }, 15000); }
  }
  button.addEventListener("click", function () {
    paused = !paused;
    if (window.sessionStorage) { sessionStorage.setItem(key, paused ? "1" : "0"); }
    show();
    schedule();
  });
  button.hidden = false;
  show();
  schedule();
})();
