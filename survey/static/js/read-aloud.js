// Read aloud.  An enhancement only: without scripts each text has a plain audio control that
// fetches nothing until pressed, and the page is complete without either.
//  - Each ".listen" control: the native audio control gives way to one "Listen" button (named
//    by the server, in the page's language); one tap plays (a second tap stops); nothing plays
//    by itself.  Where the file cannot be had, or there is none (a text with the child's own
//    earlier answer), the browser's own speech synthesis reads the words, where it has a voice.
//  - "Read this to me" on the information page reads the whole block with that voice.
// Nothing is sent anywhere (no microphone); the audio comes from this server only.
(function () {
  "use strict";
  var speech = ("speechSynthesis" in window && typeof SpeechSynthesisUtterance !== "undefined")
    ? window.speechSynthesis : null;
  var playing = null;  // the audio element playing now

  function langOf(node) {
    var holder = node.closest("[lang]");
    return (holder && holder.getAttribute("lang")) || document.documentElement.lang || "en";
  }

  function hasVoice(lang) {
    if (!speech) { return false; }
    var voices = speech.getVoices();
    if (!voices.length) { return true; }  // not loaded yet: try, the browser picks a default
    var base = lang.split("-")[0].toLowerCase();
    return voices.some(function (v) { return (v.lang || "").toLowerCase().split(/[-_]/)[0] === base; });
  }

  function stopAll() {
    if (playing) { playing.pause(); playing = null; }
    if (speech) { speech.cancel(); }
    document.querySelectorAll(".listen-button.playing").forEach(function (b) { b.classList.remove("playing"); });
  }

  function say(words, lang, button) {
    if (!speech || !words) { return; }
    var utterance = new SpeechSynthesisUtterance(words);
    utterance.lang = lang;
    utterance.rate = 0.9;
    utterance.onend = function () { button.classList.remove("playing"); };
    button.classList.add("playing");
    speech.speak(utterance);
  }

  // The words beside a control, for the speech fallback: its holder's text without the controls
  // (the legend or label just before it, where it follows one).
  function wordsNear(control) {
    if (control.hasAttribute("data-text")) { return control.getAttribute("data-text"); }
    var before = control.previousElementSibling;
    var holder = before && /^(LEGEND|LABEL|P|H1|H2)$/.test(before.tagName) ? before : control.parentNode;
    var copy = holder.cloneNode(true);
    copy.querySelectorAll(".listen, .listen-button, input, select, textarea, ul.errors").forEach(function (n) { n.remove(); });
    return (copy.textContent || "").replace(/\s+/g, " ").trim();
  }

  // Each control: <audio class="listen" controls preload="none" aria-label="Listen"> (a file), or
  // <span class="listen" data-text data-label> (the browser's voice only).
  document.querySelectorAll(".listen").forEach(function (control) {
    var audio = control.tagName === "AUDIO" ? control : null;
    var lang = langOf(control);
    if (!audio && !hasVoice(lang)) { return; }  // no file and no voice: the words stay on screen
    var button = document.createElement("button");
    button.type = "button";
    button.className = "listen-button";
    // Named, not labelled with text: the heading or question it sits in keeps its own words.
    button.setAttribute("aria-label", control.getAttribute(audio ? "aria-label" : "data-label") || "Listen");
    var before = control.previousElementSibling;
    if (before && /^(LEGEND|H1|H2)$/.test(before.tagName)) {
      // At the end of the question or heading it reads, so it takes no line of its own; a
      // question keeps its own words as its name.
      if (before.tagName === "LEGEND" && !before.parentNode.hasAttribute("aria-label")) {
        before.parentNode.setAttribute("aria-label", before.textContent.replace(/\s+/g, " ").trim());
      }
      before.appendChild(button);
    } else {
      control.parentNode.insertBefore(button, control);
    }
    if (audio) {
      audio.controls = false;
      audio.hidden = true;
      audio.addEventListener("ended", function () { button.classList.remove("playing"); playing = null; });
    }
    button.addEventListener("click", function () {
      var again = button.classList.contains("playing");
      stopAll();
      if (again) { return; }  // a second tap stops
      if (!audio || audio.getAttribute("data-failed")) { say(wordsNear(control), lang, button); return; }
      button.classList.add("playing");
      playing = audio;
      audio.currentTime = 0;
      var started = audio.play();
      if (started && started.catch) {
        started.catch(function () {
          // No file here (or it cannot be played): the browser's own voice, where it has one.
          audio.setAttribute("data-failed", "1");
          button.classList.remove("playing");
          playing = null;
          if (hasVoice(lang)) { say(wordsNear(control), lang, button); }
        });
      }
    });
  });

  if (speech) {
    document.querySelectorAll("[data-read-aloud]").forEach(function (slot) {
      var target = document.querySelector(slot.getAttribute("data-read-aloud"));
      var button = slot.querySelector("button");
      if (!target || !button) { return; }
      slot.hidden = false;
      button.addEventListener("click", function () {
        stopAll();
        // The button may sit inside what it reads: its own words (and the play controls) are not read out.
        var controls = [slot].concat(Array.prototype.slice.call(target.querySelectorAll(".listen, .listen-button")));
        var shown = controls.map(function (n) { var was = n.hidden; n.hidden = true; return was; });
        var words = target.innerText;
        controls.forEach(function (n, i) { n.hidden = shown[i]; });
        var utterance = new SpeechSynthesisUtterance(words);
        utterance.lang = document.documentElement.lang || "en";
        utterance.rate = 0.9;
        speech.speak(utterance);
      });
    });
  }
  // Stop when the child leaves the page (quick exit included).
  window.addEventListener("pagehide", stopAll);
})();
