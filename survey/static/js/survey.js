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
  // "I'd rather not say" and "I don't know" stand alone (the server refuses them with another
  // answer): choosing one clears the other choices of the question, and the other way round.
  function isReserved(input) {
    return input.value === "_rns" || input.value === "_dk" || input.name.indexOf("rns_") === 0;
  }
  document.querySelectorAll("main form .item").forEach(function (item) {
    var boxes = Array.prototype.slice.call(item.querySelectorAll("input[type=checkbox]"));
    var answers = Array.prototype.slice.call(item.querySelectorAll("textarea, select, input[type=text], input:not([type])"));
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        if (!box.checked) { return; }
        boxes.forEach(function (other) {
          if (other !== box && other.name === box.name && (isReserved(other) || isReserved(box))) {
            other.checked = false;
          }
        });
        if (box.name.indexOf("rns_") === 0) {
          answers.forEach(function (field) {
            field.value = "";
            field.dispatchEvent(new Event("input"));
          });
        }
      });
    });
    answers.forEach(function (field) {
      ["input", "change"].forEach(function (kind) {
        field.addEventListener(kind, function (event) {
          if (!event.isTrusted || !field.value) { return; }
          boxes.forEach(function (box) { if (box.name.indexOf("rns_") === 0) { box.checked = false; } });
        });
      });
    });
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
