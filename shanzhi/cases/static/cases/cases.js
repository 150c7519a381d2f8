/* 善治 case pages: pause the queue's live refresh while someone works in it, collapse a queue
   panel, select all rows, confirm a bulk dispatch, and fill a location from the browser. */
(function () {
  "use strict";

  // The queue table refreshes every 15 s unless a row is ticked or a panel is open (htmx filter).
  window.shanzhiQueueIdle = function () {
    return document.visibilityState === "visible" &&
      !document.querySelector("#queue-table .panel-row, #queue-table input[type=checkbox]:checked");
  };

  // The inbox list refreshes every 20 s unless someone is working in it: the focus is inside, a
  // form is open or has been typed in, or a refused form shows its error.
  var inboxTouched = false;
  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#inbox-list")) { inboxTouched = true; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "inbox-list") { inboxTouched = false; }
  });
  window.shanzhiInboxIdle = function () {
    var list = document.getElementById("inbox-list");
    return document.visibilityState === "visible" && !!list && !inboxTouched &&
      !list.contains(document.activeElement) &&
      !list.querySelector("details[open], .field-error, [aria-invalid=true]");
  };

  document.addEventListener("click", function (event) {
    var collapse = event.target.closest("[data-collapse]");
    if (collapse) {
      var row = collapse.closest("tr");
      var slot = document.createElement("tr");
      slot.id = row.id;
      slot.className = "panel-slot";
      slot.hidden = true;
      var opener = document.querySelector("#row-" + CSS.escape(row.id.replace(/^panel-/, "")) + " a.button");
      row.replaceWith(slot);
      if (opener) { opener.focus(); }
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-all]")) {
      var table = event.target.closest("table");
      table.querySelectorAll("tbody input[name=numbers]").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-confirm-bulk]")) { return; }
    var picked = document.querySelectorAll("input[name=numbers][form=" + form.id + "]:checked").length;
    if (!picked) {
      event.preventDefault();
      window.alert("请先勾选要批量派遣的案卷。");
    } else if (!window.confirm("按智能分拨建议立案并派遣所选的 " + picked + " 件诉求?")) {
      event.preventDefault();
    }
  });

  // A panel opened under a queue row takes the focus, so keyboard and screen-reader users land in it.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("panel-row")) {
      var heading = elt.querySelector("h3");
      if (heading) { heading.focus(); }
    }
  });

  // "Use my location": the browser's position is WGS-84, which is what the form's crs says.
  document.querySelectorAll("[data-geolocate]").forEach(function (button) {
    if (!("geolocation" in navigator)) { return; }
    button.hidden = false;
    var form = button.closest("form");
    var status = form.querySelector("[data-geo-status]");
    button.addEventListener("click", function () {
      status.textContent = "正在获取位置…";
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lon.value = pos.coords.longitude.toFixed(6);
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        status.textContent = "已获取位置(精度约 " + Math.round(pos.coords.accuracy) + " 米)。";
        button.disabled = false;
      }, function (err) {
        status.textContent = err.code === 1 ? "您没有允许获取位置,可以只填写地址。" : "暂时无法获取位置,可以只填写地址。";
        button.disabled = false;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  });

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
