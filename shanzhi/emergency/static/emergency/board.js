/* 善治 incident board map: the affected grids coloured by their task's state. The table is
   refreshed by htmx every 10 s; after each swap the colours are re-read from #board-states. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("board-map-config");
  var el = document.getElementById("board-map");
  if (!cfgEl || !el || typeof echarts === "undefined") { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var fc = cfg.features;
  if (!fc.features.length) { el.textContent = "没有涉及的网格。"; return; }
  var chart = echarts.init(el, null, { renderer: "canvas" });
  echarts.registerMap("incident-grids", fc);
  var names = {};
  fc.features.forEach(function (f) { names[f.properties.code] = f.properties.name + "(" + f.properties.village + ")"; });
  var lats = fc.features.map(function (f) { return f.properties.centroid[1]; });
  var midLat = (Math.min.apply(null, lats) + Math.max.apply(null, lats)) / 2;

  function states() {
    var s = document.getElementById("board-states");
    return s ? JSON.parse(s.textContent) : {};
  }
  function data() {
    var st = states();
    return Object.keys(names).map(function (code) {
      var state = st[code] || "open";
      return { name: code, state: state, itemStyle: { areaColor: cfg.colours[state] || "#9aa5b1" } };
    });
  }
  chart.setOption({
    tooltip: { trigger: "item", confine: true, formatter: function (p) {
      var st = states()[p.name] || "open";
      return (names[p.name] || p.name) + "<br>" + (cfg.labels[st] || st);
    } },
    series: [{ type: "map", map: "incident-grids", nameProperty: "code", roam: true,
      aspectScale: Math.cos(midLat * Math.PI / 180), label: { show: false },
      itemStyle: { borderColor: "#ffffff", borderWidth: 0.8 },
      emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffd54f" } }, data: data() }]
  });
  document.body.addEventListener("htmx:afterSwap", function () { chart.setOption({ series: [{ data: data() }] }); });
  window.addEventListener("resize", function () { chart.resize(); });
})();
