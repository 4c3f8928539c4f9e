/* Grid pages: the small map of a unit (its outline, its children as shapes or points) and the
   chart of vulnerable groups on the home page. Data from <script type="application/json"> blocks;
   names are drawn as text (rx.label, rx.axisTip). */
(function () {
  "use strict";

  function unitMap() {
    var node = document.getElementById("unitmap"), d = rx.data("unitmap-data");
    if (!node || !d || !window.L || node.getAttribute("data-loaded")) { return; }
    node.setAttribute("data-loaded", "1");
    var m = L.map(node, {attributionControl: false, scrollWheelZoom: false, zoomSnap: 0.25});
    var layers = [];
    var permanent = d.children.length <= 12;
    if (d.geometry) {
      layers.push(L.geoJSON(d.geometry, {style: {color: "#1d5fa8", weight: 2, fillOpacity: 0.05, dashArray: "6 4"},
                                         interactive: false}));
    }
    d.children.forEach(function (c) {
      var shape = c.geometry
        ? L.geoJSON(c.geometry, {style: {color: "#a61b29", weight: 1.5, fillColor: "#e0464f", fillOpacity: 0.25}})
        : L.circleMarker([c.lat, c.lon], {radius: 7, color: "#a61b29", weight: 2, fillColor: "#e0464f", fillOpacity: 0.85});
      shape.bindTooltip(rx.label(c.name), {permanent: permanent, direction: c.geometry ? "center" : "top",
                                           className: "map-label"});
      shape.on("click", function () { window.location.href = c.url; });
      layers.push(shape);
    });
    // The view is set before any layer is added: Leaflet cannot draw a path on a map without one.
    var group = L.featureGroup(layers);
    var b = group.getBounds();
    if (!b.isValid()) { return; }
    if (b.getNorthEast().equals(b.getSouthWest())) { m.setView(b.getCenter(), 17); }
    else { m.fitBounds(b, {padding: [28, 28], maxZoom: 18}); }
    group.addTo(m);
    L.control.scale({imperial: false}).addTo(m);
  }

  function tagChart() {
    var node = document.getElementById("tag-chart"), d = rx.data("tag-chart-data");
    if (!node || !d || !window.echarts) { return; }
    var chart = echarts.init(node);
    chart.setOption({
      textStyle: {fontFamily: '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'},
      grid: {left: 8, right: 16, top: 16, bottom: 8, containLabel: true},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, formatter: rx.axisTip()},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", data: d.labels, inverse: true, axisTick: {show: false}},
      series: [{type: "bar", data: d.values, barMaxWidth: 22, itemStyle: {color: "#1d5fa8", borderRadius: [0, 3, 3, 0]},
                label: {show: true, position: "right"}}]
    });
    chart.on("click", function (p) { window.location.href = "/residents?tag=" + encodeURIComponent(d.tags[p.dataIndex]); });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // Loaded at the end of the page, or inside it just after the map's node: draw now if it is there.
  function start() { unitMap(); tagChart(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
