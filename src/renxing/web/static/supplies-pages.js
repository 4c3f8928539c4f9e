/* The cloud warehouse's pages: days of autonomy per item (ECharts bars, the binding item in red),
   the storage points map and an allocation run's map (Leaflet, lines from point to shelter).
   Data comes from <script type="application/json"> blocks (rx.data); names are stored text, so
   tooltips and popups are DOM nodes filled with text (rx.el, rx.label), and ECharts tooltips go
   through rx.esc. */
(function () {
  "use strict";

  var font = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var el = rx.el, label = rx.label;
  var KIND_COLOURS = {community_store: "#1d5fa8", partner_site: "#8e44ad", shelter_store: "#1e7b45",
                      household_kits: "#b7950b"};

  // ---- days per item ---------------------------------------------------------------------------

  function daysChart(id, data, t) {
    var node = document.getElementById(id);
    if (!node || !window.echarts || !data || !data.names.length) { return; }
    var chart = echarts.init(node, null, {renderer: "svg"});
    window.addEventListener("resize", function () { chart.resize(); });
    // Top to bottom in the order given (the binding item first): ECharts draws categories bottom-up.
    var names = data.names.slice().reverse(), days = data.days.slice().reverse();
    var labels = data.labels.slice().reverse(), binding = data.binding.slice().reverse();
    chart.setOption({
      textStyle: {fontFamily: font},
      grid: {left: 8, right: 56, top: 8, bottom: 24, containLabel: true},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, formatter: function (params) {
        var p = params[0];
        return rx.esc(p.name) + "<br>" + p.marker + "<b>" + rx.esc(labels[p.dataIndex]) + " " + rx.esc(t.days) + "</b>";
      }},
      xAxis: {type: "value", max: data.cap || null, axisLabel: {fontSize: 11}},
      yAxis: {type: "category", data: names, axisLabel: {fontSize: 12, width: 96, overflow: "truncate"}},
      series: [{
        type: "bar", barMaxWidth: 18,
        data: days.map(function (v, i) {
          return {value: data.cap ? Math.min(v, data.cap) : v,
                  itemStyle: {color: binding[i] ? "#c0392b" : "#3b7dd8"}};
        }),
        label: {show: true, position: "right", fontSize: 11,
                formatter: function (p) { return labels[p.dataIndex] + (data.cap && days[p.dataIndex] > data.cap ? " ›" : ""); }}
      }]
    });
  }

  // ---- maps ------------------------------------------------------------------------------------

  function baseMap(node) {
    var m = L.map(node, {attributionControl: false, zoomSnap: 0.25});
    L.control.scale({imperial: false}).addTo(m);
    return m;
  }

  function fit(m, group) {
    if (group.getLayers().length) { m.fitBounds(group.getBounds().pad(0.2), {maxZoom: 17}); }
    else { m.setView([32.06, 118.79], 15); }
  }

  function popupTable(title, rows) {
    var table = el("table", {"class": "sx-popup-table"});
    rows.forEach(function (r) { table.appendChild(el("tr", null, [el("th", null, r[0]), el("td", null, r[1])])); });
    return el("div", {"class": "sx-popup"}, [el("b", null, title), table]);
  }

  // A point's popup: what it is, then its stock, read from the JSON API when the popup opens.
  function pointPopup(p, t) {
    var rows = [[t.kind, p.kind_label]];
    if (p.address) { rows.push([t.address, p.address]); }
    if (p.access_hours) { rows.push([t.hours, p.access_hours]); }
    var box = popupTable(p.name, rows);
    var list = el("ul", {"class": "sx-popup-stock"}, el("li", {"class": "muted"}, t.loading));
    box.appendChild(list);
    box.appendChild(el("a", {href: "/supplies/points/" + p.id}, t.open));
    return {node: box, list: list, loaded: false};
  }

  function fillStock(popup, p, t) {
    if (popup.loaded) { return; }
    popup.loaded = true;
    rx.api("/api/v1/supplies/points/" + p.id + "/stock")
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        while (popup.list.firstChild) { popup.list.removeChild(popup.list.firstChild); }
        var held = d ? d.items.filter(function (v) { return v.quantity > 0; }) : [];
        if (!held.length) { popup.list.appendChild(el("li", {"class": "muted"}, t.none)); return; }
        held.slice(0, 6).forEach(function (v) {
          var li = el("li", null, v.name + " " + v.quantity + " " + v.unit);
          if (v.expired) { li.appendChild(el("span", {"class": "badge sx-expired"}, t.expired + " " + v.expired)); }
          popup.list.appendChild(li);
        });
        if (held.length > 6) { popup.list.appendChild(el("li", {"class": "muted"}, t.more.replace("{n}", held.length))); }
      })
      .catch(function () { popup.loaded = false; });
  }

  function pointsMap(cfg) {
    var node = document.getElementById("points-map");
    if (!node || !window.L) { return; }
    var m = baseMap(node), group = L.featureGroup().addTo(m);
    cfg.points.forEach(function (p) {
      var colour = KIND_COLOURS[p.kind] || "#566573";
      var mk = L.circleMarker([p.lat, p.lon], {radius: 8, weight: 2, color: "#fff", fillColor: colour, fillOpacity: 0.95});
      var popup = pointPopup(p, cfg.t);
      mk.bindTooltip(label(p.name));
      mk.bindPopup(popup.node, {maxWidth: 260});
      mk.on("popupopen", function () { fillStock(popup, p, cfg.t); });
      mk.addTo(group);
    });
    fit(m, group);
  }

  function runMap(cfg) {
    var node = document.getElementById("run-map");
    if (!node || !window.L) { return; }
    var m = baseMap(node), group = L.featureGroup().addTo(m);
    var points = {}, shelters = {};
    cfg.points.forEach(function (p) { points[p.id] = p; });
    cfg.shelters.forEach(function (s) { shelters[s.id] = s; });
    var most = Math.max.apply(null, [1].concat(cfg.lines.map(function (l) { return l.quantity; })));
    cfg.lines.forEach(function (l) {
      var a = points[l.from], b = shelters[l.to];
      var line = L.polyline([[a.lat, a.lon], [b.lat, b.lon]],
                            {color: "#c0392b", weight: 2 + 5 * l.quantity / most, opacity: 0.7});
      line.bindTooltip(label(a.name + " → " + b.name + " · " + l.quantity + " " + cfg.t.units));
      line.addTo(group);
    });
    cfg.points.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], {radius: 7, weight: 2, color: "#fff",
                                      fillColor: KIND_COLOURS[p.kind] || "#1d5fa8", fillOpacity: 0.95})
        .bindTooltip(label(cfg.t.point + " · " + p.name)).addTo(group);
    });
    cfg.shelters.forEach(function (s) {
      L.marker([s.lat, s.lon], {icon: L.divIcon({className: "sx-shelter-icon", html: el("span", null, "▲"),
                                                 iconSize: [20, 20], iconAnchor: [10, 10]}),
                                 zIndexOffset: 1000})
        .bindTooltip(label(cfg.t.shelter + " · " + s.name)).addTo(group);
    });
    fit(m, group);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var d = rx.data("supplies-days-data");
    if (d) {
      daysChart("chart-days", d.chart, d.t);
      daysChart("chart-scenario", d.scenario, d.t);
    }
    var pm = rx.data("supplies-points-map");
    if (pm) { pointsMap(pm); }
    var rm = rx.data("supplies-run-map");
    if (rm) { runMap(rm); }
  });
})();
