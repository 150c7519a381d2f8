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

  enhance(document);
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.querySelectorAll) { enhance(event.detail.elt); }
  });
})();
