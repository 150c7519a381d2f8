/* 善治 shared page behaviour, all progressive enhancement (every page works without it):
   toast messages, confirmation of irreversible actions, sortable tables, htmx error notices. */
(function () {
  "use strict";

  // Toasts: a polite live region; errors stay until closed, the rest fade after a while
  // (but not while the pointer or the focus is on them).
  var region = document.getElementById("toasts");

  function closeButton(item) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "toast-close";
    button.setAttribute("aria-label", "关闭提示");
    button.textContent = "×";
    button.addEventListener("click", function () { item.remove(); });
    item.appendChild(button);
  }

  window.shanzhiToast = function (text, level) {
    if (!region) { return; }
    var item = document.createElement("p");
    item.className = "toast " + (level || "info");
    item.textContent = text;
    closeButton(item);
    region.appendChild(item);
    if (level !== "error") {
      var timer = window.setTimeout(function () { item.remove(); }, 6000);
      ["mouseenter", "focusin"].forEach(function (name) {
        item.addEventListener(name, function () { window.clearTimeout(timer); });
      });
    }
  };

  // The server's messages stay where they are (in the flow, role status/alert); they can be closed.
  document.querySelectorAll(".messages > li").forEach(closeButton);

  // data-confirm="…" on a form, or on the button or link that does the irreversible thing.
  function confirmed(element) {
    var text = element && element.getAttribute("data-confirm");
    return !text || window.confirm(text);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!confirmed(form) || !confirmed(event.submitter)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (link && !confirmed(link)) { event.preventDefault(); }
  });

  // htmx requests that fail say so instead of doing nothing.
  document.addEventListener("htmx:responseError", function () {
    window.shanzhiToast("操作没有成功,请稍后再试。", "error");
  });
  document.addEventListener("htmx:sendError", function () {
    window.shanzhiToast("网络连接中断,请检查网络后再试。", "error");
  });

  // table[data-sortable]: each header becomes a button; a cell's data-sort wins over its text.
  var collator = new Intl.Collator("zh-Hans-CN", { numeric: true });

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    return (cell.getAttribute("data-sort") || cell.textContent || "").trim();
  }

  function compare(a, b) {
    var x = parseFloat(a.replace(/[,,%\s]/g, ""));
    var y = parseFloat(b.replace(/[,,%\s]/g, ""));
    if (!isNaN(x) && !isNaN(y) && /^[-\d.,,%\s]+$/.test(a) && /^[-\d.,,%\s]+$/.test(b)) { return x - y; }
    return collator.compare(a, b);
  }

  function sortBy(table, th, index) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    Array.prototype.forEach.call(table.tBodies, function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (r1, r2) {
        var order = compare(cellValue(r1, index), cellValue(r2, index));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  }

  function makeSortable(table) {
    if (table.dataset.sortReady) { return; }
    table.dataset.sortReady = "1";
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    Array.prototype.forEach.call(head.cells, function (th, index) {
      if (th.hasAttribute("data-nosort") || !th.textContent.trim()) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, th, index); });
    });
  }

  function enhance(scope) {
    scope.querySelectorAll("table[data-sortable]").forEach(makeSortable);
  }

  // Live lists: a refreshed partial says how many items arrived since the last refresh
  // (data-new-count, counted by the server); announce it in the polite live region.
  function announce(elt) {
    var n = parseInt(elt.getAttribute("data-new-count") || "0", 10);
    if (n > 0) {
      window.shanzhiToast("新增 " + n + " 件" + (elt.getAttribute("data-new-label") || ""), "info");
    }
  }

  // Clocks: [data-deadline] (ISO time) ticks every 30 s without a reload. Natural-hour clocks show
  // the time left; working-hour clocks need the working calendar, so the browser only turns them
  // overdue when the deadline passes (the list's own refresh brings the exact figure).
  function span(ms) {
    var minutes = Math.round(Math.abs(ms) / 60000);
    if (minutes < 60) { return Math.max(1, minutes) + " 分钟"; }
    var hours = minutes / 60;
    if (hours >= 48) {
      var days = Math.floor(hours / 24), rest = Math.round(hours - days * 24);
      return days + " 天" + (rest ? " " + rest + " 小时" : "");
    }
    return hours.toFixed(1) + " 小时";
  }

  function tickClock(clock, now) {
    var deadline = Date.parse(clock.getAttribute("data-deadline"));
    if (isNaN(deadline)) { return; }
    var warn = Date.parse(clock.getAttribute("data-warn") || "");
    var natural = clock.getAttribute("data-unit") !== "working_hours";
    var left = deadline - now;
    var state = left < 0 ? "overdue" : (!isNaN(warn) && now >= warn ? "warn" : "ok");
    var text = clock.querySelector("[data-clock-text]") || clock;
    if (natural) {
      text.textContent = left < 0 ? "已超时 " + span(left) : "剩余 " + span(left) + (state === "warn" ? "(即将到期)" : "");
    } else if (left < 0 && clock.getAttribute("data-state") !== "overdue") {
      text.textContent = "已超时";
    } else {
      return;  // the server's working-hour figure stands until the next refresh
    }
    ["ok", "warn", "overdue"].forEach(function (name) { clock.classList.toggle(name, name === state); });
    clock.setAttribute("data-state", state);
  }

  window.shanzhiTickClocks = function (now) {
    var at = typeof now === "number" ? now : Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (clock) { tickClock(clock, at); });
  };
  window.setInterval(window.shanzhiTickClocks, 30000);

  enhance(document);
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.querySelectorAll) { return; }
    enhance(elt);
    if (elt.hasAttribute && elt.hasAttribute("data-new-count")) { announce(elt); }
  });
})();
