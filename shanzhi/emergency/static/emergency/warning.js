/* 善治 warning map: the warning's area (red outline) over the grids it reaches (blue). No tiles:
   both layers are GeoJSON drawn by ECharts; the tables beside the map carry the same data. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("warning-map-config");
  var el = document.getElementById("warning-map");
  if (!cfgEl || !el || typeof echarts === "undefined") { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var area = (cfg.area && cfg.area.features) ? cfg.area.features.filter(function (f) { return f.geometry; }) : [];
  var grids = cfg.grids.features;
  if (!area.length && !grids.length) { el.textContent = "没有可绘制的范围。"; return; }
  var features = [];
  grids.forEach(function (f) {
    features.push({ type: "Feature", geometry: f.geometry, properties: { name: "g:" + f.properties.code, label: f.properties.name } });
  });
  area.forEach(function (f, i) {
    features.push({ type: "Feature", geometry: f.geometry, properties: { name: "a:" + i, label: "预警范围" } });
  });
  echarts.registerMap("warning-area", { type: "FeatureCollection", features: features });
  var lats = [];
  features.forEach(function (f) {
    JSON.stringify(f.geometry.coordinates).replace(/\[(-?[\d.]+),(-?[\d.]+)\]/g, function (_, x, y) { lats.push(+y); return ""; });
  });
  var midLat = lats.length ? (Math.min.apply(null, lats) + Math.max.apply(null, lats)) / 2 : 0;
  var labels = {};
  features.forEach(function (f) { labels[f.properties.name] = f.properties.label; });
  var data = features.map(function (f) {
    var isArea = f.properties.name.indexOf("a:") === 0;
    return { name: f.properties.name, itemStyle: isArea
      ? { areaColor: "rgba(179,38,30,0.12)", borderColor: "#b3261e", borderWidth: 2 }
      : { areaColor: "#9cc3ef", borderColor: "#ffffff", borderWidth: 0.8 } };
  });
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    tooltip: { trigger: "item", confine: true, formatter: function (p) { return labels[p.name] || p.name; } },
    series: [{ type: "map", map: "warning-area", roam: true, aspectScale: Math.cos(midLat * Math.PI / 180),
      label: { show: false }, emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffd54f" } }, data: data }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
