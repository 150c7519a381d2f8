/* 善治 declare form: shows the panel of the chosen area kind; on the grid map a click adds a
   polygon vertex (or sets a circle's centre) via chart.convertFromPixel. Without script, every
   panel stays visible and the fields are typed in. */
(function () {
  "use strict";
  var form = document.getElementById("declare-form");
  if (!form) { return; }
  document.documentElement.classList.add("js");
  var panels = form.querySelectorAll(".area-panel");
  var chart = null;

  function kind() {
    var checked = form.querySelector('input[name="area_kind"]:checked');
    return checked ? checked.value : "grids";
  }
  function showPanels() {
    var k = kind();
    var mapKind = k === "polygon" || k === "circle";
    panels.forEach(function (p) {
      var mine = p.getAttribute("data-kind") === k || (p.getAttribute("data-kind") === "polygon" && k === "circle");
      p.hidden = !mine;
    });
    var coords = document.getElementById("f-polygon");
    if (coords) { coords.closest("section").querySelectorAll("label[for=f-polygon], #f-polygon, #poly-undo, #poly-clear").forEach(function (el) { el.hidden = k !== "polygon"; }); }
    if (mapKind) { ensureMap(); if (chart) { chart.resize(); } }
  }
  form.querySelectorAll('input[name="area_kind"]').forEach(function (r) { r.addEventListener("change", showPanels); });

  var points = [];
  var polyField = document.getElementById("f-polygon");
  var countEl = document.getElementById("poly-count");
  try { points = polyField && polyField.value ? JSON.parse(polyField.value) : []; } catch (e) { points = []; }
  if (!Array.isArray(points)) { points = []; }
  if (points.length > 1 && points[0][0] === points[points.length - 1][0] && points[0][1] === points[points.length - 1][1]) { points.pop(); }

  function lonField() { return document.getElementById("f-lon"); }
  function latField() { return document.getElementById("f-lat"); }

  function redraw() {
    if (polyField) { polyField.value = points.length ? JSON.stringify(points) : ""; }
    if (countEl) { countEl.textContent = points.length ? "已选 " + points.length + " 个顶点" : ""; }
    if (!chart) { return; }
    var ring = points.length > 2 ? points.concat([points[0]]) : points;
    var centre = [];
    var lon = parseFloat(lonField().value), lat = parseFloat(latField().value);
    if (kind() === "circle" && isFinite(lon) && isFinite(lat)) { centre = [[lon, lat]]; }
    chart.setOption({ series: [
      { id: "verts", data: kind() === "polygon" ? points : centre },
      { id: "ring", data: kind() === "polygon" && ring.length > 1 ? [{ coords: ring }] : [] }
    ] });
  }

  function ensureMap() {
    if (chart || typeof echarts === "undefined") { return; }
    var el = document.getElementById("declare-map");
    var cfgEl = document.getElementById("declare-map-config");
    if (!el || !cfgEl) { return; }
    var cfg = JSON.parse(cfgEl.textContent);
    chart = echarts.init(el, null, { renderer: "canvas" });
    chart.showLoading({ text: "正在加载网格…" });
    fetch(cfg.featuresUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (fc) {
        chart.hideLoading();
        if (!fc.features.length) { el.textContent = "本辖区尚未划分网格。"; chart = null; return; }
        echarts.registerMap("declare-grids", fc);
        var lats = fc.features.map(function (f) { return f.properties.centroid[1]; });
        var midLat = (Math.min.apply(null, lats) + Math.max.apply(null, lats)) / 2;
        chart.setOption({
          tooltip: { trigger: "item", formatter: function (p) { return p.componentType === "geo" ? p.name : ""; } },
          geo: { map: "declare-grids", nameProperty: "code", roam: true, aspectScale: Math.cos(midLat * Math.PI / 180),
            itemStyle: { areaColor: "#e8edf2", borderColor: "#8a949e", borderWidth: 0.5 },
            emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffe9a8" } }, label: { show: false } },
          series: [
            { id: "verts", type: "scatter", coordinateSystem: "geo", symbolSize: 9, itemStyle: { color: "#b3261e" }, data: [] },
            { id: "ring", type: "lines", coordinateSystem: "geo", polyline: true, lineStyle: { color: "#b3261e", width: 2 }, data: [] }
          ]
        });
        redraw();
      })
      .catch(function () { chart.hideLoading(); el.textContent = "网格数据加载失败,可直接输入坐标。"; });
    chart.getZr().on("click", function (event) {
      var p = chart.convertFromPixel({ geoIndex: 0 }, [event.offsetX, event.offsetY]);
      if (!p || !isFinite(p[0]) || !isFinite(p[1])) { return; }
      var pt = [Number(p[0].toFixed(6)), Number(p[1].toFixed(6))];
      if (kind() === "circle") {
        lonField().value = pt[0]; latField().value = pt[1];
      } else {
        points.push(pt);
      }
      redraw();
    });
    window.addEventListener("resize", function () { if (chart) { chart.resize(); } });
  }

  var undo = document.getElementById("poly-undo");
  var clear = document.getElementById("poly-clear");
  if (undo) { undo.addEventListener("click", function () { points.pop(); redraw(); }); }
  if (clear) { clear.addEventListener("click", function () { points = []; redraw(); }); }
  if (polyField) {
    polyField.addEventListener("change", function () {
      try { var v = JSON.parse(polyField.value); if (Array.isArray(v)) { points = v; redraw(); } } catch (e) { /* the server explains */ }
    });
  }
  window.addEventListener("DOMContentLoaded", showPanels);
  if (document.readyState !== "loading") { showPanels(); }
})();
