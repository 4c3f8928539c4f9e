/* The sensors' pages: devices on a Leaflet map coloured by their state (offline drawn grey with a
   dashed red ring, never green), and a device's readings charted with ECharts, the thresholds of
   its rules as mark lines. Data comes from <script type="application/json"> blocks (rx.data);
   names are stored text, so popups and tooltips are DOM nodes filled with text (rx.el, rx.label)
   and ECharts tooltips go through rx.esc. */
(function () {
  "use strict";

  var el = rx.el, label = rx.label;
  var font = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var LEVEL_COLOURS = {blue: "#1d5fa8", yellow: "#b7950b", orange: "#d35400", red: "#c0392b"};

  // ---- the map of devices ------------------------------------------------------------------------

  function popup(d, t) {
    var last = d.last ? (d.value + " " + (d.measure_unit || "") + " · " + new Date(d.last).toLocaleString()) : t.never;
    var table = el("table", {"class": "sn-popup-table"}, [
      el("tr", null, [el("th", null, t.state), el("td", null, d.state_label)]),
      el("tr", null, [el("th", null, t.place), el("td", null, d.unit || "")]),
      el("tr", null, [el("th", null, t.last), el("td", null, last)])
    ]);
    return el("div", {"class": "sn-popup"}, [
      el("b", null, d.name), el("div", {"class": "muted small"}, d.code + " · " + d.kind_label), table,
      el("a", {href: "/sensors/devices/" + d.id}, t.open)
    ]);
  }

  function devicesMap(cfg) {
    var node = document.getElementById("devices-map");
    if (!node || !window.L) { return; }
    var m = L.map(node, {attributionControl: !!(cfg.basemap && cfg.basemap.url), zoomSnap: 0.25});
    if (cfg.basemap && cfg.basemap.url) {
      L.tileLayer(cfg.basemap.url, {maxZoom: 20, attribution: cfg.basemap.attribution || ""}).addTo(m);
    }
    L.control.scale({imperial: false}).addTo(m);
    var group = L.featureGroup().addTo(m);
    // Alarms and silent devices last, so they lie on top.
    var order = {normal: 0, inactive: 0, unknown: 1, offline: 2, alarm: 3};
    cfg.devices.slice().sort(function (a, b) { return (order[a.state] || 0) - (order[b.state] || 0); })
      .forEach(function (d) {
        var colour = cfg.colours[d.state] || "#566573";
        var offline = d.state === "offline";
        var mk = L.circleMarker([d.lat, d.lon], {
          radius: d.state === "alarm" || offline ? 10 : 8, weight: offline ? 3 : 2,
          color: offline ? "#c0392b" : "#fff", dashArray: offline ? "3 3" : null,
          fillColor: colour, fillOpacity: 0.95, className: "sn-marker sn-marker-" + d.state
        });
        mk.bindTooltip(label(d.name + " · " + d.state_label));
        mk.bindPopup(popup(d, cfg.t), {maxWidth: 260});
        mk.addTo(group);
      });
    if (group.getLayers().length) { m.fitBounds(group.getBounds().pad(0.25), {maxZoom: 17}); }
    else { m.setView([32.06, 118.79], 15); }
  }

  // ---- a device's readings ------------------------------------------------------------------------

  function readingsChart(cfg) {
    var node = document.getElementById("readings-chart");
    if (!node || !window.echarts) { return; }
    if (!cfg.points.length) { rx.empty(node, cfg.t.empty); return; }
    var chart = echarts.init(node, null, {renderer: "svg"});
    window.addEventListener("resize", function () { chart.resize(); });
    var unit = cfg.unit ? " " + cfg.unit : "";
    var lines = cfg.marks.map(function (mk) {
      var colour = LEVEL_COLOURS[mk.level] || "#c0392b";
      return {
        yAxis: mk.value, name: mk.name,
        lineStyle: {color: colour, type: mk.kind === "clear" ? "dotted" : "dashed", width: mk.kind === "clear" ? 1 : 2},
        label: {formatter: mk.name + " " + mk.value + unit, position: "insideEndTop", color: colour, fontSize: 11}
      };
    });
    var values = cfg.points.map(function (p) { return p[1]; }).concat(cfg.marks.map(function (mk) { return mk.value; }));
    var low = Math.min.apply(null, values), high = Math.max.apply(null, values);
    var pad = (high - low) * 0.08 || 1;
    chart.setOption({
      animation: false,  // a long series drawn at once (and screenshots see the whole of it)
      textStyle: {fontFamily: font},
      grid: {left: 8, right: 16, top: 24, bottom: 40, containLabel: true},
      tooltip: {trigger: "axis", formatter: function (params) {
        var p = params[0];
        return rx.esc(new Date(p.value[0]).toLocaleString()) + "<br>" + p.marker + "<b>" + rx.esc(p.value[1]) + rx.esc(unit) + "</b>";
      }},
      xAxis: {type: "time", axisLabel: {fontSize: 11, hideOverlap: true}},
      yAxis: {type: "value", min: Math.floor(low - pad), max: Math.ceil(high + pad), axisLabel: {fontSize: 11}},
      dataZoom: [{type: "inside"}, {type: "slider", height: 18, bottom: 8}],
      series: [{
        type: "line", name: cfg.name, showSymbol: false, sampling: "lttb", data: cfg.points,
        lineStyle: {width: 1.5, color: "#1d5fa8"}, areaStyle: {color: "rgba(29,95,168,0.08)"},
        markLine: {symbol: "none", silent: true, data: lines}
      }]
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var map = rx.data("sensors-map");
    if (map) { devicesMap(map); }
    var chart = rx.data("sensors-chart");
    if (chart) { readingsChart(chart); }
  });
})();
