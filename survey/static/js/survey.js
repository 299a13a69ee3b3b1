// Enhancements for survey pages; every page works without them.
(function () {
  "use strict";
  // Character counters for open answers.
  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    if (!field) { return; }
    var max = parseInt(field.getAttribute("maxlength"), 10) || 0;
    counter.setAttribute("aria-live", "polite");
    function update() { counter.textContent = field.value.length + " / " + max; }
    field.addEventListener("input", update);
    update();
  });
  // A second click on Next while the page is saving does nothing.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
