/* 善治 elder mode (长辈模式) and read-aloud. Loaded in <head> without defer so a choice kept only in
   localStorage (the cookie expired or was cleared) is applied before the first paint. The server
   renders <html class="elder"> from the cookie; the switch writes both. */
(function () {
  "use strict";
  var KEY = "shanzhi_elder";
  var root = document.documentElement;

  function stored() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function remember(on) {
    try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
    document.cookie = KEY + "=" + (on ? "1" : "0") + "; path=/; max-age=" + (on ? 31536000 : 0) + "; samesite=lax";
  }

  // The cookie wins when present (the server already rendered it); otherwise localStorage.
  if (document.cookie.indexOf(KEY + "=1") === -1 && stored() === "1") {
    root.classList.add("elder");
    remember(true);
  }

  function setElder(on) {
    root.classList.toggle("elder", on);
    remember(on);
    document.querySelectorAll("[data-elder-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      var form = button.form;
      if (form && form.elements.on) { form.elements.on.value = on ? "0" : "1"; }
    });
    if (!on) { stopReading(); }
    if (window.shanzhiToast) { window.shanzhiToast(on ? "已切换到长辈模式:大字、高对比,可朗读本页。" : "已切换到标准模式。"); }
  }

  // With JavaScript the switch flips at once; without it, the form posts to /elder/.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-elder-toggle]");
    if (!button) { return; }
    event.preventDefault();
    setElder(!root.classList.contains("elder"));
  });

  // Read-aloud: the page's own text, `[data-read-aloud]` when a page marks it, else <main>.
  var synth = window.speechSynthesis;
  var reading = false;

  function readableText() {
    var source = document.querySelector("[data-read-aloud]") || document.getElementById("main");
    if (!source) { return ""; }
    var copy = source.cloneNode(true);
    copy.querySelectorAll("script, style, template, [hidden], [aria-hidden=true], [data-no-read], .visually-hidden, input, select, textarea")
      .forEach(function (node) { node.remove(); });
    return (copy.innerText || copy.textContent || "").replace(/\s+/g, " ").trim();
  }

  // Short utterances: some engines stop a long one after about 15 seconds.
  function chunks(text) {
    var parts = text.match(/[^。!?!?;;\n]+[。!?!?;;]?/g) || [];
    var out = [];
    var current = "";
    parts.forEach(function (part) {
      if ((current + part).length > 120 && current) { out.push(current); current = ""; }
      current += part;
    });
    if (current.trim()) { out.push(current); }
    return out;
  }

  function chineseVoice() {
    var voices = synth.getVoices();
    return voices.filter(function (v) { return /^zh[-_]CN/i.test(v.lang); })[0] ||
      voices.filter(function (v) { return /^zh/i.test(v.lang); })[0] || null;
  }

  function setButtons() {
    document.querySelectorAll("[data-read-aloud-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", reading ? "true" : "false");
      button.textContent = reading ? "停止朗读" : "朗读本页";
    });
  }

  function stopReading() {
    if (!synth) { return; }
    reading = false;
    synth.cancel();
    setButtons();
  }

  function startReading() {
    var list = chunks(readableText());
    if (!list.length) { return; }
    synth.cancel();
    reading = true;
    setButtons();
    var voice = chineseVoice();
    list.forEach(function (text, index) {
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = "zh-CN";
      utterance.rate = 0.9;
      if (voice) { utterance.voice = voice; }
      if (index === list.length - 1) {
        utterance.onend = function () { reading = false; setButtons(); };
      }
      synth.speak(utterance);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-read-aloud-toggle]");
    if (!button || !synth) { return; }
    if (reading) { stopReading(); } else { startReading(); }
  });

  window.addEventListener("pagehide", function () { if (synth) { synth.cancel(); } });

  document.addEventListener("DOMContentLoaded", function () {
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") { return; }
    document.querySelectorAll("[data-read-aloud-toggle]").forEach(function (button) { button.hidden = false; });
  });

  window.shanzhiElder = { set: setElder, text: readableText, chunks: chunks };
})();
