/* 善治 main navigation: the groups of a long navigation and, on a narrow screen, the whole list
   are disclosures — a button with aria-expanded that shows or hides the list it controls. Enter or
   Space toggles (native buttons), Esc closes and gives the focus back to the button, a click or the
   focus going elsewhere closes an open group. Loaded in <head> without defer so the lists start
   closed from the first paint (html.js-nav, nav.css); without script every link is listed. */
(function () {
  "use strict";
  document.documentElement.classList.add("js-nav");

  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    var list = document.getElementById(button.getAttribute("aria-controls"));
    if (!list) { return; }
    list.classList.remove("align-end");
    if (open) {
      // A menu near the right edge opens leftwards rather than past the window.
      var box = list.getBoundingClientRect();
      if (box.right > document.documentElement.clientWidth) { list.classList.add("align-end"); }
    }
  }

  function isOpen(button) { return button.getAttribute("aria-expanded") === "true"; }

  function setUp(nav) {
    var toggle = nav.querySelector(".nav-toggle");
    var groups = Array.prototype.slice.call(nav.querySelectorAll(".nav-group-toggle"));

    function closeGroups(except) {
      groups.forEach(function (b) { if (b !== except && isOpen(b)) { setOpen(b, false); } });
    }

    if (toggle) {
      toggle.hidden = false;
      setOpen(toggle, false);
      toggle.addEventListener("click", function () {
        var open = !isOpen(toggle);
        setOpen(toggle, open);
        if (!open) { closeGroups(null); }
      });
    }

    groups.forEach(function (button) {
      setOpen(button, false);
      button.addEventListener("click", function () {
        var open = !isOpen(button);
        closeGroups(button);
        setOpen(button, open);
      });
      // A panel over the page (wide screens) closes when the focus leaves its group. In the phone
      // menu the groups open in place: closing one there would move what is under the pointer.
      var group = button.parentNode;
      var list = document.getElementById(button.getAttribute("aria-controls"));
      group.addEventListener("focusout", function (event) {
        var next = event.relatedTarget;
        if (!next || group.contains(next) || !isOpen(button)) { return; }
        if (list && window.getComputedStyle(list).position === "absolute") { setOpen(button, false); }
      });
    });

    nav.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" && event.key !== "Esc") { return; }
      var open = groups.filter(isOpen)[0];
      if (open) {
        setOpen(open, false);
        open.focus();
        event.preventDefault();
      } else if (toggle && isOpen(toggle) && toggle.offsetParent !== null) {
        setOpen(toggle, false);
        toggle.focus();
        event.preventDefault();
      }
    });

    document.addEventListener("click", function (event) {
      if (!nav.contains(event.target)) {
        closeGroups(null);
        if (toggle && isOpen(toggle)) { setOpen(toggle, false); }
      }
    });
  }

  function start() { document.querySelectorAll("[data-mainnav]").forEach(setUp); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
