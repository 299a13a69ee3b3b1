// On a shared device the thank-you screen goes back to the start after a minute, ready for the
// next child, and a button stops that (WCAG 2.2.1: a meta refresh could not be stopped, and a
// slow reader would lose the helpline numbers).  Without scripts, "Back to the start" does it.
(function () {
  "use strict";
  var notice = document.querySelector("[data-return-to]");
  if (!notice) { return; }
  var button = notice.querySelector("button");
  var timer = setTimeout(function () {
    window.location.replace(notice.getAttribute("data-return-to"));
  }, 60000);
  notice.hidden = false;
  button.addEventListener("click", function () {
    clearTimeout(timer);
    notice.hidden = true;
  });
})();
