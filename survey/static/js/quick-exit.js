// Quick exit: the button is a plain link to /leave, which ends the child's session and
// redirects somewhere neutral, with or without this script.  With it, the page is blanked at
// once, Shift pressed three times in a row within five seconds does the same, and the
// navigation replaces this page in the history, so Back does not return here.
(function () {
  "use strict";
  var link = document.querySelector("a[data-quick-exit]");
  if (!link) { return; }
  var leaving = false;
  function leave(event) {
    if (event) { event.preventDefault(); }
    if (leaving) { return; }
    leaving = true;
    document.documentElement.style.background = "#fff";
    document.body.style.visibility = "hidden";
    document.title = "";
    window.location.replace(link.href);
  }
  // Also for a click meant to open a new tab: this page must not stay open.  The help panel at
  // the foot of the page has a second link.
  Array.prototype.forEach.call(
    document.querySelectorAll("a[data-quick-exit], a[data-quick-exit-also]"),
    function (each) { each.addEventListener("click", leave); });
  var presses = [];
  document.addEventListener("keydown", function (event) {
    // Only Shift on its own counts: any other key between the presses starts the count again, so
    // a capital letter typed in an answer or Shift+Tab back through the page never leaves it.
    if (event.key !== "Shift") { presses = []; return; }
    if (event.repeat) { return; }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t <= 5000; });
    presses.push(now);
    if (presses.length >= 3) { leave(); }
  });
  // A page restored from the back-forward cache must not show the survey again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { leaving = false; window.location.reload(); }
  });
})();
