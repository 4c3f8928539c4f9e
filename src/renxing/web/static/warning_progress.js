/* A warning's progress page: stacked bars per building (ECharts), buildings on a map coloured by
   the share acknowledged (Leaflet), and a refresh from the JSON API every few seconds. The page is
   complete without this script; it only draws and refreshes. Names are stored text: everything
   goes in as textContent (rx.el), and ECharts tooltips go through rx.esc. The unreached list is
   read again only when the number acknowledged moved (each read of phones is audited). */
(function () {
  "use strict";

  var REFRESH_MS = 5000;
  var STATES = ["acknowledged", "delivered", "sent", "queued", "failed"];
  var COLOURS = {acknowledged: "#1e7b45", delivered: "#58a86b", sent: "#9cc7e8", queued: "#c9ced6", failed: "#d2474f"};
  var font = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var el = rx.el;

  var boot = rx.data("reach-data");
  if (!boot) { return; }
  var t = boot.labels, id = boot.warning_id, last = boot.progress;
  var chart = null, map = null, markers = null, fitted = false;

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) { return values[k] === undefined ? m : values[k]; });
  }

  function clear(node) { while (node && node.firstChild) { node.removeChild(node.firstChild); } return node; }

  function local(iso) {
    if (!iso) { return ""; }
    return new Date(iso).toLocaleString("zh-CN", {hour12: false, timeZone: "Asia/Shanghai", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"}).replace(/\//g, "-");
  }

  // ---- the gauge ----------------------------------------------------------------------------

  function totals(p) {
    var h = p.totals.households;
    document.getElementById("reach-pct").textContent = p.totals.percent.toFixed(1) + "%";
    document.getElementById("reach-count").textContent = fmt(t.count, p.totals);
    var bar = clear(document.getElementById("reach-bar"));
    STATES.forEach(function (s) {
      if (!h || !p.states[s]) { return; }
      var part = el("span", {"class": "st-" + s, title: t.states[s] + " " + p.states[s]});
      part.style.width = (100 * p.states[s] / h) + "%";
      bar.appendChild(part);
    });
    document.querySelectorAll("#reach-legend [data-state]").forEach(function (b) {
      b.textContent = String(p.states[b.getAttribute("data-state")] || 0);
    });
    var stamp = new Date().toLocaleTimeString("zh-CN", {hour12: false});
    document.getElementById("reach-updated").textContent = fmt(t.updated, {time: stamp});
  }

  function placeRows(tbodyId, places, link) {
    var body = clear(document.querySelector("#" + tbodyId + " tbody"));
    if (!body) { return; }
    places.forEach(function (b) {
      var name = link ? el("a", {href: "?building_id=" + b.id + "#unreached"}, b.name) : b.name;
      body.appendChild(el("tr", link ? {"data-building": b.id} : null, [
        el("td", null, name), el("td", {"class": "num"}, String(b.households)),
        el("td", {"class": "num"}, String(b.acknowledged)), el("td", {"class": "num"}, String(b.unreached)),
        el("td", {"class": "num"}, b.percent.toFixed(1))]));
    });
  }

  function climbs(p) {
    var list = clear(document.getElementById("reach-climbs"));
    if (!p.climbs.length) { list.appendChild(el("li", {"class": "muted"}, t.no_climb)); return; }
    p.climbs.forEach(function (c) {
      list.appendChild(el("li", null, [el("span", {"class": "muted small"}, local(c.at)), " ",
        fmt(t.climb, {rung: c.rung, who: c.rung_label, households: c.households, recipients: c.recipients})]));
    });
  }

  // ---- chart and map ------------------------------------------------------------------------

  function drawChart(p) {
    var node = document.getElementById("reach-chart");
    if (!node || !window.echarts) { return; }
    if (!p.buildings.length) { rx.empty(node, "—"); return; }
    if (!chart) {
      chart = echarts.init(node, null, {renderer: "svg"});
      window.addEventListener("resize", function () { chart.resize(); });
    }
    var names = p.buildings.map(function (b) { return b.name; }).reverse();
    chart.setOption({
      textStyle: {fontFamily: font},
      animation: false,
      grid: {left: 8, right: 16, top: 28, bottom: 8, containLabel: true},
      legend: {top: 0, itemWidth: 12, itemHeight: 10, textStyle: {fontSize: 11}},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, formatter: rx.axisTip(" " + t.households)},
      xAxis: {type: "value", minInterval: 1, axisLabel: {fontSize: 11}},
      yAxis: {type: "category", data: names, axisLabel: {fontSize: 12, width: 80, overflow: "truncate"}},
      series: STATES.map(function (s) {
        return {name: t.states[s], type: "bar", stack: "all", barMaxWidth: 18, itemStyle: {color: COLOURS[s]},
                data: p.buildings.map(function (b) { return b.states[s]; }).reverse()};
      })
    }, true);
  }

  function shade(pct) {
    if (pct >= 100) { return "#1e7b45"; }
    if (pct >= 80) { return "#8fbf3f"; }
    if (pct >= 50) { return "#e0a100"; }
    return "#c0182a";
  }

  function drawMap(p) {
    var node = document.getElementById("reach-map");
    if (!node || !window.L) { return; }
    var placed = p.buildings.filter(function (b) { return b.lat !== null && b.lon !== null; });
    if (!placed.length) { rx.empty(node, "—"); return; }
    if (!map) {
      map = L.map(node, {attributionControl: false, zoomSnap: 0.25});
      L.control.scale({imperial: false}).addTo(map);
      markers = L.featureGroup().addTo(map);
      window.addEventListener("resize", function () {
        map.invalidateSize();
        if (markers.getLayers().length) { map.fitBounds(markers.getBounds().pad(0.3), {maxZoom: 17}); }
      });
    }
    markers.clearLayers();
    placed.forEach(function (b) {
      var colour = shade(b.percent);
      L.circleMarker([b.lat, b.lon], {radius: 9 + Math.min(12, Math.sqrt(b.households)), color: "#fff", weight: 2,
                                      fillColor: colour, fillOpacity: 0.9})
        .bindTooltip(rx.label(b.name + " " + b.percent.toFixed(1) + "% (" + b.acknowledged + "/" + b.households + ")"),
                     {permanent: placed.length <= 6, direction: "top"})
        .addTo(markers);
    });
    if (!fitted) { map.fitBounds(markers.getBounds().pad(0.3), {maxZoom: 17}); fitted = true; }
  }

  // ---- the unreached list -------------------------------------------------------------------

  function recordForm(u) {
    var how = el("select", {name: "how", "aria-label": t.how},
                 t.hows.map(function (h) { return el("option", {value: h[0]}, h[1]); }));
    return el("form", {"class": "record-form", method: "post",
                       action: "/warning/" + id + "/targets/" + u.target_id + "/acknowledge"}, [
      el("input", {type: "hidden", name: "csrf_token", value: rx.csrfToken()}), how,
      el("input", {name: "note", maxlength: "200", placeholder: t.note, "aria-label": t.note}),
      el("button", {"class": "btn btn-small btn-primary", type: "submit"}, t.record)]);
  }

  function unreachedRow(u) {
    var hints = [];
    if (u.door_to_door) { hints.push(el("span", {"class": "badge badge-door"}, t.door)); }
    if (u.vulnerability) { hints.push(" ", el("span", {"class": "badge"}, fmt(t.vulnerability, {n: u.vulnerability}))); }
    if (u.rung) { hints.push(" ", el("span", {"class": "badge"}, fmt(t.rung, {n: u.rung}))); }
    var channels = [];
    Object.keys(u.channels).forEach(function (c, i) {
      if (i) { channels.push(el("br")); }
      channels.push(el("span", {"class": "nowrap"}, (t.channels[c] || c) + "：" + (t.states[u.channels[c]] || u.channels[c])));
    });
    var phone = u.phone ? el("a", {"class": "mono", href: "tel:" + u.phone}, u.phone) : el("span", {"class": "muted"}, "—");
    var cells = [el("td", null, u.building), el("td", null, u.unit_no), el("td", null, u.room), el("td", null, phone),
                 el("td", null, hints), el("td", {"class": "small"}, channels)];
    if (boot.may_record) { cells.push(el("td", null, recordForm(u))); }
    return el("tr", {"data-target": u.target_id}, cells);
  }

  function refreshUnreached() {
    var query = new URLSearchParams(window.location.search), params = new URLSearchParams();
    params.set("page", query.get("page") || "1");
    params.set("size", "20");
    if (query.get("building_id")) { params.set("building_id", query.get("building_id")); }
    if (query.get("door")) { params.set("door_to_door", "true"); }
    rx.api("/api/v1/warning/warnings/" + id + "/unreached?" + params.toString())
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        if (!page) { return; }
        var body = clear(document.querySelector("#unreached-list tbody"));
        document.getElementById("unreached-total").textContent = String(page.total);
        var info = document.querySelector("#unreached .pager-info");
        if (info) { info.textContent = fmt(t.pager, page); }
        if (!page.items.length) {
          body.appendChild(el("tr", null, el("td", {colspan: "7", "class": "empty"}, t.all_reached)));
          return;
        }
        page.items.forEach(function (u) { body.appendChild(unreachedRow(u)); });
      })
      .catch(function () {});
  }

  // ---- refresh ------------------------------------------------------------------------------

  function show(p) {
    totals(p);
    placeRows("reach-buildings", p.buildings, true);
    placeRows("reach-areas", p.areas, false);
    climbs(p);
    drawChart(p);
    drawMap(p);
  }

  function poll() {
    rx.api("/api/v1/warning/warnings/" + id + "/progress")
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        var moved = p.totals.acknowledged !== last.totals.acknowledged || p.climbs.length !== last.climbs.length;
        last = p;
        show(p);
        if (moved) { refreshUnreached(); }
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, REFRESH_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawChart(last);
    drawMap(last);
    window.setTimeout(poll, REFRESH_MS);
  });
})();
