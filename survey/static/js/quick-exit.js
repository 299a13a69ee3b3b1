// Quick exit: the button works without this script (a POST that forgets the session and
// redirects).  With it, the page is blanked at once, Shift pressed three times within five
// seconds triggers the exit, and history is replaced so Back does not return here.
(function () {
  "use strict";
  var form = document.querySelector("form[data-quick-exit]");
  if (!form) { return; }
  function leave(event) {
    if (event) { event.preventDefault(); }
    document.body.style.visibility = "hidden";
    document.title = "";
    var data = new FormData(form);
    var done = function () { window.location.replace(form.dataset.neutral || "/notes"); };
    if (window.fetch) {
      fetch(form.action, {method: "POST", body: data, credentials: "same-origin", redirect: "manual"})
        .then(done, done);
    } else {
      form.submit();
    }
  }
  form.addEventListener("submit", leave);
  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift" || event.repeat) { return; }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t <= 5000; });
    presses.push(now);
    if (presses.length >= 3) { leave(); }
  });
  // A page restored from the back-forward cache must not show the survey again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });
})();
