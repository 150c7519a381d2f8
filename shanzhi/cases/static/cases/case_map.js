/* 善治 case page: the case's grid and the reported point, drawn with ECharts (no tile server). */
(function () {
  "use strict";
  var configEl = document.getElementById("case-map-config");
  var mapEl = document.getElementById("case-map");
  if (!configEl || !mapEl || typeof echarts === "undefined") { return; }
  var cfg = JSON.parse(configEl.textContent);

  function latitudes(coords, out) {
    if (typeof coords[0] === "number") { out.push(coords[1]); return out; }
    coords.forEach(function (c) { latitudes(c, out); });
    return out;
  }

  var lats = latitudes(cfg.grid.geometry.coordinates, []);
  var midLat = lats.length ? (Math.min.apply(null, lats) + Math.max.apply(null, lats)) / 2 : 30;
  echarts.registerMap("case-grid", { type: "FeatureCollection", features: [cfg.grid] });
  var chart = echarts.init(mapEl, null, { renderer: "canvas" });
  chart.setOption({
    geo: {
      map: "case-grid", roam: true, aspectScale: Math.cos(midLat * Math.PI / 180),
      layoutCenter: ["50%", "50%"], layoutSize: "92%",
      itemStyle: { areaColor: "#e8f1fb", borderColor: "#1d4f91", borderWidth: 1.5 },
      label: { show: false },
      emphasis: { disabled: true }, select: { disabled: true }, silent: true
    },
    series: cfg.point ? [{
      type: "scatter", coordinateSystem: "geo", data: [{ name: cfg.number, value: cfg.point }],
      symbolSize: 14, itemStyle: { color: "#b3261e", borderColor: "#ffffff", borderWidth: 2 },
      label: { show: true, position: "right", formatter: "诉求位置", color: "#b3261e" }
    }] : []
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
