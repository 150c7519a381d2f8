/* 善治 cockpit: each panel fetches its JSON from /api/v1/cockpit/<panel> and draws it with ECharts;
   the hotspot map reuses the grid map's GeoJSON. Row panels also get a small table below the chart,
   so the figures are readable without the picture. */
(function () {
  "use strict";
  var configEl = document.getElementById("cockpit-config");
  if (!configEl) { return; }
  var cfg = JSON.parse(configEl.textContent);
  var labels = cfg.labels || {};
  var words = cfg.words || {};  // codes shown as words, e.g. place_kind grid → 网格
  var charts = [];
  var PALETTE = ["#1d4f91", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#0072b2",
    "#999999", "#882255", "#44aa99", "#117733", "#332288", "#ddcc77"];

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function isRate(key) { return key === "share" || /_rate$|_share$/.test(key); }
  function fmt(key, v) {
    if (v === null || v === undefined) { return "—"; }
    if (words[key] && typeof v === "string" && words[key][v]) { return esc(words[key][v]); }
    if (typeof v === "number") {
      if (isRate(key)) { return (v * 100).toFixed(1) + "%"; }
      if (/_hours$/.test(key)) { return v.toFixed(1); }
      if (key === "lon" || key === "lat") { return v.toFixed(4); }
      return v.toLocaleString("zh-CN");
    }
    if (typeof v === "object") { return esc(v.name || v.code || ""); }
    return esc(v);
  }
  function label(key) { return labels[key] || key; }
  function rowsOf(data, key) {
    var rows = data[key || "rows"];
    return Array.isArray(rows) ? rows : [];
  }
  function nameOf(row) {
    if (!row) { return ""; }
    var n = row.name || row.label || row.code || "";
    return typeof n === "object" ? (n.name || n.code || "") : n;
  }
  function table(el, rows, skip) {
    if (!el) { return; }
    if (!rows.length) { el.innerHTML = '<p class="muted">所选范围内没有数据。</p>'; return; }
    var keys = [];
    rows.forEach(function (r) {
      Object.keys(r).forEach(function (k) {
        var v = r[k];
        if (keys.indexOf(k) < 0 && (skip || []).indexOf(k) < 0 && !Array.isArray(v)) { keys.push(k); }
      });
    });
    var html = "<table><thead><tr>" + keys.map(function (k) { return '<th scope="col">' + esc(label(k)) + "</th>"; }).join("") +
      "</tr></thead><tbody>" + rows.map(function (r) {
        return "<tr>" + keys.map(function (k) { return "<td>" + fmt(k, r[k]) + "</td>"; }).join("") + "</tr>";
      }).join("") + "</tbody></table>";
    el.innerHTML = html;
  }
  function chartFor(el) {
    var chart = echarts.init(el, null, { renderer: "canvas" });
    charts.push(chart);
    return chart;
  }
  // Above the plot, two bands: the legend, one scrolling row from the top (about 25 px), then the
  // axis names ("件", "%"), which ECharts draws nameGap above the axis end, i.e. 12 px of text
  // ending at grid.top - AXIS_NAME_GAP. With the legend and the names in the same row the names
  // sat on the first legend entry, worst at 360 px where the legend spans the whole width.
  var LEGEND = { type: "scroll", top: 0, left: 8, right: 8 };
  var AXIS_NAME_GAP = 8;
  var PLOT_TOP = 54;
  // Axis numbers the Chinese way (3万, not 30,000) and never drawn over each other on a phone.
  function compact(v) { return Math.abs(v) >= 10000 ? (v / 10000).toLocaleString("zh-CN", { maximumFractionDigits: 1 }) + "万" : v.toLocaleString("zh-CN"); }
  var NUMBER_LABELS = { formatter: compact, hideOverlap: true };
  function valueAxis(name, extra) {
    var axis = { type: "value", name: name, nameGap: AXIS_NAME_GAP, axisLabel: NUMBER_LABELS };
    Object.keys(extra || {}).forEach(function (k) { axis[k] = extra[k]; });
    return axis;
  }
  function empty(el, message) {
    el.innerHTML = '<p class="empty">' + esc(message || "所选范围内没有数据。") + "</p>";
    el.style.height = "auto";
  }

  function stacked(el, axis, series) {
    if (!axis.length) { return empty(el); }
    chartFor(el).setOption({
      color: PALETTE,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      legend: LEGEND,
      grid: { left: 40, right: 12, top: PLOT_TOP, bottom: 48 },
      xAxis: { type: "category", data: axis },
      yAxis: valueAxis("件"),
      dataZoom: axis.length > 45 ? [{ type: "slider", height: 16, bottom: 4 }] : [],
      series: series.map(function (s) {
        return { name: s.group || s.name || s.code, type: "bar", stack: "all", data: s.values || [], emphasis: { focus: "series" } };
      })
    });
  }

  var draw = {
    intake_daily: function (el, data) { stacked(el, data.days || [], data.series || []); },
    intake_monthly: function (el, data) { stacked(el, data.months || [], data.series || []); },
    category_shares: function (el, data, tableEl) {
      var rows = rowsOf(data);
      if (!rows.length) { return empty(el); }
      var groups = {};
      rows.forEach(function (r) { groups[r.group] = (groups[r.group] || 0) + (r.count || 0); });
      chartFor(el).setOption({
        color: PALETTE,
        tooltip: { trigger: "item", formatter: "{b}:{c} 件({d}%)", confine: true },
        series: [
          { name: "大类", type: "pie", radius: [0, "38%"], label: { position: "inner", fontSize: 11 },
            data: Object.keys(groups).map(function (g) { return { name: g, value: groups[g] }; }) },
          { name: "类别", type: "pie", radius: ["48%", "70%"], label: { fontSize: 10 },
            data: rows.map(function (r) { return { name: r.name, value: r.count }; }) }
        ]
      });
      table(tableEl, rows);
    },
    hotspots: function (el, data, tableEl) { hotspotMap(el, data, tableEl); },
    handler_ranking: function (el, data, tableEl) { ranking(el, rowsOf(data), tableEl, ["overdue", "dispatched"]); },
    township_ranking: function (el, data, tableEl) { ranking(el, rowsOf(data), tableEl, ["intake", "received", "overdue"]); },
    repeat_complaints: function (el, data, tableEl) {
      var rows = rowsOf(data);
      el.style.display = "none";
      if (tableEl) { tableEl.style.maxHeight = "360px"; }
      table(tableEl, rows);
      if (tableEl && data.total > rows.length) {
        // The page lists the worst few hundred; the Excel export (the panel's 导出 link) has them all.
        var note = document.createElement("p");
        note.className = "muted repeat-note";
        note.textContent = "共 " + data.total.toLocaleString("zh-CN") + " 处重复诉求,按30天内最多件数列出前 " +
          rows.length + " 处;完整列表请导出 Excel。";
        tableEl.parentNode.insertBefore(note, tableEl);
      }
    },
    seasonal: function (el, data) {
      var months = data.months || [];
      if (!months.length) { return empty(el); }
      var year = data.year;
      chartFor(el).setOption({
        color: ["#1d4f91", "#e69f00"],
        tooltip: { trigger: "axis", confine: true },
        legend: LEGEND,
        grid: { left: 40, right: 12, top: PLOT_TOP, bottom: 30 },
        xAxis: { type: "category", data: months.map(function (m) { return typeof m === "number" ? m + "月" : m; }) },
        yAxis: valueAxis("件"),
        series: [
          { name: year ? year + "年" : "今年", type: "line", smooth: true, data: data.this_year || [] },
          { name: year ? (year - 1) + "年" : "去年", type: "line", smooth: true, lineStyle: { type: "dashed" }, data: data.last_year || [] }
        ]
      });
    },
    seed_focus: function (el, data, tableEl) {
      var months = data.months || [];
      if (!months.length) { return empty(el); }
      var series = (data.series || []).map(function (s) {
        var values = s.shares || s.values || [];
        return { name: (s.label || s.group || s.name) + "占比", type: "line", yAxisIndex: 1, data: values.map(function (v) { return v == null ? null : Math.round(v * 1000) / 10; }) };
      });
      chartFor(el).setOption({
        color: PALETTE,
        tooltip: { trigger: "axis", confine: true },
        legend: LEGEND,
        grid: { left: 44, right: 44, top: PLOT_TOP, bottom: 30 },
        xAxis: { type: "category", data: months },
        yAxis: [valueAxis("件"), valueAxis("%", { max: 100, splitLine: { show: false } })],
        series: [{ name: "月度总量", type: "bar", data: data.totals || [], itemStyle: { color: "#c9d6ea" } }].concat(series)
      });
    }
  };

  function ranking(el, rows, tableEl, keys) {
    if (!rows.length) { table(tableEl, rows); return empty(el); }
    var key = keys.filter(function (k) { return rows[0][k] !== undefined; })[0] || "count";
    var top = rows.slice().sort(function (a, b) { return (b[key] || 0) - (a[key] || 0); }).slice(0, 15).reverse();
    chartFor(el).setOption({
      color: [key === "overdue" ? "#b3261e" : "#1d4f91"],
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      grid: { left: 130, right: 24, top: 10, bottom: 24 },
      xAxis: { type: "value", name: label(key), axisLabel: NUMBER_LABELS },
      yAxis: { type: "category", data: top.map(nameOf), axisLabel: { width: 120, overflow: "truncate" } },
      series: [{ name: label(key), type: "bar", data: top.map(function (r) { return r[key] || 0; }) }]
    });
    table(tableEl, rows);
  }

  var hotspot = { chart: null, data: null, metric: "intake" };
  function hotspotMap(el, data, tableEl) {
    hotspot.data = data;
    var grids = rowsOf(data, "grids");
    table(tableEl, grids.filter(function (g) { return (g.intake || 0) + (g.overdue || 0) > 0; })
      .sort(function (a, b) { return (b.intake || 0) - (a.intake || 0); }).slice(0, 30), ["lon", "lat", "centroid"]);
    if (!cfg.grids) { return empty(el, "没有网格数据。"); }
    fetch(cfg.grids, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (collection) {
        if (!collection.features || !collection.features.length) { return empty(el, "本辖区尚未划分网格。"); }
        echarts.registerMap("cockpit-grids", collection);
        var lats = collection.features.map(function (f) { return f.properties.centroid[1]; });
        hotspot.midLat = (Math.min.apply(null, lats) + Math.max.apply(null, lats)) / 2;
        hotspot.chart = chartFor(el);
        hotspot.names = {};
        collection.features.forEach(function (f) { hotspot.names[f.properties.code] = f.properties; });
        paintHotspots();
      })
      .catch(function () { empty(el, "网格数据加载失败,请刷新页面重试。"); });
  }
  function paintHotspots() {
    if (!hotspot.chart) { return; }
    var metric = hotspot.metric;
    var values = {};
    rowsOf(hotspot.data, "grids").forEach(function (g) { values[g.code] = g[metric] || 0; });
    var data = Object.keys(hotspot.names).map(function (code) { return { name: code, value: values[code] || 0 }; });
    var max = Math.max.apply(null, data.map(function (d) { return d.value; }).concat([1]));
    hotspot.chart.setOption({
      tooltip: {
        trigger: "item", confine: true,
        formatter: function (p) {
          var g = hotspot.names[p.name] || {};
          return "<strong>" + esc(g.name) + "</strong><br>" + esc(g.township) + " " + esc(g.village) + "<br>" +
            (metric === "overdue" ? "超期:" : "受理:") + esc(p.value) + " 件";
        }
      },
      visualMap: { min: 0, max: max, left: 8, bottom: 8, text: [metric === "overdue" ? "超期多" : "受理多", "少"],
        calculable: true, inRange: { color: metric === "overdue" ? ["#fff5f0", "#fcae91", "#b3261e"] : ["#f0f5fb", "#9ecae1", "#1d4f91"] } },
      series: [{ type: "map", map: "cockpit-grids", nameProperty: "code", roam: true, aspectScale: Math.cos(hotspot.midLat * Math.PI / 180),
        data: data, label: { show: false }, itemStyle: { borderColor: "#ffffff", borderWidth: 0.5 },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffd54f" } } }]
    }, true);
  }
  document.querySelectorAll(".panel-hotspots [data-metric]").forEach(function (button) {
    button.addEventListener("click", function () {
      hotspot.metric = button.getAttribute("data-metric");
      document.querySelectorAll(".panel-hotspots [data-metric]").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      paintHotspots();
    });
  });

  function load(el) {
    var name = el.getAttribute("data-panel");
    var url = cfg.panels[name];
    var tableEl = document.getElementById("table-" + name);
    if (!url || !draw[name]) { return; }
    el.textContent = "正在加载…";
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) { if (!r.ok) { throw new Error(body.message || r.status); } return body; });
      })
      .then(function (data) { el.textContent = ""; draw[name](el, data, tableEl); el.setAttribute("data-loaded", "1"); })
      .catch(function (err) { empty(el, "加载失败:" + (err && err.message ? err.message : "请刷新页面重试")); });
  }

  if (typeof echarts === "undefined") { return; }
  document.querySelectorAll("[data-panel]").forEach(load);

  // The cascade: a new township empties the grid list too (htmx refills the villages).
  var township = document.getElementById("f-township");
  var grid = document.getElementById("f-grid");
  if (township && grid) {
    township.addEventListener("change", function () { grid.innerHTML = '<option value="">全部网格</option>'; });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
