// Read aloud, as survey/views/audio.py describes: each "Listen" link becomes a button that plays in
// place (one tap; a second stops), or the browser's voice.  Small: every child page loads it.
(function (d, S) {
  var A = new Audio(), on;
  function stop() {
    A.pause();
    if (S) S.cancel();
    if (on) on.classList.remove("playing");
    on = null;
  }
  function say(c) {
    var h = c.parentNode.cloneNode(true), u;
    h.querySelectorAll(".listen,input,textarea,.errors").forEach(function (n) { n.remove(); });
    u = new SpeechSynthesisUtterance(c.dataset.text || h.textContent);
    u.lang = c.closest("[lang]").lang;
    u.rate = 0.9;
    u.onend = stop;
    S.speak(u);
  }
  function play(c) {
    if (c == on) return stop();
    stop();
    on = c;
    c.classList.add("playing");
    if (!c.href) return say(c);
    A.src = c.href;
    A.play().catch(function () { if (on == c) S ? say(c) : stop(); });
  }
  d.querySelectorAll(".listen").forEach(function (c) {
    var b = c.previousElementSibling;
    if (!c.href) {
      if (!S) return c.remove();
      c.tabIndex = 0;
      c.textContent = c.dataset.label;
    }
    c.setAttribute("role", "button");
    // beside a question's words, its group named by those words alone; a heading keeps its own
    // name (a button inside an h1 would make it "Thank you! Listen")
    if (b && b.tagName == "LEGEND") {
      b.parentNode.setAttribute("aria-label", b.textContent.trim());
      b.appendChild(c);
    }
  });
  d.addEventListener("click", function (e) {
    var c = e.target.closest(".listen");
    if (c) e.preventDefault(), play(c);
  });
  d.addEventListener("keydown", function (e) {
    var c = e.target;
    if (c.classList.contains("listen") && /^( |Enter)$/.test(e.key)) e.preventDefault(), play(c);
  });
  A.onended = stop;
  addEventListener("pagehide", stop);  // quick exit included
})(document, window.speechSynthesis);
