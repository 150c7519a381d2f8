/* 善治 grid map: draws the grids of the user's jurisdiction with ECharts (no tile server),
   coloured by township, and answers "which grid is this point in?" from a click or the form. */
(function () {
  "use strict";
  var configEl = document.getElementById("grid-map-config");
  var mapEl = document.getElementById("grid-map");
  if (!configEl || !mapEl || typeof echarts === "undefined") { return; }
  var cfg = JSON.parse(configEl.textContent);
  var chart = echarts.init(mapEl, null, { renderer: "canvas" });
  var byCode = {};

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function tooltip(params) {
    var p = byCode[params.name];
    if (!p) { return ""; }
    return "<strong>" + esc(p.name) + "</strong>(" + esc(p.code) + ")<br>" +
      "村/社区:" + esc(p.village) + "<br>乡镇/街道:" + esc(p.township) + "<br>网格员:" + esc(p.workers) + " 人";
  }

  function draw(collection) {
    collection.features.forEach(function (f) { byCode[f.properties.code] = f.properties; });
    if (!collection.features.length) {
      chart.hideLoading();
      mapEl.textContent = "本辖区尚未划分网格。";
      return;
    }
    echarts.registerMap("shanzhi-grids", collection);
    var lats = collection.features.map(function (f) { return f.properties.centroid[1]; });
    var midLat = (Math.min.apply(null, lats) + Math.max.apply(null, lats)) / 2;
    var data = collection.features.map(function (f) {
      var colour = cfg.colours[f.properties.township_code] || "#999999";
      return { name: f.properties.code, value: f.properties.workers, itemStyle: { areaColor: colour } };
    });
    chart.hideLoading();
    chart.setOption({
      tooltip: { trigger: "item", formatter: tooltip, confine: true },
      series: [{
        type: "map", map: "shanzhi-grids", nameProperty: "code", roam: true, selectedMode: "single",
        aspectScale: Math.cos(midLat * Math.PI / 180), data: data,
        label: { show: false }, itemStyle: { borderColor: "#ffffff", borderWidth: 0.6 },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffd54f" } },
        select: { label: { show: false }, itemStyle: { areaColor: "#b3261e" } }
      }]
    });
    if (cfg.highlight) { select(cfg.highlight); }
  }

  function select(code) {
    chart.dispatchAction({ type: "unselect", seriesIndex: 0, name: Object.keys(byCode) });
    if (code && byCode[code]) { chart.dispatchAction({ type: "select", seriesIndex: 0, name: code }); }
  }

  function load(url) {
    chart.showLoading({ text: "正在加载网格…" });
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(draw)
      .catch(function () { chart.hideLoading(); mapEl.textContent = "网格数据加载失败,请刷新页面重试。"; });
  }

  // Point → grid without leaving the page; the form still works as a plain GET without script.
  var form = document.getElementById("locate-form");
  var result = document.getElementById("locate-result");

  function show(body) {
    if (body.inside && body.grid) {
      var link = cfg.detailUrl.replace("CODE", encodeURIComponent(body.grid.code));
      result.innerHTML = '<dl class="located"><dt>网格</dt><dd><a href="' + esc(link) + '">' + esc(body.grid.name) +
        "</a> <code>" + esc(body.grid.code) + "</code></dd><dt>村/社区</dt><dd>" + esc(body.village.name) +
        "</dd><dt>乡镇/街道</dt><dd>" + esc(body.township ? body.township.name : "") + "</dd></dl>";
      select(body.grid.code);
    } else if (body.inside) {
      result.innerHTML = "<p>" + esc(body.message) + (body.village ? ":" + esc(body.village.name) : "") + "</p>";
      select(null);
    } else {
      result.innerHTML = '<p class="error">' + esc(body.message) + "</p>";
      select(null);
    }
  }

  function locate() {
    var params = new URLSearchParams(new FormData(form));
    fetch(cfg.locateUrl + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.inside === undefined) {
          result.innerHTML = '<p class="error">' + esc(body.message || "查询失败") + "</p>";
        } else { show(body); }
      })
      .catch(function () { result.innerHTML = '<p class="error">查询失败,请稍后重试。</p>'; });
  }

  if (form && cfg.locateUrl) {
    form.addEventListener("submit", function (event) { event.preventDefault(); locate(); });
    chart.getZr().on("click", function (event) {
      var point = chart.convertFromPixel({ seriesIndex: 0 }, [event.offsetX, event.offsetY]);
      if (!point || !isFinite(point[0]) || !isFinite(point[1])) { return; }
      form.elements.lon.value = point[0].toFixed(6);
      form.elements.lat.value = point[1].toFixed(6);
      form.elements.crs.value = "wgs84";
      locate();
    });
  }

  window.addEventListener("resize", function () { chart.resize(); });
  load(cfg.featuresUrl);
})();
