// The facilitator's live view.  Every 15 seconds it fetches itself from this server and swaps
// in the new requests and counts, without reloading, so that:
// - a new "talk to someone" request is said at once by screen readers (an aria-live region),
//   shown in the page title, and, if the facilitator turned the sound on, beeps (a tone made
//   here with the Web Audio API; nothing is loaded from anywhere);
// - focus and the sound stay where they are (a reload would lose both).
// A pause button stops the checks (WCAG 2.2.1/2.2.2).  Without scripts the page still works:
// its "Refresh now" link reloads it, and a waiting child is shown in words at the top.
(function () {
  "use strict";
  var button = document.querySelector("[data-live-refresh]");
  var soundButton = document.querySelector("[data-live-sound]");
  var announcer = document.querySelector("[data-live-announce]");
  if (!button || !announcer) { return; }
  var store = window.sessionStorage;
  var pausedKey = "sauti-live-paused", soundKey = "sauti-live-sound";
  var paused = store && store.getItem(pausedKey) === "1";
  var soundOn = store && store.getItem(soundKey) === "1";
  var timer = null;
  var audio = null;

  function waitingSignals(root) {
    var found = {};
    root.querySelectorAll("[data-signal-status=open]").forEach(function (item) {
      found[item.dataset.signalId] = item.dataset.seat || announcer.dataset.noSeat;
    });
    return found;
  }
  var known = waitingSignals(document);

  function announce(seats) {
    // Emptied first, so that the same words said twice are still announced.
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = seats.map(function (seat) {
        return announcer.dataset.newOne.replace("{seat}", seat);
      }).join(". ");
    }, 100);
  }

  function beep() {
    if (!soundOn || !audio) { return; }
    if (audio.state === "suspended") { audio.resume(); }
    [0, 0.3].forEach(function (start) {
      var tone = audio.createOscillator(), gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.25, audio.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + 0.2);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + start);
      tone.stop(audio.currentTime + start + 0.22);
    });
  }

  function swap(fresh) {
    var active = document.activeElement;
    document.querySelectorAll("[data-live-part]").forEach(function (part) {
      var replacement = fresh.querySelector("[data-live-part='" + part.dataset.livePart + "']");
      // A part holding the keyboard focus waits for the next round, so that focus is never lost.
      if (replacement && !(active && active !== document.body && part.contains(active))) {
        part.replaceWith(replacement);
      }
    });
    document.title = fresh.title;
  }

  function check() {
    window.fetch(window.location.href, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        // Signed out meanwhile (or any surprise): a full reload shows why.
        if (!response.ok || response.redirected) { window.location.reload(); return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var now = waitingSignals(fresh), added = [];
        Object.keys(now).forEach(function (id) { if (!(id in known)) { added.push(now[id]); } });
        known = now;
        swap(fresh);
        if (added.length) { announce(added); beep(); }
      })
      .catch(function () { /* the network blinked: try again next round */ })
      .then(schedule);
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = paused ? null : setTimeout(check, 15000);
  }

  function showPause() {
    button.textContent = paused ? button.dataset.resume : button.dataset.pause;
    button.setAttribute("aria-pressed", paused ? "true" : "false");
  }
  button.addEventListener("click", function () {
    paused = !paused;
    if (store) { store.setItem(pausedKey, paused ? "1" : "0"); }
    showPause();
    schedule();
  });

  function startAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) { audio = new Context(); }
    if (audio && audio.state === "suspended") { audio.resume(); }
  }
  function showSound() {
    soundButton.textContent = soundOn ? soundButton.dataset.on : soundButton.dataset.off;
    soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
  }
  if (soundButton && (window.AudioContext || window.webkitAudioContext)) {
    soundButton.addEventListener("click", function () {
      soundOn = !soundOn;
      if (store) { store.setItem(soundKey, soundOn ? "1" : "0"); }
      if (soundOn) { startAudio(); beep(); }  // a first beep, so the facilitator hears the volume
      showSound();
    });
    // Browsers start sound only after a tap or key press on the page: the first one does it.
    document.addEventListener("pointerdown", function () { if (soundOn) { startAudio(); } }, {once: true});
    document.addEventListener("keydown", function () { if (soundOn) { startAudio(); } }, {once: true});
    soundButton.hidden = false;
    showSound();
  }

  button.hidden = false;
  showPause();
  // Children already waiting when the page opens are said too, once it has loaded.
  var waiting = Object.keys(known).map(function (id) { return known[id]; });
  if (waiting.length) { window.setTimeout(function () { announce(waiting); }, 500); }
  schedule();
})();
