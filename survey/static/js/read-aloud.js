// Read aloud with the browser's own speech synthesis, where it exists.  An enhancement only:
// the page is complete without it, and nothing is sent anywhere (no microphone, no network).
(function () {
  "use strict";
  if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") { return; }
  document.querySelectorAll("[data-read-aloud]").forEach(function (slot) {
    var target = document.querySelector(slot.getAttribute("data-read-aloud"));
    var button = slot.querySelector("button");
    if (!target || !button) { return; }
    slot.hidden = false;
    button.addEventListener("click", function () {
      window.speechSynthesis.cancel();
      // The button may sit inside what it reads: its own words are not read out.
      slot.hidden = true;
      var words = target.innerText;
      slot.hidden = false;
      var utterance = new SpeechSynthesisUtterance(words);
      utterance.lang = document.documentElement.lang || "en";
      utterance.rate = 0.9;
      window.speechSynthesis.speak(utterance);
    });
  });
  // Stop speaking when the child leaves the page (quick exit included).
  window.addEventListener("pagehide", function () { window.speechSynthesis.cancel(); });
})();
